"""Training data of RelBERT: relation types over a table of pre-tokenized word pairs, the per-epoch sampling plan, and
the embedding of a set of pairs with length-sorted, dynamically padded chunks.

Relation types (as the reference library builds them):

- each relation type of the dataset keeps its positives; its negatives are its own negatives plus, with
  `augment_negative_by_positive`, the positives of every other relation type of the dataset;
- with `parent_relations` and hierarchical names (`1/a`), every parent (`1`) is added as a relation type whose
  positives are the union of its children's positives and whose negatives are the positives of the children of the
  other parents.

Sampling (per step and relation type, as the reference): `num_positive` positives and `num_negative` negatives drawn
without replacement (all of them when there are fewer). The relation order of an epoch and all its draws come from a
generator seeded by `(seed, epoch)`, so an epoch's plan can be rebuilt exactly when a run is resumed.
"""

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from ..data.semeval2012 import Pair, RelationPairs, parent_relation_type
from ..pipeline_relbert import tokenize_pairs


class PairTable:
    """Every distinct word pair of a run, rendered into the prompt and tokenized once (no padding).

    Pairs are addressed by integer ids (their position in `pairs`).
    """

    def __init__(self, tokenizer, config, pairs: Iterable[Pair]):
        self.tokenizer = tokenizer
        self.pairs: list[Pair] = list(dict.fromkeys(tuple(pair) for pair in pairs))
        self.ids = {pair: index for index, pair in enumerate(self.pairs)}
        encoding = tokenize_pairs(tokenizer, config, self.pairs)
        self.features = [{key: values[index] for key, values in encoding.items()} for index in range(len(self.pairs))]

    def __len__(self) -> int:
        return len(self.pairs)

    def length(self, pair_id: int) -> int:
        """Number of tokens of a pair's prompt."""
        return len(self.features[pair_id]["input_ids"])

    def chunks(self, pair_ids: Sequence[int], chunk_size: int) -> Iterable[tuple[list[int], dict[str, torch.Tensor]]]:
        """Length-sorted (longest first) chunks of at most `chunk_size` pairs, each padded to its longest prompt.

        Yields `(positions, batch)`: the chunk's positions in `pair_ids` and the padded tensors of shape
        `(len(positions), longest prompt)`.
        """
        order = sorted(range(len(pair_ids)), key=lambda position: -self.length(pair_ids[position]))
        for start in range(0, len(order), chunk_size):
            positions = order[start : start + chunk_size]
            batch = self.tokenizer.pad(
                [self.features[pair_ids[position]] for position in positions],
                padding_side="right",
                return_tensors="pt",
            )
            yield positions, dict(batch)


def embed_pairs(
    model: torch.nn.Module, table: PairTable, pair_ids: Sequence[int], chunk_size: int, device: torch.device
) -> torch.Tensor:
    """Relation embeddings `(len(pair_ids), hidden)` of the given pairs, in their order.

    Each distinct pair is encoded once, in length-sorted chunks of `chunk_size` pairs with dynamic padding. Gradients
    flow when called with grad enabled; `model` may be wrapped (DDP, mixed precision).
    """
    distinct = list(dict.fromkeys(pair_ids))
    pieces, row_of = [], {}
    for chunk_positions, batch in table.chunks(distinct, chunk_size):
        batch = {key: value.to(device) for key, value in batch.items()}
        pieces.append(model(**batch).relation_embedding)
        row_of.update((distinct[position], len(row_of)) for position in chunk_positions)
    rows = torch.tensor([row_of[pair_id] for pair_id in pair_ids], device=pieces[0].device)
    return torch.cat(pieces)[rows]


@dataclass(frozen=True)
class RelationType:
    """A relation type of training: pair ids of its positives and (augmented) negatives."""

    name: str
    positives: tuple[int, ...]
    negatives: tuple[int, ...]


@dataclass(frozen=True)
class RelationSample:
    """The pairs drawn for one relation type in one step: indexes into `RelationType`s and pair ids."""

    relation: int
    positives: tuple[int, ...]
    negatives: tuple[int, ...]

    @property
    def pair_ids(self) -> tuple[int, ...]:
        return self.positives + self.negatives


def dataset_pairs(dataset: dict[str, RelationPairs]) -> list[Pair]:
    """All pairs of a relation dataset (positives, then negatives, per relation type)."""
    return [pair for relation in dataset.values() for pair in relation.positives + relation.negatives]


def build_relation_types(
    dataset: dict[str, RelationPairs],
    table: PairTable,
    augment_negative_by_positive: bool = True,
    parent_relations: bool = True,
) -> list[RelationType]:
    """The relation types of training, sorted by name (see the module docstring)."""
    positives = {name: tuple(table.ids[pair] for pair in relation.positives) for name, relation in dataset.items()}
    relation_types = []
    for name, relation in dataset.items():
        negatives = tuple(table.ids[pair] for pair in relation.negatives)
        if augment_negative_by_positive:
            negatives += tuple(pair_id for other, ids in positives.items() if other != name for pair_id in ids)
        relation_types.append(RelationType(name, positives[name], negatives))
    children = {}
    for name in dataset:
        parent = parent_relation_type(name)
        if parent is not None:
            children.setdefault(parent, []).append(name)
    if parent_relations:
        for parent, names in children.items():
            if parent in dataset:
                raise ValueError(f"relation type {parent!r} is both in the dataset and the parent of {names[0]!r}")
            relation_types.append(
                RelationType(
                    parent,
                    tuple(pair_id for name in names for pair_id in positives[name]),
                    tuple(
                        pair_id
                        for other, other_names in children.items()
                        if other != parent
                        for name in other_names
                        for pair_id in positives[name]
                    ),
                )
            )
    return sorted(relation_types, key=lambda relation: relation.name)


def _draw(rng: random.Random, pair_ids: tuple[int, ...], size: int) -> tuple[int, ...]:
    """`size` of the ids without replacement (shuffled indices, first `size`), or all of them if there are fewer."""
    if len(pair_ids) <= size:
        return pair_ids
    indices = list(range(len(pair_ids)))
    rng.shuffle(indices)
    return tuple(pair_ids[index] for index in indices[:size])


def epoch_plan(
    relation_types: Sequence[RelationType], seed: int, epoch: int, num_positive: int, num_negative: int
) -> list[RelationSample]:
    """One epoch: every relation type once, in a shuffled order, with its sampled positives and negatives.

    Deterministic in `(seed, epoch)`; the same on every process.
    """
    rng = random.Random(f"relbert-hf-epoch:{seed}:{epoch}")
    order = list(range(len(relation_types)))
    rng.shuffle(order)
    plan = []
    for index in order:
        relation = relation_types[index]
        positives = _draw(rng, relation.positives, num_positive)
        plan.append(RelationSample(index, positives, _draw(rng, relation.negatives, num_negative)))
    return plan


__all__ = [
    "PairTable",
    "RelationSample",
    "RelationType",
    "build_relation_types",
    "dataset_pairs",
    "embed_pairs",
    "epoch_plan",
]

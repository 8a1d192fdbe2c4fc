"""Analogy questions: pick the candidate pair whose relation embedding is the most similar to the stem's.

Each question has a stem (A, B), candidate pairs (C_k, D_k) and a gold index. A candidate's score is the cosine
similarity of relation embeddings (as in the reference library), with one of three `ANALOGY_SCORINGS`:

- `forward` (the reference default): cos(emb(A, B), emb(C_k, D_k));
- `reverse`: cos(emb(B, A), emb(D_k, C_k));
- `bidirectional`: the product of the two.

The prediction is the first candidate with the highest score. Every distinct pair of a dataset is embedded once.
"""

from collections.abc import Sequence

import datasets
import numpy as np

from ..metrics import load_metric
from .embedding_cache import EmbeddingCache


ANALOGY_SCORINGS = ("forward", "reverse", "bidirectional")


def unit_rows(vectors: np.ndarray, pairs: Sequence[Sequence[str]]) -> np.ndarray:
    """`vectors` (n, d) scaled to unit length, as float64; a zero vector raises `ValueError` naming its pair."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (zero := np.flatnonzero(norms[:, 0] == 0)).size:
        raise ValueError(f"the relation embedding of {tuple(pairs[zero[0]])} is zero: cosine similarity is undefined")
    return vectors.astype(np.float64) / norms


def _cosines(embeddings: EmbeddingCache, stems: list, choices: list, desc: str | None) -> list[np.ndarray]:
    """Cosine of each question's stem with each of its choices: one array (n_choices,) per question."""
    choice_pairs = [pair for question in choices for pair in question]
    pairs = list(dict.fromkeys(tuple(pair) for pair in stems + choice_pairs))
    row = {pair: index for index, pair in enumerate(pairs)}
    unit = unit_rows(embeddings(pairs, desc=desc), pairs)
    stem_rows = np.repeat([row[tuple(stem)] for stem in stems], [len(question) for question in choices])
    flat = np.einsum("nd,nd->n", unit[stem_rows], unit[[row[tuple(pair)] for pair in choice_pairs]])
    return np.split(flat, np.cumsum([len(question) for question in choices])[:-1])


def analogy_scores(
    embeddings: EmbeddingCache, dataset: datasets.Dataset, scoring: str = "forward", desc: str | None = None
) -> list[np.ndarray]:
    """Score of every choice of every question (`stem`, `choice` columns): one array (n_choices,) per question."""
    if scoring not in ANALOGY_SCORINGS:
        raise ValueError(f"unknown analogy scoring {scoring!r}; choose one of {', '.join(ANALOGY_SCORINGS)}")
    stems, choices = list(dataset["stem"]), list(dataset["choice"])
    reversed_stems = [stem[::-1] for stem in stems]
    reversed_choices = [[pair[::-1] for pair in question] for question in choices]
    if scoring == "forward":
        return _cosines(embeddings, stems, choices, desc)
    if scoring == "reverse":
        return _cosines(embeddings, reversed_stems, reversed_choices, desc)
    forward = _cosines(embeddings, stems, choices, desc)
    backward = _cosines(embeddings, reversed_stems, reversed_choices, desc)
    return [a * b for a, b in zip(forward, backward)]


def evaluate_analogy(
    embeddings: EmbeddingCache, dataset: datasets.Dataset, scoring: str = "forward", desc: str | None = None
) -> dict:
    """Accuracy on one analogy-question set (columns `stem`, `choice`, `answer`, `prefix`).

    Returns `accuracy`, `accuracy_per_prefix` (`analogy_accuracy` metric, config `by_prefix`) and `predictions` (the
    chosen index of each question).
    """
    predictions = [int(np.argmax(scores)) for scores in analogy_scores(embeddings, dataset, scoring, desc=desc)]
    metric = load_metric("analogy_accuracy", "by_prefix")
    references, prefixes = list(dataset["answer"]), list(dataset["prefix"])
    result = metric.compute(predictions=predictions, references=references, prefixes=prefixes)
    return {**result, "predictions": predictions}


__all__ = ["ANALOGY_SCORINGS", "analogy_scores", "evaluate_analogy", "unit_rows"]

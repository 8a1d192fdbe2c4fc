"""Relation mapping: order the target terms so that their pairwise relations match those of the source terms.

For a problem with source terms s_0..s_{n-1} and (scrambled) target terms t_0..t_{n-1}, every ordered pair within each
side is embedded, and a permutation p of the target is scored as in the reference library:

    score(p) = mean over i of ( max over j != i of cos(emb(s_i, s_j), emb(t_p(i), t_p(j))) )

The prediction is the permutation with the highest score, found exactly by scoring every permutation with numpy in
chunks of `PERMUTATION_CHUNK` (n! permutations: 362,880 for the largest problem, n = 9, in about a second; problems
above `MAX_MAPPING_TERMS` terms are refused). Ties go to the first permutation in lexicographic order of the
positions of `target_random`, i.e. the order of `itertools.permutations(range(n))`.
"""

from collections.abc import Iterator
from itertools import chain, islice, permutations

import datasets
import numpy as np

from ..metrics import load_metric
from .analogy import unit_rows
from .embedding_cache import EmbeddingCache


#: Permutations scored at once (for 9 terms a chunk takes under 10 MB).
PERMUTATION_CHUNK = 1 << 16
#: Largest problem solved by exhaustive search (10! = 3.6 million permutations).
MAX_MAPPING_TERMS = 10


def ordered_pairs(terms: list[str]) -> list[tuple[str, str]]:
    """All (terms[i], terms[j]) with i != j, row-major in (i, j)."""
    return [(head, tail) for i, head in enumerate(terms) for j, tail in enumerate(terms) if i != j]


def pair_similarity(embeddings: EmbeddingCache, source: list[str], target: list[str]) -> np.ndarray:
    """Cosine similarity of every ordered source pair with every ordered target pair of one problem.

    Returns an (n, n, n, n) float64 array `sim` with `sim[i, j, a, b] = cos(emb(source[i], source[j]),
    emb(target[a], target[b]))` for i != j and a != b; entries with i == j or a == b are -inf (never used).
    """
    size = len(source)
    source_pairs, target_pairs = ordered_pairs(source), ordered_pairs(target)
    cosines = unit_rows(embeddings(source_pairs), source_pairs) @ unit_rows(embeddings(target_pairs), target_pairs).T
    off_diagonal = ~np.eye(size, dtype=bool).reshape(-1)
    similarity = np.full((size * size, size * size), -np.inf)
    similarity[np.ix_(off_diagonal, off_diagonal)] = cosines
    return similarity.reshape(size, size, size, size)


def permutation_chunks(size: int, chunk: int = PERMUTATION_CHUNK) -> Iterator[np.ndarray]:
    """All permutations of `range(size)` in lexicographic order, as int arrays of shape (<= chunk, size)."""
    flat = chain.from_iterable(permutations(range(size)))
    while (block := np.fromiter(islice(flat, chunk * size), dtype=np.intp)).size:
        yield block.reshape(-1, size)


def mapping_scores(similarity: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """`score(p)` (see the module docstring) of each row p of `perms` (m, n); returns (m,) float64."""
    size = similarity.shape[0]
    flat = similarity.reshape(size, size, size * size)
    total = np.zeros(len(perms))
    for i in range(size):
        best = np.full(len(perms), -np.inf)
        row = perms[:, i] * size
        for j in range(size):
            if j != i:
                np.maximum(best, flat[i, j][row + perms[:, j]], out=best)
        total += best
    return total / size


def solve_relation_mapping(similarity: np.ndarray, chunk: int = PERMUTATION_CHUNK) -> tuple[tuple[int, ...], float]:
    """The best permutation p of the target (p[i] = target index mapped to source term i) and its score.

    `similarity` is the (n, n, n, n) array of `pair_similarity`; `chunk` permutations are scored at once. Exhaustive
    and exact; ties go to the first permutation in lexicographic order.
    """
    size = similarity.shape[0]
    if not 2 <= size <= MAX_MAPPING_TERMS:
        raise ValueError(f"relation mapping needs 2 to {MAX_MAPPING_TERMS} terms per side, got {size}")
    best_perm, best_score = None, -np.inf
    for perms in permutation_chunks(size, chunk):
        scores = mapping_scores(similarity, perms)
        index = int(np.argmax(scores))
        if scores[index] > best_score:
            best_perm, best_score = tuple(int(k) for k in perms[index]), float(scores[index])
    return best_perm, best_score


def evaluate_relation_mapping(embeddings: EmbeddingCache, dataset: datasets.Dataset, desc: str | None = None) -> dict:
    """Solve every problem (columns `source`, `target`, `target_random`) from `source` and `target_random`, and score
    the predicted orders against `target` with the `relation_mapping` metric.

    Returns `accuracy`, `accuracy_per_problem`, `alignment_match` and `predictions` (predicted target order of each
    problem).
    """
    problems = list(zip(list(dataset["source"]), list(dataset["target_random"])))
    embeddings([pair for problem in problems for terms in problem for pair in ordered_pairs(terms)], desc=desc)
    predictions = []
    for source, target in problems:
        perm, _ = solve_relation_mapping(pair_similarity(embeddings, source, target))
        predictions.append([target[k] for k in perm])
    result = load_metric("relation_mapping").compute(predictions=predictions, references=list(dataset["target"]))
    return {**result, "predictions": predictions}


__all__ = [
    "MAX_MAPPING_TERMS",
    "evaluate_relation_mapping",
    "mapping_scores",
    "ordered_pairs",
    "pair_similarity",
    "permutation_chunks",
    "solve_relation_mapping",
]

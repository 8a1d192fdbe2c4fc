"""Lexical relation classification: an MLP probe on relation embeddings, as in the reference library.

Features of a pair (head, tail): the embedding of (head, tail) concatenated with the embedding of (tail, head), shape
(2 * hidden_size,). A scikit-learn `MLPClassifier` is trained on the `train` split. When the benchmark has a `val`
split, every setting of the grid is trained and the one with the best validation micro F1 is kept (ties: the first in
grid order); without one, `DEFAULT_PROBE` (scikit-learn's defaults, random_state 0) is used. The kept probe is scored
on `test` with the `relation_classification` metric.

Speed: each probe multiplies small matrices (mini-batches of 200 rows), which one BLAS thread does fastest; a probe is
therefore trained on one thread and the grid settings run in parallel processes (`n_jobs`, default: one per CPU core,
at most one per setting). On 2 busy cores this made training 10 times faster than BLAS's own 2 threads. The settings
are dispatched slowest first, so that the last ones to finish are short (results keep grid order).

Features are float32 (the embeddings' own type) unless `dtype="float64"`, the reference's type (it passes Python
floats): float64 probes take about 1.6 times as long and, like any change of the inputs' last bits, can end in a
different grid choice (ROOT09 with the untrained MiniLM: test micro F1 0.821 in float32, 0.815 in float64).

`PROBE_GRIDS` names the grids: `reference` (`PROBE_GRID`: learning rate 1e-3 / 1e-4 / 1e-5 x hidden layer
100 / 150 / 200, random_state 0, other parameters at scikit-learn's defaults: exactly the reference library's search)
and `default` (`DEFAULT_PROBE` alone, the reference's setting for benchmarks without a validation split: 9 times less
training, for quick runs; its scores are not the reference's).

Results use the reference keys: `test/f1_micro`, `test/f1_macro`, `test/accuracy`, `test/p_micro`, ... ,
`test/f1/<label>`, the same under `val/` when there is a validation split, and `classifier_config` (the probe's
`get_params()`).
"""

import os
import warnings
from collections.abc import Sequence
from itertools import product

import datasets
import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..metrics import load_metric
from .embedding_cache import EmbeddingCache


#: The reference grid (relbert 2.0.2): every learning rate x hidden size, random_state 0.
PROBE_GRID = tuple(
    {"random_state": 0, "learning_rate_init": learning_rate, "hidden_layer_sizes": hidden_size}
    for learning_rate, hidden_size in product((1e-3, 1e-4, 1e-5), (100, 150, 200))
)
#: The probe of benchmarks without a validation split (CogALexV).
DEFAULT_PROBE = {"random_state": 0}
#: Grids by name (`relbert-hf evaluate --probe-grid`).
PROBE_GRIDS = {"reference": PROBE_GRID, "default": (DEFAULT_PROBE,)}
#: Feature types of the probe (`relbert-hf evaluate --probe-dtype`).
PROBE_DTYPES = ("float32", "float64")


def pair_features(
    embeddings: EmbeddingCache, heads: Sequence[str], tails: Sequence[str], desc: str | None = None
) -> np.ndarray:
    """Probe features of the pairs (heads[i], tails[i]): [emb(head, tail), emb(tail, head)], shape (n, 2 * hidden)."""
    forward = list(zip(heads, tails))
    backward = [(tail, head) for head, tail in forward]
    vectors = embeddings(forward + backward, desc=desc)
    return np.concatenate([vectors[: len(forward)], vectors[len(forward) :]], axis=1)


def fit_probe(features: np.ndarray, labels: Sequence[str], config: dict) -> MLPClassifier:
    """An `MLPClassifier(**config)` trained on one BLAS thread on `features` (n, d) and `labels` (n,).

    A probe that stops at `max_iter` before converging is kept, as in the reference (its `ConvergenceWarning` is
    silenced).
    """
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(**config).fit(features, labels)


def score_probe(probe: MLPClassifier, features: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """The `relation_classification` metric of the probe's predictions on `features` against `labels`."""
    predictions = probe.predict(features).tolist()
    return load_metric("relation_classification").compute(predictions=predictions, references=list(labels))


def _expected_cost(config: dict) -> tuple[float, int]:
    """Larger for grid settings that train longer: smaller learning rates (they tend to run to `max_iter`;
    EVALution, untrained MiniLM: 200 epochs at 1e-4 and 1e-5, 81-107 at 1e-3), then wider hidden layers."""
    hidden = config.get("hidden_layer_sizes", 100)
    return -config.get("learning_rate_init", 1e-3), hidden if isinstance(hidden, int) else sum(hidden)


def _fit_and_validate(config: dict, train: tuple, val: tuple) -> tuple[MLPClassifier, dict[str, float]]:
    probe = fit_probe(*train, config)
    return probe, score_probe(probe, *val)


def select_probe(
    train: tuple[np.ndarray, Sequence[str]],
    val: tuple[np.ndarray, Sequence[str]],
    grid: Sequence[dict] = PROBE_GRID,
    n_jobs: int | None = None,
    desc: str | None = None,
) -> tuple[MLPClassifier, dict[str, float], list[dict]]:
    """Train one probe per `grid` setting on `train` (features, labels); keep the best validation micro F1.

    Ties go to the first setting in grid order. `n_jobs` probes are trained in parallel processes (joblib; None: one per
    CPU core, at most one per setting; 1: in this process). Returns the kept probe, its validation scores, and one
    `{"config", "val/f1_micro"}` entry per grid setting.
    """
    n_jobs = n_jobs or min(len(grid), os.cpu_count() or 1)
    slowest_first = sorted(range(len(grid)), key=lambda index: _expected_cost(grid[index]), reverse=True)
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_and_validate)(grid[index], train, val) for index in slowest_first
    )
    fitted = [None] * len(grid)
    for index, result in zip(
        slowest_first, tqdm(jobs, total=len(grid), desc=desc or "probe grid", unit="probe", disable=None)
    ):
        fitted[index] = result
    best = max(range(len(fitted)), key=lambda index: (fitted[index][1]["f1_micro"], -index))
    summary = [{"config": config, "val/f1_micro": scores["f1_micro"]} for config, (_, scores) in zip(grid, fitted)]
    return fitted[best][0], fitted[best][1], summary


def evaluate_relation_classification(
    embeddings: EmbeddingCache,
    dataset: datasets.DatasetDict,
    grid: Sequence[dict] = PROBE_GRID,
    n_jobs: int | None = None,
    dtype: str = "float32",
    desc: str | None = None,
) -> dict:
    """Train and score the MLP probe on one benchmark (`DatasetDict` with `train`, `test`, optional `val`; columns
    `head`, `tail`, `relation`). `grid` is searched on `val`; without `val`, `DEFAULT_PROBE` is trained. Features are
    cast to `dtype` (`float32` or `float64`).

    Returns `test/<score>` (and `val/<score>`) for every score of the `relation_classification` metric,
    `classifier_config` and, after a grid search, `grid` (each setting with its validation micro F1).
    """
    data = {
        split: (
            pair_features(embeddings, list(rows["head"]), list(rows["tail"]), f"{desc or 'classification'} {split}")
            .astype(dtype, copy=False),
            list(rows["relation"]),
        )
        for split, rows in dataset.items()
    }
    result = {}
    if "val" in data:
        probe, val_scores, summary = select_probe(data["train"], data["val"], grid, n_jobs=n_jobs, desc=desc)
        result.update({f"val/{key}": value for key, value in val_scores.items()})
        result["grid"] = summary
    else:
        probe = fit_probe(*data["train"], DEFAULT_PROBE)
    result = {**{f"test/{key}": value for key, value in score_probe(probe, *data["test"]).items()}, **result}
    result["classifier_config"] = probe.get_params()
    return result


__all__ = [
    "DEFAULT_PROBE",
    "PROBE_DTYPES",
    "PROBE_GRID",
    "PROBE_GRIDS",
    "evaluate_relation_classification",
    "fit_probe",
    "pair_features",
    "score_probe",
    "select_probe",
]

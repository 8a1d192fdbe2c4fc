"""Lexical relation classification: an MLP probe on relation embeddings, as in the reference library.

Features of a pair (head, tail): the embedding of (head, tail) concatenated with the embedding of (tail, head), shape
(2 * hidden_size,). A scikit-learn `MLPClassifier` is trained on the `train` split. When the benchmark has a `val`
split, every setting of the grid is trained and the one with the best validation micro F1 is kept (ties: the first in
grid order); without one, `DEFAULT_PROBE` (scikit-learn's defaults, random_state 0) is used. The kept probe is scored
on `test` with the `relation_classification` metric.

Speed: each probe multiplies small matrices (mini-batches of 200 rows), which one BLAS thread does fastest; a probe is
therefore trained on one thread and the grid settings run in parallel processes (`n_jobs`, default: one per CPU core,
at most one per setting). On 2 busy cores this made training 10 times faster than BLAS's own 2 threads. The probes of
all benchmarks of a run can share one pool (`score_relation_classification` with several benchmarks, as
`relbert-hf evaluate` does): they are dispatched slowest first across benchmarks, so that no process waits for the
last probe of one benchmark while the other idles (results keep grid order).

Features are float32 (the embeddings' own type) unless `dtype="float64"`, the reference's type (it passes Python
floats): float64 probes take about 1.6 times as long and, like any change of the inputs' last bits, can end in a
different grid choice (ROOT09 with the untrained MiniLM: test micro F1 0.821 in float32, 0.815 in float64).

`PROBE_GRIDS` names the grids: `reference` (`PROBE_GRID`: learning rate 1e-3 / 1e-4 / 1e-5 x hidden layer
100 / 150 / 200, random_state 0, other parameters at scikit-learn's defaults: exactly the reference library's search)
and `default` (`DEFAULT_PROBE` alone, the reference's setting for benchmarks without a validation split: 9 times less
training, for quick runs; its scores are not the reference's).

Results use the reference keys: `test/f1_micro`, `test/f1_macro`, `test/accuracy`, `test/p_micro`, ... ,
`test/f1/<label>`, the same under `val/` when there is a validation split, and `classifier_config` (the probe's
`get_params()`), `probe_seconds` (training time of all its probes, added over processes).
"""

import os
import time
import warnings
from collections.abc import Mapping, Sequence
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


def _expected_cost(config: dict, rows: int) -> float:
    """Relative training time of a grid setting on `rows` training rows: rows x hidden units, doubled for learning
    rates below 1e-3 (they tend to run to `max_iter`; EVALution, untrained MiniLM: 200 epochs at 1e-4 and 1e-5,
    81-107 at 1e-3)."""
    hidden = config.get("hidden_layer_sizes", 100)
    hidden = hidden if isinstance(hidden, int) else sum(hidden)
    return rows * hidden * (2.0 if config.get("learning_rate_init", 1e-3) < 1e-3 else 1.0)


def _train_probe(key: tuple, config: dict, train: tuple, val: tuple | None) -> tuple:
    """`(key, probe, validation scores or None, seconds)` of one probe trained on `train` and scored on `val`."""
    began = time.perf_counter()
    probe = fit_probe(*train, config)
    scores = None if val is None else score_probe(probe, *val)
    return key, probe, scores, time.perf_counter() - began


def select_probes(
    searches: Mapping[str, tuple[tuple, tuple | None]],
    grid: Sequence[dict] = PROBE_GRID,
    n_jobs: int | None = None,
    desc: str | None = None,
) -> dict[str, dict]:
    """Train the probes of several benchmarks in one pool of processes; keep each benchmark's best.

    `searches` maps a name to `(train, val)`, each `(features, labels)`. Every `grid` setting is trained on `train`
    and the one with the best micro F1 on `val` is kept (ties: the first in grid order); a `val` of None trains
    `DEFAULT_PROBE` alone. All probes share one joblib pool (`n_jobs` processes; None: one per CPU core, at most one
    per probe; 1: in this process), dispatched slowest first across benchmarks, so that the pool stays busy to the
    end.

    Returns, per name: `probe` (the kept `MLPClassifier`), `val_scores` (its validation scores, or None), `grid` (one
    `{"config", "val/f1_micro", "seconds"}` entry per setting, or None) and `seconds` (training and validation time of
    all its probes, added over processes).
    """
    settings = {name: grid if val is not None else (DEFAULT_PROBE,) for name, (_, val) in searches.items()}
    jobs = [(name, index) for name in searches for index in range(len(settings[name]))]
    jobs.sort(key=lambda job: _expected_cost(settings[job[0]][job[1]], len(searches[job[0]][0][1])), reverse=True)
    pool = Parallel(n_jobs=n_jobs or min(len(jobs), os.cpu_count() or 1), return_as="generator_unordered")
    finished = pool(delayed(_train_probe)(job, settings[job[0]][job[1]], *searches[job[0]]) for job in jobs)
    trained = {}
    for (name, index), probe, scores, seconds in tqdm(
        finished, total=len(jobs), desc=desc or "probes", unit="probe", disable=None
    ):
        trained[name, index] = probe, scores, seconds
    selections = {}
    for name, (_, val) in searches.items():
        results = [trained[name, index] for index in range(len(settings[name]))]
        best = 0 if val is None else max(range(len(results)), key=lambda index: (results[index][1]["f1_micro"], -index))
        summary = None if val is None else [
            {"config": config, "val/f1_micro": scores["f1_micro"], "seconds": round(seconds, 3)}
            for config, (_, scores, seconds) in zip(grid, results)
        ]
        selections[name] = {
            "probe": results[best][0],
            "val_scores": results[best][1],
            "grid": summary,
            "seconds": sum(result[2] for result in results),
        }
    return selections


def select_probe(
    train: tuple[np.ndarray, Sequence[str]],
    val: tuple[np.ndarray, Sequence[str]],
    grid: Sequence[dict] = PROBE_GRID,
    n_jobs: int | None = None,
    desc: str | None = None,
) -> tuple[MLPClassifier, dict[str, float], list[dict]]:
    """`select_probes` for one benchmark: the kept probe, its validation scores and the per-setting summary."""
    selection = select_probes({"": (train, val)}, grid, n_jobs=n_jobs, desc=desc)[""]
    return selection["probe"], selection["val_scores"], selection["grid"]


def classification_features(
    embeddings: EmbeddingCache, dataset: datasets.DatasetDict, dtype: str = "float32", desc: str | None = None
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """`(features, labels)` of every split of a benchmark (`DatasetDict` with columns `head`, `tail`, `relation`):
    `pair_features` cast to `dtype`, shape (rows, 2 * hidden_size), and the relation labels."""
    return {
        split: (
            pair_features(embeddings, list(rows["head"]), list(rows["tail"]), f"{desc or 'classification'} {split}")
            .astype(dtype, copy=False),
            list(rows["relation"]),
        )
        for split, rows in dataset.items()
    }


def score_relation_classification(
    features: Mapping[str, dict[str, tuple[np.ndarray, list[str]]]],
    grid: Sequence[dict] = PROBE_GRID,
    n_jobs: int | None = None,
    desc: str | None = None,
) -> dict[str, dict]:
    """Train and score the probes of several benchmarks, given `features[name]` = `classification_features(...)`
    (splits `train`, `test`, optional `val`), in one pool (see `select_probes`).

    Returns, per name: `test/<score>` (and `val/<score>`) for every score of the `relation_classification` metric,
    `classifier_config`, `probe_seconds` (training time of its probes, added over processes) and, after a grid
    search, `grid` (each setting with its validation micro F1 and seconds).
    """
    selections = select_probes(
        {name: (splits["train"], splits.get("val")) for name, splits in features.items()}, grid, n_jobs, desc
    )
    results = {}
    for name, selection in selections.items():
        probe = selection["probe"]
        result = {f"test/{key}": value for key, value in score_probe(probe, *features[name]["test"]).items()}
        if selection["grid"] is not None:
            result.update({f"val/{key}": value for key, value in selection["val_scores"].items()})
            result["grid"] = selection["grid"]
        result["classifier_config"] = probe.get_params()
        result["probe_seconds"] = round(selection["seconds"], 3)
        results[name] = result
    return results


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
    cast to `dtype` (`float32` or `float64`). Returns the benchmark's entry of `score_relation_classification`.
    """
    features = classification_features(embeddings, dataset, dtype, desc)
    return score_relation_classification({"": features}, grid, n_jobs, desc)[""]


__all__ = [
    "DEFAULT_PROBE",
    "PROBE_DTYPES",
    "PROBE_GRID",
    "PROBE_GRIDS",
    "classification_features",
    "evaluate_relation_classification",
    "fit_probe",
    "pair_features",
    "score_probe",
    "score_relation_classification",
    "select_probe",
    "select_probes",
]

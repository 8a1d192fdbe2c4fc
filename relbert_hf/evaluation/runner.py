"""Evaluate one relation-embedding model on the RelBERT benchmarks and collect the results under the reference keys.

```python
>>> from relbert_hf.evaluation import evaluate_model, format_results_table, write_results
>>> results = evaluate_model(pipe, tasks=["analogy"], datasets=["sat", "bats"])
>>> print(format_results_table(results)); write_results(results, "results.json")
```

All benchmarks of a run share one `EmbeddingCache`, so no pair is encoded twice (e.g. the SAT questions are part of
SAT full). See the package docstring for the result keys.
"""

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset, DatasetDict

from ..data.benchmarks import (
    ANALOGY_CONFIGS,
    CLASSIFICATION_CONFIGS,
    MAPPING_REPO,
    load_analogy_questions,
    load_relation_classification,
    load_relation_mapping,
)
from ..pipeline_relbert import DEFAULT_BATCH_SIZE
from .analogy import ANALOGY_SCORINGS, evaluate_analogy
from .classification import PROBE_DTYPES, PROBE_GRIDS, classification_features, score_relation_classification
from .embedding_cache import EmbeddingCache
from .mapping import evaluate_relation_mapping


TASKS = ("analogy", "classification", "mapping")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: `name` (what `--datasets` takes), its `task` and the `key` of its result."""

    name: str
    task: str
    key: str


BENCHMARKS = (
    *(Benchmark(name, "analogy", "sat_full" if name == "sat_full" else f"{name}/test") for name in ANALOGY_CONFIGS),
    *(
        Benchmark(name, "classification", f"lexical_relation_classification/{name}")
        for name in CLASSIFICATION_CONFIGS
    ),
    Benchmark("relation_mapping", "mapping", "relation_mapping"),
)


def select_benchmarks(tasks: Sequence[str] | None = None, datasets: Sequence[str] | None = None) -> list[Benchmark]:
    """The benchmarks of `tasks` (default: all `TASKS`) restricted to the names in `datasets` (default: all), in
    `BENCHMARKS` order. Unknown names raise `ValueError` listing the valid ones."""
    tasks = list(TASKS if tasks is None else tasks)
    if unknown := sorted(set(tasks) - set(TASKS)):
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    names = [benchmark.name for benchmark in BENCHMARKS]
    if datasets is not None and (unknown := [name for name in datasets if name not in names]):
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    selected = [b for b in BENCHMARKS if b.task in tasks and (datasets is None or b.name in datasets)]
    if not selected:
        raise ValueError(f"no benchmark is both in tasks {', '.join(tasks)} and in datasets {', '.join(datasets)}")
    return selected


def _first(dataset: Dataset, limit: int | None) -> Dataset:
    return dataset if limit is None else dataset.select(range(min(limit, len(dataset))))


def _classification_splits(name: str, limit: int | None) -> DatasetDict:
    splits = load_relation_classification(name)
    return DatasetDict({split: _first(rows, limit) for split, rows in splits.items()})


def _evaluate_without_probe(
    benchmark: Benchmark, embeddings: EmbeddingCache, analogy_scoring: str, limit: int | None
) -> dict:
    """Load and evaluate an analogy or relation-mapping benchmark (`limit`: see `evaluate_model`)."""
    if benchmark.task == "analogy":
        dataset = _first(load_analogy_questions(benchmark.name), limit)
        return evaluate_analogy(embeddings, dataset, scoring=analogy_scoring, desc=benchmark.name)
    dataset = _first(load_relation_mapping(MAPPING_REPO), limit)
    return evaluate_relation_mapping(embeddings, dataset, desc=benchmark.name)


def headline_scores(results: dict) -> list[tuple[str, str, float]]:
    """(result key, score name, value) of the scores a model card reports, for the benchmarks present in `results`."""
    rows = []
    for benchmark in BENCHMARKS:
        if benchmark.key not in results:
            continue
        value = results[benchmark.key]
        if benchmark.task == "analogy":
            rows.append((benchmark.key, "accuracy", value))
        elif benchmark.task == "classification":
            rows += [(benchmark.key, score, value[f"test/{score}"]) for score in ("f1_micro", "f1_macro")]
        else:
            rows.append((benchmark.key, "accuracy", value["accuracy"]))
    return rows


def evaluate_model(
    pipe,
    tasks: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cache_dir: str | os.PathLike | None = None,
    analogy_scoring: str = "forward",
    probe_grid: str = "reference",
    probe_jobs: int | None = None,
    probe_dtype: str = "float32",
    limit: int | None = None,
    model_name: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Run the selected benchmarks (see `select_benchmarks`) on the `relation-embedding` pipeline `pipe`.

    Args:
        batch_size: pairs per forward pass.
        cache_dir: optional on-disk embedding cache (see `EmbeddingCache`).
        analogy_scoring: `forward` (reference), `reverse` or `bidirectional` (see `relbert_hf.evaluation.analogy`).
        probe_grid: `reference` (the reference's 9-setting search) or `default` (one setting; see
            `relbert_hf.evaluation.classification`).
        probe_jobs: classification probes trained in parallel processes, one pool for all benchmarks (None: one per CPU
            core).
        probe_dtype: `float32` (default, faster) or `float64` (the reference's type) probe features.
        limit: keep the first `limit` records of each dataset split (smoke tests; the scores are then not comparable;
            recorded as `limit`).
        model_name: recorded as `model` (default: the model's `name_or_path`).
        log: called with one line per finished benchmark (default: print to stderr).

    Returns the results dict described in the package docstring.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    benchmarks = select_benchmarks(tasks, datasets)
    if analogy_scoring not in ANALOGY_SCORINGS:
        raise ValueError(f"unknown analogy scoring {analogy_scoring!r}; choose one of {', '.join(ANALOGY_SCORINGS)}")
    if probe_grid not in PROBE_GRIDS:
        raise ValueError(f"unknown probe grid {probe_grid!r}; choose one of {', '.join(PROBE_GRIDS)}")
    if probe_dtype not in PROBE_DTYPES:
        raise ValueError(f"unknown probe dtype {probe_dtype!r}; choose one of {', '.join(PROBE_DTYPES)}")
    config = pipe.model.config
    results = {
        "model": model_name or config.name_or_path,
        "template": config.template,
        "aggregation": config.aggregation_mode,
        "max_length": config.max_length,
        "analogy_scoring": analogy_scoring,
        "probe_grid": probe_grid,
        "probe_dtype": probe_dtype,
    }
    if limit is not None:
        results["limit"] = limit
    scores, per_prefix, timings, encoded = {}, {}, {}, {}

    def record(benchmark: Benchmark, result: dict) -> None:
        if benchmark.task == "analogy":
            scores[benchmark.key] = result["accuracy"]
            per_prefix[benchmark.key] = result["accuracy_per_prefix"]
        else:
            scores[benchmark.key] = result
        headline = [f"{name} {value:.4f}" for key, name, value in headline_scores(scores) if key == benchmark.key]
        seconds, pairs = timings[benchmark.key], encoded[benchmark.key]
        log(f"{benchmark.key}: {', '.join(headline)} ({seconds:.1f} s, {pairs} pairs encoded)")

    start = time.perf_counter()
    embeddings = EmbeddingCache(pipe, batch_size=batch_size, cache_dir=cache_dir)
    classification_inputs = {}
    for benchmark in benchmarks:
        began, encoded_before = time.perf_counter(), embeddings.encoded
        if benchmark.task == "classification":  # probes are trained after the loop, all benchmarks in one pool
            splits = _classification_splits(benchmark.name, limit)
            classification_inputs[benchmark] = classification_features(embeddings, splits, probe_dtype, benchmark.name)
            result = None
        else:
            result = _evaluate_without_probe(benchmark, embeddings, analogy_scoring, limit)
        timings[benchmark.key] = time.perf_counter() - began
        encoded[benchmark.key] = embeddings.encoded - encoded_before
        if result is not None:
            record(benchmark, result)
    if classification_inputs:
        began = time.perf_counter()
        scored = score_relation_classification(
            {benchmark.name: features for benchmark, features in classification_inputs.items()},
            PROBE_GRIDS[probe_grid],
            n_jobs=probe_jobs,
            desc="probes",
        )
        pool_seconds = time.perf_counter() - began
        probe_seconds = sum(result["probe_seconds"] for result in scored.values()) or 1.0
        for benchmark in classification_inputs:
            result = scored[benchmark.name]
            timings[benchmark.key] += pool_seconds * result["probe_seconds"] / probe_seconds
            record(benchmark, result)
    timings["total"] = time.perf_counter() - start
    encoded["total"] = embeddings.encoded
    results.update({benchmark.key: scores[benchmark.key] for benchmark in benchmarks})  # in `BENCHMARKS` order
    if per_prefix:
        results["analogy_accuracy_per_prefix"] = per_prefix
    results.update({"timings_s": timings, "pairs_encoded": encoded, "embedding_cache": embeddings.fingerprint})
    return results


def format_results_table(results: dict) -> str:
    """A plain-text table: benchmark, score, value and wall time of each reported score."""
    rows = [("benchmark", "score", "value", "seconds")]
    timings = results.get("timings_s", {})
    for key, name, value in headline_scores(results):
        rows.append((key, name, f"{value:.4f}", f"{timings[key]:.1f}" if key in timings else ""))
    if "total" in timings:
        rows.append(("total", "", "", f"{timings['total']:.1f}"))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].rjust(widths[3])])
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_results(results: dict, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write `results` as JSON to `path` atomically (temporary file in the same folder, then rename).

    An existing `path` is refused (`FileExistsError`) unless `overwrite`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2, ensure_ascii=False)
        file.write("\n")
    os.replace(temporary, path)
    return path


__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "TASKS",
    "evaluate_model",
    "format_results_table",
    "headline_scores",
    "select_benchmarks",
    "write_results",
]

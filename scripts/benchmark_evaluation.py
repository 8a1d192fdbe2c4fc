r"""Wall time of the full evaluation (``relbert-hf evaluate``), and the classification probes trained in one pool for
all benchmarks against one pool per benchmark.

How to run (CPU, offline; nothing else should be running)::

    RELBERT_HF_DATA=../shared/data HF_HUB_OFFLINE=1 python scripts/benchmark_evaluation.py [--rounds 2] [--full]
        [--model MODEL] [--json benchmark.json]

What it measures
----------------
Model: ``--model`` (a trained RelBERT folder or Hub id), by default the untrained RelBERT on the embedded
all-MiniLM-L6-v2 (reference template, ``average_no_mask``), as ``relbert-hf evaluate`` builds it.

1. **Probe pools, A/B** (``--rounds`` rounds, 0 to skip). The features of ``--datasets`` (default EVALution and ROOT09,
   the lexical-relation benchmarks with a validation split and the smallest training sets) are encoded once, then each
   round trains the reference probe grid (9 settings per benchmark) twice, back to back:

   * **A (one pool per benchmark)**: ``select_probes`` called once per benchmark, as the runner did before all
     benchmarks shared a pool: each benchmark waits for its own slowest probe while the other process may idle;
   * **B (one pool)**: ``select_probes`` called once with all benchmarks: every probe dispatched slowest first over
     the same processes, as ``relbert-hf evaluate`` does now.

   Reported: median wall seconds of A and B, the speed-up, and the pools' utilisation (training seconds of all probes,
   added over processes, over wall seconds x processes). The validation micro F1 of every grid setting must be equal
   in A and B (the schedule does not change what a probe computes); the script stops with an error otherwise.

2. **Full evaluation** (``--full``): ``evaluate_model`` on every benchmark (15 + relation mapping), once, without an
   on-disk cache: wall seconds per benchmark (a classification benchmark is charged its encoding plus its share of
   the probe pool), encoding and probe-pool seconds, total, against the target of 30 minutes on 2 cores.

Each part starts with a dense fp32 matmul rate (``torch.mm``, 2048 x 2048) as the host's speed at that moment: the
machine is shared, and the same job took 25% longer on a slower host.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch


sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_embedding import cpu_model, matmul_rate  # noqa: E402

from relbert_hf.cli import load_relation_embedding_pipeline  # noqa: E402
from relbert_hf.data.benchmarks import load_relation_classification  # noqa: E402
from relbert_hf.evaluation import EmbeddingCache, evaluate_model, format_results_table  # noqa: E402
from relbert_hf.evaluation.classification import PROBE_GRID, classification_features, select_probes  # noqa: E402


TARGET_SECONDS = 30 * 60


def host_speed() -> float:
    """Dense fp32 matmul rate now, GFLOP/s."""
    return matmul_rate(2048, 10) / 1e9


def probe_pools(pipe, names: list[str], rounds: int, n_jobs: int) -> dict:
    """Part 1: per-benchmark pools (A) against one pool (B), alternating, on features encoded once."""
    embeddings = EmbeddingCache(pipe)
    searches = {}
    for name in names:
        features = classification_features(embeddings, load_relation_classification(name), desc=name)
        if "val" not in features:
            raise SystemExit(f"{name} has no val split; choose benchmarks with a probe grid")
        searches[name] = (features["train"], features["val"])
    print(f"encoded {embeddings.encoded} pairs of {', '.join(names)}; {len(PROBE_GRID)} probes per benchmark")

    def run(variant: str) -> tuple[float, dict]:
        began = time.perf_counter()
        if variant == "A":
            selections = {}
            for name in names:
                selections.update(select_probes({name: searches[name]}, PROBE_GRID, n_jobs, desc=f"A {name}"))
        else:
            selections = select_probes(searches, PROBE_GRID, n_jobs, desc="B all")
        return time.perf_counter() - began, selections

    seconds = {"A": [], "B": []}
    utilisation = {"A": [], "B": []}
    for round_index in range(rounds):
        speed = host_speed()
        (a_seconds, a_selections), (b_seconds, b_selections) = run("A"), run("B")
        for name in names:
            a_scores = [entry["val/f1_micro"] for entry in a_selections[name]["grid"]]
            b_scores = [entry["val/f1_micro"] for entry in b_selections[name]["grid"]]
            if a_scores != b_scores:
                raise SystemExit(f"{name}: validation F1 differ between A {a_scores} and B {b_scores}")
        for variant, wall, selections in (("A", a_seconds, a_selections), ("B", b_seconds, b_selections)):
            seconds[variant].append(wall)
            busy = sum(selection["seconds"] for selection in selections.values())
            utilisation[variant].append(busy / (wall * n_jobs))
        print(
            f"  round {round_index + 1}/{rounds}: A {a_seconds:7.1f} s ({utilisation['A'][-1]:.1%} busy), "
            f"B {b_seconds:7.1f} s ({utilisation['B'][-1]:.1%} busy), matmul {speed:.1f} GFLOP/s",
            flush=True,
        )
    medians = {variant: statistics.median(values) for variant, values in seconds.items()}
    busy = {variant: statistics.median(values) for variant, values in utilisation.items()}
    print(
        f"probe pools: median A {medians['A']:.1f} s, B {medians['B']:.1f} s, "
        f"speed-up {medians['A'] / medians['B']:.2f}x; median utilisation A {busy['A']:.1%}, B {busy['B']:.1%}"
    )
    return {"datasets": names, "seconds": seconds, "utilisation": utilisation, "median_seconds": medians}


def full_evaluation(pipe, n_jobs: int) -> dict:
    """Part 2: every benchmark once; per-benchmark and total wall seconds."""
    speed = host_speed()
    print(f"full evaluation (matmul {speed:.1f} GFLOP/s at the start)", flush=True)
    results = evaluate_model(pipe, probe_jobs=n_jobs)
    print(format_results_table(results))
    probe_seconds = sum(
        value["probe_seconds"] for key, value in results.items() if key.startswith("lexical_relation_classification/")
    )
    total = results["timings_s"]["total"]
    verdict = "met" if total < TARGET_SECONDS else "NOT met"
    print(
        f"total {total:.1f} s ({total / 60:.1f} min; target < {TARGET_SECONDS / 60:.0f} min: {verdict}); "
        f"{results['pairs_encoded']['total']} pairs encoded; probes: {probe_seconds:.1f} s of training on {n_jobs} "
        f"processes; matmul {speed:.1f} GFLOP/s at the start, {host_speed():.1f} at the end"
    )
    return {"matmul_gflops_start": speed, "results": results}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Full-evaluation wall time, and probes in one pool against one pool per benchmark.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", help="trained RelBERT folder or Hub id (default: untrained embedded MiniLM)")
    parser.add_argument("--datasets", default="EVALution,ROOT09", help="benchmarks of the probe-pool A/B")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds of the probe pools (0: skip)")
    parser.add_argument("--full", action="store_true", help="also run the full evaluation once")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="probe processes")
    parser.add_argument("--json", help="write the measurements to this file")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, os.cpu_count {os.cpu_count()}, "
        f"CPU {cpu_model()}, probe processes {args.jobs}"
    )
    pipe = load_relation_embedding_pipeline(args.model)
    report = {"model": args.model or "untrained embedded MiniLM", "cpu": cpu_model(), "jobs": args.jobs}
    if args.rounds:
        report["probe_pools"] = probe_pools(pipe, args.datasets.split(","), args.rounds, args.jobs)
    if args.full:
        report["full_evaluation"] = full_evaluation(pipe, args.jobs)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()

r"""Relation-embedding throughput of the ``relation-embedding`` pipeline against a naive max_length-padding baseline.

How to run (CPU, offline)::

    HF_HUB_OFFLINE=1 python scripts/benchmark_embedding.py [--rounds 5] [--json results.json]

What it measures
----------------
Model: ``RelBertModel.from_backbone(embedded_backbone_path())``, i.e. an untrained RelBERT on the embedded
all-MiniLM-L6-v2 (BERT, L=6 layers, H=384, I=1536), reference template, ``aggregation_mode="average_no_mask"``,
``max_length=64``; fp32, eval mode, CPU, torch's default thread count (printed; ``--threads`` overrides it).

Pairs: ``--num-pairs`` (default 2,000) distinct real word pairs from the analogy-question test sets of the benchmark data
mirror (``--data``, else ``$RELBERT_HF_DATA``, else ``<repo>/../shared/data``): the ``stem`` and every ``choice`` of
``relbert/analogy_questions/dataset/*/test.jsonl`` (files in sorted path order, records in file order) are collected and
de-duplicated in first-seen order; then ``--selection sample`` (default) draws ``--num-pairs`` of them with
``random.Random(--seed)`` (seed 0), so that every data set contributes and the prompt-length mix is realistic, while
``--selection first`` takes the first ones in that order (which are all BATS pairs). The script stops with an error
when fewer distinct pairs are found.

Variants (both include their tokenisation in the timed region, both use ``--batch-size`` 64):

* **A (ours)**: ``pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)(pairs, batch_size=64)``:
  renders the prompts, tokenises them in one call without padding, sorts them by token length (longest first), batches
  them and pads each batch only to its longest prompt, and returns the vectors in input order (lists of floats, the
  pipeline's default output).
* **B (naive, as the reference ``relbert`` library)**: every prompt is tokenised on its own with
  ``tokenizer(prompt, truncation=True, max_length=64, padding="max_length")``, in input order; batches of 64 in input
  order are run through the same model under ``torch.no_grad()`` (``model(input_ids=..., attention_mask=...,
  token_type_ids=...)``, which applies the same pooling mask and sum) and the vectors are concatenated.

Rounds: one untimed warm-up of each variant, then ``--rounds`` rounds of A then B; each round also times a dense fp32
matmul (``torch.mm`` of two ``--matmul-size`` square matrices, ``--matmul-reps`` products, best of 3 batches in the
round) as the machine's reachable FLOP rate at that moment. Reported values are medians over the rounds; the speed-up is
median pairs/s of A over median pairs/s of B. The machine may be shared and noisy, hence the interleaving; two
noise-robust cross-checks are printed too: the median of the per-round ratios (A and B of a round run back to back)
and the ratio of median process CPU times (``time.process_time``, all threads; time spent descheduled is not counted,
but OpenMP spin-waiting is).

FLOP count
----------
Only the encoder's matrix products are counted (embeddings, LayerNorm, GELU, softmax, the pooling sum are ignored).
For a BERT encoder with L layers, hidden size H and intermediate size I, a row of a batch padded to length T costs per
token and per layer

    2 * (4*H*H + 2*H*I)      Q, K, V, output projections (4 H x H) and the feed-forward pair (H x I, I x H)
  + 2 * 2 * T * H            attention scores Q K^T and the weighted sum of V over T positions (all heads together)

multiply-add FLOPs (a multiply-add counts 2), so one row costs ``L * T * (2*(4*H*H + 2*H*I) + 4*T*H)``. "Spent" FLOPs sum
this over every row of every batch at the batch's padded length T: 64 for B; for A the script reproduces the
pipeline's batches (lengths sorted descending, chunks of ``--batch-size``, each padded to its longest prompt). "Useful"
FLOPs use each prompt's own token count n instead of T (``L * n * (2*(4*H*H + 2*H*I) + 4*n*H)``), the same for both
variants. Achieved FLOP/s = FLOPs / median wall time; the fraction is against the median matmul FLOP/s
(``2 * N^3`` per product).

Correctness: the vectors of A and B are compared (max absolute difference, max relative difference, max of
1 - cosine); dynamic padding moves them only by float noise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no network: must precede any transformers / huggingface_hub import

import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
ANALOGY_GLOB = "relbert/analogy_questions/dataset/*/test.jsonl"


# --------------------------------------------------------------------------------------------------------------- data
def data_dir(cli_value: str | None) -> Path:
    if cli_value:
        return Path(cli_value)
    if os.environ.get("RELBERT_HF_DATA"):
        return Path(os.environ["RELBERT_HF_DATA"])
    return DEFAULT_DATA


def load_pairs(root: Path, num_pairs: int, selection: str, seed: int) -> tuple[list[tuple[str, str]], dict]:
    """Distinct (head, tail) pairs of the analogy test sets; see the module docstring for the order and selection."""
    files = sorted(root.glob(ANALOGY_GLOB))
    if not files:
        sys.exit(f"error: no analogy question files {ANALOGY_GLOB} under {root} (set --data or RELBERT_HF_DATA)")
    seen: dict[tuple[str, str], None] = {}
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                for pair in [record["stem"], *record["choice"]]:
                    seen.setdefault((pair[0], pair[1]), None)
    distinct = list(seen)
    if len(distinct) < num_pairs:
        sys.exit(f"error: only {len(distinct)} distinct pairs in {len(files)} files under {root}; need {num_pairs}")
    if selection == "first":
        pairs = distinct[:num_pairs]
    else:
        pairs = random.Random(seed).sample(distinct, num_pairs)
    info = {
        "data_dir": str(root),
        "files": [str(path.relative_to(root)) for path in files],
        "distinct_pairs_available": len(distinct),
        "selection": selection,
        "seed": seed if selection == "sample" else None,
    }
    return pairs, info


# ------------------------------------------------------------------------------------------------------------ variants
def run_ours(pipe, pairs, batch_size):
    return pipe(pairs, batch_size=batch_size)


def run_naive(model, tokenizer, pairs, batch_size):
    """The reference library's path: per-prompt tokenisation padded to max_length, input-order batches."""
    config = model.config
    encoded = [
        tokenizer(
            config.render_prompt(pair, tokenizer.mask_token),
            truncation=True,
            max_length=config.max_length,
            padding="max_length",
        )
        for pair in pairs
    ]
    keys = list(encoded[0].keys())
    vectors = []
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start : start + batch_size]
            batch = {key: torch.tensor([item[key] for item in chunk]) for key in keys}
            vectors.append(model(**batch).relation_embedding)
    return torch.cat(vectors)


def matmul_rate(size: int, reps: int, tries: int = 3) -> float:
    """Dense fp32 FLOP/s of torch.mm on size x size matrices: best of `tries` timings of `reps` products."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)  # warm-up
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 * reps / best


# --------------------------------------------------------------------------------------------------------------- FLOPs
def encoder_dims(model) -> tuple[int, int, int]:
    encoder_config = model.config.encoder_config
    return encoder_config.num_hidden_layers, encoder_config.hidden_size, encoder_config.intermediate_size


def row_flops(tokens: int, attended: int, layers: int, hidden: int, intermediate: int) -> int:
    """FLOPs of `tokens` tokens that each attend over `attended` positions (see the module docstring)."""
    return layers * tokens * (2 * (4 * hidden * hidden + 2 * hidden * intermediate) + 4 * attended * hidden)


def flop_counts(model, pairs, batch_size) -> dict:
    """Spent FLOPs of A (reproduced pipeline batches) and B (max_length padding), and useful FLOPs (real tokens)."""
    from relbert_hf.pipeline_relbert import tokenize_pairs

    layers, hidden, intermediate = encoder_dims(model)
    lengths = [len(ids) for ids in tokenize_pairs(model.tokenizer, model.config, pairs)["input_ids"]]
    useful = sum(row_flops(n, n, layers, hidden, intermediate) for n in lengths)
    # A: as RelationEmbeddingPipeline.__call__: longest first (stable sort), chunks of batch_size, pad to chunk max.
    ordered = sorted(lengths, key=lambda n: -n)
    padded_a = []
    for start in range(0, len(ordered), batch_size):
        chunk = ordered[start : start + batch_size]
        padded_a.extend([max(chunk)] * len(chunk))
    spent_a = sum(row_flops(t, t, layers, hidden, intermediate) for t in padded_a)
    max_length = model.config.max_length
    spent_b = len(lengths) * row_flops(max_length, max_length, layers, hidden, intermediate)
    return {
        "layers": layers,
        "hidden": hidden,
        "intermediate": intermediate,
        "real_tokens": sum(lengths),
        "prompt_length_min": min(lengths),
        "prompt_length_median": statistics.median(lengths),
        "prompt_length_max": max(lengths),
        "padded_tokens_ours": sum(padded_a),
        "padded_tokens_naive": len(lengths) * max_length,
        "useful_flops": useful,
        "spent_flops_ours": spent_a,
        "spent_flops_naive": spent_b,
    }


# ------------------------------------------------------------------------------------------------------------ helpers
def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def agreement(ours, naive: torch.Tensor) -> dict:
    a = torch.tensor(ours, dtype=torch.float64)
    b = naive.to(torch.float64)
    abs_diff = (a - b).abs().max(dim=1).values
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=1)
    return {
        "max_abs_diff": abs_diff.max().item(),
        "max_rel_diff": (abs_diff / b.norm(dim=1)).max().item(),
        "max_one_minus_cosine": (1 - cosine).max().item(),
        "max_abs_value": b.abs().max().item(),
    }


def si(value: float, unit: str) -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.2f} {unit}"


# --------------------------------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=(
            "Relation-embedding throughput (pairs/s) of the relation-embedding pipeline (A: length-sorted, dynamically "
            "padded batches) against a naive baseline (B: every prompt padded to max_length, input-order batches, as "
            "the reference relbert library) on distinct real word pairs with the embedded MiniLM backbone on CPU. "
            "Variants alternate A, B over several rounds after one warm-up each; medians are reported, with model "
            "FLOP rates as a fraction of a dense fp32 matmul timed in the same run. See the module docstring for the "
            "FLOP formula."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (each: A, B, matmul) after the warm-up")
    parser.add_argument("--num-pairs", type=int, default=2000, help="distinct word pairs embedded per call")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size of both variants")
    parser.add_argument(
        "--data",
        default=None,
        help=f"benchmark data mirror (holds {ANALOGY_GLOB}); default: $RELBERT_HF_DATA, else {DEFAULT_DATA}",
    )
    parser.add_argument(
        "--selection",
        choices=("sample", "first"),
        default="sample",
        help="'sample': seeded random sample of the distinct pairs of all analogy sets; 'first': first ones in file order",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --selection sample")
    parser.add_argument("--matmul-size", type=int, default=2048, help="N of the N x N fp32 torch.mm reference")
    parser.add_argument("--matmul-reps", type=int, default=5, help="products per matmul timing")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads(N) before loading the model; default: leave torch's default (printed). On a "
        "shared, oversubscribed machine 1 thread can be faster, since every parallel op waits for its slowest thread",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.num_pairs < 1 or args.batch_size < 1:
        parser.error("--rounds, --num-pairs and --batch-size must be positive")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    wall_start = time.perf_counter()
    default_threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    import transformers
    from transformers import pipeline

    import relbert_hf  # noqa: F401  (registers the relation-embedding task)
    transformers.utils.logging.disable_progress_bar()
    from relbert_hf import RelBertModel
    from relbert_hf.embedded import embedded_backbone_path

    pairs, data_info = load_pairs(data_dir(args.data), args.num_pairs, args.selection, args.seed)

    backbone = embedded_backbone_path()
    model = RelBertModel.from_backbone(backbone, dtype=torch.float32).eval()
    tokenizer = model.tokenizer
    pipe = pipeline("relation-embedding", model=model, tokenizer=tokenizer, device="cpu")
    attn = getattr(model.encoder.config, "_attn_implementation", None)

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_default_num_threads": default_threads,
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "os_cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "backbone": str(backbone),
        "attn_implementation": attn,
    }
    print(
        f"torch {env['torch']}, transformers {env['transformers']}, threads {env['torch_num_threads']} "
        f"({'set by --threads' if args.threads is not None else 'torch default'}; default {default_threads}) "
        f"(interop {env['torch_num_interop_threads']}), os.cpu_count {env['os_cpu_count']}, CPU {env['cpu_model']}"
    )
    print(
        f"model: RelBERT on embedded all-MiniLM-L6-v2 ({backbone.parent.name}, attn {attn}), template max_length {model.config.max_length}, "
        f"aggregation {model.config.aggregation_mode}; {len(pairs)} distinct pairs "
        f"({data_info['selection']}, of {data_info['distinct_pairs_available']} in {len(data_info['files'])} files), "
        f"batch {args.batch_size}, {args.rounds} rounds"
    )

    flops = flop_counts(model, pairs, args.batch_size)

    # Warm-up (untimed), also used for the agreement check.
    ours_vectors = run_ours(pipe, pairs, args.batch_size)
    naive_vectors = run_naive(model, tokenizer, pairs, args.batch_size)
    agree = agreement(ours_vectors, naive_vectors)

    times = {"ours": [], "naive": []}
    cpu_times = {"ours": [], "naive": []}  # process CPU time (all threads): less sensitive to being descheduled
    matmul = []
    for round_index in range(args.rounds):
        for name, run in (
            ("ours", lambda: run_ours(pipe, pairs, args.batch_size)),
            ("naive", lambda: run_naive(model, tokenizer, pairs, args.batch_size)),
        ):
            start, cpu_start = time.perf_counter(), time.process_time()
            run()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu_start)
        matmul.append(matmul_rate(args.matmul_size, args.matmul_reps))
        print(
            f"  round {round_index + 1}/{args.rounds}: A {len(pairs) / times['ours'][-1]:7.1f} pairs/s, "
            f"B {len(pairs) / times['naive'][-1]:7.1f} pairs/s, matmul {si(matmul[-1], 'FLOP/s')}",
            flush=True,
        )

    matmul_median = statistics.median(matmul)
    variants = {}
    for name, spent_key, padded_key in (
        ("ours", "spent_flops_ours", "padded_tokens_ours"),
        ("naive", "spent_flops_naive", "padded_tokens_naive"),
    ):
        seconds = statistics.median(times[name])
        spent_rate = flops[spent_key] / seconds
        useful_rate = flops["useful_flops"] / seconds
        variants[name] = {
            "seconds_per_round": times[name],
            "cpu_seconds_per_round": cpu_times[name],
            "median_cpu_seconds": statistics.median(cpu_times[name]),
            "median_seconds": seconds,
            "median_pairs_per_s": len(pairs) / seconds,
            "pairs_per_s_per_round": [len(pairs) / t for t in times[name]],
            "padded_tokens": flops[padded_key],
            "spent_flops": flops[spent_key],
            "spent_flop_rate": spent_rate,
            "spent_fraction_of_matmul": spent_rate / matmul_median,
            "useful_flop_rate": useful_rate,
            "useful_fraction_of_matmul": useful_rate / matmul_median,
        }
    speedup = variants["ours"]["median_pairs_per_s"] / variants["naive"]["median_pairs_per_s"]
    # Ratio within each round (A and B run back to back, so they share that moment's load): a noise-robust check.
    round_ratios = [naive / ours for ours, naive in zip(times["ours"], times["naive"])]

    rows = [
        ("", "A: ours (pipeline)", "B: naive (max_length)"),
        ("median pairs/s", *(f"{variants[v]['median_pairs_per_s']:.1f}" for v in variants)),
        (f"median seconds / {len(pairs)} pairs", *(f"{variants[v]['median_seconds']:.3f}" for v in variants)),
        ("median process CPU seconds", *(f"{variants[v]['median_cpu_seconds']:.3f}" for v in variants)),
        ("min..max pairs/s over rounds", *(
            f"{min(variants[v]['pairs_per_s_per_round']):.1f}..{max(variants[v]['pairs_per_s_per_round']):.1f}"
            for v in variants
        )),
        ("tokens processed (padded)", *(f"{variants[v]['padded_tokens']:,}" for v in variants)),
        ("model FLOPs spent", *(si(variants[v]["spent_flops"], "FLOP") for v in variants)),
        ("achieved FLOP/s (spent)", *(si(variants[v]["spent_flop_rate"], "FLOP/s") for v in variants)),
        ("  fraction of fp32 matmul", *(f"{100 * variants[v]['spent_fraction_of_matmul']:.1f} %" for v in variants)),
        ("useful FLOP/s (real tokens)", *(si(variants[v]["useful_flop_rate"], "FLOP/s") for v in variants)),
        ("  fraction of fp32 matmul", *(f"{100 * variants[v]['useful_fraction_of_matmul']:.1f} %" for v in variants)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    for index, row in enumerate(rows):
        print(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}")
        if index == 0:
            print("-" * (sum(widths) + 4))
    print("-" * (sum(widths) + 4))
    print(f"speed-up A/B (median pairs/s): {speedup:.2f}x  (target >= 2x: {'met' if speedup >= 2 else 'NOT met'})")
    print(
        f"speed-up within each round: median {statistics.median(round_ratios):.2f}x "
        f"(rounds: {', '.join(f'{r:.2f}' for r in round_ratios)})"
    )
    cpu_ratio = variants["naive"]["median_cpu_seconds"] / variants["ours"]["median_cpu_seconds"]
    print(f"speed-up by median process CPU time (B/A): {cpu_ratio:.2f}x")
    print(
        f"dense fp32 matmul {args.matmul_size}x{args.matmul_size}: median {si(matmul_median, 'FLOP/s')} "
        f"(rounds: {', '.join(si(m, 'FLOP/s') for m in matmul)})"
    )
    print(
        f"useful FLOPs (real tokens, both): {si(flops['useful_flops'], 'FLOP')}; prompt length min/median/max "
        f"{flops['prompt_length_min']}/{flops['prompt_length_median']}/{flops['prompt_length_max']} tokens, "
        f"{flops['real_tokens']:,} real tokens; encoder L={flops['layers']} H={flops['hidden']} I={flops['intermediate']}"
    )
    print(
        f"vectors A vs B: max |diff| {agree['max_abs_diff']:.2e} (max |value| {agree['max_abs_value']:.2f}, "
        f"max |diff|/||v|| {agree['max_rel_diff']:.2e}), max 1-cosine {agree['max_one_minus_cosine']:.2e}"
    )
    wall = time.perf_counter() - wall_start
    print(f"wall time of the benchmark: {wall:.1f} s")

    results = {
        "environment": env,
        "data": data_info,
        "settings": {
            "num_pairs": len(pairs),
            "batch_size": args.batch_size,
            "rounds": args.rounds,
            "max_length": model.config.max_length,
            "aggregation_mode": model.config.aggregation_mode,
            "matmul_size": args.matmul_size,
            "matmul_reps": args.matmul_reps,
        },
        "flops": flops,
        "matmul_flop_rate_per_round": matmul,
        "matmul_flop_rate_median": matmul_median,
        "variants": variants,
        "speedup_pairs_per_s": speedup,
        "speedup_per_round": round_ratios,
        "speedup_per_round_median": statistics.median(round_ratios),
        "speedup_cpu_time": cpu_ratio,
        "agreement": agree,
        "wall_seconds": wall,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.json}")
    return results


if __name__ == "__main__":
    main()

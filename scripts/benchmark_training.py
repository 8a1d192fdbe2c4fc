"""Seconds per NCE training step: relbert_hf's embedding (length-sorted chunks, dynamic padding) next to a naive
baseline that pads every prompt to max_length and embeds fixed chunks of 32 in sampling order, as the reference
library (relbert 2.0.2) does. Both run on the same sampled relation types, interleaved step by step.

```
python scripts/benchmark_training.py --data data/semeval2012_relational_similarity --steps 10 --json bench.json
python scripts/benchmark_training.py --raw-dir ../shared/data/semeval2012_task2   # builds the dataset in a temp dir
```

A step = embed the sampled positives (10) and negatives (400) of one relation type, NCE loss, backward, AdamW update.
The loss check embeds the same batch both ways in eval mode (no dropout) and compares the NCE values.
Default backbone: the embedded all-MiniLM-L6-v2; `--device cuda --mixed-precision bf16` on a GPU.
"""

import argparse
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time

import torch

from relbert_hf import RelBertModel
from relbert_hf.data.semeval2012 import (
    build_semeval2012,
    default_raw_dir,
    load_relation_dataset,
    write_relation_dataset,
)
from relbert_hf.embedded import embedded_backbone_path
from relbert_hf.training.data import PairTable, build_relation_types, dataset_pairs, embed_pairs, epoch_plan
from relbert_hf.training.losses import nce_loss


#: The reference embeds in fixed chunks of this many prompts (its `batch`).
NAIVE_CHUNK = 32


def naive_embeddings(model, padded: dict[str, torch.Tensor], pair_ids, device) -> torch.Tensor:
    """The reference's way: prompts pre-padded to max_length, embedded in chunks of 32 in the given order."""
    rows = torch.tensor(pair_ids)
    pieces = []
    for start in range(0, len(pair_ids), NAIVE_CHUNK):
        chunk = rows[start : start + NAIVE_CHUNK]
        pieces.append(model(**{key: value[chunk].to(device) for key, value in padded.items()}).relation_embedding)
    return torch.cat(pieces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="backbone (default: the embedded all-MiniLM-L6-v2)")
    parser.add_argument("--data", help="built relation dataset (folder or Hub id); default: build from --raw-dir")
    parser.add_argument(
        "--raw-dir", help="raw SemEval-2012 Task 2 folder (default: $RELBERT_HF_DATA/semeval2012_task2)"
    )
    parser.add_argument("--steps", type=int, default=10, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per method first")
    parser.add_argument("--num-positive", type=int, default=10)
    parser.add_argument("--num-negative", type=int, default=400)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32, help="prompts per forward pass of relbert_hf's embedding")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default="no")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    backbone = args.model or embedded_backbone_path()
    model = RelBertModel.from_backbone(backbone, max_length=args.max_length).to(device)
    with tempfile.TemporaryDirectory() as folder:
        data = args.data
        if data is None:
            raw_dir = args.raw_dir or default_raw_dir()
            if raw_dir is None:
                parser.error("pass --data or --raw-dir (or set RELBERT_HF_DATA to the data mirror)")
            write_relation_dataset(build_semeval2012(raw_dir), folder)
            data = folder
        dataset = load_relation_dataset(data, "train")
    table = PairTable(model.tokenizer, model.config, dataset_pairs(dataset))
    relation_types = build_relation_types(dataset, table)
    plan = epoch_plan(relation_types, args.seed, 0, args.num_positive, args.num_negative)
    samples = [plan[index % len(plan)] for index in range(args.warmup + args.steps)]
    prompts = [model.config.render_prompt(pair, model.tokenizer.mask_token) for pair in table.pairs]
    padded = dict(
        model.tokenizer(
            prompts, padding="max_length", truncation=True, max_length=args.max_length, return_tensors="pt"
        )
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-6)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.mixed_precision)

    def autocast():
        return torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()

    def ours(sample):
        return embed_pairs(model, table, sample.pair_ids, args.batch, device)

    def naive(sample):  # positives and negatives embedded separately, as the reference's loop does
        return torch.cat(
            [naive_embeddings(model, padded, ids, device) for ids in (sample.positives, sample.negatives)]
        )

    def loss_of(embed, sample):
        with autocast():
            embeddings = embed(sample)
        return nce_loss(embeddings[: len(sample.positives)], embeddings[len(sample.positives) :])

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    model.eval()
    with torch.no_grad():
        loss_ours, loss_naive = loss_of(ours, samples[0]).item(), loss_of(naive, samples[0]).item()
    model.train()
    times = {"ours": [], "naive": []}
    for index, sample in enumerate(samples):
        for name, embed in (("ours", ours), ("naive", naive)):
            synchronize()
            start = time.perf_counter()
            loss_of(embed, sample).backward()
            optimizer.step()
            optimizer.zero_grad()
            synchronize()
            if index >= args.warmup:
                times[name].append(time.perf_counter() - start)

    tokens = {
        "ours": statistics.mean(sum(table.length(i) for i in set(s.pair_ids)) for s in samples),
        "naive": statistics.mean(len(s.pair_ids) * args.max_length for s in samples),
    }
    seconds = {name: statistics.median(values) for name, values in times.items()}
    results = {
        "backbone": str(backbone),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "torch_threads": torch.get_num_threads(),
        "mixed_precision": args.mixed_precision,
        "prompts_per_step": args.num_positive + args.num_negative,
        "timed_steps": args.steps,
        "seconds_per_step": seconds,
        "seconds_per_step_all": times,
        "speedup": seconds["naive"] / seconds["ours"],
        "tokens_per_step": tokens,
        "loss_same_batch": {"ours": loss_ours, "naive": loss_naive},
        "loss_relative_difference": abs(loss_ours - loss_naive) / abs(loss_naive),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    print(
        f"{results['device']}, {results['torch_threads']} threads, {args.mixed_precision}: "
        f"ours {seconds['ours']:.3f} s/step, naive {seconds['naive']:.3f} s/step, speedup {results['speedup']:.2f}x; "
        f"loss ours {loss_ours:.6f} naive {loss_naive:.6f} "
        f"(relative difference {results['loss_relative_difference']:.2e})"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

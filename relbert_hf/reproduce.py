"""Reproduce RelBERT end to end: raw SemEval-2012 -> fine-tuned model -> every benchmark -> model card -> plot.

```
relbert-hf reproduce                                       # embedded MiniLM, reference recipe, runs/reproduce-minilm
relbert-hf reproduce --run-dir runs/rb --backbone roberta-base -- --batch 512 --epoch 5    # options after -- go to
                                                                                            # relbert_hf.train
```

Stages, each skipped when its output exists (so the same command continues an interrupted run; training resumes from
its last checkpoint):

| stage    | output (under the run folder)                          |
|----------|--------------------------------------------------------|
| data     | `data/semeval2012_relational_similarity/dataset/*.jsonl`, built from `$RELBERT_HF_DATA/semeval2012_task2` |
| baseline | `untrained/results.json`: the untrained RelBERT on the same backbone, every benchmark |
| train    | `training/model/` (+ `training/checkpoints/`, `training/training_log.jsonl`) |
| evaluate | `training/model/results.json`                           |
| card     | `training/model/README.md`                              |
| plot     | `relation_embeddings.png`: PCA of BLESS test pairs, untrained and fine-tuned side by side |

Embeddings are kept in `embedding_cache/` (an interrupted evaluation does not encode its pairs again; the plot encodes
nothing). Wall time per stage accumulates in `stages.json` across runs; `summary.md` gets the results table (untrained,
fine-tuned, and the published numbers quoted as published), the validation loss per epoch, the time per stage and the
hardware.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from .cli import baseline_name, load_relation_embedding_pipeline
from .data.semeval2012 import build_semeval2012, default_raw_dir, split_counts, write_relation_dataset
from .evaluation import BENCHMARKS, EmbeddingCache, evaluate_model, headline_scores, write_results
from .plotting import labelled_pairs, plot_relation_embeddings
from .training import latest_checkpoint, parse_training_arguments, train
from .training.trainer import FINETUNING_CONFIG_NAME, TRAINING_LOG_NAME


STAGES = ("data", "baseline", "train", "evaluate", "card", "plot")
DATA_FOLDER = "data/semeval2012_relational_similarity"
BASELINE_RESULTS = "untrained/results.json"
TRAINING_FOLDER = "training"
PLOT_NAME = "relation_embeddings.png"
STAGES_NAME = "stages.json"
SUMMARY_NAME = "summary.md"
EMBEDDING_CACHE = "embedding_cache"
#: Training flags before the user's (which override them): a resumable state every 20 optimizer steps (~3 min on
#: 2 CPU cores with MiniLM), so that an interrupted run loses little.
DEFAULT_TRAIN_OPTIONS = ("--checkpointing_steps", "20")
#: Pairs of the plot: BLESS test, at most this many per relation.
PLOT_DATASET, PLOT_SPLIT, PLOT_PAIRS_PER_RELATION = "BLESS", "test", 300

#: Published scores, quoted as published (result key, score) -> value. Card: the Hub model card of
#: relbert/relbert-roberta-base-nce-semeval2012-0 (../shared/REFERENCE_CARD.md); paper: Ushio et al. (EMNLP 2021),
#: RelBERT on bert-base-cased, analogy accuracy.
PUBLISHED = {
    "roberta-base, model card": {
        ("sat_full", "accuracy"): 0.5989304812834224,
        ("sat/test", "accuracy"): 0.6083086053412463,
        ("bats/test", "accuracy"): 0.7031684269038355,
        ("u2/test", "accuracy"): 0.5964912280701754,
        ("u4/test", "accuracy"): 0.5740740740740741,
        ("google/test", "accuracy"): 0.892,
        ("conceptnet_relational_similarity/test", "accuracy"): 0.3976510067114094,
        ("t_rex_relational_similarity/test", "accuracy"): 0.6666666666666666,
        ("nell_relational_similarity/test", "accuracy"): 0.62,
        ("lexical_relation_classification/BLESS", "f1_micro"): 0.8998041283712521,
        ("lexical_relation_classification/CogALexV", "f1_micro"): 0.8370892018779342,
        ("lexical_relation_classification/EVALution", "f1_micro"): 0.6419284940411701,
        ("lexical_relation_classification/K&H+N", "f1_micro"): 0.9396953467343674,
        ("lexical_relation_classification/ROOT09", "f1_micro"): 0.8815418364149169,
        ("relation_mapping", "accuracy"): 0.817202380952381,
    },
    "bert-base-cased, paper": {
        ("sat_full", "accuracy"): 0.447,
        ("sat/test", "accuracy"): 0.448,
        ("bats/test", "accuracy"): 0.549,
        ("u2/test", "accuracy"): 0.368,
        ("u4/test", "accuracy"): 0.400,
        ("google/test", "accuracy"): 0.722,
        ("conceptnet_relational_similarity/test", "accuracy"): 0.271,
        ("t_rex_relational_similarity/test", "accuracy"): 0.492,
        ("nell_relational_similarity/test", "accuracy"): 0.567,
    },
}


class Run:
    """The folder of one reproduction and the paths of its stages' outputs."""

    def __init__(self, run_dir: str | os.PathLike):
        self.dir = Path(run_dir)
        self.data = self.dir / DATA_FOLDER
        self.baseline_results = self.dir / BASELINE_RESULTS
        self.training = self.dir / TRAINING_FOLDER
        self.model = self.training / "model"
        self.results = self.model / "results.json"
        self.card = self.model / "README.md"
        self.plot = self.dir / PLOT_NAME
        self.cache = self.dir / EMBEDDING_CACHE
        self.stages = self.dir / STAGES_NAME
        self.summary = self.dir / SUMMARY_NAME

    def done(self, stage: str) -> bool:
        """Whether `stage` has its output (a finished stage writes its output last, atomically or as a last file)."""
        outputs = {
            "data": [self.data / "dataset/train.jsonl", self.data / "dataset/validation.jsonl"],
            "baseline": [self.baseline_results],
            "train": [self.model / FINETUNING_CONFIG_NAME],
            "evaluate": [self.results],
            "card": [self.card],
            "plot": [self.plot],
        }[stage]
        return all(path.is_file() for path in outputs)

    def stage_records(self) -> dict:
        return json.loads(self.stages.read_text(encoding="utf-8")) if self.stages.is_file() else {}

    @contextmanager
    def timed(self, stage: str):
        """Add the wall time of the block to `stages.json` (also when it fails or is interrupted)."""
        began = time.perf_counter()
        status = "stopped"
        try:
            yield
            status = "done"
        finally:
            records = self.stage_records()
            record = records.setdefault(stage, {"seconds": 0.0, "runs": 0})
            record["seconds"] += time.perf_counter() - began
            record["runs"] += 1
            record["status"] = status
            self.dir.mkdir(parents=True, exist_ok=True)
            write_results(records, self.stages, overwrite=True)


def _log(message: str):
    print(f"[reproduce {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_data(run: Run, raw_dir: str | os.PathLike | None):
    raw_dir = raw_dir or default_raw_dir()
    if raw_dir is None:
        raise FileNotFoundError("no raw SemEval-2012 files: set RELBERT_HF_DATA to the mirror or pass --raw-dir")
    splits = build_semeval2012(raw_dir)
    partial = run.data.with_name(run.data.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    write_relation_dataset(splits, partial)
    shutil.rmtree(run.data, ignore_errors=True)  # an incomplete folder of an interrupted run
    partial.replace(run.data)
    for split, counts in split_counts(splits).items():
        _log(f"{split}: {counts['relation_types']} relation types, {counts['positives']} positives, "
             f"{counts['negatives']} negatives")


def evaluate_to(pipe, results_path: Path, run: Run, model_name: str, batch_size: int, limit: int | None):
    results = evaluate_model(
        pipe, batch_size=batch_size, cache_dir=run.cache, limit=limit, model_name=model_name, log=_log
    )
    write_results(results, results_path)


def training_options(run: Run, backbone: str | None, options: list[str]) -> list[str]:
    """The `relbert_hf.train` command line of the train stage (with `--resume` when a checkpoint exists)."""
    argv = ["--output_dir", str(run.training), "--data", str(run.data)]
    if backbone:
        argv += ["--model", backbone]
    argv += [*DEFAULT_TRAIN_OPTIONS, *options]
    if latest_checkpoint(run.training) is not None:
        argv.append("--resume")
    return argv


def hardware_description() -> str:
    """CPU model, cores, torch threads and the GPU, if any, in one line."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    line = f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"
    if torch.cuda.is_available():
        line += f", GPU {torch.cuda.get_device_name(0)}"
    return line


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _cell(value: float | None, published: bool) -> str:
    """Ours with 4 decimals; published numbers as published (up to 4 significant digits)."""
    if value is None:
        return ""
    return f"{value:.4g}" if published else f"{value:.4f}"


def summary_markdown(run: Run) -> str:
    """The results table (untrained, fine-tuned, published), validation losses, time per stage and hardware."""
    columns = {"untrained": _read_json(run.baseline_results), "fine-tuned": _read_json(run.results)}
    scores = {name: {(key, score): value for key, score, value in headline_scores(results or {})}
              for name, results in columns.items()}
    scores.update(PUBLISHED)
    position = {benchmark.key: index for index, benchmark in enumerate(BENCHMARKS)}
    rows = sorted(dict.fromkeys(row for table in scores.values() for row in table), key=lambda row: position[row[0]])
    header = ["benchmark", "score", *[f"{name} (published)" if name in PUBLISHED else name for name in scores]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, score in rows:
        cells = [_cell(scores[name].get((key, score)), name in PUBLISHED) for name in scores]
        lines.append(f"| {key} | {score} | " + " | ".join(cells) + " |")
    log = run.training / TRAINING_LOG_NAME
    if log.is_file():
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        losses = [f"{record['validation_loss']:.2f}" for record in records if "validation_loss" in record]
        if losses:
            lines += ["", f"Validation loss after each epoch (SemEval-2012 validation split): {', '.join(losses)}"]
    lines += ["", "| stage | wall time (min) | status |", "|---|---|---|"]
    records = run.stage_records()
    for stage in STAGES:
        record = records.get(stage)
        if record is None and stage in ("baseline", "evaluate"):  # evaluated outside this command
            results = columns["untrained" if stage == "baseline" else "fine-tuned"]
            if results:
                record = {"seconds": results["timings_s"]["total"], "status": "done (time from results.json)"}
        if record:
            lines.append(f"| {stage} | {record['seconds'] / 60:.1f} | {record['status']} |")
    lines += ["", f"Hardware: {hardware_description()}."]
    return "\n".join(lines) + "\n"


def export_artefacts(run: Run, folder: str | os.PathLike) -> list[Path]:
    """Copy the run's small artefacts (no weights) that exist to `folder`: results of both models, the fine-tuning
    config, training log, model card, plot, stage times and summary. Returns the paths written."""
    sources = {
        "untrained_results.json": run.baseline_results,
        "results.json": run.results,
        FINETUNING_CONFIG_NAME: run.model / FINETUNING_CONFIG_NAME,
        TRAINING_LOG_NAME: run.training / TRAINING_LOG_NAME,
        "README.md": run.card,
        PLOT_NAME: run.plot,
        STAGES_NAME: run.stages,
        SUMMARY_NAME: run.summary,
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in sources.items():
        if source.is_file():
            shutil.copyfile(source, folder / name)
            written.append(folder / name)
    return written


def reproduce(
    run_dir: str | os.PathLike,
    backbone: str | None = None,
    train_options: list[str] = (),
    raw_dir: str | os.PathLike | None = None,
    repo_id: str | None = None,
    batch_size: int = 64,
    stop_after: str | None = None,
    limit: int | None = None,
    export: str | os.PathLike | None = None,
) -> Run:
    """Run every stage that has no output yet (see the module docstring), or up to `stop_after`; returns the `Run`.

    `train_options` are `relbert_hf.train` flags (the defaults are the reference recipe); `limit` evaluates only the
    first `limit` records of each benchmark split (smoke tests, recorded in results.json); `export` names a folder
    that gets the small artefacts (`export_artefacts`).
    """
    from hub_card import save_model_card

    run = Run(run_dir)
    parse_training_arguments(training_options(run, backbone, list(train_options)))  # bad options fail before any work
    run.dir.mkdir(parents=True, exist_ok=True)
    untrained = None

    def baseline_pipe():
        nonlocal untrained
        untrained = untrained or load_relation_embedding_pipeline(backbone=backbone)
        return untrained

    for stage in STAGES:
        if run.done(stage):
            _log(f"{stage}: done already, skipped")
        else:
            _log(f"{stage}: starting")
            with run.timed(stage):
                if stage == "data":
                    build_data(run, raw_dir)
                elif stage == "baseline":
                    evaluate_to(baseline_pipe(), run.baseline_results, run, baseline_name(backbone), batch_size, limit)
                elif stage == "train":
                    train(parse_training_arguments(training_options(run, backbone, list(train_options))))
                elif stage == "evaluate":
                    pipe = load_relation_embedding_pipeline(model=str(run.model))
                    evaluate_to(pipe, run.results, run, str(run.model), batch_size, limit)
                elif stage == "card":
                    save_model_card(run.model, repo_id=repo_id, model_name=run.dir.resolve().name)
                else:
                    pairs, labels = labelled_pairs(PLOT_DATASET, PLOT_SPLIT, PLOT_PAIRS_PER_RELATION)
                    trained = load_relation_embedding_pipeline(model=str(run.model))
                    panels = {
                        name: EmbeddingCache(pipe, batch_size=batch_size, cache_dir=run.cache)(pairs, desc=name)
                        for name, pipe in (("untrained", baseline_pipe()), ("fine-tuned", trained))
                    }
                    title = f"PCA of relation embeddings, {PLOT_DATASET} {PLOT_SPLIT} ({len(pairs)} pairs)"
                    plot_relation_embeddings(panels, labels, run.plot, title=title)
            _log(f"{stage}: done ({run.stage_records()[stage]['seconds'] / 60:.1f} min in all)")
        if stage == stop_after:
            break
    run.summary.write_text(summary_markdown(run), encoding="utf-8")
    print(run.summary.read_text(encoding="utf-8"))
    if export is not None:
        for path in export_artefacts(run, export):
            _log(f"exported {path}")
    return run


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_options = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(
        prog="relbert-hf reproduce",
        description=__doc__.replace("```\n", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: RELBERT_HF_DATA=../shared/data relbert-hf reproduce --run-dir runs/reproduce-minilm",
    )
    parser.add_argument("--run-dir", default="runs/reproduce-minilm", help="run folder (default: %(default)s)")
    parser.add_argument("--backbone", help="encoder to fine-tune, Hub id or folder (default: the embedded MiniLM)")
    parser.add_argument("--raw-dir", help="raw SemEval-2012 Task 2 files (default: $RELBERT_HF_DATA/semeval2012_task2)")
    parser.add_argument("--repo-id", metavar="ORG/NAME", help="Hub repo the model card is written for")
    parser.add_argument("--batch-size", type=int, default=64, help="pairs per forward pass in evaluation")
    parser.add_argument("--stop-after", choices=STAGES, help="stop after this stage (the rest runs next time)")
    parser.add_argument(
        "--limit", type=int, help="evaluate only the first N records of each benchmark split (smoke tests)"
    )
    parser.add_argument(
        "--export", metavar="DIR", help="copy the small artefacts (results, configs, log, card, plot, summary) to DIR"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill`: record the stage's time, then stop
    reproduce(
        args.run_dir,
        backbone=args.backbone,
        train_options=train_options,
        raw_dir=args.raw_dir,
        repo_id=args.repo_id,
        batch_size=args.batch_size,
        stop_after=args.stop_after,
        limit=args.limit,
        export=args.export,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

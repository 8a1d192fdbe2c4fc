"""The `relbert-hf` command: relation embeddings of word pairs from the shell.

```
relbert-hf embed Tokyo:Japan "New York:United States"          # JSON lines with the embeddings on stdout
relbert-hf embed --input pairs.tsv --output vectors.jsonl --normalize
relbert-hf similarity Tokyo:Japan Paris:France                 # cosine of the two relation embeddings
relbert-hf analogy word:language note:music chapter:book color:painting --json
relbert-hf convert OLD_RELBERT_CHECKPOINT NEW_FOLDER           # original relbert library -> relbert-hf folder
relbert-hf evaluate runs/x --tasks analogy,classification       # benchmarks of the model card -> runs/x/results.json
relbert-hf train --output_dir runs/x --data DATA                 # NCE fine-tuning (same as python -m relbert_hf.train)
relbert-hf card runs/x --repo-id org/name                       # model card (model-index) -> runs/x/README.md
relbert-hf push runs/x --repo-id org/name --dry-run             # check the folder, show what would be uploaded
```

Without `--model` the commands use an UNTRAINED RelBERT: the embedded all-MiniLM-L6-v2 encoder with the reference
prompt and `average_no_mask` pooling, not fine-tuned on any relation data (fine for trying the command out; pass a
trained model, e.g. `--model relbert/relbert-roberta-base-nce-semeval2012-0`, for meaningful relation embeddings).

The parser is built by `build_parser()` (one subparser per command, each served by one `run_<command>` function);
`main(argv)` returns the exit status: 0 on success, 2 on bad input (a one-line `relbert-hf: error: ...` on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from . import __version__
from .configuration_relbert import AGGREGATION_MODES, RelBertConfig, check_pair
from .embedded import embedded_backbone_path
from .legacy import LEGACY_MAX_LENGTH, convert_legacy_checkpoint
from .modeling_relbert import RelBertModel
from .pipeline_relbert import DEFAULT_BATCH_SIZE, RelationEmbeddingPipeline


PROG = "relbert-hf"
Pair = tuple[str, str]

#: Pairs embedded per pipeline call by `embed`; a progress bar (on a terminal) counts these chunks.
EMBED_CHUNK_SIZE = 4096

DEFAULT_MODEL_HELP = (
    "default: an UNTRAINED RelBERT on the embedded all-MiniLM-L6-v2 encoder with the reference template and "
    "average_no_mask pooling, i.e. NOT fine-tuned on relation data (good for trying the command, not for results)"
)


class InputError(ValueError):
    """Bad command-line input (reported as a one-line error, exit status 2)."""


# --------------------------------------------------------------------------------------------------------------------
# model loading


def _looks_like_local_path(name: str) -> bool:
    """A name that can only be a local path (a Hub id is `name` or `namespace/name`)."""
    return (
        os.path.isabs(name)
        or name.startswith(("./", "../", "~", ".\\", "..\\"))
        or name in (".", "..")
        or name.count("/") > 1
        or "\\" in name
    )


def _check_model_source(name: str, option: str) -> None:
    if not os.path.exists(name) and _looks_like_local_path(name):
        raise FileNotFoundError(f"{option} {name}: no such folder")


def load_relation_embedding_pipeline(
    model: str | os.PathLike | None = None,
    device: int | str | None = None,
    template: str | None = None,
    aggregation_mode: str | None = None,
    backbone: str | os.PathLike | None = None,
) -> RelationEmbeddingPipeline:
    """A `relation-embedding` pipeline, its model in eval mode.

    Args:
        model: a trained RelBERT: Hub id or local folder of a relbert-hf model or of a checkpoint of the original
            `relbert` library. `None` (and no `backbone`): an UNTRAINED RelBERT on the embedded all-MiniLM-L6-v2
            encoder (`RelBertModel.from_backbone(embedded_backbone_path())`), reference template unless `template`.
        device: passed to `transformers.pipeline` (`"cpu"`, `"cuda"`, `"cuda:1"`, `0`, ...); `None` lets it choose.
        template, aggregation_mode: prompt and pooling of an untrained RelBERT (the default or `backbone`); a trained
            `model` brings its own, so they are refused with it.
        backbone: Hub id or folder of a plain encoder (BERT, RoBERTa, ...) to build an untrained RelBERT on.

    Raises `ValueError` for contradictory arguments or a `model` that is a plain encoder, `FileNotFoundError` for a
    missing local folder, `ImportError` when the default needs the missing embedded backbone, `OSError` when the Hub
    cannot serve `model`.
    """
    from transformers import PreTrainedConfig, pipeline

    if model is not None and backbone is not None:
        raise ValueError(
            "give a trained model (--model) or a backbone for an untrained RelBERT (--backbone), not both"
        )
    if model is not None:
        if template is not None or aggregation_mode is not None:
            raise ValueError(
                "--template/--aggregation-mode only apply to an untrained RelBERT (the default or --backbone); "
                f"the model {model} brings its own"
            )
        model = str(model)
        _check_model_source(model, "--model")
        pipe = pipeline("relation-embedding", model=model, device=device)
    else:
        settings = {"template": template, "aggregation_mode": aggregation_mode}
        settings = {key: value for key, value in settings.items() if value is not None}
        if backbone is None:
            source = embedded_backbone_path()
        else:
            source = str(backbone)
            _check_model_source(source, "--backbone")
            config_dict, _ = PreTrainedConfig.get_config_dict(source)
            if config_dict.get("model_type") == RelBertConfig.model_type:
                raise ValueError(f"{source} is already a RelBERT model; use --model {source}")
        relbert = RelBertModel.from_backbone(source, **settings)
        pipe = pipeline("relation-embedding", model=relbert, tokenizer=relbert.tokenizer, device=device)
    pipe.model.eval()
    return pipe


def baseline_name(backbone: str | os.PathLike | None = None) -> str:
    """How results name the untrained RelBERT on `backbone` (default: the embedded MiniLM)."""
    return f"untrained RelBERT on {backbone or 'all-MiniLM-L6-v2 (embedded)'}"


def _pipeline_from_args(args: argparse.Namespace) -> RelationEmbeddingPipeline:
    return load_relation_embedding_pipeline(
        model=args.model,
        device=args.device,
        template=args.template,
        aggregation_mode=args.aggregation_mode,
        backbone=args.backbone,
    )


def _unit_vectors(pipe: RelationEmbeddingPipeline, pairs: Sequence[Pair], batch_size: int) -> np.ndarray:
    """(len(pairs), hidden_size) float64 array of L2-normalised relation embeddings."""
    vectors = np.asarray(pipe(list(pairs), batch_size=batch_size, return_numpy=True), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


# --------------------------------------------------------------------------------------------------------------------
# input parsing


def check_words(pair: Pair, where: str) -> Pair:
    """`check_pair` with `where` (the argument or file line) named in the message."""
    try:
        return check_pair(pair)
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None


def parse_pair(text: str) -> Pair:
    """`"head:tail"` -> `("head", "tail")`, each word stripped of surrounding spaces (words may contain spaces).

    Exactly one `:` is allowed: a word containing `:` cannot be given on the command line (use `embed --input`).
    """
    where = f"pair argument {text!r}"
    if text.count(":") != 1:
        problem = "has no ':'" if ":" not in text else "has more than one ':'"
        raise InputError(
            f"{where} {problem}; write head:tail (a word containing ':' is only possible with embed --input FILE)"
        )
    head, tail = text.split(":")
    return check_words((head.strip(), tail.strip()), where)


def parse_pair_line(line: str, where: str) -> Pair:
    """One line of an input file: JSON `{"head": .., "tail": ..}` or `[head, tail]`, else TSV `head<TAB>tail`.

    TSV fields are stripped of surrounding spaces; JSON strings are used as they are.
    """
    text = line.strip()
    if text.startswith(("{", "[")):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: invalid JSON ({error.msg} at column {error.colno})") from None
        if isinstance(record, dict) and "head" in record and "tail" in record:
            pair = (record["head"], record["tail"])
        elif isinstance(record, list) and len(record) == 2:
            pair = (record[0], record[1])
        else:
            raise InputError(f'{where}: expected {{"head": ..., "tail": ...}} or [head, tail], got {text}')
        return check_words(pair, where)
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) != 2:
        raise InputError(
            f"{where}: expected head<TAB>tail or a JSON line, got {len(fields)} tab-separated field(s): {text!r}"
        )
    return check_words((fields[0].strip(), fields[1].strip()), where)


def read_pairs(path: str) -> list[Pair]:
    """Pairs of an input file (`-` is stdin), one per line, blank lines skipped; see `parse_pair_line`."""
    if path == "-":
        lines, name = sys.stdin.read().splitlines(), "<stdin>"
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f"--input {path}: no such file")
        lines, name = Path(path).read_text(encoding="utf-8").splitlines(), path
    pairs = [parse_pair_line(line, f"{name}:{number}") for number, line in enumerate(lines, 1) if line.strip()]
    if not pairs:
        raise InputError(f"{name}: no word pairs")
    return pairs


# --------------------------------------------------------------------------------------------------------------------
# subcommands


def run_embed(args: argparse.Namespace) -> int:
    """`embed`: JSON lines `{"head", "tail", "embedding"}` in input order."""
    if args.pairs and args.input:
        raise InputError("give pairs as arguments or --input FILE, not both")
    if not args.pairs and not args.input:
        raise InputError("no pairs: give head:tail arguments or --input FILE")
    pairs = [parse_pair(text) for text in args.pairs] if args.pairs else read_pairs(args.input)
    output = Path(args.output) if args.output and args.output != "-" else None
    if output is not None:
        if output.is_dir():
            raise IsADirectoryError(f"--output {output} is a folder")
        if output.exists() and not args.overwrite:
            raise FileExistsError(f"{output} exists; pass --overwrite to replace it")

    pipe = _pipeline_from_args(args)
    embeddings = []
    chunks = range(0, len(pairs), EMBED_CHUNK_SIZE)
    if len(chunks) > 1:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="embedding", unit="chunk", disable=None, file=sys.stderr)
    for start in chunks:
        chunk = pairs[start : start + EMBED_CHUNK_SIZE]
        embeddings.extend(pipe(chunk, batch_size=args.batch_size, normalize=args.normalize))

    lines = (
        json.dumps({"head": head, "tail": tail, "embedding": embedding}, ensure_ascii=False) + "\n"
        for (head, tail), embedding in zip(pairs, embeddings)
    )
    if output is None:
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        with open(output, "w" if args.overwrite else "x", encoding="utf-8") as stream:
            stream.writelines(lines)
        print(f"wrote {len(pairs)} relation embeddings to {output}", file=sys.stderr)
    return 0


def run_similarity(args: argparse.Namespace) -> int:
    """`similarity`: cosine similarity of two relation embeddings."""
    first, second = parse_pair(args.first), parse_pair(args.second)
    pipe = _pipeline_from_args(args)
    vectors = _unit_vectors(pipe, [first, second], batch_size=2)
    print(f"{float(vectors[0] @ vectors[1]):.6f}")
    return 0


def run_analogy(args: argparse.Namespace) -> int:
    """`analogy`: candidates ranked by the cosine of their relation embedding with the query's."""
    query = parse_pair(args.query)
    candidates = [parse_pair(text) for text in args.candidates]
    pipe = _pipeline_from_args(args)
    vectors = _unit_vectors(pipe, [query, *candidates], batch_size=args.batch_size)
    scores = vectors[1:] @ vectors[0]
    order = sorted(range(len(candidates)), key=lambda index: -scores[index])  # stable: ties keep input order
    ranking = [
        {"rank": rank, "head": candidates[index][0], "tail": candidates[index][1], "score": float(scores[index])}
        for rank, index in enumerate(order, 1)
    ]
    if args.json:
        record = {"query": {"head": query[0], "tail": query[1]}, "ranking": ranking}
        print(json.dumps(record, ensure_ascii=False))
        return 0
    _print_table(f"query {query[0]}:{query[1]}", ranking, sys.stdout)
    return 0


def _print_table(title: str, ranking: list[dict], stream: TextIO) -> None:
    pairs = [f"{row['head']}:{row['tail']}" for row in ranking]
    width = max(len("pair"), *(len(pair) for pair in pairs))
    print(title, file=stream)
    print(f"{'rank':>4}  {'pair':<{width}}  {'score':>8}", file=stream)
    for row, pair in zip(ranking, pairs):
        print(f"{row['rank']:>4}  {pair:<{width}}  {row['score']:>8.4f}", file=stream)


def run_convert(args: argparse.Namespace) -> int:
    """`convert`: checkpoint of the original relbert library -> relbert-hf model folder."""
    source = str(args.source)
    _check_model_source(source, "SOURCE")
    destination = convert_legacy_checkpoint(
        source, args.destination, max_length=args.max_length, overwrite=args.overwrite
    )
    config = json.loads((destination / "config.json").read_text(encoding="utf-8"))
    print(f"converted {source} -> {destination}")
    for key in ("template", "aggregation_mode", "max_length"):
        print(f"  {key}: {config[key]}")
    print(f"  files: {', '.join(sorted(path.name for path in destination.iterdir()))}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: the RelBERT benchmarks -> a table on stdout and results.json (see `relbert_hf.evaluation`)."""
    from .evaluation import evaluate_model, format_results_table, write_results

    if args.model_path and args.model:
        raise InputError("give the model as MODEL or as --model, not both")
    args.model = args.model_path or args.model
    if args.output is not None:
        output = Path(args.output)
    elif args.model is not None and Path(args.model).is_dir():
        output = Path(args.model) / "results.json"
    else:
        output = Path("results.json")
    if output.exists() and not args.overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")
    pipe = _pipeline_from_args(args)
    name = args.model or baseline_name(args.backbone)
    results = evaluate_model(
        pipe,
        tasks=args.tasks,
        datasets=args.datasets,
        batch_size=args.batch_size,
        cache_dir=args.cache_dir,
        analogy_scoring=args.analogy_scoring,
        probe_grid=args.probe_grid,
        probe_jobs=args.probe_jobs,
        probe_dtype=args.probe_dtype,
        limit=args.limit,
        model_name=name,
    )
    print(format_results_table(results))
    write_results(results, output, overwrite=args.overwrite)
    print(f"wrote {output}", file=sys.stderr)
    return 0


def run_train(args: argparse.Namespace) -> int:
    """`train`: every option goes to `python -m relbert_hf.train` (see `relbert-hf train --help`)."""
    from .train import main as train_main

    return train_main(args.options)


def run_reproduce(args: argparse.Namespace) -> int:
    """`reproduce`: every option goes to `python -m relbert_hf.reproduce` (see `relbert-hf reproduce --help`)."""
    from .reproduce import main as reproduce_main

    return reproduce_main(args.options)


def run_plot(args: argparse.Namespace) -> int:
    """`plot`: 2-D projection of the relation embeddings of labelled pairs, one panel per model (see `plotting`)."""
    from .evaluation import EmbeddingCache
    from .plotting import PROJECTIONS, labelled_pairs, plot_relation_embeddings

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")
    if not args.models and not args.baseline:
        raise InputError("nothing to plot: give MODEL folders or ids, --baseline, or both")
    for model in args.models:
        _check_model_source(model, "MODEL")
    if args.method not in PROJECTIONS:
        raise InputError(f"unknown projection {args.method!r}; choose one of {', '.join(PROJECTIONS)}")
    pairs, labels = labelled_pairs(args.dataset, args.split, args.max_per_relation, args.seed)
    sources = ([(baseline_name(args.backbone), None)] if args.baseline else []) + [(m, m) for m in args.models]
    panels = {}
    for name, model in sources:
        backbone = None if model else args.backbone
        pipe = load_relation_embedding_pipeline(model=model, device=args.device, backbone=backbone)
        cache = EmbeddingCache(pipe, batch_size=args.batch_size, cache_dir=args.cache_dir)
        panels[name] = cache(pairs, desc=name)
    title = f"{args.method.upper()} of relation embeddings, {args.dataset} {args.split} ({len(pairs)} pairs)"
    path = plot_relation_embeddings(panels, labels, output, method=args.method, title=title, seed=args.seed)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def run_card(args: argparse.Namespace) -> int:
    """`card`: README.md (model card with model-index) from results.json and finetuning_config.json (see `hub_card`)."""
    from hub_card import save_model_card

    paths = save_model_card(
        args.model_dir,
        repo_id=args.repo_id,
        license=args.license,
        eval_results_files=args.eval_results_files,
        overwrite=args.overwrite,
    )
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def run_push(args: argparse.Namespace) -> int:
    """`push`: check a model folder, then upload it to the Hub (`--dry-run`: list what would be uploaded)."""
    from huggingface_hub import ModelCard

    from hub_card import README_NAME, missing_items, push_model_folder, upload_plan

    missing = missing_items(args.model_dir, args.repo_id)
    if missing:
        print(f"{PROG}: error: {args.model_dir} is not ready to push to {args.repo_id}:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        return 2
    if args.dry_run:
        files = upload_plan(args.model_dir)
        target = f"https://huggingface.co/{args.repo_id} (revision {args.revision or 'main'}, new repo private: "
        target += f"{'yes' if args.private else 'no'})"
        print(f"dry run, nothing sent: {len(files)} files, {sum(size for _, size in files):,} bytes -> {target}")
        for path, size in files:
            print(f"{size:>14,}  {path}")
        print(f"\n{README_NAME} metadata:")
        print(ModelCard.load(Path(args.model_dir) / README_NAME).data.to_yaml())
        return 0
    try:
        commit = push_model_folder(
            args.model_dir,
            args.repo_id,
            private=args.private,
            token=args.token,
            revision=args.revision,
            commit_message=args.commit_message,
        )
    except OSError as error:  # huggingface_hub: OfflineModeIsEnabled, HfHubHTTPError (auth, permissions, ...)
        raise OSError(f"push to {args.repo_id} failed: {_one_line(error)}") from error
    print(f"pushed {args.model_dir} to {commit.commit_url}")
    return 0


# --------------------------------------------------------------------------------------------------------------------
# parser


def _comma_list(text: str) -> list[str]:
    """`a,b` -> `["a", "b"]` (empty items dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _device(text: str) -> int | str:
    """`--device`: an integer (GPU index, -1 for CPU) or a torch device string."""
    try:
        return int(text)
    except ValueError:
        return text


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        metavar="MODEL",
        help="trained RelBERT: Hub id or local folder of a relbert-hf model or of a checkpoint of the original "
        f"relbert library (e.g. relbert/relbert-roberta-base-nce-semeval2012-0); {DEFAULT_MODEL_HELP}",
    )
    group.add_argument(
        "--backbone",
        metavar="ENCODER",
        help="instead of --model: build an UNTRAINED RelBERT on this plain encoder "
        "(Hub id or folder, e.g. roberta-base)",
    )
    group.add_argument(
        "--template",
        help="prompt of an untrained RelBERT (default or --backbone), with <subj>, <obj> and optionally <mask>; "
        "default: the reference template",
    )
    group.add_argument(
        "--aggregation-mode",
        choices=AGGREGATION_MODES,
        help="pooling of an untrained RelBERT (default or --backbone); default: average_no_mask",
    )
    group.add_argument(
        "--device",
        type=_device,
        help="torch device: cpu, cuda, cuda:1, mps, or a GPU index (default: chosen by transformers)",
    )


def _add_subcommand(
    subparsers, name: str, run: Callable[[argparse.Namespace], int], help: str, description: str, epilog: str = ""
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


PAIR_HELP = (
    "word pairs are written head:tail (one ':'; spaces around words are dropped, quote pairs with spaces: "
    '"New York:United States"); a word containing \':\' cannot be given on the command line, use embed --input'
)


def build_parser() -> argparse.ArgumentParser:
    """The `relbert-hf` argument parser; each subcommand's parser sets `run`, the function that serves it."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="RelBERT relation embeddings of word pairs (Ushio et al., 2021) with Hugging Face "
        "transformers.\n\n"
        "Without --model the commands use an UNTRAINED RelBERT (embedded all-MiniLM-L6-v2, reference template, not "
        "fine-tuned):\npass a trained model, e.g. --model relbert/relbert-roberta-base-nce-semeval2012-0, for "
        "meaningful results.",
        epilog="run 'relbert-hf COMMAND --help' for the options of a command",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    embed = _add_subcommand(
        subparsers,
        "embed",
        run_embed,
        help="relation embeddings of word pairs as JSON lines",
        description="Relation embeddings of word pairs, written as JSON lines "
        '{"head": ..., "tail": ..., "embedding": [...]} in input order.\n\n'
        "Pairs come as head:tail arguments or from --input FILE with one pair per line, either JSON\n"
        '({"head": "Tokyo", "tail": "Japan"} or ["Tokyo", "Japan"]) or tab-separated (Tokyo<TAB>Japan).\n'
        "A word containing ':' is only possible in a file.",
        epilog='example: relbert-hf embed Tokyo:Japan "New York:United States" --normalize',
    )
    embed.add_argument("pairs", nargs="*", metavar="PAIR", help=PAIR_HELP)
    embed.add_argument(
        "--input", "-i", metavar="FILE", help="read pairs from FILE ('-' for stdin): JSON lines or TSV head<TAB>tail"
    )
    embed.add_argument(
        "--output", "-o", metavar="FILE", help="write the JSON lines to FILE instead of stdout (refused if it exists)"
    )
    embed.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    embed.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help="pairs per forward pass (default: %(default)s)",
    )
    embed.add_argument("--normalize", action="store_true", help="L2-normalise each embedding (unit length)")
    _add_model_options(embed)

    similarity = _add_subcommand(
        subparsers,
        "similarity",
        run_similarity,
        help="cosine similarity of the relation embeddings of two pairs",
        description="Print the cosine similarity of the relation embeddings of two word pairs.\n\n" + PAIR_HELP + ".",
        epilog="example: relbert-hf similarity Tokyo:Japan Paris:France "
        "--model relbert/relbert-roberta-base-nce-semeval2012-0",
    )
    similarity.add_argument("first", metavar="A:B", help="first pair")
    similarity.add_argument("second", metavar="C:D", help="second pair")
    _add_model_options(similarity)

    analogy = _add_subcommand(
        subparsers,
        "analogy",
        run_analogy,
        help="rank candidate pairs by relational similarity to a query pair",
        description="Rank candidate pairs by the cosine similarity of their relation embedding with the query's\n"
        "(highest first; ties keep the input order) and print a table of rank, pair and score.\n\n" + PAIR_HELP + ".",
        epilog="example: relbert-hf analogy word:language note:music chapter:book color:painting",
    )
    analogy.add_argument("query", metavar="QUERY", help="query pair head:tail")
    analogy.add_argument("candidates", nargs="+", metavar="CANDIDATE", help="candidate pairs head:tail")
    analogy.add_argument(
        "--json",
        action="store_true",
        help='print {"query": {...}, "ranking": [{"rank", "head", "tail", "score"}, ...]}',
    )
    analogy.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help="pairs per forward pass (default: %(default)s)",
    )
    _add_model_options(analogy)

    convert = _add_subcommand(
        subparsers,
        "convert",
        run_convert,
        help="convert a checkpoint of the original relbert library to a relbert-hf folder",
        description="Write a checkpoint of the original relbert library (any release up to 2.0.2: a plain encoder\n"
        "folder whose config.json has a relbert_config entry) as a relbert-hf model folder (weights, config,\n"
        "tokenizer and the code files for trust_remote_code), and print what was written.",
        epilog="example: relbert-hf convert relbert/relbert-roberta-base-nce-semeval2012-0 ./relbert-roberta-base",
    )
    convert.add_argument("source", metavar="SOURCE", help="Hub id or folder of the original relbert checkpoint")
    convert.add_argument("destination", metavar="DESTINATION", help="folder to write (must be absent or empty)")
    convert.add_argument(
        "--max-length",
        type=_positive_int,
        default=LEGACY_MAX_LENGTH,
        help="prompt length limit in tokens (default: %(default)s as in relbert 2.x; 2021-era models used 32)",
    )
    convert.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty DESTINATION (only once the new folder is completely written)",
    )

    # choices are checked by relbert_hf.evaluation when the command runs (importing it here would slow every command)
    evaluate = _add_subcommand(
        subparsers,
        "evaluate",
        run_evaluate,
        help="run the RelBERT benchmarks (analogy, classification, relation mapping) -> results.json",
        description="Evaluate a relation-embedding model on the benchmarks of the RelBERT model cards: analogy\n"
        "questions (accuracy), lexical relation classification (micro/macro F1 of an MLP probe) and relation mapping\n"
        "(accuracy). Prints a table and writes results.json with the reference keys (sat_full, sat/test, ...,\n"
        "lexical_relation_classification/BLESS, relation_mapping), the model, template, aggregation and timings.\n"
        "Datasets come from $RELBERT_HF_DATA (a local mirror) when set, else from the Hub.\n\n"
        "Without MODEL this evaluates the BASELINE: an untrained RelBERT (embedded all-MiniLM-L6-v2, reference\n"
        "template, average_no_mask, no fine-tuning), which shows what fine-tuning adds; --backbone gives the\n"
        "same baseline on another encoder.",
        epilog="example: relbert-hf evaluate relbert/relbert-roberta-base-nce-semeval2012-0 --tasks analogy "
        "--output results.json",
    )
    evaluate.add_argument(
        "model_path",
        nargs="?",
        metavar="MODEL",
        help="trained RelBERT (Hub id or folder), same as --model; default: the untrained baseline (see above)",
    )
    evaluate.add_argument(
        "--tasks",
        type=_comma_list,
        action="extend",
        metavar="TASK[,TASK]",
        help="benchmark families to run: analogy, classification, mapping (default: all)",
    )
    evaluate.add_argument(
        "--datasets",
        type=_comma_list,
        action="extend",
        metavar="NAME[,NAME]",
        help="only these benchmarks of the selected tasks: sat_full, sat, bats, u2, u4, google, "
        "conceptnet_relational_similarity, t_rex_relational_similarity, nell_relational_similarity, BLESS, CogALexV, "
        "EVALution, K&H+N, ROOT09, relation_mapping (default: all)",
    )
    evaluate.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="results file (refused if it exists; default: MODEL/results.json for a local model folder, else "
        "./results.json)",
    )
    evaluate.add_argument("--overwrite", action="store_true", help="replace an existing results file")
    evaluate.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help="pairs per forward pass (default: %(default)s)",
    )
    evaluate.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="keep embeddings on disk under DIR, keyed by a fingerprint of the model, and reuse them in later runs",
    )
    evaluate.add_argument(
        "--analogy-scoring",
        default="forward",
        metavar="{forward,reverse,bidirectional}",
        help="cosine of the (stem, choice) embeddings as given (forward, the reference's), of the reversed pairs "
        "(reverse), or the product of both (bidirectional) (default: %(default)s)",
    )
    evaluate.add_argument(
        "--probe-grid",
        default="reference",
        metavar="{reference,default}",
        help="classification probe: 'reference' searches the reference's 9 MLP settings on the validation split "
        "(exact, slow on CPU); 'default' trains scikit-learn's default MLP once (about 9x faster, not the "
        "reference's scores) (default: %(default)s)",
    )
    evaluate.add_argument(
        "--probe-dtype",
        default="float32",
        metavar="{float32,float64}",
        help="type of the probe's features: float32 (the embeddings' own) or float64 (the reference's; about 1.6x "
        "slower probes, scores differ at the noise level of probe training) (default: %(default)s)",
    )
    evaluate.add_argument(
        "--probe-jobs",
        type=_positive_int,
        metavar="N",
        help=(
            "train N classification probes in parallel processes, one BLAS thread each; the probes of all "
            "benchmarks share this pool (default: one per CPU core)"
        ),
    )
    evaluate.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        help="only the first N records of each dataset split (smoke test; the scores are not comparable)",
    )
    _add_model_options(evaluate)

    train = subparsers.add_parser(
        "train",
        add_help=False,
        prefix_chars="\0",  # pass every option, --help included, through to relbert_hf.train
        help="fine-tune RelBERT with NCE on SemEval-2012 relation types (relbert-hf train --help)",
    )
    train.add_argument("options", nargs=argparse.REMAINDER)
    train.set_defaults(run=run_train)

    reproduce = subparsers.add_parser(
        "reproduce",
        add_help=False,
        prefix_chars="\0",  # pass every option, --help included, through to relbert_hf.reproduce
        help="build the data, train, evaluate, write the card and plot, resumably (relbert-hf reproduce --help)",
    )
    reproduce.add_argument("options", nargs=argparse.REMAINDER)
    reproduce.set_defaults(run=run_reproduce)

    plot = _add_subcommand(
        subparsers,
        "plot",
        run_plot,
        help="draw a 2-D map (PCA or t-SNE) of relation embeddings of labelled pairs, one panel per model",
        description="Project the relation embeddings of the pairs of a lexical relation classification benchmark\n"
        "(default: BLESS test, at most 300 pairs per relation) to 2-D with PCA or t-SNE, one panel per model side by\n"
        "side, points coloured by relation, and save the figure (PNG, SVG or PDF by the file's suffix). Needs\n"
        'matplotlib: pip install "relbert-hf[plot]".',
        epilog="example: relbert-hf plot runs/minilm/model --baseline --output relation_embeddings.png",
    )
    plot.add_argument("models", nargs="*", metavar="MODEL", help="trained RelBERT models (Hub ids or folders)")
    plot.add_argument(
        "--baseline", action="store_true", help="add a first panel for the untrained RelBERT (on --backbone)"
    )
    plot.add_argument("--backbone", metavar="ENCODER", help="encoder of --baseline (default: the embedded MiniLM)")
    plot.add_argument(
        "--dataset", default="BLESS", help="lexical relation classification benchmark (default: %(default)s)"
    )
    plot.add_argument("--split", default="test", help="its split (default: %(default)s)")
    plot.add_argument(
        "--max-per-relation",
        type=_positive_int,
        default=300,
        help="random sample of at most N pairs per relation (default: %(default)s)",
    )
    plot.add_argument(
        "--method", default="pca", metavar="{pca,tsne}", help="projection, pca or tsne (default: %(default)s)"
    )
    plot.add_argument("--seed", type=int, default=0, help="seed of the sample and of t-SNE (default: %(default)s)")
    plot.add_argument(
        "--output", "-o", default="relation_embeddings.png", help="image file (default: %(default)s)"
    )
    plot.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    plot.add_argument(
        "--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, help="pairs per forward pass"
    )
    plot.add_argument("--cache-dir", metavar="DIR", help="on-disk embedding cache (as relbert-hf evaluate's)")
    plot.add_argument("--device", type=_device, help="torch device (default: chosen by transformers)")

    card = _add_subcommand(
        subparsers,
        "card",
        run_card,
        help="write the model card (README.md with model-index) of a model folder",
        description="Write MODEL_DIR/README.md, the Hub model card of a relbert-hf model folder: description, results\n"
        "tables and model-index from results.json (relbert-hf evaluate; benchmarks not evaluated are left out),\n"
        "usage, model details, training hyperparameters from finetuning_config.json (a folder without it is\n"
        "described as not fine-tuned) and citation. The card is checked to parse back with its results intact.",
        epilog="example: relbert-hf card runs/minilm/model --repo-id my-org/relbert-minilm",
    )
    card.add_argument("model_dir", metavar="MODEL_DIR", help="saved model folder")
    card.add_argument(
        "--repo-id",
        metavar="ORG/NAME",
        help="Hub repo the card is for: its title, usage examples and links (default: the folder's name and path; "
        "push needs a card written for its repo id)",
    )
    card.add_argument(
        "--license",
        help="licence of the weights (default: the base model's for roberta-base/-large and all-MiniLM-L6-v2, else "
        "unknown)",
    )
    card.add_argument(
        "--eval-results-files",
        action="store_true",
        help="also write .eval_results/*.yaml (the Hub's newer evaluation-results format, shown for datasets "
        "registered as Hub benchmarks) from the same results",
    )
    card.add_argument("--overwrite", action="store_true", help="replace an existing README.md / .eval_results files")

    push = _add_subcommand(
        subparsers,
        "push",
        run_push,
        help="upload a complete model folder to the Hugging Face Hub",
        description="Check that MODEL_DIR is complete (safetensors weights, config with auto_map and\n"
        "custom_pipelines, the code files for trust_remote_code, tokenizer, finetuning_config.json, results.json,\n"
        "and a README.md written by relbert-hf card for this repo id from the current results.json), refusing with\n"
        "the list of what is missing; then create the repo if needed and upload the folder in one commit.",
        epilog="example: relbert-hf push runs/minilm/model --repo-id my-org/relbert-minilm --private --dry-run",
    )
    push.add_argument("model_dir", metavar="MODEL_DIR", help="saved model folder")
    push.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="Hub model repo (created if missing)")
    push.add_argument(
        "--private", action="store_true", default=None, help="create the repo as private (an existing repo is kept)"
    )
    push.add_argument("--token", help="Hub token with write access (default: HF_TOKEN or the saved login)")
    push.add_argument("--revision", metavar="BRANCH", help="branch to commit to, created if missing (default: main)")
    push.add_argument("--commit-message", metavar="TEXT", help="commit message (default: names relbert-hf's version)")
    push.add_argument(
        "--dry-run",
        action="store_true",
        help="check the folder and print the files and sizes that would be uploaded and the card's metadata; no "
        "network",
    )
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run `relbert-hf` with `argv` (default: `sys.argv[1:]`); return the exit status.

    0: success; 2: bad usage or input, missing files, refused overwrite, missing embedded backbone (one line
    `relbert-hf: error: ...` on stderr, no traceback).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, usage errors (argparse printed the message)
        return exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 2)
    try:
        return args.run(args)
    except BrokenPipeError:  # e.g. `relbert-hf embed ... | head`: stop quietly, also at interpreter exit
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except (ValueError, OSError, ImportError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

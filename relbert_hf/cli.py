"""The `relbert-hf` command: relation embeddings of word pairs from the shell.

```
relbert-hf embed Tokyo:Japan "New York:United States"          # JSON lines with the embeddings on stdout
relbert-hf embed --input pairs.tsv --output vectors.jsonl --normalize
relbert-hf similarity Tokyo:Japan Paris:France                 # cosine of the two relation embeddings
relbert-hf analogy word:language note:music chapter:book color:painting --json
relbert-hf convert OLD_RELBERT_CHECKPOINT NEW_FOLDER           # original relbert library -> relbert-hf folder
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


# --------------------------------------------------------------------------------------------------------------------
# parser


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

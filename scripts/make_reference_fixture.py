r"""Generate the RelBERT parity fixtures in ``tests/fixtures/reference/``.

This script is the parity oracle for ``relbert_hf``: it runs the ORIGINAL
``relbert`` library (PyPI ``relbert==2.0.2``, on transformers 4.49) through its
public API only (``relbert.RelBERT(...).get_embedding(...)`` and ``.save(dir)``)
on tiny, seeded, random checkpoints that it builds itself, and stores the
reference embeddings.  Nothing here needs the Hugging Face Hub.

What it writes (all well under 1 MB):

* ``tiny-bert/``      -- random ``BertModel`` + uncased WordPiece ``BertTokenizerFast``
* ``tiny-roberta/``   -- random ``RobertaModel`` + byte-level BPE ``RobertaTokenizerFast``
  (both plain backbone checkpoints, without ``relbert_config``)
* ``tiny-roberta-relbert2/`` -- ``tiny-roberta`` saved by ``relbert.RelBERT.save``,
  i.e. a legacy 2.x checkpoint whose ``config.json`` carries ``relbert_config``
* ``embeddings.json`` -- template, max_length, word pairs, and the embeddings that
  ``relbert`` returns for every (model, aggregation mode), plus oracle versions.

Reference environment
---------------------
``relbert==2.0.2`` does not install next to transformers 5, so the script runs in
a side virtual environment.  When the Python that starts it cannot import
``relbert``, it creates (or reuses, if it already has ``relbert``) the venv given
by ``--venv`` with::

    python -m venv VENV
    VENV/bin/python -m pip install torch==2.13.0
    VENV/bin/python -m pip install transformers==4.49.0 "huggingface-hub<1.0" \
        "datasets<4" scikit-learn tqdm pandas sentencepiece tokenizers
    VENV/bin/python -m pip install relbert==2.0.2 --no-deps

and re-executes itself with ``VENV/bin/python``, passing all arguments through.

``relbert.RelBERT`` probes the internet on construction; the harness replaces
that probe (``relbert.lm.internet_connection``) with one that answers ``False``
and sets ``HF_HUB_OFFLINE=1``.  The installed package is never modified.

Usage::

    python scripts/make_reference_fixture.py                       # default venv
    python scripts/make_reference_fixture.py --venv /work/refvenv  # existing venv
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"  # must precede any transformers / huggingface_hub import

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT_DIR = REPO_ROOT / "tests" / "fixtures" / "reference"
DEFAULT_VENV = Path("/tmp/relbert-reference-venv")

RELBERT_VERSION = "2.0.2"
PIP_STEPS: tuple[tuple[str, ...], ...] = (
    ("torch==2.13.0",),
    (
        "transformers==4.49.0",
        "huggingface-hub<1.0",
        "datasets<4",
        "scikit-learn",
        "tqdm",
        "pandas",
        "sentencepiece",
        "tokenizers",
    ),
    (f"relbert=={RELBERT_VERSION}", "--no-deps"),
)

TEMPLATE = (
    "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that "
    "<subj> is the <mask> of <obj>"
)
MAX_LENGTH = 64
BATCH_SIZE = 4
MODES = ("average_no_mask", "average", "mask")
MODEL_MAX_LENGTH = 128  # tokenizer limit; positions 130 leave room for RoBERTa's offset of 2
VOCAB_SIZE = 500
MAX_TOTAL_BYTES = 1_000_000

LONG_TAIL = (
    "a long and winding stretch of cold fresh water that flows slowly from the high snowy "
    "mountains in the far north through green valleys, quiet farming villages, dark old "
    "forests, narrow stone bridges and busy market towns, turning the wheels of many mills "
    "along the way, before it finally spreads out into a wide muddy delta and reaches the "
    "open sea far away in the warm south"
)
LONG_PAIR = ("river", LONG_TAIL)
PAIRS: tuple[tuple[str, str], ...] = (
    ("Tokyo", "Japan"),
    ("dog", "bark"),
    ("hand", "glove"),
    ("teacher", "school"),
    ("New York", "United States"),
    ("ice cream", "cold"),
    ("café", "coffee"),
    ("Zürich", "Switzerland"),
    ("東京", "日本"),
    ("naïve", "innocent"),
    LONG_PAIR,
)

ENGLISH_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "A dog will bark at strangers who walk past the garden gate.",
    "Tokyo is the capital and the largest city of Japan.",
    "New York is the most populous city in the United States.",
    "Zürich is a city in Switzerland on the shore of a lake.",
    "She ordered a café au lait and a slice of cake with her coffee.",
    "It would be naïve to think that an innocent mistake has no cost.",
    "Children love ice cream because it is sweet and cold.",
    "The teacher asked the students of the school to read a chapter.",
    "He wore a warm glove on each hand during the winter.",
    "The river flows through the valley and reaches the sea.",
    "Birds fly south in the autumn and return in the spring.",
    "An encyclopedia is a book that gives information on many subjects.",
    "The relationship between the two words is not obvious at first.",
    "I was not aware that the museum would be closed on Monday.",
    "We read the newspaper every morning before going to work.",
    "The market town was busy with farmers selling fresh bread and cheese.",
    "Old stone bridges cross the narrow river in the quiet village.",
    "The mountains in the north are high and covered with snow.",
    "A mill uses the power of water to turn a heavy wheel.",
    "Forests are dark and green in the summer and bright in the autumn.",
    "The delta is wide and muddy where the river meets the open sea.",
    "Many people travel by train between large cities.",
    "My brother is a doctor and my sister is an engineer.",
    "The cat sat on the mat while the rain fell outside.",
    "Water boils at one hundred degrees and freezes at zero.",
    "She plays the piano, and he plays the violin in the orchestra.",
    "The author of the novel was born in a small farming village.",
    "東京 is written in Japanese, and 日本 means Japan.",
)

BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
CHECKPOINT_FILES = frozenset(
    {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
        "vocab.json",
        "merges.txt",
    }
)

try:
    import relbert
    import relbert.lm
    import tokenizers
    import torch
    import transformers
except ImportError:  # not the reference environment: main() re-executes in the side venv
    relbert = None


# --------------------------------------------------------------------------- environment


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=DEFAULT_VENV,
        help="side venv with relbert==2.0.2; created if the current Python lacks relbert "
        f"and the venv does not have it either (default: {DEFAULT_VENV})",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"where the fixtures are written (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument("--seed", type=int, default=0, help="torch seed for the random models")
    return parser.parse_args()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def venv_has_relbert(venv: Path) -> bool:
    python = venv_python(venv)
    if not python.exists():
        return False
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('relbert') is None)"
    return subprocess.run([str(python), "-c", probe], check=False).returncode == 0


def create_venv(venv: Path) -> None:
    print(f"creating reference venv {venv}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for packages in PIP_STEPS:
        subprocess.run([str(venv_python(venv)), "-m", "pip", "install", *packages], check=True)


def reexec_in_venv(venv: Path) -> None:
    """Replace this process with the same script running on the side venv's Python."""
    if Path(sys.prefix).resolve() == venv.resolve():
        raise SystemExit(f"relbert is not importable in {venv}; remove it and run again")
    if not venv_has_relbert(venv):
        create_venv(venv)
    python = str(venv_python(venv))
    print(f"re-executing with {python}", flush=True)
    os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])


# --------------------------------------------------------------------------- prompts


def render_prompt(pair: tuple[str, str], mask_token: str) -> str:
    head, tail = pair
    return TEMPLATE.replace("<subj>", head).replace("<obj>", tail).replace("<mask>", mask_token)


def training_corpus() -> list[str]:
    template_text = " ".join(
        TEMPLATE.replace("<subj>", " ").replace("<obj>", " ").replace("<mask>", " ").split()
    )
    words = [word for pair in PAIRS for word in pair]
    return [template_text, *words, *ENGLISH_SENTENCES]


def untruncated_lengths(tokenizer: Any) -> list[int]:
    return [
        len(tokenizer(render_prompt(pair, tokenizer.mask_token), verbose=False)["input_ids"])
        for pair in PAIRS
    ]


def check_prompt_lengths(name: str, lengths: list[int]) -> None:
    """Only LONG_PAIR may exceed MAX_LENGTH (and it must, to exercise truncation)."""
    for pair, length in zip(PAIRS, lengths):
        too_long = length > MAX_LENGTH
        if too_long != (pair == LONG_PAIR):
            raise AssertionError(
                f"{name}: the {pair[0]!r} prompt has {length} tokens (max_length {MAX_LENGTH})"
            )


# --------------------------------------------------------------------------- checkpoints


def continuation_tokens(wordpiece: Any, corpus: list[str]) -> list[str]:
    """``##c`` for every character ``c`` the normalised, pre-tokenised corpus contains.

    The WordPiece trainer creates these tokens while iterating a hash map, so their
    ids (and through tie-breaking, the learned vocabulary) change from run to run.
    Registering them up front, sorted, makes training deterministic.
    """
    characters = {
        character
        for text in corpus
        for word, _ in wordpiece.pre_tokenizer.pre_tokenize_str(
            wordpiece.normalizer.normalize_str(text)
        )
        for character in word
    }
    return ["##" + character for character in sorted(characters)]


def build_bert_tokenizer(workdir: Path) -> Any:
    wordpiece = tokenizers.BertWordPieceTokenizer(lowercase=True)
    corpus = training_corpus()
    wordpiece.train_from_iterator(
        corpus,
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        special_tokens=BERT_SPECIAL_TOKENS + continuation_tokens(wordpiece, corpus),
        show_progress=False,
    )
    (vocab_file,) = wordpiece.save_model(str(workdir))
    return transformers.BertTokenizerFast(
        vocab_file=vocab_file, do_lower_case=True, model_max_length=MODEL_MAX_LENGTH
    )


def build_roberta_tokenizer(workdir: Path) -> Any:
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        training_corpus(),
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        special_tokens=ROBERTA_SPECIAL_TOKENS,
        show_progress=False,
    )
    vocab_file, merges_file = bpe.save_model(str(workdir))
    return transformers.RobertaTokenizerFast(
        vocab_file=vocab_file, merges_file=merges_file, model_max_length=MODEL_MAX_LENGTH
    )


def tiny_config_kwargs(tokenizer: Any) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": MODEL_MAX_LENGTH + 2,
        "pad_token_id": tokenizer.pad_token_id,
    }


def build_bert_model(tokenizer: Any) -> Any:
    return transformers.BertModel(transformers.BertConfig(**tiny_config_kwargs(tokenizer)))


def build_roberta_model(tokenizer: Any) -> Any:
    config = transformers.RobertaConfig(
        **tiny_config_kwargs(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    return transformers.RobertaModel(config)


def prune_checkpoint(directory: Path) -> None:
    """Delete whatever save_pretrained wrote beyond the files needed for loading."""
    for path in directory.iterdir():
        if path.name not in CHECKPOINT_FILES:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def save_checkpoint(model: Any, tokenizer: Any, directory: Path) -> None:
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    prune_checkpoint(directory)


# --------------------------------------------------------------------------- oracle


def check_relbert_version() -> None:
    installed = importlib.metadata.version("relbert")
    if installed != RELBERT_VERSION:
        raise SystemExit(f"the oracle must be relbert=={RELBERT_VERSION}, found {installed}")


def load_relbert(model_dir: Path, mode: str) -> Any:
    return relbert.RelBERT(
        model=str(model_dir), max_length=MAX_LENGTH, aggregation_mode=mode, template=TEMPLATE
    )


def reference_embeddings(model_dir: Path) -> dict[str, list[list[float]]]:
    return {
        mode: load_relbert(model_dir, mode).get_embedding(list(PAIRS), batch_size=BATCH_SIZE)
        for mode in MODES
    }


def save_legacy_checkpoint(output_dir: Path, source: str, target: str) -> None:
    """Save ``output_dir/source`` through ``RelBERT.save`` as ``output_dir/target``.

    Paths are relative to ``output_dir`` so that the ``_name_or_path`` recorded in
    config.json does not depend on where the repository is checked out.
    """
    previous_cwd = Path.cwd()
    os.chdir(output_dir)  # contextlib.chdir needs Python 3.11; the package supports 3.10
    try:
        load_relbert(Path(source), "average_no_mask").save(target)
    finally:
        os.chdir(previous_cwd)
    directory = output_dir / target
    prune_checkpoint(directory)
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    relbert_config = config.get("relbert_config")
    if relbert_config != {"aggregation_mode": "average_no_mask", "template": TEMPLATE}:
        raise AssertionError(f"{directory}/config.json: relbert_config is {relbert_config}")


def write_embeddings_json(path: Path, embeddings: dict[str, dict[str, list[list[float]]]]) -> None:
    document = {
        "template": TEMPLATE,
        "max_length": MAX_LENGTH,
        "pairs": [list(pair) for pair in PAIRS],
        "embeddings": embeddings,
        "oracle": {
            "relbert": importlib.metadata.version("relbert"),
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "generated_by": "scripts/make_reference_fixture.py",
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- main


def fixture_sizes(output_dir: Path) -> dict[str, int]:
    files = sorted(path for path in output_dir.rglob("*") if path.is_file())
    return {str(path.relative_to(output_dir)): path.stat().st_size for path in files}


def print_summary(output_dir: Path, sizes: dict[str, int], lengths: dict[str, list[int]]) -> None:
    print(f"\nfixtures in {output_dir}:")
    for name, size in sizes.items():
        print(f"  {size:>8,d}  {name}")
    print(f"  {sum(sizes.values()):>8,d}  total bytes")
    print(f"\n{len(PAIRS)} pairs; untruncated prompt lengths in tokens (max_length {MAX_LENGTH}):")
    print("  " + "".join(f"{name:>14}" for name in lengths) + "  pair")
    for index, (head, tail) in enumerate(PAIRS):
        row = "".join(f"{model_lengths[index]:>14d}" for model_lengths in lengths.values())
        print(f"  {row}  {head} / {tail[:40]}")


def build_fixtures(output_dir: Path, seed: int) -> None:
    check_relbert_version()
    relbert.lm.internet_connection = lambda: False  # RelBERT.__init__ would probe google.com
    output_dir.mkdir(parents=True, exist_ok=True)
    builders = {
        "tiny-bert": (build_bert_tokenizer, build_bert_model),
        "tiny-roberta": (build_roberta_tokenizer, build_roberta_model),
    }
    lengths: dict[str, list[int]] = {}
    embeddings: dict[str, dict[str, list[list[float]]]] = {}
    for name, (build_tokenizer, build_model) in builders.items():
        model_dir = output_dir / name
        shutil.rmtree(model_dir, ignore_errors=True)
        with tempfile.TemporaryDirectory() as workdir:
            tokenizer = build_tokenizer(Path(workdir))
        lengths[name] = untruncated_lengths(tokenizer)
        check_prompt_lengths(name, lengths[name])
        torch.manual_seed(seed)
        save_checkpoint(build_model(tokenizer), tokenizer, model_dir)
        embeddings[name] = reference_embeddings(model_dir)

    shutil.rmtree(output_dir / "tiny-roberta-relbert2", ignore_errors=True)
    save_legacy_checkpoint(output_dir, "tiny-roberta", "tiny-roberta-relbert2")
    write_embeddings_json(output_dir / "embeddings.json", embeddings)

    sizes = fixture_sizes(output_dir)
    print_summary(output_dir, sizes, lengths)
    total = sum(sizes.values())
    if total >= MAX_TOTAL_BYTES:
        raise AssertionError(f"the fixtures take {total} bytes, more than {MAX_TOTAL_BYTES}")


def main() -> None:
    args = parse_args()
    if relbert is None:
        reexec_in_venv(args.venv)
    build_fixtures(args.output_dir.resolve(), args.seed)


if __name__ == "__main__":
    main()

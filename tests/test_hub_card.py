"""hub_card: the model card built from results.json / finetuning_config.json, and `relbert-hf card` / `relbert-hf push`.

Offline throughout: a tiny saved RelBERT, results.json from the real evaluation runner (local data mirror) or written
by hand in the evaluation's format, finetuning_config.json from the real training arguments.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from huggingface_hub import ModelCard, parse_eval_result_entries

from hub_card import eval_results, missing_items, save_model_card, upload_plan
from relbert_hf.cli import main
from relbert_hf.data.semeval2012 import SEMEVAL2012_REPO_ID
from relbert_hf.evaluation import evaluate_model
from relbert_hf.training import RelBertTrainingArguments
from conftest import REFERENCE_DIR, needs_mirror
from test_pipeline import PAIRS
from test_remote_code import REMOTE_SCRIPT


REPO_ID = "my-org/relbert-tiny"
ROOT = Path(__file__).resolve().parents[1]

#: The reference card's numbers (relbert/relbert-roberta-base-nce-semeval2012-0) in results.json's format.
ANALOGY = {
    "sat_full": 0.5989304812834224,
    "sat/test": 0.6083086053412463,
    "bats/test": 0.7031684269038355,
    "u2/test": 0.5964912280701754,
    "u4/test": 0.5740740740740741,
    "google/test": 0.892,
    "conceptnet_relational_similarity/test": 0.3976510067114094,
    "t_rex_relational_similarity/test": 0.6666666666666666,
    "nell_relational_similarity/test": 0.62,
}
CLASSIFICATION = {
    "BLESS": 0.8998041283712521,
    "CogALexV": 0.8370892018779342,
    "EVALution": 0.6419284940411701,
    "K&H+N": 0.9396953467343674,
    "ROOT09": 0.8815418364149169,
}


def full_results() -> dict:
    results = {"model": "tiny", "aggregation": "average_no_mask", "analogy_scoring": "forward", **ANALOGY}
    for name, micro in CLASSIFICATION.items():
        results[f"lexical_relation_classification/{name}"] = {
            "test/f1_micro": micro, "test/f1_macro": micro / 2, "test/accuracy": micro, "val/f1_micro": 0.1,
        }  # fmt: skip
    results["relation_mapping"] = {"accuracy": 0.817202380952381, "accuracy_per_problem": [0.5, 1.0]}
    return results


def expected_model_index(results: dict) -> list[tuple]:
    """(dataset type, config, split, metric type, average, value) of every score, written out independently of
    hub_card: analogy accuracy, classification micro/macro F1, relation mapping accuracy."""
    rows = []
    for key, value in results.items():
        if key == "sat_full" or key.endswith("/test") and not key.startswith("lexical"):
            rows.append(("relbert/analogy_questions", key.split("/")[0], "test", "accuracy", None, value))
        elif key.startswith("lexical_relation_classification/"):
            config = key.split("/", 1)[1]
            for average in ("micro", "macro"):
                value_ = value[f"test/f1_{average}"]
                rows.append(("relbert/lexical_relation_classification", config, "test", "f1", average, value_))
        elif key == "relation_mapping":
            rows.append(("relbert/relation_mapping", None, "test", "accuracy", None, value["accuracy"]))
    return rows


def model_index_of(card: ModelCard) -> list[tuple]:
    return [
        (r.dataset_type, r.dataset_config, r.dataset_split, r.metric_type, (r.metric_args or {}).get("average"),
         r.metric_value)
        for r in card.data.eval_results or []
    ]  # fmt: skip


def finetuning_config(tmp_path: Path) -> dict:
    args = RelBertTrainingArguments(output_dir=str(tmp_path / "run"), model="roberta-base")
    return args.finetuning_config("roberta-base", num_processes=1, relations_per_epoch=89, mixed_precision="no")


def make_folder(saved_tiny_model: Path, destination: Path, results: dict | None, finetuning: dict | None) -> Path:
    shutil.copytree(saved_tiny_model, destination)
    if results is not None:
        (destination / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if finetuning is not None:
        (destination / "finetuning_config.json").write_text(json.dumps(finetuning, indent=2), encoding="utf-8")
    return destination


def assert_no_empty_section_or_none(text: str):
    assert "None" not in text
    body = text.split("\n---\n", 1)[1]
    sections = re.split(r"^#+ .*$", re.sub(r"```.*?```", "code", body, flags=re.DOTALL), flags=re.MULTILINE)
    assert all(section.strip() for section in sections[1:]), "a heading without content"


@pytest.fixture(scope="module")
def real_results(tiny_pipeline) -> dict:
    """results.json content from the real evaluation runner on a small subset (one benchmark of each family)."""
    return evaluate_model(
        tiny_pipeline,
        datasets=["sat_full", "u2", "CogALexV", "relation_mapping"],
        limit=5,
        probe_grid="default",
        model_name="tiny",
        log=lambda line: None,
    )


@pytest.fixture()
def full_folder(saved_tiny_model, tmp_path) -> Path:
    """A complete, pushable folder: tiny model, full results, finetuning config, card for REPO_ID."""
    folder = make_folder(saved_tiny_model, tmp_path / "model", full_results(), finetuning_config(tmp_path))
    save_model_card(folder, repo_id=REPO_ID)
    return folder


# --------------------------------------------------------------------------------------------------------------------
# the card


@needs_mirror
def test_card_of_real_results_round_trips_value_for_value(saved_tiny_model, real_results, tmp_path):
    folder = make_folder(saved_tiny_model, tmp_path / "model", real_results, finetuning_config(tmp_path))
    assert main(["card", str(folder), "--repo-id", REPO_ID]) == 0
    card = ModelCard.load(folder / "README.md")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert model_index_of(card) == expected_model_index(results)
    assert len(card.data.eval_results) == 5  # sat_full, u2, CogALexV micro + macro, relation_mapping
    assert card.data.model_name == REPO_ID
    results_url = f"https://huggingface.co/{REPO_ID}/blob/main/results.json"
    assert {r.source_url for r in card.data.eval_results} == {results_url}
    # every table row names the results.json key it shows, and that key holds the value shown
    rows = re.findall(r"^\| (.+?) \| (.+) \| (`\[.+)\|$", card.text, flags=re.MULTILINE)
    assert len(rows) == 4
    for _, values, keys in rows:
        for value, path in zip(values.split(" | "), re.findall(r"`(\[.+?\])`", keys)):
            value_in_file = results
            for key in json.loads("[" + path[1:-1].replace("][", ",") + "]"):
                value_in_file = value_in_file[key]
            assert float(value) == value_in_file
    assert "**Smoke test only:** each dataset split was cut to its first 5 records" in card.text
    assert "### Analogy questions" in card.text and "| SAT (full) |" in card.text and "| BATS |" not in card.text


def test_front_matter_of_a_trained_model(full_folder):
    card = ModelCard.load(full_folder / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "transformers"
    assert data["pipeline_tag"] == "feature-extraction"
    assert {"relbert", "relation-embedding", "custom_code"} <= set(data["tags"])
    assert data["datasets"] == [SEMEVAL2012_REPO_ID]
    assert data["base_model"] == "roberta-base"
    assert data["license"] == "mit"
    assert data["model-index"][0]["name"] == REPO_ID
    assert model_index_of(card) == expected_model_index(full_results())
    assert len(card.data.eval_results) == 9 + 2 * 5 + 1


def test_full_card_sections_hyperparameters_and_usage(full_folder):
    text = (full_folder / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ .+$", text.split("\n---\n", 1)[1], flags=re.MULTILINE)
    assert headings == [
        f"# {REPO_ID}", "## Evaluation results", "### Analogy questions", "### Lexical relation classification",
        "### Relation mapping", "## Usage", "## Model details", "## Training", "## Citation",
    ]  # fmt: skip
    assert "[roberta-base](https://huggingface.co/roberta-base) fine-tuned on" in text and "`nce`" in text
    for key, value in json.loads((full_folder / "finetuning_config.json").read_text(encoding="utf-8")).items():
        shown = value if isinstance(value, str) else json.dumps(value)
        assert f"- `{key}`: `{shown}`" in text
    assert f"(https://huggingface.co/{REPO_ID}/blob/main/finetuning_config.json)" in text
    assert f'pipeline("relation-embedding", model="{REPO_ID}", trust_remote_code=True)' in text
    assert f'AutoModel.from_pretrained("{REPO_ID}", trust_remote_code=True)' in text
    assert "pip install relbert-hf" in text
    assert f"| K&H+N | {CLASSIFICATION['K&H+N']!r} | {CLASSIFICATION['K&H+N'] / 2!r} |" in text  # values as stored
    assert "Distilling Relation Embeddings from Pretrained Language Models" in text and "2021.emnlp-main.712" in text
    assert_no_empty_section_or_none(text)


def test_untrained_and_partially_evaluated_cards_are_smaller_and_correct(saved_tiny_model, tmp_path):
    untrained = make_folder(saved_tiny_model, tmp_path / "untrained", None, None)
    save_model_card(untrained)
    text = (untrained / "README.md").read_text(encoding="utf-8")
    card = ModelCard.load(untrained / "README.md")
    assert card.data.eval_results is None and "model-index" not in text
    assert "## Training" not in text and "## Evaluation results" not in text
    assert "**not fine-tuned**" in text and f"`{REFERENCE_DIR / 'tiny-bert'}`" in text
    assert card.data.base_model is None and card.data.license == "unknown"  # a local encoder is no Hub base model
    assert_no_empty_section_or_none(text)

    results = {"u2/test": 0.25, "relation_mapping": {"accuracy": 0.5}, "model": "tiny"}
    partial = make_folder(saved_tiny_model, tmp_path / "partial", results, None)
    save_model_card(partial, repo_id=REPO_ID)
    text = (partial / "README.md").read_text(encoding="utf-8")
    card = ModelCard.load(partial / "README.md")
    assert model_index_of(card) == expected_model_index(results)
    assert "### Analogy questions" in text and "### Relation mapping" in text
    assert "Lexical relation classification" not in text and "SAT" not in text and "Smoke test" not in text
    assert "## Training" not in text
    assert_no_empty_section_or_none(text)


def test_eval_results_files_only_with_the_option(full_folder, capsys):
    assert not (full_folder / ".eval_results").exists()
    assert main(["card", str(full_folder), "--repo-id", REPO_ID]) == 2  # README.md exists
    assert "README.md exists; pass --overwrite" in capsys.readouterr().err
    argv = ["card", str(full_folder), "--repo-id", REPO_ID, "--eval-results-files", "--overwrite"]
    assert main(argv) == 0
    files = sorted(path.name for path in (full_folder / ".eval_results").iterdir())
    assert files == [
        "analogy_questions.yaml", "lexical_relation_classification_f1_macro.yaml",
        "lexical_relation_classification_f1_micro.yaml", "relation_mapping.yaml",
    ]  # fmt: skip
    entries = {
        name: parse_eval_result_entries(yaml.safe_load((full_folder / ".eval_results" / name).read_text()))
        for name in files
    }
    assert {e.task_id: e.value for e in entries["analogy_questions.yaml"]} == {
        key.split("/")[0]: value for key, value in ANALOGY.items()
    }
    micro = entries["lexical_relation_classification_f1_micro.yaml"]
    assert {e.task_id: e.value for e in micro} == CLASSIFICATION and {e.notes for e in micro} == {"Micro F1"}
    mapping = entries["relation_mapping.yaml"]
    accuracy = full_results()["relation_mapping"]["accuracy"]
    assert [(e.dataset_id, e.task_id, e.value) for e in mapping] == [("relbert/relation_mapping", "default", accuracy)]
    assert mapping[0].source_url == f"https://huggingface.co/{REPO_ID}/blob/main/results.json"

    # results without classification: regenerating removes the stale classification files
    results = json.loads((full_folder / "results.json").read_text())
    results = {key: value for key, value in results.items() if not key.startswith("lexical")}
    (full_folder / "results.json").write_text(json.dumps(results))
    assert main(argv) == 0
    assert sorted(path.name for path in (full_folder / ".eval_results").iterdir()) == [
        "analogy_questions.yaml", "relation_mapping.yaml"
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------------------------------
# push


def test_dry_run_lists_files_sizes_and_metadata_without_network(full_folder, capsys):
    assert main(["push", str(full_folder), "--repo-id", REPO_ID, "--dry-run"]) == 0
    out = capsys.readouterr().out
    files = sorted(p.name for p in full_folder.iterdir())
    assert [path for path, _ in upload_plan(full_folder)] == files
    for name in files:
        assert re.search(rf"^\s+{(full_folder / name).stat().st_size:,}  {re.escape(name)}$", out, flags=re.MULTILINE)
    required = {"README.md", "model.safetensors", "pipeline_relbert.py", "results.json", "finetuning_config.json"}
    assert required <= set(files)
    assert f"dry run, nothing sent: {len(files)} files" in out and f"https://huggingface.co/{REPO_ID}" in out
    metadata = yaml.safe_load(out.split("README.md metadata:\n", 1)[1])
    assert metadata["model-index"][0]["name"] == REPO_ID and metadata["pipeline_tag"] == "feature-extraction"


def test_push_refuses_an_incomplete_folder_and_lists_what_is_missing(full_folder, capsys):
    assert missing_items(full_folder, REPO_ID) == []
    for name in ("model.safetensors", "pipeline_relbert.py", "tokenizer.json", "finetuning_config.json"):
        (full_folder / name).unlink()
    config = json.loads((full_folder / "config.json").read_text())
    del config["auto_map"]
    (full_folder / "config.json").write_text(json.dumps(config))
    results = json.loads((full_folder / "results.json").read_text())
    results.update({"u2/test": 0.0, "limit": 5})  # evaluated again, as a smoke test, after the card was written
    (full_folder / "results.json").write_text(json.dumps(results))

    assert main(["push", str(full_folder), "--repo-id", REPO_ID, "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    items = [line[4:] for line in captured.err.splitlines() if line.startswith("  - ")]
    assert captured.err.splitlines()[0].endswith(f"is not ready to push to {REPO_ID}:")
    assert [item.split(" ")[0].rstrip(":") for item in items] == [
        "weights", "config.json", "pipeline_relbert.py", "tokenizer.json", "finetuning_config.json", "results.json",
        "README.md",
    ]  # fmt: skip
    assert "auto_map" in items[1] and "--limit 5" in items[5] and "differs from results.json" in items[6]
    # a card written for another repo, and no card at all
    items = missing_items(full_folder, "other/name")
    assert any("written for 'my-org/relbert-tiny', not other/name" in item for item in items)
    (full_folder / "README.md").unlink()
    assert f"README.md (run: relbert-hf card {full_folder} --repo-id {REPO_ID})" in missing_items(full_folder, REPO_ID)


def test_offline_push_fails_with_one_clear_line(full_folder):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_TOKEN="hf_not_a_real_token")
    completed = subprocess.run(
        [sys.executable, "-m", "relbert_hf.cli", "push", str(full_folder), "--repo-id", REPO_ID, "--private"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2
    lines = [line for line in completed.stderr.splitlines() if line.startswith("relbert-hf:") or "Traceback" in line]
    assert len(lines) == 1 and "Traceback" not in completed.stderr
    assert lines[0].startswith(f"relbert-hf: error: push to {REPO_ID} failed: ")
    assert "offline mode is enabled" in lines[0]


def test_pushable_folder_loads_with_remote_code_only(full_folder, tiny_pipeline, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    completed = subprocess.run(
        [sys.executable, "-c", REMOTE_SCRIPT, str(full_folder), json.dumps(PAIRS)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["refused_without_trust"] and not result["relbert_hf_loaded"]
    assert result["model_class"].startswith("transformers_modules.")
    np.testing.assert_allclose(result["vectors"], tiny_pipeline(PAIRS, batch_size=2), atol=0, rtol=0)


def test_usage_examples_of_the_card_run(full_folder, tiny_pipeline, tmp_path):
    """The card's Python examples, pointed at the local folder: the two remote-code ones in a fresh process (which
    never imports relbert_hf), the relbert_hf one here."""
    text = (full_folder / "README.md").read_text(encoding="utf-8").replace(f'"{REPO_ID}"', json.dumps(str(full_folder)))
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 3
    check = (
        "import json, sys\n"
        "print(json.dumps({'vector': vector, 'similarity': similarity, 'embedding': embedding.tolist(),"
        " 'relbert_hf_loaded': any(name.startswith('relbert_hf') for name in sys.modules)}))\n"
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    completed = subprocess.run(
        [sys.executable, "-c", blocks[0] + blocks[1] + check],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert not result["relbert_hf_loaded"]
    expected = tiny_pipeline(("Tokyo", "Japan"))
    np.testing.assert_allclose(result["vector"], expected, rtol=1e-6)
    np.testing.assert_allclose(result["embedding"], expected, rtol=1e-5, atol=1e-5)
    assert -1.0 - 1e-6 <= result["similarity"] <= 1.0 + 1e-6

    namespace = {}
    exec(blocks[2], namespace)
    np.testing.assert_allclose(namespace["pipe"](("Tokyo", "Japan")), expected, rtol=1e-6)

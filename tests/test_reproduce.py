"""`relbert-hf reproduce` on a tiny BERT and the real mirror data: every stage writes its output, a second run skips
them all, a run with a checkpoint resumes training, and the summary quotes our and the published numbers; plus the
plotting helpers and `relbert-hf plot`."""

import json

import numpy as np
import pytest
from accelerate.state import AcceleratorState, GradientState
from huggingface_hub import ModelCard

from relbert_hf.cli import main as cli_main
from relbert_hf.plotting import labelled_pairs, plot_relation_embeddings, project
from relbert_hf.reproduce import PUBLISHED, STAGES, Run, reproduce, summary_markdown
from relbert_hf.training.trainer import TRAINING_LOG_NAME

from conftest import REFERENCE_DIR, needs_mirror


TINY_BERT = REFERENCE_DIR / "tiny-bert"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: A fast recipe for the tiny BERT: all 89 relation types, few pairs per step.
TINY_RECIPE = ["--num_positive", "2", "--num_negative", "6", "--batch", "64", "--lr", "1e-4", "--epoch", "1"]


@pytest.fixture(autouse=True)
def fresh_accelerate_state():
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def stage_runs(run: Run) -> dict[str, int]:
    return {stage: record["runs"] for stage, record in run.stage_records().items()}


def training_epochs(run: Run) -> list[int]:
    lines = (run.training / TRAINING_LOG_NAME).read_text().splitlines()
    return [record["epoch"] for record in map(json.loads, lines) if "validation_loss" in record]


@needs_mirror
def test_reproduce_runs_each_stage_once_and_continues_where_it_stopped(tmp_path):
    run = reproduce(tmp_path / "run", backbone=str(TINY_BERT), train_options=TINY_RECIPE, limit=8, stop_after="train")
    assert [stage for stage in STAGES if run.done(stage)] == ["data", "baseline", "train"]
    assert stage_runs(run) == {"data": 1, "baseline": 1, "train": 1}
    weights = (run.model / "model.safetensors").read_bytes()

    reproduce(tmp_path / "run", backbone=str(TINY_BERT), train_options=TINY_RECIPE, limit=8, export=tmp_path / "out")
    assert all(run.done(stage) for stage in STAGES)
    assert stage_runs(run) == {stage: 1 for stage in STAGES}  # nothing ran twice
    assert (run.model / "model.safetensors").read_bytes() == weights
    assert run.plot.read_bytes().startswith(PNG_MAGIC)
    baseline, trained = (json.loads(path.read_text()) for path in (run.baseline_results, run.results))
    assert baseline["limit"] == trained["limit"] == 8
    assert baseline["model"] == f"untrained RelBERT on {TINY_BERT}" and trained["model"] == str(run.model)
    card_data = ModelCard.load(run.card).data
    assert card_data.model_name == run.dir.resolve().name  # not the `training` folder
    card_results = card_data.eval_results
    assert len(card_results) == 20 and {result.metric_value for result in card_results} >= {trained["sat_full"]}

    summary = run.summary.read_text()
    row = next(line for line in summary.splitlines() if line.startswith("| sat_full | accuracy |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2:] == [f"{baseline['sat_full']:.4f}", f"{trained['sat_full']:.4f}", "0.5989", "0.447"]
    assert "| train |" in summary and "Validation loss after each epoch" in summary
    assert summary == summary_markdown(run)
    exported = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert exported == sorted(
        ["untrained_results.json", "results.json", "finetuning_config.json", "training_log.jsonl", "README.md",
         "relation_embeddings.png", "stages.json", "summary.md"]
    )
    assert (tmp_path / "out" / "results.json").read_bytes() == run.results.read_bytes()

    # A new stage of work: training for one epoch more resumes from the checkpoint instead of starting over.
    (run.model / "finetuning_config.json").unlink()
    more = [*TINY_RECIPE, "--epoch", "2"]
    reproduce(tmp_path / "run", backbone=str(TINY_BERT), train_options=more, stop_after="train")
    assert training_epochs(run) == [1, 2]
    assert stage_runs(run)["train"] == 2 and stage_runs(run)["baseline"] == 1


@needs_mirror
def test_reproduce_refuses_bad_training_options_before_any_work(tmp_path):
    with pytest.raises(SystemExit):
        reproduce(tmp_path / "run", backbone=str(TINY_BERT), train_options=["--num_positive", "1"])
    assert not (tmp_path / "run" / "data").exists()


def test_published_numbers_are_quoted_for_reported_scores():
    card, paper = PUBLISHED.values()
    assert len(card) == 15 and len(paper) == 9
    assert set(paper) <= set(card)
    assert card[("relation_mapping", "accuracy")] == pytest.approx(0.8172, abs=1e-4)


# --------------------------------------------------------------------------------------------------------------------
# plotting


@needs_mirror
def test_labelled_pairs_sample_per_relation():
    pairs, labels = labelled_pairs("BLESS", "test")
    assert len(pairs) == len(labels) == 6637
    sampled, sampled_labels = labelled_pairs("BLESS", "test", max_per_relation=50)
    counts = {label: sampled_labels.count(label) for label in set(labels)}
    assert set(counts) == set(labels) and max(counts.values()) == 50
    assert set(sampled) <= set(pairs)
    assert labelled_pairs("BLESS", "test", max_per_relation=50) == (sampled, sampled_labels)
    with pytest.raises(ValueError, match="unknown dataset 'SAT'"):
        labelled_pairs("SAT")
    with pytest.raises(ValueError, match="CogALexV has no split 'val'"):
        labelled_pairs("CogALexV", "val")


def test_projection_of_two_clusters_separates_them():
    generator = np.random.default_rng(0)
    centre = generator.normal(size=16)
    noise = 0.01 * generator.normal(size=(40, 16))
    vectors = np.concatenate([centre + noise[:20], -centre + noise[20:]])
    for method in ("pca", "tsne"):
        points = project(vectors, method)
        assert points.shape == (40, 2)
        first, second = points[:20].mean(axis=0), points[20:].mean(axis=0)
        spread = max(points[:20].std(axis=0).max(), points[20:].std(axis=0).max())
        assert np.linalg.norm(first - second) > 5 * spread, method
    with pytest.raises(ValueError, match="unknown projection 'umap'"):
        project(vectors, "umap")
    with pytest.raises(ValueError, match="at least 3 vectors"):
        project(vectors[:2])


def test_plot_writes_an_image_and_checks_rows(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(12, 8))
    labels = ["hyper", "mero", "random"] * 4
    path = plot_relation_embeddings({"a": vectors, "b": vectors * 2}, labels, tmp_path / "plots" / "map.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="panel 'b' has 11 vectors for 12 labels"):
        plot_relation_embeddings({"a": vectors, "b": vectors[:11]}, labels, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


@needs_mirror
def test_cli_plot_of_a_model_and_the_baseline(saved_tiny_model, tmp_path, capsys):
    output = tmp_path / "map.png"
    argv = ["plot", str(saved_tiny_model), "--baseline", "--backbone", str(TINY_BERT), "--max-per-relation", "10"]
    assert cli_main([*argv, "--output", str(output)]) == 0
    assert output.read_bytes().startswith(PNG_MAGIC)
    assert cli_main([*argv, "--output", str(output)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert cli_main(["plot", "--output", str(tmp_path / "none.png")]) == 2
    assert "nothing to plot" in capsys.readouterr().err
    assert cli_main([*argv, "--method", "umap", "--output", str(tmp_path / "u.png")]) == 2
    assert "unknown projection 'umap'" in capsys.readouterr().err

"""RelBERT fine-tuning on a tiny BERT and a 5-subcategory slice of the real SemEval-2012 data: relation types and
sampling, the embedding of a step, options, a full run (outputs, fresh-process loading), resume equivalence,
2 processes (torchrun) against 1 process with the same global batch."""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from accelerate.state import AcceleratorState, GradientState
from safetensors.torch import load_file
from transformers import pipeline

from relbert_hf import RelBertModel
from relbert_hf.data.semeval2012 import RelationPairs, build_semeval2012, default_raw_dir, write_relation_dataset
from relbert_hf.training import RelBertTrainingArguments, TrainerCallback, parse_training_arguments, train
from relbert_hf.training.data import PairTable, build_relation_types, embed_pairs, epoch_plan


REPO = Path(__file__).resolve().parents[1]
TINY_BERT = REPO / "tests" / "fixtures" / "reference" / "tiny-bert"
RAW_DIR = default_raw_dir() or REPO.parent / "shared" / "data" / "semeval2012_task2"
SUBSET = ("1/a", "1/b", "1/c", "2/a", "2/b")  # + parents 1 and 2: 7 relation types per epoch
PAIRS = [("Tokyo", "Japan"), ("Paris", "France"), ("dog", "animal"), ("wheel", "car")]

needs_raw_data = pytest.mark.skipif(not RAW_DIR.is_dir(), reason=f"raw SemEval-2012 files not at {RAW_DIR}")


@pytest.fixture(autouse=True)
def fresh_accelerate_state_one_thread():
    """Each run builds its own Accelerator; one torch thread keeps the tiny runs fast on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    if not RAW_DIR.is_dir():
        pytest.skip(f"raw SemEval-2012 files not at {RAW_DIR}")
    splits = build_semeval2012(RAW_DIR)
    subset = {split: [r for r in records if r["relation_type"] in SUBSET] for split, records in splits.items()}
    folder = tmp_path_factory.mktemp("tiny-semeval")
    write_relation_dataset(subset, folder)
    return folder


@pytest.fixture(scope="module")
def no_dropout_backbone(tmp_path_factory) -> Path:
    """tiny-bert without dropout: runs that embed the same pairs in different batches then give the same numbers."""
    folder = tmp_path_factory.mktemp("tiny-bert-no-dropout")
    shutil.copytree(TINY_BERT, folder, dirs_exist_ok=True)
    config = json.loads((folder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def tiny_args(output_dir, data, **overrides) -> RelBertTrainingArguments:
    options = dict(
        output_dir=str(output_dir),
        model=str(TINY_BERT),
        data=str(data),
        epoch=2,
        num_positive=4,
        num_negative=12,
        batch=16,
        lr=1e-3,
        lr_warmup=2,
        checkpointing_steps=3,
    )
    options.update(overrides)
    return RelBertTrainingArguments(**options)


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(model_dir / "model.safetensors")


def assert_same_weights(a: dict, b: dict, atol: float):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=key)


def step_losses(run_dir: Path) -> list[float]:
    lines = (run_dir / "training_log.jsonl").read_text().splitlines()
    return [record["loss"] for record in map(json.loads, lines) if "step" in record]


# --------------------------------------------------------------------------------------------------------------------
# relation types, sampling, embedding


@pytest.fixture(scope="module")
def tiny_model():
    return RelBertModel.from_backbone(TINY_BERT).eval()


def test_relation_types_with_parents_and_augmented_negatives(tiny_model):
    dataset = {
        "1/a": RelationPairs([("a", "b"), ("c", "d")], [("b", "a")]),
        "1/b": RelationPairs([("e", "f")], []),
        "2/a": RelationPairs([("g", "h"), ("i", "j")], [("h", "g")]),
    }
    table = PairTable(
        tiny_model.tokenizer, tiny_model.config, [p for r in dataset.values() for p in r.positives + r.negatives]
    )
    ids = table.ids
    relations = {r.name: r for r in build_relation_types(dataset, table)}
    assert list(relations) == ["1", "1/a", "1/b", "2", "2/a"]
    assert relations["1/a"].negatives == (ids["b", "a"], ids["e", "f"], ids["g", "h"], ids["i", "j"])
    assert relations["1"].positives == (ids["a", "b"], ids["c", "d"], ids["e", "f"])
    assert relations["1"].negatives == (ids["g", "h"], ids["i", "j"])
    assert relations["2"].negatives == relations["1"].positives
    plain = {
        r.name: r
        for r in build_relation_types(dataset, table, augment_negative_by_positive=False, parent_relations=False)
    }
    assert list(plain) == ["1/a", "1/b", "2/a"] and plain["1/a"].negatives == (ids["b", "a"],)


def test_epoch_plan_is_deterministic_and_samples_without_replacement(tiny_model):
    dataset = {
        f"{c}/{s}": RelationPairs([(f"h{c}{s}{i}", f"t{i}") for i in range(7)], [(f"n{c}{s}", "x")])
        for c in "12"
        for s in "ab"
    }
    table = PairTable(
        tiny_model.tokenizer, tiny_model.config, [p for r in dataset.values() for p in r.positives + r.negatives]
    )
    relations = build_relation_types(dataset, table)
    plan = epoch_plan(relations, seed=0, epoch=0, num_positive=5, num_negative=6)
    assert plan == epoch_plan(relations, seed=0, epoch=0, num_positive=5, num_negative=6)
    assert [s.relation for s in plan] != [s.relation for s in epoch_plan(relations, 0, 1, 5, 6)]
    assert sorted(s.relation for s in plan) == list(range(len(relations)))
    for sample in plan:
        relation = relations[sample.relation]
        assert len(sample.positives) == min(5, len(relation.positives)) and len(set(sample.positives)) == len(
            sample.positives
        )
        assert len(sample.negatives) == min(6, len(relation.negatives)) and set(sample.negatives) <= set(
            relation.negatives
        )


def test_embed_pairs_matches_padding_to_max_length(tiny_model):
    pair_ids_of = PairTable(tiny_model.tokenizer, tiny_model.config, PAIRS)
    pair_ids = [2, 0, 3, 0, 1]  # order and repeats are kept
    with torch.no_grad():
        ours = embed_pairs(tiny_model, pair_ids_of, pair_ids, chunk_size=2, device=torch.device("cpu"))
        prompts = [tiny_model.config.render_prompt(PAIRS[i], tiny_model.tokenizer.mask_token) for i in pair_ids]
        padded = tiny_model.tokenizer(
            prompts, padding="max_length", max_length=64, truncation=True, return_tensors="pt"
        )
        reference = tiny_model(**padded).relation_embedding
    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------------------------------------------------
# options


def test_argument_errors():
    with pytest.raises(ValueError, match="num_positive must be at least 2"):
        RelBertTrainingArguments(output_dir="x", num_positive=1)
    with pytest.raises(ValueError, match="lacks the placeholder"):
        RelBertTrainingArguments(output_dir="x", template="no placeholders here")
    with pytest.raises(ValueError, match="output_dir is required"):
        RelBertTrainingArguments()
    with pytest.raises(ValueError, match="relations_per_step must be positive"):
        RelBertTrainingArguments(output_dir="x", relations_per_step=0)


def test_defaults_are_the_reference_recipe():
    args = parse_training_arguments(["--output_dir", "runs/x"])
    config = args.finetuning_config("backbone", num_processes=1, relations_per_epoch=89, mixed_precision="no")
    assert {
        key: config[key] for key in ("max_length", "epoch", "lr", "lr_warmup", "random_seed", "loss_function")
    } == {"max_length": 64, "epoch": 10, "lr": 5e-6, "lr_warmup": 10, "random_seed": 0, "loss_function": "nce"}
    assert config["loss_function_config"] == {
        "num_negative": 400,
        "num_positive": 10,
        "temperature": 0.05,
        "gradient_accumulation": 1,
    }
    assert config["template"].endswith("that <subj> is the <mask> of <obj>") and "\u2019" in config["template"]
    assert config["aggregation_mode"] == "average_no_mask" and config["augment_negative_by_positive"] is True
    assert config["data"] == "relbert/semeval2012_relational_similarity" and args.parent_relations is True


def test_config_file_with_command_line_overrides(tmp_path, capsys):
    (tmp_path / "recipe.yaml").write_text("output_dir: runs/a\nepoch: 3\nnum_negative: 50\nparent_relations: false\n")
    args = parse_training_arguments(["--config", str(tmp_path / "recipe.yaml"), "--epoch", "5", "--lr", "1e-5"])
    assert (args.output_dir, args.epoch, args.num_negative, args.parent_relations, args.lr) == (
        "runs/a",
        5,
        50,
        False,
        1e-5,
    )
    written = args.finetuning_config("b", 1, 89, "no")
    (tmp_path / "finetuning_config.json").write_text(json.dumps(written))
    again = parse_training_arguments(["--config", str(tmp_path / "finetuning_config.json"), "--output_dir", "runs/a"])
    expected = {**args.to_dict(), "model": "sentence-transformers/all-MiniLM-L6-v2", "mixed_precision": "no"}
    assert again.to_dict() == expected
    (tmp_path / "bad.json").write_text(json.dumps({"output_dir": "x", "epochs": 3}))
    with pytest.raises(SystemExit) as exit:
        parse_training_arguments(["--config", str(tmp_path / "bad.json")])
    assert exit.value.code == 2
    assert "bad.json: unknown option(s) epochs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_training_arguments(["--output_dir", "x", "--num_positive", "1"])
    assert "num_positive must be at least 2" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------------------
# a full 1-process run


@pytest.fixture(scope="module")
def full_run(tiny_data, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("full-run")
    AcceleratorState._reset_state(reset_partial_state=True)
    torch.set_num_threads(1)
    train(tiny_args(run_dir, tiny_data, epoch_save=1))
    AcceleratorState._reset_state(reset_partial_state=True)
    return run_dir


@needs_raw_data
def test_run_outputs(full_run):
    model_dir = full_run / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modeling_relbert.py", "pipeline_relbert.py"):
        assert (model_dir / name).is_file(), name
    assert (full_run / "epoch_1" / "finetuning_config.json").is_file() and not (full_run / "epoch_2").exists()
    vector = pipeline("relation-embedding", model=str(model_dir))(("Tokyo", "Japan"))
    assert len(vector) == 32 and all(math.isfinite(value) for value in vector)
    config = json.loads((model_dir / "finetuning_config.json").read_text())
    assert config["epoch"] == 2 and config["relations_per_epoch"] == 7 and config["num_processes"] == 1
    assert config["loss_function_config"]["num_positive"] == 4 and config["classification_loss"] is False
    records = [json.loads(line) for line in (full_run / "training_log.jsonl").read_text().splitlines()]
    steps = [r for r in records if "step" in r]
    epochs = [r for r in records if "validation_loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 15))
    assert [r["lr"] for r in steps[:3]] == pytest.approx([5e-4, 1e-3, 1e-3])  # warmup 2 steps, then constant
    assert [r["epoch"] for r in epochs] == [1, 2] and all(r["validation_loss"] > 0 for r in epochs)
    assert sorted(p.name for p in (full_run / "checkpoints").iterdir()) == [
        "checkpoint_4",
        "checkpoint_5",
    ]  # 6 saved, limit 2


@needs_raw_data
def test_saved_model_loads_in_fresh_process_with_remote_code(full_run, tmp_path):
    model_dir = full_run / "model"
    script = (
        "import json, sys, torch\n"
        "from transformers import AutoModel\n"
        f"model = AutoModel.from_pretrained({str(model_dir)!r}, trust_remote_code=True).eval()\n"
        "assert 'relbert_hf' not in sys.modules, 'the installed package was imported'\n"
        "assert type(model).__module__.startswith('transformers_modules'), type(model).__module__\n"
        "from transformers import AutoTokenizer\n"
        f"tokenizer = AutoTokenizer.from_pretrained({str(model_dir)!r}, trust_remote_code=True)\n"
        f"prompts = [model.config.render_prompt(p, tokenizer.mask_token) for p in {PAIRS!r}]\n"
        "batch = tokenizer(prompts, padding=True, return_tensors='pt')\n"
        "with torch.no_grad():\n"
        "    print(json.dumps(model(**batch).relation_embedding.tolist()))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = torch.tensor(json.loads(result.stdout.strip().splitlines()[-1]))
    trained = RelBertModel.from_pretrained(model_dir).eval()
    untrained = RelBertModel.from_backbone(TINY_BERT).eval()
    with torch.no_grad():
        expected = embed_pairs(
            trained, PairTable(trained.tokenizer, trained.config, PAIRS), [0, 1, 2, 3], 4, torch.device("cpu")
        )
        before = embed_pairs(
            untrained, PairTable(untrained.tokenizer, untrained.config, PAIRS), [0, 1, 2, 3], 4, torch.device("cpu")
        )
    torch.testing.assert_close(loaded, expected, atol=1e-5, rtol=1e-5)
    assert (loaded - before).abs().max() > 1e-2 * before.abs().max()


# --------------------------------------------------------------------------------------------------------------------
# resume


class StepRecorder(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_step_end(self, state, accelerator, model):
        self.steps.append(state.global_step)


class Interrupt(TrainerCallback):
    def __init__(self, at_step: int):
        self.at_step = at_step

    def on_step_end(self, state, accelerator, model):
        if state.global_step == self.at_step:
            raise KeyboardInterrupt(f"interrupted after step {self.at_step}")


@needs_raw_data
def test_resume_gives_the_uninterrupted_weights(full_run, tiny_data, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_args(run_dir, tiny_data), callbacks=[Interrupt(at_step=5)])  # last state: after step 3
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["checkpoint_0"]
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(tiny_args(run_dir, tiny_data))
    with pytest.raises(ValueError, match=r"different options \(lr: 0.001 -> 0.002\)"):
        train(tiny_args(run_dir, tiny_data, lr=2e-3, resume=True))
    recorder = StepRecorder()
    train(tiny_args(run_dir, tiny_data, resume=True), callbacks=[recorder])
    assert recorder.steps == list(range(4, 15))  # continued after the state of step 3
    assert step_losses(run_dir) == pytest.approx(step_losses(full_run), rel=1e-6)
    assert_same_weights(weights(run_dir / "model"), weights(full_run / "model"), atol=1e-6)


def test_resume_without_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint in"):
        train(tiny_args(tmp_path, tmp_path, resume=True))


# --------------------------------------------------------------------------------------------------------------------
# two processes


def torchrun(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc_per_node 2 ARGUMENTS` on CPU, one thread per process."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *arguments]
    # hidden GPUs: accelerate's barrier would address cuda:<local rank> even for gloo CPU processes
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@needs_raw_data
def test_two_processes_match_one_process_with_the_same_global_batch(tiny_data, no_dropout_backbone, tmp_path):
    two, one = tmp_path / "two", tmp_path / "one"
    worker = Path(__file__).with_name("two_process_worker.py")
    torchrun(str(worker), str(two), str(tiny_data), str(no_dropout_backbone), str(tmp_path), cwd=tmp_path)
    reports = [json.loads((tmp_path / f"rank_{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["rank"], r["world_size"], r["distributed_type"]) for r in reports] == [
        (0, 2, "DistributedType.MULTI_CPU"),
        (1, 2, "DistributedType.MULTI_CPU"),
    ]
    assert reports[0]["identical"] == [True] * 4  # 7 relation types, 2 per step; the last step has one
    AcceleratorState._reset_state(reset_partial_state=True)
    train(
        tiny_args(
            one,
            tiny_data,
            model=str(no_dropout_backbone),
            epoch=1,
            relations_per_step=2,
            gradient_accumulation_steps=2,
            checkpointing_steps=None,
        )
    )
    assert step_losses(two) == pytest.approx(step_losses(one), rel=1e-4)
    assert_same_weights(weights(two / "model"), weights(one / "model"), atol=1e-5)
    config = json.loads((two / "model" / "finetuning_config.json").read_text())
    assert config["num_processes"] == 2 and config["relations_per_step"] == 1


@needs_raw_data
def test_torchrun_two_cpu_processes(tiny_data, tmp_path):
    result = torchrun(
        "-m",
        "relbert_hf.train",
        "--cpu",
        "--output_dir",
        str(tmp_path / "run"),
        "--model",
        str(TINY_BERT),
        "--data",
        str(tiny_data),
        "--epoch",
        "1",
        "--num_positive",
        "4",
        "--num_negative",
        "8",
        "--split_valid",
        "",
        cwd=tmp_path,
    )
    assert "process 0/2 on cpu" in result.stderr and "process 1/2 on cpu" in result.stderr
    config = json.loads((tmp_path / "run" / "model" / "finetuning_config.json").read_text())
    assert config["num_processes"] == 2 and config["split_valid"] is None


@needs_raw_data
def test_bf16_mixed_precision_on_cpu(tiny_data, tmp_path):
    model_dir = train(tiny_args(tmp_path, tiny_data, epoch=1, mixed_precision="bf16", exclude_relation=["1/b", "2/b"]))
    config = json.loads((model_dir / "finetuning_config.json").read_text())
    assert config["mixed_precision"] == "bf16" and config["relations_per_epoch"] == 5
    assert all(torch.isfinite(torch.tensor(step_losses(tmp_path))))
    assert weights(model_dir)["encoder.embeddings.word_embeddings.weight"].dtype == torch.float32

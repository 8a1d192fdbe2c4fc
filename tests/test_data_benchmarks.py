"""Benchmark loading (relbert_hf/data/benchmarks.py): the real mirror data ($RELBERT_HF_DATA) and users' own files."""

import json
from pathlib import Path

import datasets
import pytest

from relbert_hf.data.benchmarks import (
    ANALOGY_CONFIGS,
    CLASSIFICATION_CONFIGS,
    BenchmarkRecordError,
    load_analogy_questions,
    load_relation_classification,
    load_relation_mapping,
)


from conftest import needs_mirror


pytestmark = needs_mirror

# Record counts from the mirror's README.
ANALOGY_SIZES = {
    "sat_full": 374,
    "sat": 337,
    "u2": 228,
    "u4": 432,
    "google": 500,
    "bats": 1799,
    "conceptnet_relational_similarity": 1192,
    "t_rex_relational_similarity": 183,
    "nell_relational_similarity": 600,
}
CLASSIFICATION_SIZES = {
    "BLESS": {"train": 18582, "val": 1327, "test": 6637},
    "CogALexV": {"train": 3054, "test": 4260},
    "EVALution": {"train": 5160, "val": 372, "test": 1846},
    "K&H+N": {"train": 40256, "val": 2876, "test": 14377},
    "ROOT09": {"train": 8933, "val": 638, "test": 3191},
}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


GOOD_QUESTION = {"stem": ["word", "language"], "answer": 1, "choice": [["paint", "portrait"], ["note", "music"]]}


@pytest.mark.parametrize("name", ANALOGY_CONFIGS)
def test_every_analogy_set_loads_from_the_mirror(name):
    dataset = load_analogy_questions(name)
    assert isinstance(dataset, datasets.Dataset)
    assert len(dataset) == ANALOGY_SIZES[name]
    assert set(dataset.column_names) == {"stem", "answer", "choice", "prefix"}
    first = dataset[0]
    assert len(first["stem"]) == 2 and 0 <= first["answer"] < len(first["choice"])


def test_sat_full_first_record_is_the_readme_example():
    record = load_analogy_questions("sat_full")[0]
    assert record["stem"] == ["beauty", "aesthete"]
    assert record["choice"][0] == ["pleasure", "hedonist"] and record["answer"] == 0
    assert record["prefix"] == "190 FROM REAL SATs"


@pytest.mark.parametrize("name", CLASSIFICATION_CONFIGS)
def test_every_classification_set_loads_with_its_splits(name):
    splits = load_relation_classification(name)
    assert isinstance(splits, datasets.DatasetDict)
    assert {split: len(rows) for split, rows in splits.items()} == CLASSIFICATION_SIZES[name]
    assert splits["train"].column_names == ["head", "tail", "relation"]


def test_relation_mapping_loads_twenty_problems():
    problems = load_relation_mapping()
    assert len(problems) == 20
    sizes = sorted(len(source) for source in problems["source"])
    assert sizes == [5] * 2 + [6] * 3 + [7] * 9 + [8] * 5 + [9]
    for target, scrambled in zip(problems["target"], problems["target_random"]):
        assert sorted(target) == sorted(scrambled) and target != scrambled


def test_a_users_analogy_file_loads_and_prefix_is_optional(tmp_path):
    path = write_jsonl(tmp_path / "mine.jsonl", [GOOD_QUESTION, {**GOOD_QUESTION, "prefix": "x", "extra": 1}])
    dataset = load_analogy_questions(str(path))
    assert dataset["prefix"] == ["", "x"]
    assert dataset.column_names == ["stem", "answer", "choice", "prefix"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"stem": ["word"]}, "stem is not a pair"),
        ({"stem": ["word", ""]}, "stem is not a pair"),
        ({"answer": 2}, "answer 2 is out of range for 2 choices"),
        ({"answer": -1}, "answer -1 is out of range"),
        ({"choice": []}, "choice must be a non-empty list"),
        ({"choice": [["a", "b"], ["c"]]}, "choice 1 is not a pair"),
        ({"answer": None}, "answer None is out of range"),
    ],
)
def test_a_malformed_question_names_file_and_line(tmp_path, change, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [GOOD_QUESTION, GOOD_QUESTION, {**GOOD_QUESTION, **change}])
    with pytest.raises(BenchmarkRecordError, match=f"bad.jsonl, line 3: {message}"):
        load_analogy_questions(str(path))


def test_a_missing_field_and_invalid_json_name_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"stem": ["a", "b"], "answer": 0}])
    with pytest.raises(BenchmarkRecordError, match="bad.jsonl, line 1: missing field 'choice'"):
        load_analogy_questions(str(path))
    path.write_text(json.dumps(GOOD_QUESTION) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl, line 2: not valid JSON"):
        load_analogy_questions(str(path))


def test_a_missing_config_names_the_mirror_file():
    with pytest.raises(FileNotFoundError, match="dataset/no_such_set/test.jsonl"):
        load_analogy_questions("no_such_set")


def test_a_users_classification_folder_may_lack_val_but_not_test(tmp_path):
    rows = [{"head": "dog", "tail": "animal", "relation": "hyper"}, {"head": "cat", "tail": "tail", "relation": "mero"}]
    write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(FileNotFoundError, match="test.jsonl"):
        load_relation_classification(str(tmp_path))
    write_jsonl(tmp_path / "test.jsonl", rows[:1])
    splits = load_relation_classification(str(tmp_path))
    assert list(splits) == ["train", "test"] and splits["test"]["relation"] == ["hyper"]
    write_jsonl(tmp_path / "val.jsonl", [{"head": "dog", "tail": " ", "relation": "hyper"}])
    with pytest.raises(BenchmarkRecordError, match="val.jsonl, line 1: tail must be a non-empty string"):
        load_relation_classification(str(tmp_path))


def test_a_mapping_problem_whose_scrambled_target_differs_is_refused(tmp_path):
    good = {"source": ["a", "b", "c"], "target": ["x", "y", "z"], "target_random": ["z", "x", "y"]}
    path = write_jsonl(tmp_path / "mapping.jsonl", [good, {**good, "target_random": ["x", "y", "w"]}])
    with pytest.raises(BenchmarkRecordError, match="mapping.jsonl, line 2: target_random is not a reordering"):
        load_relation_mapping(str(path))
    write_jsonl(path, [{**good, "source": ["a", "b"]}])
    with pytest.raises(BenchmarkRecordError, match="line 1: source and target must have the same number"):
        load_relation_mapping(str(path))

"""Building relbert/semeval2012_relational_similarity from the raw SemEval-2012 Task 2 files, and reading it back."""

import importlib.util
import json
from pathlib import Path

import pytest

from relbert_hf.data.semeval2012 import (
    SEMEVAL2012_REPO_ID,
    build_semeval2012,
    default_raw_dir,
    load_relation_dataset,
    read_gold_ratings,
    split_counts,
    write_relation_dataset,
)


RAW_DIR = default_raw_dir() or Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2012_task2"
BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_semeval2012.py"

pytestmark = pytest.mark.skipif(not RAW_DIR.is_dir(), reason=f"raw SemEval-2012 files not at {RAW_DIR}")


@pytest.fixture(scope="module")
def splits():
    return build_semeval2012(RAW_DIR)


@pytest.fixture(scope="module")
def built(tmp_path_factory, splits) -> Path:
    folder = tmp_path_factory.mktemp("semeval2012")
    write_relation_dataset(splits, folder)
    return folder


def test_counts(splits):
    assert split_counts(splits) == {
        "train": {"relation_types": 79, "positives": 632, "negatives": 632},
        "validation": {"relation_types": 79, "positives": 158, "negatives": 158},
    }
    names = [record["relation_type"] for record in splits["train"]]
    assert names == sorted(names) == [record["relation_type"] for record in splits["validation"]]
    assert {name.split("/")[0] for name in names} == {str(category) for category in range(1, 11)}
    assert "1/a" in names and "10/f" in names


def test_construction_of_one_subcategory(splits):
    """1a: the 10 highest-scoring pairs (all > 0) and the 10 lowest (all < 0), sorted by ascending score (ties keep
    their file order); validation = positions 0 and 8 of each list."""
    train = next(record for record in splits["train"] if record["relation_type"] == "1/a")
    validation = next(record for record in splits["validation"] if record["relation_type"] == "1/a")
    assert validation == {
        "relation_type": "1/a",
        "positives": [["bird", "swan"], ["tree", "oak"]],
        "negatives": [["wheat", "bread"], ["bush", "astilbe"]],
    }
    assert train["positives"][-2:] == [["bird", "robin"], ["weapon", "spear"]]
    assert ["animal", "carabao"] in train["negatives"]  # ties with bush:astilbe at -30.0, later in the file
    ratings = dict(
        (pair, score) for score, pair in read_gold_ratings(RAW_DIR / "Gold-Ratings/Training/GoldRatings-1a.txt")
    )
    positives = [tuple(pair) for pair in train["positives"] + validation["positives"]]
    negatives = [tuple(pair) for pair in train["negatives"] + validation["negatives"]]
    assert len(set(positives)) == len(set(negatives)) == 10
    assert min(ratings[pair] for pair in positives) >= sorted(ratings.values())[-10] > 0
    assert max(ratings[pair] for pair in negatives) <= sorted(ratings.values())[9] < 0


def test_splits_are_disjoint(splits):
    for train, validation in zip(splits["train"], splits["validation"], strict=True):
        for key in ("positives", "negatives"):
            assert not {tuple(p) for p in train[key]} & {tuple(p) for p in validation[key]}


def test_build_script_writes_hub_layout_and_prints_counts(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("build_semeval2012", BUILD_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--raw-dir", str(RAW_DIR), "--output", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "train: 79 relation types, 632 positive pairs, 632 negative pairs" in output
    assert "validation: 79 relation types, 158 positive pairs, 158 negative pairs" in output
    lines = (tmp_path / "dataset" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 79 and json.loads(lines[0])["relation_type"] == "1/a"


def test_load_from_folder_file_and_mirror(built, splits, tmp_path, monkeypatch):
    relations = load_relation_dataset(built, "validation")
    assert len(relations) == 79
    assert relations["1/a"].positives == [("bird", "swan"), ("tree", "oak")]
    assert load_relation_dataset(built / "dataset" / "train.jsonl")["1/a"].positives[0] == tuple(
        splits["train"][0]["positives"][0]
    )
    mirror = tmp_path / "mirror"
    write_relation_dataset(splits, mirror / SEMEVAL2012_REPO_ID)
    monkeypatch.setenv("RELBERT_HF_DATA", str(mirror))
    assert load_relation_dataset(SEMEVAL2012_REPO_ID, "train").keys() == relations.keys()
    excluded = load_relation_dataset(SEMEVAL2012_REPO_ID, "train", exclude_relation=["1/a", "2/b"])
    assert len(excluded) == 77 and "1/a" not in excluded


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD = '{"relation_type": "1/a", "positives": [["a", "b"], ["c", "d"]], "negatives": [["b", "a"]]}'


@pytest.mark.parametrize(
    "second_line, message",
    [
        ("{not json", r"line 2: not valid JSON"),
        ('{"relation_type": "1/b", "positives": [["a", "b"]]}', r"line 2: missing key\(s\) negatives"),
        ('{"relation_type": "1/b", "positives": [["a"]], "negatives": []}', r"line 2: `positives` holds \['a'\]"),
        (
            '{"relation_type": "1/b", "positives": [], "negatives": []}',
            r"line 2: relation type '1/b' has no positives",
        ),
        (GOOD, r"line 2: relation type '1/a' appears twice"),
        ('{"relation_type": "", "positives": [["a", "b"]], "negatives": []}', r"line 2: `relation_type` must be"),
    ],
)
def test_malformed_dataset_names_file_and_line(tmp_path, second_line, message):
    path = write_lines(tmp_path / "train.jsonl", GOOD, second_line)
    with pytest.raises(ValueError, match=message) as error:
        load_relation_dataset(tmp_path, "train")
    assert str(path) in str(error.value)


def test_missing_dataset_and_unknown_exclusion(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no validation split"):
        load_relation_dataset(tmp_path, "validation")
    monkeypatch.setenv("RELBERT_HF_DATA", str(tmp_path))  # a mirror without the built dataset
    with pytest.raises(
        FileNotFoundError, match="dataset/train.jsonl not found .*build it with scripts/build_semeval2012"
    ):
        load_relation_dataset(SEMEVAL2012_REPO_ID, "train")
    write_lines(tmp_path / "train.jsonl", GOOD)
    with pytest.raises(ValueError, match="exclude_relation names relation types not in .*: 9/z"):
        load_relation_dataset(tmp_path, "train", exclude_relation=["9/z"])


def test_malformed_gold_ratings_line(tmp_path):
    path = write_lines(tmp_path / "GoldRatings-1a.txt", "# header", ' 50.0 "weapon:spear"', ' 12.0 "no colon"')
    with pytest.raises(ValueError, match=r"GoldRatings-1a.txt, line 3: expected `score \"head:tail\"`"):
        read_gold_ratings(path)


def test_missing_raw_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="subcategories-list.txt not found"):
        build_semeval2012(tmp_path)
    write_lines(tmp_path / "subcategories-list.txt", "1, a, CLASS-INCLUSION, Taxonomic")
    with pytest.raises(FileNotFoundError, match="subcategory 1a: expected exactly one of"):
        build_semeval2012(tmp_path)

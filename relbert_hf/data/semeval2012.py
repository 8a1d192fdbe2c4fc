"""The RelBERT training set `relbert/semeval2012_relational_similarity`: built from the raw SemEval-2012 Task 2 gold
ratings, and read back (by Hub id, from the mirror set by `RELBERT_HF_DATA`, or from a local folder or file).

Construction (per subcategory, e.g. `1a` = category 1 CLASS-INCLUSION, subcategory a Taxonomic, named `1/a`):

1. read `Gold-Ratings/{Training,Testing}/GoldRatings-<id>.txt` (score = % most illustrative - % least illustrative) and
   sort the pairs by ascending score (a stable sort: ties keep their file order);
2. positives = among the 10 highest-scoring pairs those with score > 0; negatives = among the 10 lowest those with
   score < 0 (both lists in ascending score order);
3. validation = every `s`-th pair of each list from its first, `s = max(1, int(0.8 * len(list)))` (2 of 10);
   train = the rest. This is the rule of the reference library's data builder (about 20% validation).

Each split is a JSON lines file with one record per subcategory: `relation_type` (`"1/a"`), `positives` and
`negatives` (lists of `[head, tail]`), written in the Hub layout `<folder>/dataset/<split>.jsonl`.
"""

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .files import DATA_ENV, data_mirror, dataset_file, read_jsonl


logger = logging.getLogger(__name__)

Pair = tuple[str, str]

SEMEVAL2012_REPO_ID = "relbert/semeval2012_relational_similarity"
#: Folder of the raw SemEval-2012 Task 2 files inside the data mirror.
RAW_FOLDER_NAME = "semeval2012_task2"
SPLITS = ("train", "validation")
#: Positives come from the TOP_N highest-scoring pairs, negatives from the TOP_N lowest.
TOP_N = 10
VALIDATION_RATE = 0.2

BUILD_HINT = "build it with scripts/build_semeval2012.py --output FOLDER and pass that FOLDER as the data"
_RATING_LINE = re.compile(r'^\s*(-?\d+(?:\.\d+)?)\s+"([^"]*)"\s*$')
_SUBCATEGORY_LINE = re.compile(r"^\s*(\d+)\s*,\s*([a-z])\s*,")
_SUBCATEGORY_ID = re.compile(r"^(\d+)([a-z])$")


@dataclass(frozen=True)
class RelationPairs:
    """Word pairs of one relation type: `positives` illustrate it, `negatives` are hard negatives for it."""

    positives: list[Pair]
    negatives: list[Pair]


# --------------------------------------------------------------------------------------------------------------------
# building from the raw files


def read_gold_ratings(path: str | os.PathLike) -> list[tuple[float, Pair]]:
    """(score, (head, tail)) of every pair in a `GoldRatings-<id>.txt` file, in file order.

    Raises `ValueError` naming file and line for a line that is neither a `#` comment nor `score "head:tail"`.
    """
    ratings = []
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            if line.startswith("#") or not line.strip():
                continue
            match = _RATING_LINE.match(line)
            words = match.group(2).split(":") if match else []
            if len(words) != 2 or not all(word.strip() for word in words):
                raise ValueError(f'{path}, line {line_number}: expected `score "head:tail"`, got {line.rstrip()!r}')
            ratings.append((float(match.group(1)), (words[0], words[1])))
    if not ratings:
        raise ValueError(f"{path}: no rated pairs")
    return ratings


def read_subcategory_ids(raw_dir: str | os.PathLike) -> list[str]:
    """Subcategory ids (`1a`, ..., `10f`) listed in `subcategories-list.txt`, in file order."""
    path = Path(raw_dir) / "subcategories-list.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {raw_dir} the raw SemEval-2012 Task 2 folder?")
    ids = []
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            match = _SUBCATEGORY_LINE.match(line)
            if match is None:
                raise ValueError(f"{path}, line {line_number}: expected `number, letter, ...`, got {line.rstrip()!r}")
            ids.append(match.group(1) + match.group(2))
    return ids


def relation_type_name(subcategory_id: str) -> str:
    """`1a` -> `1/a` (parent category, then subcategory letter)."""
    match = _SUBCATEGORY_ID.match(subcategory_id)
    if match is None:
        raise ValueError(f"not a SemEval-2012 subcategory id: {subcategory_id!r}")
    return f"{match.group(1)}/{match.group(2)}"


def parent_relation_type(relation_type: str) -> str | None:
    """The parent of a hierarchical relation type (`1/a` -> `1`), or None for a flat name."""
    parent, slash, _ = relation_type.partition("/")
    return parent if slash else None


def _validation_indices(length: int) -> set[int]:
    stride = max(1, int(length * (1 - VALIDATION_RATE)))
    return set(range(0, length, stride))


def _split_list(pairs: list[Pair]) -> dict[str, list[Pair]]:
    validation = _validation_indices(len(pairs))
    return {
        "train": [pair for index, pair in enumerate(pairs) if index not in validation],
        "validation": [pair for index, pair in enumerate(pairs) if index in validation],
    }


def build_semeval2012(raw_dir: str | os.PathLike) -> dict[str, list[dict]]:
    """The `train` and `validation` records (one per subcategory, sorted by relation type) from the raw files.

    Raises `FileNotFoundError` naming the missing gold-ratings file of a listed subcategory.
    """
    raw_dir = Path(raw_dir)
    splits = {split: [] for split in SPLITS}
    for subcategory_id in read_subcategory_ids(raw_dir):
        candidates = [
            raw_dir / "Gold-Ratings" / part / f"GoldRatings-{subcategory_id}.txt" for part in ("Training", "Testing")
        ]
        found = [path for path in candidates if path.is_file()]
        if len(found) != 1:
            raise FileNotFoundError(
                f"subcategory {subcategory_id}: expected exactly one of {', '.join(map(str, candidates))}"
            )
        ratings = sorted(read_gold_ratings(found[0]), key=lambda rating: rating[0])
        positives = _split_list([pair for score, pair in ratings[-TOP_N:] if score > 0])
        negatives = _split_list([pair for score, pair in ratings[:TOP_N] if score < 0])
        for split in SPLITS:
            splits[split].append(
                {
                    "relation_type": relation_type_name(subcategory_id),
                    "positives": [list(pair) for pair in positives[split]],
                    "negatives": [list(pair) for pair in negatives[split]],
                }
            )
    for records in splits.values():
        records.sort(key=lambda record: record["relation_type"])
    return splits


def split_counts(splits: dict[str, list[dict]]) -> dict[str, dict[str, int]]:
    """Per split: number of relation types, positive pairs and negative pairs."""
    return {
        split: {
            "relation_types": len(records),
            "positives": sum(len(record["positives"]) for record in records),
            "negatives": sum(len(record["negatives"]) for record in records),
        }
        for split, records in splits.items()
    }


def write_relation_dataset(splits: dict[str, list[dict]], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write each split to `<out_dir>/dataset/<split>.jsonl` (UTF-8, one record a line); returns the paths."""
    folder = Path(out_dir) / "dataset"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, records in splits.items():
        paths[split] = folder / f"{split}.jsonl"
        with open(paths[split], "w", encoding="utf-8", newline="\n") as file:
            for record in records:
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
    return paths


def default_raw_dir() -> Path | None:
    """`$RELBERT_HF_DATA/semeval2012_task2` when the mirror is set and holds it, else None."""
    mirror = data_mirror()
    if mirror is not None and (mirror / RAW_FOLDER_NAME).is_dir():
        return mirror / RAW_FOLDER_NAME
    return None


# --------------------------------------------------------------------------------------------------------------------
# reading a built dataset


def relation_dataset_file(data: str | os.PathLike, split: str, data_name: str | None = None) -> str:
    """Local path of one split of a relation dataset.

    `data` is a JSON lines file, a local folder (`<data>/dataset/[<data_name>/]<split>.jsonl` or
    `<data>/<split>.jsonl`), or a Hub dataset id read from the mirror (`RELBERT_HF_DATA`) or downloaded from the Hub.
    """
    path_in_repo = f"dataset/{data_name}/{split}.jsonl" if data_name else f"dataset/{split}.jsonl"
    local = Path(data).expanduser()
    if local.is_file():
        return str(local)
    if local.is_dir():
        candidates = [local / path_in_repo, local / f"{split}.jsonl"]
        for candidate in candidates:
            if candidate.is_file():
                return str(candidate)
        raise FileNotFoundError(f"no {split} split in {data}: tried {', '.join(map(str, candidates))}")
    try:
        location = dataset_file(str(data), path_in_repo)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{error}; {BUILD_HINT}") from error
    if not location.startswith("hf://"):
        return location
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download(repo_id=str(data), filename=path_in_repo, repo_type="dataset")
    except Exception as error:
        raise FileNotFoundError(
            f"could not fetch {path_in_repo} of the dataset {data} from the Hub ({error}); {BUILD_HINT}, or set "
            f"{DATA_ENV} to a mirror holding it"
        ) from error


def _pair_list(value, path: str, line_number: int, key: str) -> list[Pair]:
    if not isinstance(value, list):
        raise ValueError(f"{path}, line {line_number}: `{key}` must be a list of [head, tail] pairs")
    pairs = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(w, str) and w.strip() for w in item)):
            raise ValueError(f"{path}, line {line_number}: `{key}` holds {item!r}, not a [head, tail] pair of words")
        pairs.append((item[0], item[1]))
    return pairs


def load_relation_dataset(
    data: str | os.PathLike = SEMEVAL2012_REPO_ID,
    split: str = "train",
    data_name: str | None = None,
    exclude_relation: list[str] | None = None,
) -> dict[str, RelationPairs]:
    """Relation type -> its pairs, for one split (see `relation_dataset_file` for `data`).

    `exclude_relation` drops relation types by name. Raises `ValueError` naming file and line for a malformed record, a
    repeated relation type or one without positives, and `FileNotFoundError` for a missing split.
    """
    path = relation_dataset_file(data, split, data_name)
    relations = {}
    for line_number, record in read_jsonl(path):
        missing = [key for key in ("relation_type", "positives", "negatives") if key not in record]
        if missing:
            raise ValueError(f"{path}, line {line_number}: missing key(s) {', '.join(missing)}")
        name = record["relation_type"]
        if not isinstance(name, str) or not name:
            raise ValueError(f"{path}, line {line_number}: `relation_type` must be a non-empty string, got {name!r}")
        if name in relations:
            raise ValueError(f"{path}, line {line_number}: relation type {name!r} appears twice")
        positives = _pair_list(record["positives"], path, line_number, "positives")
        if not positives:
            raise ValueError(f"{path}, line {line_number}: relation type {name!r} has no positives")
        relations[name] = RelationPairs(positives, _pair_list(record["negatives"], path, line_number, "negatives"))
    if not relations:
        raise ValueError(f"{path}: no records")
    unknown = sorted(set(exclude_relation or ()) - set(relations))
    if unknown:
        raise ValueError(f"exclude_relation names relation types not in {path}: {', '.join(unknown)}")
    return {name: pairs for name, pairs in relations.items() if name not in set(exclude_relation or ())}


__all__ = [
    "RAW_FOLDER_NAME",
    "SEMEVAL2012_REPO_ID",
    "SPLITS",
    "RelationPairs",
    "build_semeval2012",
    "default_raw_dir",
    "load_relation_dataset",
    "parent_relation_type",
    "read_gold_ratings",
    "read_subcategory_ids",
    "relation_dataset_file",
    "relation_type_name",
    "split_counts",
    "write_relation_dataset",
]

"""The RelBERT benchmarks as `datasets.Dataset`s: analogy questions, lexical relation classification, relation mapping.

Each benchmark is named by its Hub dataset repository and config, as in the reference library:

- analogy questions: `relbert/analogy_questions`, configs `ANALOGY_CONFIGS`, file `dataset/<config>/<split>.jsonl`;
- lexical relation classification: `relbert/lexical_relation_classification`, configs `CLASSIFICATION_CONFIGS`,
  files `dataset/<config>/{train,val,test}.jsonl`;
- relation mapping: `relbert/relation_mapping`, file `dataset/test.jsonl`.

Files come from the local mirror when `RELBERT_HF_DATA` is set, else from the Hub (see `relbert_hf.data.files`). A
user's own data with the same fields is loaded from a JSON lines file (analogy questions, relation mapping) or a folder
holding `train.jsonl`, `test.jsonl` and optionally `val.jsonl` (classification). Every record is checked on loading; a
missing file or a malformed record raises an error naming the file and line.

```python
>>> from relbert_hf.data.benchmarks import load_analogy_questions, load_relation_classification
>>> sat = load_analogy_questions("sat")                    # Dataset: stem, choice, answer, prefix
>>> bless = load_relation_classification("BLESS")          # DatasetDict: train, val, test (head, tail, relation)
```
"""

import os
from collections.abc import Callable
from pathlib import Path

import datasets

from .files import DATA_ENV, dataset_file, read_jsonl


ANALOGY_REPO = "relbert/analogy_questions"
CLASSIFICATION_REPO = "relbert/lexical_relation_classification"
MAPPING_REPO = "relbert/relation_mapping"

#: Configs of `relbert/analogy_questions` reported on the reference model card, in its order.
ANALOGY_CONFIGS = (
    "sat_full",
    "sat",
    "bats",
    "u2",
    "u4",
    "google",
    "conceptnet_relational_similarity",
    "t_rex_relational_similarity",
    "nell_relational_similarity",
)
#: Configs of `relbert/lexical_relation_classification`.
CLASSIFICATION_CONFIGS = ("BLESS", "CogALexV", "EVALution", "K&H+N", "ROOT09")
#: Splits of a classification benchmark; `val` is optional (CogALexV has none).
CLASSIFICATION_SPLITS = ("train", "val", "test")

_PAIR = datasets.List(datasets.Value("string"), length=2)
ANALOGY_FEATURES = datasets.Features(
    {
        "stem": _PAIR,
        "answer": datasets.Value("int64"),
        "choice": datasets.List(_PAIR),
        "prefix": datasets.Value("string"),
    }
)
CLASSIFICATION_FEATURES = datasets.Features(
    {"head": datasets.Value("string"), "tail": datasets.Value("string"), "relation": datasets.Value("string")}
)
_TERMS = datasets.List(datasets.Value("string"))
MAPPING_FEATURES = datasets.Features({"source": _TERMS, "target": _TERMS, "target_random": _TERMS})


class BenchmarkRecordError(ValueError):
    """A malformed benchmark record; the message names the file and line."""


# --------------------------------------------------------------------------------------------------------------------
# record checks: each returns the record restricted to the benchmark's fields, or raises ValueError with the reason


def _is_word(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_word(word) for word in value)


def _field(record: dict, name: str):
    if name not in record:
        raise ValueError(f"missing field {name!r}")
    return record[name]


def check_analogy_record(record: dict) -> dict:
    """`stem` a pair, `choice` a non-empty list of pairs, `answer` an index into `choice`; `prefix` optional."""
    stem, choice, answer = _field(record, "stem"), _field(record, "choice"), _field(record, "answer")
    if not _is_pair(stem):
        raise ValueError(f"stem is not a pair of two non-empty words: {stem!r}")
    if not isinstance(choice, list) or not choice:
        raise ValueError(f"choice must be a non-empty list of pairs, got {choice!r}")
    for index, pair in enumerate(choice):
        if not _is_pair(pair):
            raise ValueError(f"choice {index} is not a pair of two non-empty words: {pair!r}")
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(choice):
        raise ValueError(f"answer {answer!r} is out of range for {len(choice)} choices")
    prefix = record.get("prefix", "")
    if not isinstance(prefix, str):
        raise ValueError(f"prefix must be a string, got {prefix!r}")
    return {"stem": stem, "answer": answer, "choice": choice, "prefix": prefix}


def check_classification_record(record: dict) -> dict:
    """`head` and `tail` non-empty words, `relation` a non-empty label."""
    checked = {name: _field(record, name) for name in ("head", "tail", "relation")}
    for name, value in checked.items():
        if not _is_word(value):
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return checked


def check_mapping_record(record: dict) -> dict:
    """`source` and `target` lists of at least 2 distinct terms of equal length, `target_random` a reordering of
    `target`."""
    checked = {name: _field(record, name) for name in ("source", "target", "target_random")}
    for name, terms in checked.items():
        if not isinstance(terms, list) or not all(_is_word(term) for term in terms):
            raise ValueError(f"{name} must be a list of non-empty strings, got {terms!r}")
        if len(set(terms)) != len(terms):
            raise ValueError(f"{name} repeats a term: {terms!r}")
    if len(checked["source"]) < 2 or len(checked["source"]) != len(checked["target"]):
        raise ValueError(
            f"source and target must have the same number (>= 2) of terms, got {len(checked['source'])} and "
            f"{len(checked['target'])}"
        )
    if sorted(checked["target_random"]) != sorted(checked["target"]):
        raise ValueError("target_random is not a reordering of target")
    return checked


# --------------------------------------------------------------------------------------------------------------------
# loading


def _local_file(location: str) -> Path:
    """A local path for a `dataset_file` location, downloading `hf://datasets/<repo>/<path>` into the Hub cache."""
    prefix = "hf://datasets/"
    if not location.startswith(prefix):
        return Path(location)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    namespace, name, path_in_repo = location[len(prefix) :].split("/", 2)
    try:
        return Path(hf_hub_download(f"{namespace}/{name}", path_in_repo, repo_type="dataset"))
    except (OSError, EntryNotFoundError) as error:
        raise FileNotFoundError(
            f"{location} could not be read from the Hub ({type(error).__name__}); without network access, set "
            f"{DATA_ENV} to a local mirror of the RelBERT datasets"
        ) from error


def read_benchmark_file(
    path: str | os.PathLike, check: Callable[[dict], dict], features: datasets.Features
) -> datasets.Dataset:
    """A `Dataset` of the records of one JSON lines file, each passed through `check`.

    Raises `FileNotFoundError` for a missing file and `BenchmarkRecordError` ("<file>, line <n>: <reason>") for a
    malformed record or an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    records = []
    for line_number, record in read_jsonl(path):
        try:
            records.append(check(record))
        except ValueError as error:
            raise BenchmarkRecordError(f"{path}, line {line_number}: {error}") from None
    if not records:
        raise BenchmarkRecordError(f"{path}: no records")
    return datasets.Dataset.from_list(records, features=features)


def _benchmark_file(name: str, repo_id: str, path_in_repo: str) -> Path:
    """`name` itself when it is a local file, else `path_in_repo` of the dataset repository `repo_id`."""
    if Path(name).is_file():
        return Path(name)
    return _local_file(dataset_file(repo_id, path_in_repo))


def load_analogy_questions(name: str, split: str = "test", repo_id: str = ANALOGY_REPO) -> datasets.Dataset:
    """One analogy-question set: a config of `repo_id` (e.g. `"sat"`, see `ANALOGY_CONFIGS`) or a JSON lines file.

    Columns: `stem` [head, tail], `choice` list of [head, tail], `answer` (0-based index into `choice`), `prefix`
    (category note; "" when the file has none).
    """
    path = _benchmark_file(name, repo_id, f"dataset/{name}/{split}.jsonl")
    return read_benchmark_file(path, check_analogy_record, ANALOGY_FEATURES)


def _classification_file(name: str, repo_id: str, split: str) -> Path | None:
    """File of one split of a classification benchmark; None for a missing `val` split (train and test must exist)."""
    try:
        if Path(name).is_dir():
            path = Path(name) / f"{split}.jsonl"
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found")
            return path
        return _local_file(dataset_file(repo_id, f"dataset/{name}/{split}.jsonl"))
    except FileNotFoundError:
        if split == "val":
            return None
        raise


def load_relation_classification(name: str, repo_id: str = CLASSIFICATION_REPO) -> datasets.DatasetDict:
    """One lexical relation classification set: a config of `repo_id` (e.g. `"BLESS"`, see `CLASSIFICATION_CONFIGS`)
    or a local folder with `train.jsonl`, `test.jsonl` and optionally `val.jsonl`.

    Returns a `DatasetDict` with splits `train`, `test` and, when the benchmark has one, `val`; columns `head`,
    `tail`, `relation`.
    """
    splits = {}
    for split in CLASSIFICATION_SPLITS:
        path = _classification_file(name, repo_id, split)
        if path is not None:
            splits[split] = read_benchmark_file(path, check_classification_record, CLASSIFICATION_FEATURES)
    return datasets.DatasetDict(splits)


def load_relation_mapping(name: str = MAPPING_REPO) -> datasets.Dataset:
    """The relation-mapping problems: the Hub repository `name` (default `relbert/relation_mapping`, file
    `dataset/test.jsonl`) or a JSON lines file. Columns `source`, `target` (gold order), `target_random` (the order the
    solver sees)."""
    path = Path(name) if Path(name).is_file() else _local_file(dataset_file(name, "dataset/test.jsonl"))
    return read_benchmark_file(path, check_mapping_record, MAPPING_FEATURES)


__all__ = [
    "ANALOGY_CONFIGS",
    "ANALOGY_FEATURES",
    "ANALOGY_REPO",
    "BenchmarkRecordError",
    "CLASSIFICATION_CONFIGS",
    "CLASSIFICATION_FEATURES",
    "CLASSIFICATION_REPO",
    "MAPPING_FEATURES",
    "MAPPING_REPO",
    "check_analogy_record",
    "check_classification_record",
    "check_mapping_record",
    "load_analogy_questions",
    "load_relation_classification",
    "load_relation_mapping",
    "read_benchmark_file",
]

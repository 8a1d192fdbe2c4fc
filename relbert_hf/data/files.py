"""Where the RelBERT datasets live: the Hugging Face Hub, or a local mirror with the same layout.

The mirror root comes from the environment variable `RELBERT_HF_DATA` (e.g. `../shared/data`); a dataset repository
`relbert/analogy_questions` then lives in `$RELBERT_HF_DATA/relbert/analogy_questions/`, exactly as on the Hub. Without
the setting, files are read from the Hub (`hf://datasets/...`).
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import datasets

DATA_ENV = "RELBERT_HF_DATA"


def data_mirror() -> Path | None:
    """The local mirror root from `RELBERT_HF_DATA`, or None (read from the Hub). A missing folder is an error."""
    root = os.environ.get(DATA_ENV)
    if not root:
        return None
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"{DATA_ENV}={root} is not a folder")
    return path


def dataset_file(repo_id: str, path_in_repo: str) -> str:
    """Location of one file of a Hub dataset repository: a local path under the mirror, else an `hf://` URL.

    `repo_id` may also be a local folder laid out like the repository.
    """
    if Path(repo_id).is_dir():
        local = Path(repo_id) / path_in_repo
    elif (mirror := data_mirror()) is not None:
        local = mirror / repo_id / path_in_repo
    else:
        return f"hf://datasets/{repo_id}/{path_in_repo}"
    if not local.is_file():
        raise FileNotFoundError(f"{local} not found (dataset {repo_id}, file {path_in_repo})")
    return str(local)


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a JSON lines file; a malformed line raises `ValueError` naming file and line."""
    with open(path, encoding="utf-8") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {line_number}: not valid JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise ValueError(f"{path}, line {line_number}: expected a JSON object, got {type(record).__name__}")
            yield line_number, record


def load_json_dataset(location: str) -> datasets.Dataset:
    """A `datasets.Dataset` from one JSON lines file (local path or `hf://` URL)."""
    return datasets.load_dataset("json", data_files=location, split="train")

"""Datasets of RelBERT: benchmark loading by Hub id or from a local mirror, and the SemEval-2012 training set."""

from .files import DATA_ENV, data_mirror, dataset_file, load_json_dataset, read_jsonl
from .semeval2012 import (
    SEMEVAL2012_REPO_ID,
    RelationPairs,
    build_semeval2012,
    load_relation_dataset,
    write_relation_dataset,
)

__all__ = ["DATA_ENV", "data_mirror", "dataset_file", "load_json_dataset", "read_jsonl"]
__all__ += [
    "SEMEVAL2012_REPO_ID",
    "RelationPairs",
    "build_semeval2012",
    "load_relation_dataset",
    "write_relation_dataset",
]

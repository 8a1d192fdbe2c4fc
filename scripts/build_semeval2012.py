"""Build the RelBERT training set `relbert/semeval2012_relational_similarity` from the raw SemEval-2012 Task 2 files.

```
python scripts/build_semeval2012.py --raw-dir ../shared/data/semeval2012_task2 \
    --output data/semeval2012_relational_similarity
```

Writes `<output>/dataset/{train,validation}.jsonl` (the Hub layout; the construction is described in
`relbert_hf/data/semeval2012.py`) and prints the per-split counts. Train on it with
`python -m relbert_hf.train --data <output> ...`. Without `--raw-dir`, `$RELBERT_HF_DATA/semeval2012_task2` is used.
"""

import argparse
import sys

from relbert_hf.data.semeval2012 import (
    RAW_FOLDER_NAME,
    build_semeval2012,
    default_raw_dir,
    split_counts,
    write_relation_dataset,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--raw-dir", help=f"folder of the raw SemEval-2012 Task 2 files (default: $RELBERT_HF_DATA/{RAW_FOLDER_NAME})"
    )
    parser.add_argument(
        "--output", required=True, help="folder to write (gets dataset/train.jsonl, dataset/validation.jsonl)"
    )
    args = parser.parse_args(argv)
    raw_dir = args.raw_dir or default_raw_dir()
    if raw_dir is None:
        parser.error(f"--raw-dir is required when $RELBERT_HF_DATA does not hold {RAW_FOLDER_NAME}/")
    splits = build_semeval2012(raw_dir)
    paths = write_relation_dataset(splits, args.output)
    for split, counts in split_counts(splits).items():
        print(
            f"{split}: {counts['relation_types']} relation types, {counts['positives']} positive pairs, "
            f"{counts['negatives']} negative pairs -> {paths[split]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

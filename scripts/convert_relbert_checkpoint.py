#!/usr/bin/env python
"""Convert a checkpoint of the original `relbert` library into a relbert-hf model folder.

Same as `relbert-hf convert` (this script only forwards its arguments there):

    python scripts/convert_relbert_checkpoint.py SOURCE DESTINATION [--max-length 64] [--overwrite]

SOURCE is a Hub id or folder written by relbert (any release up to 2.0.2); DESTINATION must be absent or empty unless
`--overwrite`. Exit status 0 on success, 2 on bad input (one-line error on stderr).
"""

import sys

from relbert_hf.cli import main


if __name__ == "__main__":
    sys.exit(main(["convert", *sys.argv[1:]]))

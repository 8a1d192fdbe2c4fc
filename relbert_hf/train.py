"""Fine-tune RelBERT from the shell.

```
python -m relbert_hf.train --output_dir runs/minilm --data data/semeval2012_relational_similarity   # 1 process
accelerate launch --multi_gpu --num_processes 4 -m relbert_hf.train --output_dir runs/x ...      # 4 GPUs
torchrun --nproc_per_node 2 -m relbert_hf.train --output_dir runs/x --cpu ...                   # 2 CPU processes
python -m relbert_hf.train --config recipe.yaml --epoch 3                                      # file + overrides
python -m relbert_hf.train --output_dir runs/x ... --resume                                    # after an interruption
```
(`accelerate launch --cpu --num_processes N` starts ONE process; use torchrun for several CPU processes, and on a
machine with GPUs hide them, `CUDA_VISIBLE_DEVICES= torchrun ...`: accelerate's barrier addresses cuda:<local rank>.)
Options: `--help`, or `relbert_hf.training.RelBertTrainingArguments`.
"""

import logging
import sys

from .training import parse_training_arguments, train


def main(argv: list[str] | None = None) -> int:
    """Parse the options, train, print the model folder; returns the exit status."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    args = parse_training_arguments(argv)
    model_dir = train(args)
    print(model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

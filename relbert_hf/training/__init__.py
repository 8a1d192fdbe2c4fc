"""RelBERT fine-tuning: contrastive losses over relation types and the Accelerate training loop.

```python
>>> from relbert_hf.training import RelBertTrainingArguments, train
>>> args = RelBertTrainingArguments(output_dir="runs/minilm", data="data/semeval2012_relational_similarity")
>>> model_dir = train(args)  # runs/minilm/model
```
From the shell: `python -m relbert_hf.train --help` (also under `accelerate launch` and `torchrun`).
"""

from .arguments import EMBEDDED_MODEL_ID, RelBertTrainingArguments, parse_training_arguments, read_config_file
from .losses import LOSS_FUNCTIONS, iloob_loss, nce_loss, relation_loss, triplet_loss
from .trainer import TrainerCallback, TrainerState, latest_checkpoint, train, validation_loss


__all__ = [
    "EMBEDDED_MODEL_ID",
    "LOSS_FUNCTIONS",
    "RelBertTrainingArguments",
    "TrainerCallback",
    "TrainerState",
    "iloob_loss",
    "latest_checkpoint",
    "nce_loss",
    "parse_training_arguments",
    "read_config_file",
    "relation_loss",
    "train",
    "triplet_loss",
    "validation_loss",
]

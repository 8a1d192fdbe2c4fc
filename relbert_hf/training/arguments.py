"""Options of RelBERT fine-tuning: one dataclass, settable from the command line and from a YAML/JSON config file.

The defaults are the reference recipe (relbert/relbert-roberta-base-nce-semeval2012-0): template d, average_no_mask,
max_length 64, 10 epochs, lr 5e-6 with 10 warmup steps then constant, NCE with temperature 0.05, 10 positives and 400
negatives per relation type and step, negatives augmented by the other relation types' positives, parent relation
types added, seed 0. The backbone defaults to the embedded all-MiniLM-L6-v2 (the reference used roberta-base).

Field names follow the keys of the reference's `finetuning_config.json` where one exists (`epoch`, `batch`, `lr`,
`lr_warmup`, `random_seed`, `split_valid`, `mse_margin`, ...). `finetuning_config()` writes that file's keys, with
`loss_function_config` nested as the reference does, plus the keys of this implementation.
"""

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

import yaml

from transformers import HfArgumentParser

from .. import __version__
from ..configuration_relbert import AGGREGATION_MODES, DEFAULT_TEMPLATE, RelBertConfig
from ..data.semeval2012 import SEMEVAL2012_REPO_ID
from .losses import LOSS_FUNCTIONS


#: What `finetuning_config.json` names as `model` when the embedded backbone was used (the same weights on the Hub).
EMBEDDED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Keys of `finetuning_config.json` that describe a run rather than set an option (ignored when read as a config file).
RUN_DESCRIPTION_KEYS = ("backbone", "num_processes", "relbert_hf_version", "relations_per_epoch")


@dataclass
class RelBertTrainingArguments:
    """Options of `relbert_hf.training.train` (see each field's help, or `python -m relbert_hf.train --help`)."""

    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Run folder (required): the trained model goes to <output_dir>/model, resumable states to "
            "<output_dir>/checkpoints, the log to <output_dir>/training_log.jsonl."
        },
    )
    model: str | None = field(
        default=None,
        metadata={"help": "Backbone encoder, a Hub id or folder (default: the embedded all-MiniLM-L6-v2)."},
    )
    template: str = field(
        default=DEFAULT_TEMPLATE, metadata={"help": "Prompt with <subj>, <obj> and optionally <mask>."}
    )
    aggregation_mode: Literal[AGGREGATION_MODES] = field(
        default="average_no_mask", metadata={"help": "Which last hidden states are summed into the embedding."}
    )
    max_length: int = field(default=64, metadata={"help": "Prompts are truncated to this many tokens."})
    data: str = field(
        default=SEMEVAL2012_REPO_ID,
        metadata={
            "help": "Relation dataset: a Hub id (read from the mirror $RELBERT_HF_DATA, else the Hub), a folder with "
            "dataset/<split>.jsonl or <split>.jsonl, or one JSON lines file (scripts/build_semeval2012.py builds it)."
        },
    )
    data_name: str | None = field(
        default=None, metadata={"help": "Config of the dataset: reads dataset/<data_name>/<split>.jsonl."}
    )
    exclude_relation: list[str] | None = field(
        default=None, metadata={"help": "Relation types to leave out (names as in the dataset, e.g. 1/a)."}
    )
    split: str = field(default="train", metadata={"help": "Split to train on."})
    split_valid: str = field(
        default="validation",
        metadata={"help": "Split for the validation loss after each epoch; an empty string skips validation."},
    )
    loss_function: Literal[LOSS_FUNCTIONS] = field(default="nce", metadata={"help": "Contrastive loss."})
    temperature: float = field(default=0.05, metadata={"help": "Temperature of nce and iloob."})
    mse_margin: float = field(default=1.0, metadata={"help": "Margin of the triplet loss."})
    num_positive: int = field(default=10, metadata={"help": "Positives sampled per relation type and step (>= 2)."})
    num_negative: int = field(default=400, metadata={"help": "Negatives sampled per relation type and step."})
    augment_negative_by_positive: bool = field(
        default=True, metadata={"help": "Add the positives of the other relation types to each one's negatives."}
    )
    parent_relations: bool = field(
        default=True,
        metadata={
            "help": "Add the parent categories (1/a -> 1) as relation types (union of the children's positives)."
        },
    )
    epoch: int = field(default=10, metadata={"help": "Training epochs (each visits every relation type once)."})
    batch: int = field(
        default=32,
        metadata={
            "help": "Prompts per forward pass when embedding a step's pairs (speed only, not the loss; the "
            "reference's 32 suits CPUs, on a GPU use 512: one pass per relation type, about 4x faster on an H200)."
        },
    )
    relations_per_step: int = field(
        default=1,
        metadata={
            "help": "Relation types per step and process. A step processes num_processes * relations_per_step "
            "relation types; its loss is their mean."
        },
    )
    gradient_accumulation_steps: int = field(
        default=1, metadata={"help": "Steps accumulated per optimizer update (never across an epoch end)."}
    )
    lr: float = field(default=5e-6, metadata={"help": "AdamW learning rate."})
    lr_warmup: int = field(
        default=10, metadata={"help": "Linear warmup over this many optimizer steps, then constant."}
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    random_seed: int = field(default=0, metadata={"help": "Seed of sampling, dropout and everything else."})
    mixed_precision: Literal["no", "fp16", "bf16"] | None = field(
        default=None, metadata={"help": "Mixed precision (default: accelerate's setting, else no)."}
    )
    cpu: bool = field(default=False, metadata={"help": "Train on the CPU even when a GPU is present."})
    checkpointing_steps: int | None = field(
        default=None,
        metadata={
            "help": "Save a resumable state every N optimizer steps (a state is always saved after each epoch)."
        },
    )
    checkpoints_total_limit: int | None = field(
        default=2, metadata={"help": "Keep only the last N states in <output_dir>/checkpoints."}
    )
    resume: bool = field(default=False, metadata={"help": "Continue from the last state in <output_dir>/checkpoints."})
    epoch_save: int | None = field(
        default=None, metadata={"help": "Also save a model folder <output_dir>/epoch_<e> every N epochs."}
    )
    report_to: list[str] | None = field(
        default=None, metadata={"help": "Experiment trackers for accelerate (e.g. tensorboard wandb)."}
    )

    def __post_init__(self):
        if not self.output_dir:
            raise ValueError("output_dir is required (--output_dir FOLDER)")
        RelBertConfig(template=self.template, aggregation_mode=self.aggregation_mode, max_length=self.max_length)
        if self.num_positive < 2:
            raise ValueError(
                f"num_positive must be at least 2 (pairs of positives make the loss), got {self.num_positive}"
            )
        positive = {
            "num_negative": self.num_negative,
            "epoch": self.epoch,
            "batch": self.batch,
            "relations_per_step": self.relations_per_step,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "temperature": self.temperature,
            "lr": self.lr,
        }
        for name in ("checkpointing_steps", "checkpoints_total_limit", "epoch_save"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.lr_warmup < 0:
            raise ValueError(f"lr_warmup must be >= 0, got {self.lr_warmup}")

    def finetuning_config(
        self, backbone: str | os.PathLike, num_processes: int, relations_per_epoch: int, mixed_precision: str
    ) -> dict:
        """The content of `finetuning_config.json`: the reference card's keys, then this implementation's (the
        backbone folder or id actually loaded, the number of processes, the relation types per epoch incl. parents,
        the mixed precision in effect)."""
        loss_function_config = {"num_negative": self.num_negative, "num_positive": self.num_positive}
        if self.loss_function == "triplet":
            loss_function_config["mse_margin"] = self.mse_margin
        else:
            loss_function_config["temperature"] = self.temperature
        loss_function_config["gradient_accumulation"] = self.gradient_accumulation_steps
        return {
            "model": self.model or EMBEDDED_MODEL_ID,
            "max_length": self.max_length,
            "epoch": self.epoch,
            "batch": self.batch,
            "random_seed": self.random_seed,
            "lr": self.lr,
            "lr_warmup": self.lr_warmup,
            "aggregation_mode": self.aggregation_mode,
            "data": self.data,
            "data_name": self.data_name,
            "exclude_relation": self.exclude_relation,
            "split": self.split,
            "split_valid": self.split_valid or None,
            "loss_function": self.loss_function,
            "classification_loss": False,
            "loss_function_config": loss_function_config,
            "augment_negative_by_positive": self.augment_negative_by_positive,
            "template": self.template,
            "parent_relations": self.parent_relations,
            "relations_per_step": self.relations_per_step,
            "weight_decay": self.weight_decay,
            "mixed_precision": mixed_precision,
            "backbone": str(backbone),
            "num_processes": num_processes,
            "relations_per_epoch": relations_per_epoch,
            "relbert_hf_version": __version__,
        }

    def to_dict(self) -> dict:
        return asdict(self)


def read_config_file(path: str | os.PathLike) -> dict:
    """Options from a YAML or JSON file (flat field names, or a `finetuning_config.json` with its nested
    `loss_function_config`). Raises `ValueError` naming the file for unknown keys or unsupported values."""
    path = Path(path)
    with open(path, encoding="utf-8") as file:
        values = json.load(file) if path.suffix == ".json" else yaml.safe_load(file)
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of option names to values")
    values = dict(values)
    nested = values.pop("loss_function_config", None) or {}
    if "gradient_accumulation" in nested:
        nested["gradient_accumulation_steps"] = nested.pop("gradient_accumulation")
    values.update(nested)
    if values.pop("classification_loss", False):
        raise ValueError(f"{path}: classification_loss is not supported by relbert_hf")
    for key in RUN_DESCRIPTION_KEYS:
        values.pop(key, None)
    names = {item.name for item in fields(RelBertTrainingArguments)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}")
    return values


def parse_training_arguments(argv: list[str] | None = None) -> RelBertTrainingArguments:
    """Arguments from the command line; `--config FILE` (YAML or JSON) sets defaults that flags override.

    Invalid options end the program with the usage and the reason on stderr (exit status 2), as argparse does.
    """
    parser = HfArgumentParser(
        RelBertTrainingArguments, prog="python -m relbert_hf.train", description="Fine-tune RelBERT on relation types."
    )
    parser.add_argument("--config", help="YAML or JSON file of options (flags given as well override it)")
    try:
        config_path = parser.parse_known_args(argv)[0].config
        if config_path:
            parser.set_defaults(**read_config_file(config_path))
        arguments, _ = parser.parse_args_into_dataclasses(args=argv, look_for_args_file=False)
    except (ValueError, OSError) as error:
        parser.error(str(error))  # usage and the message on stderr, exit status 2
    return arguments


__all__ = ["EMBEDDED_MODEL_ID", "RelBertTrainingArguments", "parse_training_arguments", "read_config_file"]

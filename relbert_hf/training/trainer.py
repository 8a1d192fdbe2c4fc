"""The RelBERT fine-tuning loop on Accelerate: 1 process, N GPUs (DDP) or N CPU processes (gloo), resumable.

Step semantics. An epoch visits every relation type once, in a shuffled order (`epoch_plan`). A step takes the next
`num_processes * relations_per_step` relation types of that order (the global batch); process `r` embeds the pairs of
its `relations_per_step` of them (length-sorted chunks, dynamic padding) and computes each one's loss (summed over its
terms, as the reference). The loss of a step is the MEAN over the relation types of the global batch: every process
backpropagates `sum(own losses) * num_processes / len(global batch)` and DDP averages the gradients. Hence a run on N
processes follows the same trajectory as a 1-process run with `relations_per_step` multiplied by N (up to dropout
randomness and float rounding), and 1 process with `relations_per_step 1` is the reference's loop (one relation type
per optimizer step). When the last global batch of an epoch leaves a process without a relation type, it
backpropagates a zero-weighted copy of the batch's first one, so that every process takes part in each gradient
reduction.

With `gradient_accumulation_steps k`, k steps make one optimizer update (their losses averaged); a window never crosses
an epoch end (the epoch's last window may be shorter). The LR schedule (linear warmup over `lr_warmup` optimizer steps,
then constant, as the reference) counts optimizer updates.

Outputs in `output_dir`:
- `model/`: a complete `save_pretrained` folder (weights, config, tokenizer, code files) plus `finetuning_config.json`;
- `checkpoints/checkpoint_<n>/`: Accelerate states (model, optimizer, scheduler, RNG, progress), saved after each epoch
  and every `checkpointing_steps` optimizer updates, the last `checkpoints_total_limit` kept;
- `training_log.jsonl`: one record per step (epoch, step, loss, lr) and one per epoch (train_loss, validation_loss);
- `training_arguments.json` (checked on `--resume`), and `epoch_<e>/` model folders with `epoch_save`.
"""

import json
import math
import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import ProjectConfiguration, set_seed
from tqdm.auto import tqdm

from ..data.semeval2012 import load_relation_dataset
from ..embedded import embedded_backbone_path
from ..modeling_relbert import RelBertModel
from .arguments import RelBertTrainingArguments
from .data import PairTable, RelationSample, RelationType, build_relation_types, dataset_pairs, embed_pairs, epoch_plan
from .losses import relation_loss


logger = get_logger(__name__)

FINETUNING_CONFIG_NAME = "finetuning_config.json"
TRAINING_LOG_NAME = "training_log.jsonl"
TRAINING_ARGUMENTS_NAME = "training_arguments.json"
#: Options that may change when a run is resumed (everything else must match the saved `training_arguments.json`).
RESUMABLE_CHANGES = (
    "output_dir",
    "resume",
    "epoch",
    "epoch_save",
    "checkpointing_steps",
    "checkpoints_total_limit",
    "report_to",
)


@dataclass
class TrainerState:
    """Progress of a run, saved with every checkpoint: completed epochs, steps of the current epoch, steps and
    optimizer updates in all, and the log records so far."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    optimizer_step: int = 0
    log_history: list[dict] = field(default_factory=list)

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict):
        for key, value in state.items():
            setattr(self, key, value)


class TrainerCallback:
    """Hooks into the loop (subclass and override). `model` is the prepared (possibly wrapped) model; raising an
    exception stops the run, e.g. to interrupt it deterministically."""

    def on_step_end(self, state: TrainerState, accelerator: Accelerator, model: torch.nn.Module):
        """After each step (and its optimizer update, if any, and checkpoint, if due)."""

    def on_epoch_end(self, state: TrainerState, accelerator: Accelerator, model: torch.nn.Module):
        """After each epoch's validation and checkpoint."""


def warmup_then_constant(warmup_steps: int):
    """LR factor after `step` scheduler steps: `(step + 1) / warmup_steps` while below 1, then 1 (the reference's)."""

    def factor(step: int) -> float:
        return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0

    return factor


def latest_checkpoint(output_dir: str | Path) -> tuple[Path, int] | None:
    """The newest `checkpoints/checkpoint_<n>` folder of a run and its number, or None."""
    found = []
    for folder in (Path(output_dir) / "checkpoints").glob("checkpoint_*"):
        match = re.fullmatch(r"checkpoint_(\d+)", folder.name)
        if match and folder.is_dir():
            found.append((int(match.group(1)), folder))
    if not found:
        return None
    number, folder = max(found)
    return folder, number


def sampled_losses(
    model: torch.nn.Module,
    table: PairTable,
    samples: Sequence[RelationSample],
    args: RelBertTrainingArguments,
    device: torch.device,
) -> list[torch.Tensor]:
    """The loss (scalar) of each sampled relation type; all their pairs are embedded together."""
    pair_ids = [pair_id for sample in samples for pair_id in sample.pair_ids]
    embeddings = embed_pairs(model, table, pair_ids, args.batch, device)
    losses, start = [], 0
    for sample in samples:
        positive = embeddings[start : start + len(sample.positives)]
        negative = embeddings[start + len(sample.positives) : start + len(sample.pair_ids)]
        losses.append(relation_loss(args.loss_function, positive, negative, args.temperature, args.mse_margin))
        start += len(sample.pair_ids)
    return losses


@torch.no_grad()
def validation_loss(
    model: torch.nn.Module,
    table: PairTable,
    relation_types: Sequence[RelationType],
    args: RelBertTrainingArguments,
    device: torch.device,
) -> float:
    """Mean over relation types of the loss with ALL their positives and negatives (no sampling), in eval mode."""
    was_training = model.training
    model.eval()
    samples = [RelationSample(index, r.positives, r.negatives) for index, r in enumerate(relation_types)]
    losses = sampled_losses(model, table, samples, args, device)
    model.train(was_training)
    return torch.stack(losses).mean().item()


def _check_resumable(args: RelBertTrainingArguments, saved_path: Path):
    saved = json.loads(saved_path.read_text(encoding="utf-8"))
    current = args.to_dict()
    changed = [key for key in current if key not in RESUMABLE_CHANGES and saved.get(key) != current[key]]
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {current[key]!r}" for key in changed)
        raise ValueError(f"cannot resume {args.output_dir} with different options ({details})")


def _write_json(path: Path, content: dict):
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def train(args: RelBertTrainingArguments, callbacks: Sequence[TrainerCallback] = ()) -> Path:
    """Fine-tune RelBERT as configured by `args`; returns the folder of the trained model (`<output_dir>/model`).

    Run it under `accelerate launch` or `torchrun` for several processes (see `relbert_hf.train`).
    """
    output_dir = Path(args.output_dir)
    accelerator = Accelerator(
        cpu=args.cpu,
        mixed_precision=args.mixed_precision,
        log_with=args.report_to,
        project_config=ProjectConfiguration(
            project_dir=str(output_dir), automatic_checkpoint_naming=True, total_limit=args.checkpoints_total_limit
        ),
    )
    rank, world_size = accelerator.process_index, accelerator.num_processes
    logger.info(
        f"process {rank}/{world_size} on {accelerator.device} ({accelerator.distributed_type}, "
        f"mixed precision {accelerator.mixed_precision})",
        main_process_only=False,
    )
    checkpoint = latest_checkpoint(output_dir)
    if args.resume:
        if checkpoint is None:
            raise FileNotFoundError(f"--resume: no checkpoint in {output_dir / 'checkpoints'}")
        _check_resumable(args, output_dir / TRAINING_ARGUMENTS_NAME)
    elif checkpoint is not None:
        raise FileExistsError(
            f"{output_dir} already holds checkpoints: pass --resume to continue, or use a new folder"
        )
    set_seed(args.random_seed)

    backbone = args.model or embedded_backbone_path()
    model = RelBertModel.from_backbone(
        backbone, template=args.template, aggregation_mode=args.aggregation_mode, max_length=args.max_length
    )
    train_set = load_relation_dataset(args.data, args.split, args.data_name, args.exclude_relation)
    valid_set = {}
    if args.split_valid:
        valid_set = load_relation_dataset(args.data, args.split_valid, args.data_name, args.exclude_relation)
    table = PairTable(model.tokenizer, model.config, dataset_pairs(train_set) + dataset_pairs(valid_set))
    relation_options = {
        "augment_negative_by_positive": args.augment_negative_by_positive,
        "parent_relations": args.parent_relations,
    }
    train_relations = build_relation_types(train_set, table, **relation_options)
    valid_relations = build_relation_types(valid_set, table, **relation_options) if valid_set else []

    relations_per_step = world_size * args.relations_per_step
    steps_per_epoch = math.ceil(len(train_relations) / relations_per_step)
    logger.info(
        f"{len(train_relations)} relation types ({len(train_set)} in {args.split}), {len(table)} distinct pairs; "
        f"{steps_per_epoch} steps per epoch of {relations_per_step} relation types"
    )

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_constant(args.lr_warmup))
    model, optimizer = accelerator.prepare(model, optimizer)
    state = TrainerState()
    accelerator.register_for_checkpointing(scheduler, state)
    log_path = output_dir / TRAINING_LOG_NAME
    if args.resume:
        folder, number = checkpoint
        accelerator.load_state(str(folder))
        accelerator.project_configuration.iteration = number + 1
        logger.info(f"resumed from {folder}: epoch {state.epoch + 1}, step {state.step_in_epoch} of the epoch")
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        if not args.resume:
            _write_json(output_dir / TRAINING_ARGUMENTS_NAME, args.to_dict())
        log_path.write_text("".join(json.dumps(record) + "\n" for record in state.log_history), encoding="utf-8")
    if args.report_to:
        accelerator.init_trackers("relbert_hf", config={k: v for k, v in args.to_dict().items() if v is not None})

    def log(record: dict):
        state.log_history.append(record)
        if accelerator.is_main_process:
            with open(log_path, "a", encoding="utf-8") as file:
                file.write(json.dumps(record) + "\n")
        if args.report_to:
            accelerator.log({k: v for k, v in record.items() if k not in ("epoch", "step")}, step=state.global_step)

    model.train()
    for epoch in range(state.epoch, args.epoch):
        plan = epoch_plan(train_relations, args.random_seed, epoch, args.num_positive, args.num_negative)
        progress = tqdm(
            total=steps_per_epoch,
            initial=state.step_in_epoch,
            desc=f"epoch {epoch + 1}/{args.epoch}",
            disable=not accelerator.is_main_process,
        )
        for step in range(state.step_in_epoch, steps_per_epoch):
            window_start = step - step % args.gradient_accumulation_steps
            window = min(args.gradient_accumulation_steps, steps_per_epoch - window_start)
            update = step + 1 == window_start + window
            global_batch = plan[step * relations_per_step : (step + 1) * relations_per_step]
            own = global_batch[rank * args.relations_per_step : (rank + 1) * args.relations_per_step]
            with nullcontext() if update else accelerator.no_sync(model):
                losses = sampled_losses(model, table, own or global_batch[:1], args, accelerator.device)
                own_loss = torch.stack(losses).sum() if own else losses[0] * 0
                accelerator.backward(own_loss * world_size / len(global_batch) / window)
            lr = optimizer.param_groups[0]["lr"]
            if update:
                optimizer.step()
                if not accelerator.optimizer_step_was_skipped:
                    scheduler.step()
                optimizer.zero_grad()
                state.optimizer_step += 1
            step_loss = (accelerator.reduce(own_loss.detach(), reduction="sum") / len(global_batch)).item()
            state.global_step += 1
            state.step_in_epoch = step + 1
            log({"epoch": epoch + 1, "step": state.global_step, "loss": step_loss, "lr": lr})
            progress.update()
            progress.set_postfix(loss=f"{step_loss:.4g}", lr=f"{lr:.3g}")
            if (
                update
                and args.checkpointing_steps
                and state.optimizer_step % args.checkpointing_steps == 0
                and step + 1 < steps_per_epoch
            ):
                accelerator.save_state()
            for callback in callbacks:
                callback.on_step_end(state, accelerator, model)
        progress.close()

        record = {"epoch": epoch + 1, "train_loss": _mean_step_loss(state.log_history, epoch + 1)}
        if valid_relations:
            unwrapped = accelerator.unwrap_model(model)
            record["validation_loss"] = validation_loss(unwrapped, table, valid_relations, args, accelerator.device)
        logger.info(", ".join(f"{key} {value:.6g}" for key, value in record.items()))
        log(record)
        state.epoch, state.step_in_epoch = epoch + 1, 0
        accelerator.save_state()
        if args.epoch_save and (epoch + 1) % args.epoch_save == 0 and epoch + 1 < args.epoch:
            _save_model(accelerator, model, output_dir / f"epoch_{epoch + 1}", args, backbone, len(train_relations))
        for callback in callbacks:
            callback.on_epoch_end(state, accelerator, model)

    model_dir = output_dir / "model"
    _save_model(accelerator, model, model_dir, args, backbone, len(train_relations))
    accelerator.end_training()
    return model_dir


def _mean_step_loss(log_history: list[dict], epoch: int) -> float:
    losses = [record["loss"] for record in log_history if record.get("epoch") == epoch and "step" in record]
    return sum(losses) / len(losses)


def _save_model(
    accelerator: Accelerator,
    model: torch.nn.Module,
    folder: Path,
    args: RelBertTrainingArguments,
    backbone,
    relations_per_epoch: int,
):
    """A `save_pretrained` folder (weights, config, tokenizer, code files) plus `finetuning_config.json`."""
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(folder)
        config = args.finetuning_config(
            backbone, accelerator.num_processes, relations_per_epoch, accelerator.mixed_precision
        )
        _write_json(folder / FINETUNING_CONFIG_NAME, config)
        logger.info(f"saved the model to {folder}")
    accelerator.wait_for_everyone()


__all__ = ["TrainerCallback", "TrainerState", "latest_checkpoint", "train", "validation_loss", "warmup_then_constant"]

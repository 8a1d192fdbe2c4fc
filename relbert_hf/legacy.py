"""Checkpoints written by the original `relbert` library (all eras up to 2.0.2).

Such a checkpoint is a plain encoder checkpoint (e.g. a `RobertaModel` folder with its tokenizer) whose `config.json`
carries a `relbert_config` key holding the prompt template and the pooling mode, in one of these layouts:

| era        | `relbert_config` keys                                   |
|------------|---------------------------------------------------------|
| 2.x        | `template`, `aggregation_mode`                          |
| late 2022  | `mode`, `template`, `template_mode` (always "manual")   |
| 2022       | `mode`, `template`                                      |
| 2021       | `mode`, `custom_template`                               |
| 2021       | `mode`, `custom_template_type` (or `template_type`): a preset letter, optionally with the resolved `template` |

A full template string (`template`, or a non-null `custom_template`) wins over a preset letter. No era stores
`max_length`; the 2.x default of 64 is used (2021-era code defaulted to 32: pass `max_length=32` to match it).
"""

import os
import shutil
from pathlib import Path

from transformers import PreTrainedConfig

from .modeling_relbert import RelBertModel


#: The preset templates of the 2021 releases, by letter (exact strings, double spaces in b and e included).
PRESET_TEMPLATES = {
    "a": "Today, I finally discovered the relation between <subj> and <obj> : <subj> is the <mask> of <obj>",
    "b": "Today, I finally discovered the relation between <subj> and <obj> : <obj>  is A's <mask>",
    "c": "Today, I finally discovered the relation between <subj> and <obj> : <mask>",
    "d": "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that <subj> is the <mask> of <obj>",
    "e": "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that <obj>  is A\u2019s <mask>",
    "f": "The teacher explained how <subj> is related to <obj> : it is <obj> 's <mask>",
    "g": "The teacher explained how <subj> is related to <obj> : it is <mask>",
    "h": "The teacher explained how <subj> is related to <obj> : <mask>",
    "i": "The teacher explained how <subj> is related to <obj> : it is the <mask>",
}
LEGACY_KEYS = {"aggregation_mode", "mode", "template", "template_mode", "custom_template", "custom_template_type",
               "template_type"}  # fmt: skip
LEGACY_MAX_LENGTH = 64


def legacy_settings(relbert_config: dict) -> dict[str, str]:
    """`template` and `aggregation_mode` from the `relbert_config` entry of an original relbert checkpoint.

    Raises `ValueError` listing the keys found when the layout is none of the known ones.
    """
    keys = sorted(relbert_config)
    unknown_layout = ValueError(
        f"unrecognised relbert_config layout with keys {keys}; known layouts: "
        "{template, aggregation_mode}, {mode, template[, template_mode]}, {mode, custom_template}, "
        "{mode, custom_template_type|template_type[, template]}"
    )
    if not isinstance(relbert_config, dict) or set(keys) - LEGACY_KEYS:
        raise unknown_layout
    aggregation_mode = relbert_config.get("aggregation_mode", relbert_config.get("mode"))
    if aggregation_mode is None:
        raise unknown_layout
    template_mode = relbert_config.get("template_mode", "manual")
    if template_mode != "manual":
        raise ValueError(f"relbert_config template_mode {template_mode!r} was never implemented by relbert; only 'manual'")
    template = relbert_config.get("template") or relbert_config.get("custom_template")
    if template is None:
        letter = relbert_config.get("custom_template_type", relbert_config.get("template_type"))
        if letter is None:
            raise unknown_layout
        if letter not in PRESET_TEMPLATES:
            raise ValueError(f"unknown preset template {letter!r}; expected one of {', '.join(PRESET_TEMPLATES)}")
        template = PRESET_TEMPLATES[letter]
    return {"template": template, "aggregation_mode": aggregation_mode}


def load_legacy_checkpoint(
    pretrained_model_name_or_path: str | os.PathLike, max_length: int = LEGACY_MAX_LENGTH, **kwargs
) -> RelBertModel:
    """Read a checkpoint of the original relbert library (Hub id or folder) as a `RelBertModel` with its tokenizer.

    `kwargs` go to the encoder's `from_pretrained` (e.g. `dtype`, `revision`, `local_files_only`).
    """
    kwargs.pop("config", None)  # the encoder's config, as `pipeline(...)` passes it: read again from the checkpoint
    hub_kwargs = {key: kwargs[key] for key in ("cache_dir", "local_files_only", "token", "revision") if key in kwargs}
    config_dict, _ = PreTrainedConfig.get_config_dict(pretrained_model_name_or_path, **hub_kwargs)
    if config_dict.get("model_type") == "relbert":
        raise ValueError(f"{pretrained_model_name_or_path} is already a relbert-hf checkpoint; nothing to convert")
    if "relbert_config" not in config_dict:
        raise ValueError(
            f"{pretrained_model_name_or_path} is neither a RelBERT checkpoint nor one of the original relbert library "
            f"(its config.json has model_type {config_dict.get('model_type')!r} and no relbert_config); to build an "
            f"untrained RelBERT on this encoder use RelBertModel.from_backbone({str(pretrained_model_name_or_path)!r})"
        )
    settings = legacy_settings(config_dict["relbert_config"])
    model = RelBertModel.from_backbone(pretrained_model_name_or_path, max_length=max_length, **settings, **kwargs)
    vars(model.config.encoder_config).pop("relbert_config", None)  # superseded by the RelBERT config itself
    return model


def convert_legacy_checkpoint(
    source: str | os.PathLike, destination: str | os.PathLike, max_length: int = LEGACY_MAX_LENGTH, overwrite: bool = False
) -> Path:
    """Write a checkpoint of the original relbert library (Hub id or folder) as a relbert-hf model folder.

    Refuses a non-empty `destination` unless `overwrite`, in which case the old folder is replaced, but only after the
    new one has been written completely (next to it, as `<destination>.partial`). Returns the destination.
    """
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()) and not overwrite:
        raise FileExistsError(f"{destination} is not empty; choose another folder or overwrite it")
    model = load_legacy_checkpoint(source, max_length=max_length)
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    if destination.exists():  # replaced only once the new folder is complete
        shutil.rmtree(destination)
    partial.rename(destination)
    return destination


__all__ = ["PRESET_TEMPLATES", "legacy_settings", "load_legacy_checkpoint", "convert_legacy_checkpoint"]

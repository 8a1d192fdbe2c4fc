"""Checkpoints of the original relbert library, in every layout of ../shared/LEGACY_FORMATS.md."""

import json
import shutil

import numpy as np
import pytest
from transformers import pipeline

from relbert_hf import DEFAULT_TEMPLATE, RelBertModel
from relbert_hf.legacy import PRESET_TEMPLATES, convert_legacy_checkpoint, legacy_settings

from conftest import REFERENCE_DIR


CUSTOM = "my own <subj> template <obj> with <mask>"


@pytest.mark.parametrize(
    "relbert_config, template, mode",
    [
        ({"template": CUSTOM, "aggregation_mode": "average"}, CUSTOM, "average"),  # 2.x
        ({"mode": "mask", "template": CUSTOM, "template_mode": "manual"}, CUSTOM, "mask"),  # late 2022
        ({"mode": "average_no_mask", "template": CUSTOM}, CUSTOM, "average_no_mask"),  # 2022
        ({"mode": "average", "custom_template": CUSTOM}, CUSTOM, "average"),  # 2021, custom template
        ({"mode": "mask", "custom_template_type": "a"}, PRESET_TEMPLATES["a"], "mask"),  # 2021, preset letter
        ({"mode": "mask", "template_type": "h"}, PRESET_TEMPLATES["h"], "mask"),  # 2021, other spelling
        ({"mode": "mask", "custom_template_type": "b", "template": CUSTOM}, CUSTOM, "mask"),  # resolved string wins
        ({"mode": "mask", "custom_template": None, "custom_template_type": "i"}, PRESET_TEMPLATES["i"], "mask"),
    ],
)
def test_every_known_layout(relbert_config, template, mode):
    assert legacy_settings(relbert_config) == {"template": template, "aggregation_mode": mode}


def test_preset_templates_written_by_hand():
    assert PRESET_TEMPLATES["d"] == DEFAULT_TEMPLATE
    assert PRESET_TEMPLATES["b"] == (
        "Today, I finally discovered the relation between <subj> and <obj> : <obj>  is A's <mask>"
    )
    assert PRESET_TEMPLATES["e"] == (
        "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that <obj>  is A\u2019s <mask>"
    )


@pytest.mark.parametrize(
    "relbert_config, message",
    [
        ({"template": CUSTOM}, r"unrecognised relbert_config layout with keys \['template'\]"),
        ({"mode": "mask", "prompt": CUSTOM}, r"keys \['mode', 'prompt'\]"),
        ({"mode": "mask"}, r"keys \['mode'\]"),
        ({"mode": "mask", "template": CUSTOM, "template_mode": "auto"}, "never implemented"),
        ({"mode": "mask", "custom_template_type": "z"}, "unknown preset template 'z'"),
    ],
)
def test_unknown_layouts_are_refused_with_the_keys_found(relbert_config, message):
    with pytest.raises(ValueError, match=message):
        legacy_settings(relbert_config)


def legacy_copy(tmp_path, relbert_config: dict | None):
    """The tiny RoBERTa fixture with `relbert_config` written into its config.json (or removed)."""
    folder = tmp_path / "legacy"
    shutil.copytree(REFERENCE_DIR / "tiny-roberta", folder)
    config = json.loads((folder / "config.json").read_text())
    config.pop("relbert_config", None)
    if relbert_config is not None:
        config["relbert_config"] = relbert_config
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_2021_checkpoint_loads_through_from_pretrained_and_pipeline(tmp_path, reference):
    folder = legacy_copy(tmp_path, {"mode": "mask", "custom_template_type": "d"})
    model = RelBertModel.from_pretrained(folder)
    assert (model.config.template, model.config.aggregation_mode, model.config.max_length) == (DEFAULT_TEMPLATE, "mask", 64)
    assert not hasattr(model.config.encoder_config, "relbert_config")
    pipe = pipeline("relation-embedding", model=str(folder))
    vectors = pipe(reference["pairs"])
    np.testing.assert_allclose(vectors, reference["embeddings"]["tiny-roberta"]["mask"], atol=1e-4, rtol=0)


def test_plain_backbone_without_relbert_config_points_to_from_backbone(tmp_path):
    folder = legacy_copy(tmp_path, None)
    with pytest.raises(ValueError, match="from_backbone"):
        RelBertModel.from_pretrained(folder)


def test_convert_writes_the_new_format_with_the_same_vectors(tmp_path, reference):
    destination = convert_legacy_checkpoint(REFERENCE_DIR / "tiny-roberta-relbert2", tmp_path / "converted")
    config = json.loads((destination / "config.json").read_text())
    assert config["model_type"] == "relbert" and "relbert_config" not in config["encoder_config"]
    assert (destination / "modeling_relbert.py").is_file() and (destination / "tokenizer.json").is_file()
    converted = pipeline("relation-embedding", model=str(destination))
    np.testing.assert_allclose(
        converted(reference["pairs"]), reference["embeddings"]["tiny-roberta"]["average_no_mask"], atol=1e-4, rtol=0
    )


def test_convert_refuses_a_non_empty_destination_and_leaves_it_intact(tmp_path):
    destination = tmp_path / "occupied"
    destination.mkdir()
    (destination / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        convert_legacy_checkpoint(REFERENCE_DIR / "tiny-roberta-relbert2", destination)
    assert [path.name for path in destination.iterdir()] == ["notes.txt"]
    assert (destination / "notes.txt").read_text() == "keep me"


def test_convert_with_overwrite_replaces_the_old_folder(tmp_path):
    destination = tmp_path / "occupied"
    destination.mkdir()
    (destination / "stale.bin").write_text("old weights")
    convert_legacy_checkpoint(REFERENCE_DIR / "tiny-roberta-relbert2", destination, overwrite=True)
    assert not (destination / "stale.bin").exists()
    assert (destination / "model.safetensors").is_file()
    assert not (tmp_path / "occupied.partial").exists()


def test_convert_refuses_a_folder_that_is_already_relbert_hf(saved_tiny_model, tmp_path):
    with pytest.raises(ValueError, match="already a relbert-hf checkpoint"):
        convert_legacy_checkpoint(saved_tiny_model, tmp_path / "out")

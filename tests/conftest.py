"""Shared fixtures. Everything runs offline: tiny models from tests/fixtures, data from the local mirror."""

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("RELBERT_HF_DATA"):  # absolute, so that subprocesses started in other folders find the mirror too
    os.environ["RELBERT_HF_DATA"] = str(Path(os.environ["RELBERT_HF_DATA"]).resolve())

import pytest  # noqa: E402


REFERENCE_DIR = Path(__file__).parent / "fixtures" / "reference"

#: Marks tests that read the benchmark data mirror (CI sets RELBERT_HF_DATA=../shared/data).
needs_mirror = pytest.mark.skipif(
    not os.environ.get("RELBERT_HF_DATA"), reason="needs the data mirror in RELBERT_HF_DATA"
)


@pytest.fixture(scope="session")
def reference() -> dict:
    """Embeddings computed by the original relbert 2.0.2 (scripts/make_reference_fixture.py) and their inputs."""
    with open(REFERENCE_DIR / "embeddings.json", encoding="utf-8") as file:
        data = json.load(file)
    data["pairs"] = [tuple(pair) for pair in data["pairs"]]
    return data


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained RelBERT on the tiny random BERT of the fixtures (average_no_mask, reference template)."""
    from relbert_hf import RelBertModel

    return RelBertModel.from_backbone(REFERENCE_DIR / "tiny-bert").eval()


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_model):
    from transformers import pipeline

    return pipeline("relation-embedding", model=tiny_model, tokenizer=tiny_model.tokenizer)


@pytest.fixture(scope="session")
def saved_tiny_model(tiny_model, tmp_path_factory) -> Path:
    """`tiny_model` saved with `save_pretrained`."""
    folder = tmp_path_factory.mktemp("tiny-relbert")
    tiny_model.save_pretrained(folder)
    return folder

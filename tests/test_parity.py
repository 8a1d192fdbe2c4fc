"""Embeddings must equal those of the original relbert 2.0.2 (`RelBERT.get_embedding`) on the same checkpoints.

The reference vectors were produced by scripts/make_reference_fixture.py running relbert 2.0.2 itself.
Tolerance (DESIGN.md): max abs diff <= 1e-4 and 1 - cosine <= 1e-6 in fp32.
"""

import numpy as np
import pytest
from transformers import pipeline

from relbert_hf import RelBertModel

from conftest import REFERENCE_DIR


def assert_parity(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-4
    cosine = (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert (1 - cosine).max() <= 1e-6


def test_fixture_covers_multiword_non_ascii_and_truncated_prompts(reference):
    from transformers import AutoTokenizer

    words = [word for pair in reference["pairs"] for word in pair]
    assert any(" " in word for word in words)
    assert any(not word.isascii() for word in words)
    tokenizer = AutoTokenizer.from_pretrained(REFERENCE_DIR / "tiny-roberta")
    lengths = [
        len(tokenizer(reference["template"].replace("<subj>", h).replace("<obj>", t))["input_ids"])
        for h, t in reference["pairs"]
    ]
    assert max(lengths) > reference["max_length"]


@pytest.mark.parametrize("backbone", ["tiny-bert", "tiny-roberta"])
@pytest.mark.parametrize("mode", ["average_no_mask", "average", "mask"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_embeddings_equal_the_reference_library(reference, backbone, mode, batch_size):
    model = RelBertModel.from_backbone(
        REFERENCE_DIR / backbone, template=reference["template"], aggregation_mode=mode, max_length=reference["max_length"]
    ).eval()
    pipe = pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)
    assert_parity(pipe(reference["pairs"], batch_size=batch_size), reference["embeddings"][backbone][mode])


def test_checkpoint_saved_by_the_reference_library_loads_with_its_settings(reference):
    pipe = pipeline("relation-embedding", model=str(REFERENCE_DIR / "tiny-roberta-relbert2"))
    assert pipe.model.config.template == reference["template"]
    assert pipe.model.config.aggregation_mode == "average_no_mask"
    assert_parity(pipe(reference["pairs"]), reference["embeddings"]["tiny-roberta"]["average_no_mask"])

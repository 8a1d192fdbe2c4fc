import random

import numpy as np
import pytest
from transformers import pipeline

from relbert_hf import RelationEmbeddingPipeline, RelBertModel

from conftest import REFERENCE_DIR, needs_mirror


PAIRS = [("Tokyo", "Japan"), ("dog", "bark"), ("New York", "United States"), ("café", "coffee"), ("ice cream", "cold")]


def test_one_pair_gives_one_vector(tiny_pipeline, tiny_model):
    vector = tiny_pipeline(("Tokyo", "Japan"))
    assert isinstance(vector, list) and len(vector) == tiny_model.config.hidden_size
    assert all(isinstance(value, float) for value in vector)


def test_a_batch_keeps_input_order_and_matches_single_calls(tiny_pipeline):
    batch = tiny_pipeline(PAIRS, batch_size=2)
    for pair, vector in zip(PAIRS, batch):
        np.testing.assert_allclose(vector, tiny_pipeline(pair), atol=1e-4, rtol=0)


def test_batch_size_does_not_change_the_vectors(tiny_pipeline):
    np.testing.assert_allclose(
        tiny_pipeline(PAIRS, batch_size=1), tiny_pipeline(PAIRS, batch_size=64), atol=1e-4, rtol=0
    )


def test_duplicates_are_encoded_once_in_unpadded_batches_of_equal_length_prompts(tiny_pipeline, tiny_model):
    batches = []
    hook = tiny_model.encoder.register_forward_hook(
        lambda module, args, kwargs, output: batches.append(kwargs["input_ids"].clone()), with_kwargs=True
    )
    try:
        pairs = PAIRS + [PAIRS[0], PAIRS[2]]
        vectors = tiny_pipeline(pairs, batch_size=2)
    finally:
        hook.remove()
    assert vectors[5] == vectors[0] and vectors[6] == vectors[2]
    assert all(len(batch) <= 2 for batch in batches)
    widths = [batch.shape[1] for batch in batches]
    assert widths == sorted(widths, reverse=True)  # longest prompts first
    assert all((batch != tiny_model.tokenizer.pad_token_id).all() for batch in batches)  # nothing padded
    # A batch of one prompt runs as two copies of it; every pair is encoded once.
    rows = [tuple(row.tolist()) for batch in batches for row in (batch[:1] if len(batch) == 2 and
            (batch[0] == batch[1]).all() else batch)]
    assert len(rows) == len(set(rows)) == len(PAIRS)


def test_normalize_and_numpy_options(tiny_pipeline):
    vectors = tiny_pipeline(PAIRS, normalize=True, return_numpy=True)
    assert all(isinstance(vector, np.ndarray) and vector.dtype == np.float32 for vector in vectors)
    np.testing.assert_allclose([np.linalg.norm(vector) for vector in vectors], 1.0, atol=1e-6)
    raw = np.array(tiny_pipeline(PAIRS))
    np.testing.assert_allclose(np.array(vectors), raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)


def test_pairs_given_as_lists_inside_a_batch(tiny_pipeline):
    assert tiny_pipeline([["Tokyo", "Japan"], ["dog", "bark"]]) == tiny_pipeline([("Tokyo", "Japan"), ("dog", "bark")])


@pytest.mark.parametrize(
    "inputs, message",
    [
        (["Tokyo", "Japan"], "a pair is a tuple"),
        ("Tokyo", "got the string"),
        ([("Tokyo", "Japan"), ("dog",)], "input 1 is not a pair"),
        ([("Tokyo", "Japan"), ("", "bark")], "empty word in pair \\('', 'bark'\\)"),
        ([("Tokyo", None)], "must be strings"),
        ([("Tokyo <subj>", "Japan")], "contains the template placeholder <subj>"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(tiny_pipeline, inputs, message):
    with pytest.raises(ValueError, match=message):
        tiny_pipeline(inputs)


@pytest.mark.parametrize("batch_size", [0, -2, 1.5])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused(tiny_pipeline, batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size}"):
        tiny_pipeline([("Tokyo", "Japan")], batch_size=batch_size)


def test_every_batch_size_gives_the_same_vectors(tiny_pipeline):
    pairs = [("Tokyo", "Japan"), ("dog", "bark"), ("a", "b"), ("encyclopedia", "word"), ("cat", "meow")]
    one_batch = np.array(tiny_pipeline(pairs, batch_size=64))
    for batch_size in (1, 2, 3):  # on this tiny model, the number of rows moves the last bits (see the test below)
        np.testing.assert_allclose(np.array(tiny_pipeline(pairs, batch_size=batch_size)), one_batch, atol=1e-5)


@needs_mirror
def test_a_pairs_vector_does_not_depend_on_the_batch_size_or_the_other_pairs():
    """Bit for bit, on the real MiniLM with a short prompt (8-12 tokens), where padding or a one-row batch would
    change the last bits of some vectors."""
    from relbert_hf.data.benchmarks import load_relation_classification
    from relbert_hf.embedded import embedded_backbone_path

    model = RelBertModel.from_backbone(embedded_backbone_path(), template="<subj> is the <mask> of <obj>").eval()
    pipe = pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)
    validation = load_relation_classification("EVALution")["val"]
    pairs = list(dict.fromkeys(zip(validation["head"], validation["tail"])))
    others = load_relation_classification("K&H+N")["val"]
    mixed = pairs + list(dict.fromkeys(zip(others["head"], others["tail"])))[:300]
    random.Random(0).shuffle(mixed)
    alone = np.stack(pipe(pairs, batch_size=64, return_numpy=True))
    for batch_size, call in ((1, pairs), (3, pairs), (64, mixed), (5, mixed)):
        vector_of = dict(zip(call, pipe(call, batch_size=batch_size, return_numpy=True)))
        np.testing.assert_array_equal(np.stack([vector_of[pair] for pair in pairs]), alone)


def test_mask_mode_refuses_a_prompt_whose_mask_token_was_truncated():
    model = RelBertModel.from_backbone(REFERENCE_DIR / "tiny-bert", aggregation_mode="mask").eval()
    pipe = pipeline("relation-embedding", model=model, tokenizer=model.tokenizer)
    long_head = " ".join(["encyclopedia"] * 80)
    with pytest.raises(ValueError, match="lost its mask token to truncation"):
        pipe([("Tokyo", "Japan"), (long_head, "Japan")])


def test_truncation_at_max_length(tiny_pipeline, tiny_model):
    long_tail = " ".join(["relationship"] * 80)
    seen = []
    hook = tiny_model.encoder.register_forward_hook(
        lambda module, args, kwargs, output: seen.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        tiny_pipeline(("Tokyo", long_tail))
    finally:
        hook.remove()
    assert seen == [tiny_model.config.max_length]


def test_pipeline_from_a_saved_folder_without_trust_remote_code(saved_tiny_model, tiny_pipeline):
    pipe = pipeline("relation-embedding", model=str(saved_tiny_model))
    assert isinstance(pipe, RelationEmbeddingPipeline)
    assert type(pipe.model) is RelBertModel
    np.testing.assert_allclose(pipe(PAIRS), tiny_pipeline(PAIRS), atol=1e-6, rtol=0)


def test_pipeline_save_pretrained_writes_a_loadable_folder(tiny_pipeline, tmp_path):
    tiny_pipeline.save_pretrained(tmp_path)
    assert (tmp_path / "pipeline_relbert.py").is_file()
    reloaded = pipeline("relation-embedding", model=str(tmp_path))
    np.testing.assert_allclose(reloaded(PAIRS), tiny_pipeline(PAIRS), atol=1e-6, rtol=0)


def test_auto_model_loads_the_installed_class_without_trust_remote_code(saved_tiny_model):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(saved_tiny_model)
    assert type(model) is RelBertModel


def test_a_plain_encoder_is_refused_with_a_pointer_to_from_backbone():
    with pytest.raises(ValueError, match="needs a RelBERT model, got a BertModel.*from_backbone"):
        pipeline("relation-embedding", model=str(REFERENCE_DIR / "tiny-bert"))

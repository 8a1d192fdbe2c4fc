import pytest
from transformers import AutoConfig, BertConfig

from relbert_hf import DEFAULT_TEMPLATE, RelBertConfig


def tiny_bert_config() -> BertConfig:
    return BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)


def test_defaults_are_the_reference_recipe():
    config = RelBertConfig(encoder_config=tiny_bert_config(), mask_token_id=103)
    assert config.template == (
        "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that <subj> is the <mask> of <obj>"
    )
    assert config.aggregation_mode == "average_no_mask"
    assert config.max_length == 64
    assert config.hidden_size == 32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"template": "<subj> and something"}, "<obj>"),
        ({"template": "nothing here"}, "<subj>, <obj>"),
        ({"aggregation_mode": "max"}, "unknown aggregation_mode 'max'"),
        ({"aggregation_mode": "mask", "template": "<subj> is to <obj>"}, "needs a template with <mask>"),
        ({"max_length": 1}, "max_length"),
    ],
)
def test_invalid_settings_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RelBertConfig(encoder_config=tiny_bert_config(), **kwargs)


def test_round_trip_through_auto_config(tmp_path):
    import relbert_hf  # noqa: F401  (registers model_type "relbert")

    config = RelBertConfig(encoder_config=tiny_bert_config(), template="<subj> vs <obj>", aggregation_mode="average")
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert loaded.model_type == "relbert"
    assert loaded.template == "<subj> vs <obj>"
    assert loaded.aggregation_mode == "average"
    assert loaded.encoder_config.model_type == "bert"
    assert loaded.encoder_config.hidden_size == 32


def test_render_prompt_replaces_placeholders():
    config = RelBertConfig(encoder_config=tiny_bert_config())
    prompt = config.render_prompt(("New York", "United States"), mask_token="[MASK]")
    assert prompt == DEFAULT_TEMPLATE.replace("<subj>", "New York").replace("<obj>", "United States").replace(
        "<mask>", "[MASK]"
    )
    assert prompt.endswith("that New York is the [MASK] of United States")


@pytest.mark.parametrize(
    "pair, message",
    [
        (("", "b"), "empty word in pair"),
        (("a", "   "), "empty word in pair"),
        (("a", 3), "must be strings"),
        (("a<obj>", "b"), "contains the template placeholder <obj>"),
        (("a", "<mask>"), "contains the template placeholder <mask>"),
        (("a", "b", "c"), "must be \\(head, tail\\)"),
    ],
)
def test_render_prompt_rejects_bad_words(pair, message):
    config = RelBertConfig(encoder_config=tiny_bert_config())
    with pytest.raises(ValueError, match=message):
        config.render_prompt(pair, mask_token="[MASK]")

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel, BertConfig

from relbert_hf import RelBertConfig, RelBertModel

from conftest import REFERENCE_DIR


def tiny_config(**kwargs) -> RelBertConfig:
    encoder = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    return RelBertConfig(encoder_config=encoder, mask_token_id=4, **kwargs)


# One prompt of 5 tokens (id 4 is the mask token) padded to 7.
INPUT_IDS = torch.tensor([[2, 10, 4, 11, 3, 0, 0]])
ATTENTION_MASK = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("average_no_mask", [1, 1, 0, 1, 1, 0, 0]),
        ("average", [1, 1, 1, 1, 1, 0, 0]),
        ("mask", [0, 0, 1, 0, 0, 0, 0]),
        ("cls", [1, 0, 0, 0, 0, 0, 0]),
    ],
)
def test_pooling_mask_selects_the_reference_tokens(mode, expected):
    model = RelBertModel(tiny_config(aggregation_mode=mode)).eval()
    assert model.pooling_mask(INPUT_IDS, ATTENTION_MASK).tolist() == [expected]


@pytest.mark.parametrize("mode", ["average_no_mask", "average", "mask", "cls"])
def test_relation_embedding_is_the_sum_of_selected_hidden_states(mode):
    model = RelBertModel(tiny_config(aggregation_mode=mode)).eval()
    with torch.no_grad():
        output = model(input_ids=INPUT_IDS, attention_mask=ATTENTION_MASK)
        hidden = model.encoder(input_ids=INPUT_IDS, attention_mask=ATTENTION_MASK).last_hidden_state
    assert output.relation_embedding.shape == (1, 16)
    selected = output.pooling_mask[0].bool()
    torch.testing.assert_close(output.relation_embedding[0], hidden[0][selected].sum(dim=0))


def test_mask_mode_without_mask_token_in_the_prompt_is_an_error():
    model = RelBertModel(tiny_config(aggregation_mode="mask")).eval()
    with pytest.raises(ValueError, match="no token to pool"):
        model(input_ids=torch.tensor([[2, 10, 11, 3]]))


def test_mask_token_id_is_required_when_pooling_depends_on_it():
    encoder = BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    with pytest.raises(ValueError, match="mask_token_id"):
        RelBertModel(RelBertConfig(encoder_config=encoder))


def test_from_backbone_keeps_pretrained_weights_and_drops_the_pooler():
    model = RelBertModel.from_backbone(REFERENCE_DIR / "tiny-bert")
    backbone = AutoModel.from_pretrained(REFERENCE_DIR / "tiny-bert")
    ours = model.encoder.state_dict()
    for name, weight in backbone.state_dict().items():
        if name.startswith("pooler."):
            assert name not in ours
        else:
            torch.testing.assert_close(ours[name], weight, rtol=0, atol=0)
    assert model.config.mask_token_id == model.tokenizer.mask_token_id
    assert model.config.encoder_config.model_type == "bert"


def test_save_pretrained_writes_a_complete_safetensors_folder(saved_tiny_model, tiny_model):
    files = {path.name for path in saved_tiny_model.iterdir()}
    assert {"config.json", "model.safetensors", "configuration_relbert.py", "modeling_relbert.py", "pipeline_relbert.py",
            "tokenizer.json", "tokenizer_config.json"} <= files  # fmt: skip
    assert not any(name.endswith(".bin") for name in files)
    config = json.loads((saved_tiny_model / "config.json").read_text())
    assert config["model_type"] == "relbert"
    assert config["auto_map"] == {
        "AutoConfig": "configuration_relbert.RelBertConfig",
        "AutoModel": "modeling_relbert.RelBertModel",
    }
    assert config["custom_pipelines"]["relation-embedding"]["impl"] == "pipeline_relbert.RelationEmbeddingPipeline"
    weights = load_file(saved_tiny_model / "model.safetensors")
    assert set(weights) == {f"encoder.{name}" for name in tiny_model.encoder.state_dict()}


def test_save_and_load_round_trip(saved_tiny_model, tiny_model):
    loaded = RelBertModel.from_pretrained(saved_tiny_model)
    assert not loaded.training
    assert loaded.tokenizer is not None
    ids = tiny_model.tokenizer(["a prompt about tokyo and japan"], return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(**ids).relation_embedding, tiny_model(**ids).relation_embedding, rtol=0, atol=0
        )

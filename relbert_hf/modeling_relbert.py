"""RelBERT model: a backbone encoder reads a prompted word pair; the sum of selected last hidden states is the relation
embedding.

This file is copied into every saved model folder (remote code); it imports only torch, transformers and its sibling
`configuration_relbert.py`.
"""

import inspect
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from transformers import AutoConfig, AutoTokenizer, PreTrainedModel
from transformers.modeling_outputs import ModelOutput
from transformers.models.auto.modeling_auto import MODEL_MAPPING
from transformers.utils import logging

from .configuration_relbert import DEFAULT_TEMPLATE, MASK_PLACEHOLDER, RelBertConfig


logger = logging.get_logger(__name__)

#: The pipeline file saved next to this one, and the entry `config.json` gets for it (remote-code pipelines).
PIPELINE_FILE = "pipeline_relbert.py"
CUSTOM_PIPELINES = {
    "relation-embedding": {"impl": "pipeline_relbert.RelationEmbeddingPipeline", "pt": ["AutoModel"]},
}
#: `from_pretrained` keyword arguments that say where and how to fetch files (forwarded to config/tokenizer loading).
HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")


@dataclass
class RelBertOutput(ModelOutput):
    """
    Args:
        relation_embedding (`torch.FloatTensor` of shape `(batch_size, hidden_size)`):
            Sum of the last hidden states selected by `pooling_mask`.
        pooling_mask (`torch.LongTensor` of shape `(batch_size, sequence_length)`):
            1 for the tokens summed into the embedding.
        last_hidden_state (`torch.FloatTensor` of shape `(batch_size, sequence_length, hidden_size)`):
            The encoder's last hidden states.
    """

    relation_embedding: torch.FloatTensor | None = None
    pooling_mask: torch.LongTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None


def build_encoder(encoder_config_or_path, **kwargs) -> PreTrainedModel:
    """Build the backbone (`AutoModel`) from a config, or load it pretrained from a Hub id or folder, without the
    pooler where the architecture has one (RelBERT never uses it and DDP fails on unused parameters)."""
    pretrained = isinstance(encoder_config_or_path, (str, os.PathLike))
    if pretrained:
        encoder_config = AutoConfig.from_pretrained(encoder_config_or_path, **_hub_kwargs(kwargs))
    else:
        encoder_config = encoder_config_or_path
    model_class = MODEL_MAPPING[type(encoder_config)]
    if pretrained:
        encoder = model_class.from_pretrained(encoder_config_or_path, config=encoder_config, **kwargs)
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None
        return encoder
    if "add_pooling_layer" in inspect.signature(model_class.__init__).parameters:
        kwargs["add_pooling_layer"] = False
    return model_class(encoder_config, **kwargs)


def _hub_kwargs(kwargs: dict) -> dict:
    return {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}


class RelBertPreTrainedModel(PreTrainedModel):
    config: RelBertConfig
    base_model_prefix = "encoder"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_flash_attn = True
    _supports_sdpa = True
    _keys_to_ignore_on_load_unexpected = [r"encoder\.pooler\..*"]

    def _init_weights(self, module):
        self.encoder._init_weights(module)


class RelBertModel(RelBertPreTrainedModel):
    r"""
    Relation embeddings from a prompted encoder (Ushio et al., EMNLP 2021).

    A pair (head, tail) is written into `config.template`, encoded, and the last hidden states selected by
    `config.aggregation_mode` are summed into one vector of size `config.hidden_size`.

    Build a fresh (untrained) RelBERT from any pretrained encoder with [`RelBertModel.from_backbone`]; load a saved one,
    or a checkpoint of the original `relbert` library, with [`RelBertModel.from_pretrained`]. The model keeps the
    tokenizer it was loaded with (`model.tokenizer`) and saves it, so a saved folder is complete.
    """

    def __init__(self, config: RelBertConfig, encoder: PreTrainedModel | None = None):
        super().__init__(config)
        needs_mask_id = MASK_PLACEHOLDER in config.template and config.aggregation_mode in ("average_no_mask", "mask")
        if needs_mask_id and config.mask_token_id is None:
            raise ValueError(
                f"aggregation_mode {config.aggregation_mode!r} with a <mask> template needs config.mask_token_id; "
                "RelBertModel.from_backbone(...) reads it from the tokenizer"
            )
        self.encoder = encoder if encoder is not None else build_encoder(config.encoder_config)
        self.config.encoder_config = self.encoder.config
        self.tokenizer = None
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module):
        self.encoder.set_input_embeddings(value)

    def pooling_mask(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor) -> torch.LongTensor:
        """(batch, seq) 0/1 mask of the tokens whose last hidden states make the relation embedding."""
        mode = self.config.aggregation_mode
        attention_mask = attention_mask.long()
        if mode == "average":
            return attention_mask
        if mode == "cls":
            mask = torch.zeros_like(attention_mask)
            mask[:, 0] = 1
            return mask
        is_mask_token = (input_ids == self.config.mask_token_id).long()
        if mode == "mask":
            return attention_mask * is_mask_token
        return attention_mask * (1 - is_mask_token)  # average_no_mask

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        **kwargs,
    ) -> RelBertOutput:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, sequence_length)`): token ids of rendered prompts.
            attention_mask (`torch.Tensor` of shape `(batch_size, sequence_length)`): 1 for tokens, 0 for padding.
            token_type_ids (`torch.LongTensor`, *optional*): passed to encoders that take them (BERT).

        Returns:
            [`RelBertOutput`] with `relation_embedding` of shape `(batch_size, hidden_size)`.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        encoder_inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            encoder_inputs["token_type_ids"] = token_type_ids
        last_hidden_state = self.encoder(**encoder_inputs, **kwargs).last_hidden_state
        pooling_mask = self.pooling_mask(input_ids, attention_mask)
        if not pooling_mask.any(dim=1).all():
            raise ValueError(
                f"a prompt has no token to pool for aggregation_mode {self.config.aggregation_mode!r} "
                "(was the mask token cut off at max_length?)"
            )
        relation_embedding = (last_hidden_state * pooling_mask.unsqueeze(-1).to(last_hidden_state.dtype)).sum(dim=1)
        return RelBertOutput(
            relation_embedding=relation_embedding, pooling_mask=pooling_mask, last_hidden_state=last_hidden_state
        )

    @classmethod
    def from_backbone(
        cls,
        backbone: str | os.PathLike,
        template: str = DEFAULT_TEMPLATE,
        aggregation_mode: str = "average_no_mask",
        max_length: int = 64,
        tokenizer=None,
        **kwargs,
    ) -> "RelBertModel":
        """A fresh RelBERT on a pretrained encoder (Hub id or local folder), keeping the encoder's pretrained weights.

        `kwargs` go to `from_pretrained` of the encoder (e.g. `dtype`, `revision`, `local_files_only`).
        """
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(backbone, **_hub_kwargs(kwargs))
        if MASK_PLACEHOLDER in template and tokenizer.mask_token is None:
            raise ValueError(
                f"the tokenizer of {backbone} has no mask token; use a template without {MASK_PLACEHOLDER} "
                "and aggregation_mode 'average' or 'cls'"
            )
        if max_length > tokenizer.model_max_length:
            raise ValueError(f"max_length {max_length} exceeds the tokenizer's limit {tokenizer.model_max_length}")
        encoder = build_encoder(backbone, **kwargs)
        config = RelBertConfig(
            encoder_config=encoder.config.to_dict(),
            template=template,
            aggregation_mode=aggregation_mode,
            max_length=max_length,
            mask_token_id=tokenizer.mask_token_id,
        )
        model = cls(config, encoder=encoder).eval()  # like `from_pretrained`; call `.train()` to fine-tune
        model.tokenizer = tokenizer
        return model

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *model_args, **kwargs) -> "RelBertModel":
        """Load a saved RelBERT (Hub id or folder) with its tokenizer.

        A checkpoint written by the original `relbert` library (a plain encoder whose config has a `relbert_config`
        key) is read by `relbert_hf.legacy` when relbert_hf is installed.
        """
        config = kwargs.get("config")
        if config is None or isinstance(config, (str, os.PathLike)):
            config_dict, _ = cls.config_class.get_config_dict(config or pretrained_model_name_or_path, **_hub_kwargs(kwargs))
            model_type = config_dict.get("model_type")
        else:
            model_type = config.model_type
        if model_type != RelBertConfig.model_type:
            try:
                from relbert_hf.legacy import load_legacy_checkpoint
            except ImportError as error:
                raise OSError(
                    f"{pretrained_model_name_or_path} is not a RelBERT checkpoint (model_type {model_type!r}); "
                    "checkpoints of the original relbert library load when relbert_hf is installed "
                    "(pip install relbert-hf)"
                ) from error
            return load_legacy_checkpoint(pretrained_model_name_or_path, **kwargs)
        model = super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        try:
            model.tokenizer = AutoTokenizer.from_pretrained(
                pretrained_model_name_or_path, config=model.config.encoder_config, **_hub_kwargs(kwargs)
            )
        except (OSError, ValueError) as error:
            logger.warning(f"no tokenizer loaded with {pretrained_model_name_or_path} ({error}); model.tokenizer is None")
        return model

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs):
        """Save weights (safetensors), config, tokenizer and the code files that let
        `AutoModel.from_pretrained(folder, trust_remote_code=True)` and `pipeline(model=folder, trust_remote_code=True)`
        work where relbert_hf is not installed."""
        pipeline_file = Path(__file__).with_name(PIPELINE_FILE)
        if pipeline_file.exists():
            self.config.custom_pipelines = CUSTOM_PIPELINES
        else:
            logger.warning(f"{PIPELINE_FILE} is not next to {__file__}; the saved folder will have no custom pipeline")
        super().save_pretrained(save_directory, **kwargs)
        if pipeline_file.exists():
            shutil.copy(pipeline_file, Path(save_directory) / PIPELINE_FILE)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(save_directory)


RelBertModel.register_for_auto_class("AutoModel")

__all__ = ["RelBertModel", "RelBertPreTrainedModel", "RelBertOutput", "build_encoder"]

"""RelBERT configuration: the backbone encoder's config plus the prompt and pooling that turn a word pair into a relation
embedding.

This file is copied into every saved model folder (remote code); it imports only transformers.
"""

import sys

from huggingface_hub.dataclasses import strict

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec


SUBJECT_PLACEHOLDER = "<subj>"
OBJECT_PLACEHOLDER = "<obj>"
MASK_PLACEHOLDER = "<mask>"
PLACEHOLDERS = (SUBJECT_PLACEHOLDER, OBJECT_PLACEHOLDER, MASK_PLACEHOLDER)

#: The prompt of the reference model relbert/relbert-roberta-base-nce-semeval2012-0 (note the curly apostrophe).
DEFAULT_TEMPLATE = (
    "I wasn\u2019t aware of this relationship, but I just read in the encyclopedia that <subj> is the <mask> of <obj>"
)

#: Which last hidden states are summed into the relation embedding:
#: ``average_no_mask`` every token that is neither padding nor the mask token (special tokens included),
#: ``average`` every non-padding token, ``mask`` the mask token, ``cls`` the first token.
AGGREGATION_MODES = ("average_no_mask", "average", "mask", "cls")


def check_pair(pair) -> tuple[str, str]:
    """Return `pair` as a (head, tail) tuple; `ValueError` naming the pair if it is not two non-empty strings free of
    template placeholders."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise ValueError(f"a word pair must be (head, tail), got {pair!r}")
    for word in pair:
        if not isinstance(word, str):
            raise ValueError(f"words must be strings, got {type(word).__name__} {word!r} in pair {pair!r}")
        if not word.strip():
            raise ValueError(f"empty word in pair {pair!r}")
        for placeholder in PLACEHOLDERS:
            if placeholder in word:
                raise ValueError(f"word {word!r} in pair {pair!r} contains the template placeholder {placeholder}")
    return tuple(pair)


def _served_by_installed_pipelines(custom_pipelines: dict | None) -> bool:
    """Whether every task of a config's `custom_pipelines` is registered in this process's `PIPELINE_REGISTRY`."""
    pipelines = sys.modules.get("transformers.pipelines")
    if not custom_pipelines or pipelines is None:
        return False
    return all(task in pipelines.PIPELINE_REGISTRY.supported_tasks for task in custom_pipelines)


@strict(accept_kwargs=True)
class RelBertConfig(PreTrainedConfig):
    r"""
    Configuration of a [`RelBertModel`].

    Args:
        encoder_config (`PreTrainedConfig` or `dict`):
            Config of the backbone encoder (anything `AutoModel` can build: BERT, RoBERTa, MPNet, DeBERTa, ...).
        template (`str`):
            Prompt with the placeholders `<subj>` (head word), `<obj>` (tail word) and optionally `<mask>` (replaced by
            the tokenizer's mask token).
        aggregation_mode (`str`):
            One of `average_no_mask`, `average`, `mask`, `cls` (see `AGGREGATION_MODES`). The embedding is the SUM of
            the selected last hidden states, as in the reference library.
        max_length (`int`):
            Prompts are truncated to this many tokens (special tokens included).
        mask_token_id (`int`, *optional*):
            Id of the tokenizer's mask token; needed by the `average_no_mask` and `mask` modes.

    Example:

    ```python
    >>> from transformers import BertConfig
    >>> config = RelBertConfig(encoder_config=BertConfig(hidden_size=32), mask_token_id=103)
    >>> config.render_prompt(("Tokyo", "Japan"), mask_token="[MASK]")[-34:]
    'that Tokyo is the [MASK] of Japan'
    ```
    """

    model_type = "relbert"
    sub_configs_defaults = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="roberta")}

    encoder_config: PreTrainedConfig | dict | None = None
    template: str = DEFAULT_TEMPLATE
    aggregation_mode: str = "average_no_mask"
    max_length: int = 64
    mask_token_id: int | None = None

    def __post_init__(self, **kwargs):
        if _served_by_installed_pipelines(kwargs.get("custom_pipelines")):
            # relbert_hf is imported and serves these tasks itself: drop the entry so that `pipeline(...)` uses the
            # installed (trusted) code instead of asking for `trust_remote_code`. `save_pretrained` writes it again.
            kwargs.pop("custom_pipelines")
        super().__post_init__(**kwargs)
        missing = [p for p in (SUBJECT_PLACEHOLDER, OBJECT_PLACEHOLDER) if p not in self.template]
        if missing:
            raise ValueError(f"template {self.template!r} lacks the placeholder(s) {', '.join(missing)}")
        if self.aggregation_mode not in AGGREGATION_MODES:
            raise ValueError(
                f"unknown aggregation_mode {self.aggregation_mode!r}; expected one of {', '.join(AGGREGATION_MODES)}"
            )
        if self.aggregation_mode == "mask" and MASK_PLACEHOLDER not in self.template:
            raise ValueError(f"aggregation_mode 'mask' needs a template with {MASK_PLACEHOLDER}: {self.template!r}")
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2 tokens, got {self.max_length}")

    @property
    def hidden_size(self) -> int:
        """Size of the relation embedding (the encoder's hidden size)."""
        return self.encoder_config.hidden_size

    def render_prompt(self, pair: tuple[str, str], mask_token: str) -> str:
        """Write a (head, tail) pair into the template, as the reference library does.

        Raises `ValueError` naming the pair when it is not two non-empty strings or a word contains a placeholder.
        """
        head, tail = check_pair(pair)
        prompt = self.template.replace(SUBJECT_PLACEHOLDER, head).replace(OBJECT_PLACEHOLDER, tail)
        return prompt.replace(MASK_PLACEHOLDER, mask_token)


RelBertConfig.register_for_auto_class()

__all__ = ["RelBertConfig", "DEFAULT_TEMPLATE", "AGGREGATION_MODES", "check_pair"]

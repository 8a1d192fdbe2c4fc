"""The `relation-embedding` pipeline: word pairs -> prompts -> batches of equal-length prompts -> RelBERT -> one vector
per pair.

Batches hold prompts of one token length only, so nothing is padded, and a batch of one prompt runs as two copies.
Padding, or a one-row batch, moves a vector by float noise (up to ~1e-5 with the embedded MiniLM); without them, a
pair's vector with the embedded MiniLM on CPU is the same bit for bit whatever the batch size and whichever other pairs
share the call (measured; matrix-multiply kernels may still round by the number of rows on other shapes or devices).

This file is copied into every saved model folder (remote code); it imports only torch and transformers.
"""

import os
from collections.abc import Iterable, Sequence
from itertools import groupby

import torch

from transformers import Pipeline


DEFAULT_BATCH_SIZE = 64

Pair = tuple[str, str]


def as_pairs(inputs) -> tuple[list[Pair], bool]:
    """Normalise pipeline inputs to a list of pairs; also say whether a single pair was given.

    One pair is a tuple `(head, tail)`; a batch is a list (or any iterable) of pairs, each a tuple or a list of two
    strings. A list of two strings is refused: `["Tokyo", "Japan"]` could mean either.
    """
    if isinstance(inputs, tuple):
        return [inputs], True
    if isinstance(inputs, str):
        raise ValueError(f"expected a pair (head, tail) or a list of pairs, got the string {inputs!r}")
    if not isinstance(inputs, Iterable):
        raise ValueError(f"expected a pair (head, tail) or a list of pairs, got {type(inputs).__name__}")
    pairs = list(inputs)
    if len(pairs) == 2 and all(isinstance(item, str) for item in pairs):
        raise ValueError(
            f"got the list {pairs!r}: a pair is a tuple, e.g. pipe(({pairs[0]!r}, {pairs[1]!r})); "
            "a batch is a list of pairs"
        )
    for index, pair in enumerate(pairs):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"input {index} is not a pair (head, tail): {pair!r}")
    return [tuple(pair) for pair in pairs], False


def tokenize_pairs(tokenizer, config, pairs: Sequence[Pair]) -> dict[str, list[list[int]]]:
    """Render each pair into `config.template` and tokenize, truncating at `config.max_length` (no padding).

    Returns the tokenizer's lists (`input_ids`, `attention_mask`, and `token_type_ids` where the tokenizer makes them).
    Raises `ValueError` naming the pair when a word is invalid, or when `mask` pooling lost its mask token to truncation.
    """
    prompts = [config.render_prompt(pair, tokenizer.mask_token) for pair in pairs]
    encoding = tokenizer(prompts, truncation=True, max_length=config.max_length)
    if config.aggregation_mode == "mask":
        for pair, input_ids in zip(pairs, encoding["input_ids"]):
            if config.mask_token_id not in input_ids:
                raise ValueError(
                    f"the prompt of pair {pair!r} lost its mask token to truncation at max_length={config.max_length}"
                )
    return dict(encoding)


class RelationEmbeddingPipeline(Pipeline):
    """Relation embeddings of word pairs.

    ```python
    >>> pipe = pipeline("relation-embedding", model="relbert/relbert-roberta-base-nce-semeval2012-0")
    >>> pipe(("Tokyo", "Japan"))                                  # one pair -> list of hidden_size floats
    >>> pipe([("Tokyo", "Japan"), ("Paris", "France")], batch_size=64, normalize=True, return_numpy=True)
    ```

    A pair is a tuple; a list is a batch (a list of two strings is refused as ambiguous). Each distinct pair is encoded
    once; a batch holds at most `batch_size` prompts of the same token length (longest first), so no prompt is padded
    (with the embedded MiniLM on CPU a pair's vector then does not depend on the other pairs, bit for bit); outputs
    follow input order.

    Call options: `batch_size` (default 64), `normalize` (L2-normalise each vector), `return_numpy` (`np.ndarray` of
    float32 instead of a list of floats).
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_video_processor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(self.model.config, "model_type", None) != "relbert":
            raise ValueError(
                f"the relation-embedding pipeline needs a RelBERT model, got a {type(self.model).__name__}; "
                "build an untrained one on a plain encoder with RelBertModel.from_backbone(...)"
            )

    def _sanitize_parameters(self, normalize: bool | None = None, return_numpy: bool | None = None, **kwargs):
        postprocess_params = {}
        if normalize is not None:
            postprocess_params["normalize"] = normalize
        if return_numpy is not None:
            postprocess_params["return_numpy"] = return_numpy
        return {}, {}, postprocess_params

    def __call__(self, inputs, **kwargs):
        """Embed one pair (a tuple) or a list of pairs. See the class docstring for options."""
        pairs, single = as_pairs(inputs)
        unique_pairs = list(dict.fromkeys(pairs))
        encoding = tokenize_pairs(self.tokenizer, self.model.config, unique_pairs)
        batch_size = kwargs.pop("batch_size", None)
        batch_size = batch_size if batch_size is not None else self._batch_size or DEFAULT_BATCH_SIZE
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        lengths = [len(input_ids) for input_ids in encoding["input_ids"]]
        longest_first = sorted(range(len(unique_pairs)), key=lambda i: -lengths[i])
        batches = []
        for _, same_length in groupby(longest_first, key=lengths.__getitem__):
            same_length = list(same_length)
            batches += [same_length[start : start + batch_size] for start in range(0, len(same_length), batch_size)]
        # Each pipeline input is a whole batch, so the pipeline's own batching is off.
        batch_inputs = [{key: [values[i] for i in batch] for key, values in encoding.items()} for batch in batches]
        batch_vectors = super().__call__(batch_inputs, batch_size=1, **kwargs)
        vector_of = {
            unique_pairs[i]: vector
            for batch, vectors in zip(batches, batch_vectors)
            for i, vector in zip(batch, vectors)
        }
        outputs = [vector_of[pair] for pair in pairs]
        return outputs[0] if single else outputs

    def preprocess(self, encoded_batch: dict[str, list[list[int]]]) -> dict[str, torch.Tensor]:
        """A batch of tokenized prompts of one length as tensors of shape (batch, length)."""
        return {key: torch.tensor(values) for key, values in encoded_batch.items()}

    def _forward(self, model_inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        rows = len(model_inputs["input_ids"])
        if rows == 1:  # one row takes another matrix-multiply path on CPU that rounds differently: run two copies
            model_inputs = {key: value.repeat(2, 1) for key, value in model_inputs.items()}
        return {"relation_embedding": self.model(**model_inputs).relation_embedding[:rows]}

    def postprocess(self, model_outputs, normalize: bool = False, return_numpy: bool = False) -> list:
        """One vector per row of the batch: a list of floats, or a float32 `np.ndarray` with `return_numpy`."""
        vectors = model_outputs["relation_embedding"].float()
        if normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return list(vectors.numpy()) if return_numpy else vectors.tolist()

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs):
        """Save a complete model folder (weights, config, tokenizer, code files) via the model's `save_pretrained`."""
        self.model.save_pretrained(save_directory, **kwargs)
        self.tokenizer.save_pretrained(save_directory)


__all__ = ["RelationEmbeddingPipeline", "as_pairs", "tokenize_pairs"]

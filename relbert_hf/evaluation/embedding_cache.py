"""One embedding per distinct word pair and run: the cache that feeds every benchmark of an evaluation.

`EmbeddingCache(pipe)` wraps a `relation-embedding` pipeline; calling it with pairs returns their vectors, encoding only
the pairs it has not seen yet. With `cache_dir`, vectors are also kept on disk under a fingerprint of the model (its
config, tokenizer and weights), so that a second run of the same model encodes nothing:

```
<cache_dir>/<fingerprint>/<random id>.npz      arrays heads, tails (str) and vectors (float32, (n, hidden_size))
```

Each call that encodes something writes one such file (atomically: temporary name, then rename); a run reads them all.
"""

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..pipeline_relbert import DEFAULT_BATCH_SIZE


Pair = tuple[str, str]

#: Pairs per pipeline call; the progress bar advances by one chunk.
CHUNK_SIZE = 2048


def model_fingerprint(model, tokenizer) -> str:
    """SHA-256 (hex) of a model's config (path and library version left out), tokenizer and weights."""
    digest = hashlib.sha256()
    config = model.config.to_dict()
    for key in ("_name_or_path", "transformers_version"):
        config.pop(key, None)
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    if tokenizer.is_fast:
        vocabulary = tokenizer.backend_tokenizer.to_str()
    else:
        vocabulary = json.dumps(sorted(tokenizer.get_vocab().items()))
    digest.update(f"{type(tokenizer).__name__}\n{vocabulary}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class EmbeddingCache:
    """Relation embeddings of word pairs, each distinct pair encoded once.

    Args:
        pipe: a `relation-embedding` pipeline.
        batch_size: pairs per forward pass.
        cache_dir: optional folder for an on-disk cache shared by runs of the same model (see the module docstring).

    Attributes:
        vectors: `dict` pair -> `np.ndarray` of shape (hidden_size,), float32.
        encoded: number of pairs this object ran through the model.
        fingerprint: the model fingerprint keying the on-disk cache (None without `cache_dir`).
    """

    def __init__(self, pipe, batch_size: int = DEFAULT_BATCH_SIZE, cache_dir: str | os.PathLike | None = None):
        self.pipe = pipe
        self.batch_size = batch_size
        self.vectors: dict[Pair, np.ndarray] = {}
        self.encoded = 0
        self.fingerprint = None
        self.folder = None
        if cache_dir is not None:
            self.fingerprint = model_fingerprint(pipe.model, pipe.tokenizer)
            self.folder = Path(cache_dir) / self.fingerprint
            self._read_folder()

    def __len__(self) -> int:
        return len(self.vectors)

    def __contains__(self, pair) -> bool:
        return tuple(pair) in self.vectors

    def __call__(self, pairs: Sequence[Sequence[str]], desc: str | None = None) -> np.ndarray:
        """Vectors of `pairs` (any sequence of 2-item sequences), shape (len(pairs), hidden_size), float32, in order.

        Pairs not seen before are encoded in chunks of `CHUNK_SIZE`, with a progress bar labelled `desc` on a terminal.
        """
        pairs = [tuple(pair) for pair in pairs]
        missing = [pair for pair in dict.fromkeys(pairs) if pair not in self.vectors]
        if missing:
            with tqdm(total=len(missing), desc=desc or "embedding", unit="pair", disable=None) as progress:
                for start in range(0, len(missing), CHUNK_SIZE):
                    chunk = missing[start : start + CHUNK_SIZE]
                    vectors = np.stack(self.pipe(chunk, batch_size=self.batch_size, return_numpy=True))
                    self.vectors.update(zip(chunk, vectors))
                    self.encoded += len(chunk)
                    if self.folder is not None:
                        self._write_file(chunk, vectors)
                    progress.update(len(chunk))
        if not pairs:
            return np.zeros((0, self.pipe.model.config.hidden_size), dtype=np.float32)
        return np.stack([self.vectors[pair] for pair in pairs])

    def _read_folder(self) -> None:
        for path in sorted(self.folder.glob("*.npz")):
            with np.load(path) as stored:
                self.vectors.update(zip(zip(stored["heads"].tolist(), stored["tails"].tolist()), stored["vectors"]))

    def _write_file(self, pairs: list[Pair], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        heads, tails = (np.array([pair[side] for pair in pairs], dtype=str) for side in (0, 1))
        name = uuid.uuid4().hex
        temporary = self.folder / f".{name}.tmp"
        with open(temporary, "xb") as file:
            np.savez(file, heads=heads, tails=tails, vectors=vectors.astype(np.float32))
        os.replace(temporary, self.folder / f"{name}.npz")


__all__ = ["CHUNK_SIZE", "EmbeddingCache", "model_fingerprint"]

"""Maps of relation embeddings: a 2-D projection (PCA or t-SNE, scikit-learn) of labelled word pairs, one panel per
model, coloured by relation, saved as an image (matplotlib, the `plot` extra).

```python
>>> pairs, labels = labelled_pairs("BLESS", "test", max_per_relation=300)
>>> panels = {"untrained": untrained_vectors, "fine-tuned": trained_vectors}   # each (len(pairs), hidden_size)
>>> plot_relation_embeddings(panels, labels, "relation_embeddings.png", method="pca")
```
"""

import os
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from .data.benchmarks import CLASSIFICATION_CONFIGS, load_relation_classification


#: Projection methods of `project`.
PROJECTIONS = ("pca", "tsne")
PLOT_EXTRA_HINT = 'pip install "relbert-hf[plot]"'

Pair = tuple[str, str]


def labelled_pairs(
    dataset: str = "BLESS", split: str = "test", max_per_relation: int | None = None, seed: int = 0
) -> tuple[list[Pair], list[str]]:
    """The (head, tail) pairs of a lexical relation classification benchmark split and their relation labels.

    `max_per_relation` keeps a random sample (fixed by `seed`) of at most that many pairs per relation, in dataset
    order. Raises `ValueError` for an unknown dataset or split.
    """
    if dataset not in CLASSIFICATION_CONFIGS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(CLASSIFICATION_CONFIGS)}")
    splits = load_relation_classification(dataset)
    if split not in splits:
        raise ValueError(f"{dataset} has no split {split!r}; it has {', '.join(splits)}")
    rows = splits[split]
    by_relation = defaultdict(list)
    for index, relation in enumerate(rows["relation"]):
        by_relation[relation].append(index)
    keep = sorted(
        index
        for indices in by_relation.values()
        for index in (
            indices
            if max_per_relation is None or len(indices) <= max_per_relation
            else random.Random(seed).sample(indices, max_per_relation)
        )
    )
    heads, tails, relations = rows["head"], rows["tail"], rows["relation"]
    return [(heads[i], tails[i]) for i in keep], [relations[i] for i in keep]


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates (n, 2) of the unit-normalised `vectors` (n, hidden_size) by PCA or t-SNE (`PROJECTIONS`)."""
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; choose one of {', '.join(PROJECTIONS)}")
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) < 3:
        raise ValueError(f"need at least 3 vectors of shape (n, hidden_size) to project, got shape {vectors.shape}")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(unit)
    perplexity = min(30.0, (len(unit) - 1) / 3)
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(unit)


def plot_relation_embeddings(
    panels: Mapping[str, np.ndarray],
    labels: Sequence[str],
    path: str | os.PathLike,
    method: str = "pca",
    title: str | None = None,
    seed: int = 0,
) -> Path:
    """Draw one scatter panel per entry of `panels` (title -> vectors (n, hidden_size), rows aligned with `labels`),
    side by side, each projected on its own by `method`, points coloured by label; save to `path` (PNG, SVG, PDF: by
    its suffix) and return it.

    Raises `ValueError` when a panel's row count differs from `len(labels)`, `ImportError` without matplotlib.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"plotting needs matplotlib; run: {PLOT_EXTRA_HINT}") from error
    if not panels:
        raise ValueError("nothing to plot: no panels")
    for name, vectors in panels.items():
        if len(vectors) != len(labels):
            raise ValueError(f"panel {name!r} has {len(vectors)} vectors for {len(labels)} labels")
    classes = sorted(set(labels))
    colours = {label: f"C{index % 10}" for index, label in enumerate(classes)}
    label_array = np.asarray(labels)
    figure = Figure(figsize=(5.5 * len(panels), 5.2), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for axis, (name, vectors) in zip(axes, panels.items()):
        points = project(vectors, method, seed)
        for label in classes:
            chosen = label_array == label
            axis.scatter(points[chosen, 0], points[chosen, 1], s=6, alpha=0.6, color=colours[label], label=label)
        axis.set_title(name)
        axis.set_xticks([])
        axis.set_yticks([])
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=3, frameon=False)
    figure.suptitle(title or f"{method.upper()} of relation embeddings ({len(labels)} pairs)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


__all__ = ["PROJECTIONS", "labelled_pairs", "plot_relation_embeddings", "project"]

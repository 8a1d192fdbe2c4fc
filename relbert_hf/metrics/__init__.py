"""`evaluate` metric modules of the RelBERT benchmarks, shipped inside the package.

Each folder `relbert_hf/metrics/<name>/` is a complete `evaluate` module (`<name>.py` + README card), so both of these
work:

```python
>>> import evaluate
>>> from relbert_hf.metrics import load_metric, metric_path
>>> accuracy = load_metric("analogy_accuracy")                  # found inside the installed package
>>> accuracy = evaluate.load(str(metric_path("analogy_accuracy")))
```

- `analogy_accuracy`: predicted / gold choice indices (and `prefixes` with the config `by_prefix`) -> `accuracy`
  (and `accuracy_per_prefix`);
- `relation_classification`: predicted / gold labels (strings or ints) -> accuracy, precision / recall / F1 micro and
  macro, and per class;
- `relation_mapping`: predicted / gold target orders (lists of terms) -> `accuracy` (mean over problems),
  `accuracy_per_problem`, `alignment_match`.
"""

from pathlib import Path

import evaluate


METRICS = ("analogy_accuracy", "relation_classification", "relation_mapping")


def metric_path(name: str) -> Path:
    """Folder of the metric module `name` (one of `METRICS`) inside the installed package."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}")
    return Path(__file__).parent / name


def load_metric(name: str, config_name: str | None = None, **kwargs) -> evaluate.EvaluationModule:
    """`evaluate.load` of the packaged metric `name`; `config_name` and `kwargs` are passed on."""
    return evaluate.load(str(metric_path(name)), config_name, **kwargs)


__all__ = ["METRICS", "load_metric", "metric_path"]

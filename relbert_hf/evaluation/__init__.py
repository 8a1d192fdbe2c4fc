"""Evaluation of relation embeddings on the benchmarks of the RelBERT model cards.

One function per benchmark family, each fed by an `EmbeddingCache` around a `relation-embedding` pipeline:

- `evaluate_analogy`: analogy questions (accuracy), cosine similarity of the stem's and each choice's embedding;
- `evaluate_relation_classification`: lexical relation classification (micro / macro F1 of an MLP probe);
- `evaluate_relation_mapping`: relation mapping (alignment accuracy of the best permutation);

and `evaluate_model`, which runs any selection of them with one shared cache (no pair is encoded twice in a run) and
collects the results; `relbert-hf evaluate` writes them to `results.json`.

```python
>>> from transformers import pipeline
>>> from relbert_hf.evaluation import evaluate_model
>>> pipe = pipeline("relation-embedding", model="relbert/relbert-roberta-base-nce-semeval2012-0")
>>> results = evaluate_model(pipe)
>>> results["sat/test"], results["lexical_relation_classification/BLESS"]["test/f1_micro"]
```

Result keys. They are those of the reference library (relbert 2.0.2: `evaluate_analogy`, `evaluate_classification`,
`evaluate_relation_mapping`), which its model-card template reads:

- "Accuracy on SAT (full)": `sat_full` (float), from `relbert/analogy_questions`, config `sat_full`;
- "Accuracy on SAT / BATS / U2 / U4 / Google": `sat/test`, `bats/test`, `u2/test`, `u4/test`, `google/test` (floats),
  configs `sat`, `bats`, `u2`, `u4`, `google`;
- "Accuracy on ConceptNet / T-Rex / NELL-ONE Analogy": `conceptnet_relational_similarity/test`,
  `t_rex_relational_similarity/test`, `nell_relational_similarity/test` (floats), the configs of the same names;
- "Micro F1 score on BLESS / CogALexV / EVALution / K&H+N / ROOT09": `lexical_relation_classification/<config>`
  (dict) from `relbert/lexical_relation_classification`: `test/f1_micro` (the card's number), `test/f1_macro`,
  `test/accuracy`, `test/p_micro`, ..., `test/f1/<label>`, the same under `val/`, `classifier_config`, `grid`;
- "Accuracy on Relation Mapping": `relation_mapping` (dict) from `relbert/relation_mapping`: `accuracy` (the card's
  number), `accuracy_per_problem`, `alignment_match`, `predictions`.

The reference reports `<config>/test` for every analogy set and then renames `sat_full/test` to `sat_full` (SAT full
has no split of its own); we do the same. Besides the scores, the results hold `model`, `template`, `aggregation`,
`max_length`, `analogy_scoring`, `analogy_accuracy_per_prefix` (`{key: {prefix: accuracy}}`), `timings_s` (wall
seconds per benchmark key, loading, embedding and scoring included, and `total`; the probes of all classification
benchmarks train in one pool after the encoding, and each benchmark is charged the pool's wall time in proportion to
its `probe_seconds`), `pairs_encoded` (pairs run through the model per benchmark; later benchmarks reuse earlier
embeddings) and `embedding_cache` (the model fingerprint of the on-disk cache, or None).

Differences from the reference library:

- Only test splits are scored for the analogy sets (the mirror has no validation splits, so the reference's extra
  `<config>/validation` keys are not produced).
- Cosine similarities are exact: no zero-vector sentinel (a zero embedding raises an error instead) and, in relation
  mapping, no `+1e-4` in the denominator (it changes the scores of summed, large-norm embeddings by about 1e-6
  relative).
- Relation mapping searches the permutations of `target_random` (the input the task defines); the reference
  enumerates the permutations of the gold `target` itself, so that on an exact tie the gold order wins.
- The probe is trained on float32 features (the embeddings' own type) unless `probe_dtype="float64"`, the
  reference's type (1.6 times slower; see `relbert_hf.evaluation.classification`).
- Each probe is trained on one BLAS thread, the grid settings in parallel processes (the reference uses a process
  pool with BLAS's default threads; the thread count changes the probe's float rounding, e.g. weights by ~1e-6).
"""

from .analogy import ANALOGY_SCORINGS, analogy_scores, evaluate_analogy
from .classification import (
    DEFAULT_PROBE,
    PROBE_GRID,
    evaluate_relation_classification,
    pair_features,
    score_relation_classification,
    select_probe,
    select_probes,
)
from .embedding_cache import EmbeddingCache, model_fingerprint
from .mapping import evaluate_relation_mapping, solve_relation_mapping
from .runner import (
    BENCHMARKS,
    TASKS,
    Benchmark,
    evaluate_model,
    format_results_table,
    headline_scores,
    select_benchmarks,
    write_results,
)


__all__ = [
    "ANALOGY_SCORINGS",
    "BENCHMARKS",
    "Benchmark",
    "DEFAULT_PROBE",
    "EmbeddingCache",
    "PROBE_GRID",
    "TASKS",
    "analogy_scores",
    "evaluate_analogy",
    "evaluate_model",
    "evaluate_relation_classification",
    "evaluate_relation_mapping",
    "format_results_table",
    "headline_scores",
    "model_fingerprint",
    "pair_features",
    "score_relation_classification",
    "select_benchmarks",
    "select_probe",
    "select_probes",
    "solve_relation_mapping",
    "write_results",
]

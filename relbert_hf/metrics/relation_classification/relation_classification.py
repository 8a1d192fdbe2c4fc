"""Accuracy, precision, recall and F1 (micro, macro, per class) of lexical relation classification."""

import datasets
import evaluate
from sklearn.metrics import precision_recall_fscore_support


_DESCRIPTION = """
Scores of a relation classifier on labelled word pairs (BLESS, CogALexV, EVALution, K&H+N, ROOT09): accuracy,
precision / recall / F1 averaged over all pairs (micro) and over classes (macro), and precision / recall / F1 of each
class. Labels may be strings (relation names) or integers. Classes are those occurring in the predictions or the
references; a class never predicted gets precision 0 (and F1 0), as in scikit-learn with `zero_division=0`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str` or `int`): predicted relation of each pair.
    references (`list` of `str` or `int`): gold relation of each pair.
Returns:
    accuracy (`float`): fraction of pairs with the gold relation.
    f1_micro, p_micro, r_micro (`float`): micro-averaged F1, precision, recall (for single-label data all equal the
        accuracy).
    f1_macro, p_macro, r_macro (`float`): unweighted means over classes.
    f1/<label>, p/<label>, r/<label> (`float`): the scores of each class.
Examples:
    >>> metric = evaluate.load("relbert_hf/metrics/relation_classification")
    >>> scores = metric.compute(predictions=["hyper", "mero", "mero"], references=["hyper", "hyper", "mero"])
    >>> scores["f1_micro"], scores["f1_macro"], scores["f1/mero"]
    (0.6666666666666666, 0.6666666666666666, 0.6666666666666666)
"""

_CITATION = """
@inproceedings{ushio-etal-2021-distilling,
    title = "Distilling Relation Embeddings from Pretrained Language Models",
    author = "Ushio, Asahi and Camacho-Collados, Jose and Schockaert, Steven",
    booktitle = "Proceedings of the 2021 Conference on Empirical Methods in Natural Language Processing",
    year = "2021",
    url = "https://aclanthology.org/2021.emnlp-main.712",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RelationClassification(evaluate.Metric):
    """Micro / macro / per-class precision, recall and F1 of relation labels."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
                datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
            ],
        )

    def _compute(self, predictions, references):
        if not references:
            raise ValueError("no pairs to score")
        scores = {"accuracy": sum(p == r for p, r in zip(predictions, references)) / len(references)}
        for average in ("micro", "macro"):
            precision, recall, f1, _ = precision_recall_fscore_support(
                references, predictions, average=average, zero_division=0
            )
            scores.update({f"f1_{average}": float(f1), f"p_{average}": float(precision), f"r_{average}": float(recall)})
        labels = sorted(set(references) | set(predictions))
        precision, recall, f1, _ = precision_recall_fscore_support(
            references, predictions, labels=labels, average=None, zero_division=0
        )
        for label, p, r, f in zip(labels, precision, recall, f1):
            scores.update({f"f1/{label}": float(f), f"p/{label}": float(p), f"r/{label}": float(r)})
        return scores

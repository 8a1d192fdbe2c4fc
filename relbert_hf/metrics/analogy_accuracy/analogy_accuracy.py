"""Accuracy on multiple-choice analogy questions, optionally broken down by the questions' `prefix` (category)."""

import datasets
import evaluate


_DESCRIPTION = """
Accuracy of multiple-choice analogy questions ("A is to B as C is to ?", e.g. SAT, BATS, Google): the fraction of
questions whose predicted choice index equals the gold index. With the config `by_prefix`, each question also carries
its `prefix` (category or source note) and the accuracy of each prefix is reported as well.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): predicted choice index of each question (0-based).
    references (`list` of `int`): gold choice index of each question.
    prefixes (`list` of `str`, config `by_prefix` only): category of each question.
Returns:
    accuracy (`float`): fraction of correct questions, in [0, 1].
    accuracy_per_prefix (`dict` of `str` -> `float`, config `by_prefix` only): accuracy of each prefix, sorted by
        prefix.
Examples:
    >>> metric = evaluate.load("relbert_hf/metrics/analogy_accuracy")
    >>> metric.compute(predictions=[0, 2, 1], references=[0, 1, 1])
    {'accuracy': 0.6666666666666666}
    >>> metric = evaluate.load("relbert_hf/metrics/analogy_accuracy", "by_prefix")
    >>> metric.compute(predictions=[0, 2, 1], references=[0, 1, 1], prefixes=["a", "a", "b"])
    {'accuracy': 0.6666666666666666, 'accuracy_per_prefix': {'a': 0.5, 'b': 1.0}}
"""

_CITATION = """
@inproceedings{ushio-etal-2021-bert,
    title = "{BERT} is to {NLP} what {A}lex{N}et is to {CV}: Can Pre-Trained Language Models Identify Analogies?",
    author = "Ushio, Asahi and Espinosa Anke, Luis and Schockaert, Steven and Camacho-Collados, Jose",
    booktitle = "Proceedings of ACL-IJCNLP 2021",
    year = "2021",
    url = "https://aclanthology.org/2021.acl-long.280",
}
"""

CONFIGS = ("default", "by_prefix")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AnalogyAccuracy(evaluate.Metric):
    """Accuracy of analogy questions; config `by_prefix` adds the accuracy of each prefix."""

    def _info(self):
        if self.config_name not in CONFIGS:
            raise ValueError(f"unknown config {self.config_name!r}; choose one of {', '.join(CONFIGS)}")
        features = {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
        if self.config_name == "by_prefix":
            features["prefixes"] = datasets.Value("string")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(features),
        )

    def _compute(self, predictions, references, prefixes=None):
        if not references:
            raise ValueError("no questions to score")
        correct = [prediction == reference for prediction, reference in zip(predictions, references)]
        result = {"accuracy": sum(correct) / len(correct)}
        if prefixes is not None:
            per_prefix = {}
            for prefix, hit in zip(prefixes, correct):
                per_prefix.setdefault(prefix, []).append(hit)
            per_prefix = {prefix: sum(hits) / len(hits) for prefix, hits in sorted(per_prefix.items())}
            result["accuracy_per_prefix"] = per_prefix
        return result

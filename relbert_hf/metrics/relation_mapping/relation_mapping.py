"""Alignment accuracy of relation-mapping problems: how many source terms are mapped to their gold target term."""

import datasets
import evaluate


_DESCRIPTION = """
A relation-mapping problem (Turney, 2008) gives the terms of a source domain (solar system, sun, planet, ...) and the
terms of a target domain in a scrambled order (atom, electron, nucleus, ...); the task is to order the target terms so
that target[i] plays the role of source[i]. This metric compares each predicted target order with the gold order: the
accuracy of a problem is the fraction of positions holding the gold term, and the reported accuracy is the mean over
problems.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `str`): predicted target order of each problem.
    references (`list` of `list` of `str`): gold target order of each problem (the same terms).
Returns:
    accuracy (`float`): mean over problems of the fraction of correctly placed terms.
    accuracy_per_problem (`list` of `float`): that fraction for each problem, in input order.
    alignment_match (`float`): fraction of problems whose whole order is correct.
Examples:
    >>> metric = evaluate.load("relbert_hf/metrics/relation_mapping")
    >>> metric.compute(predictions=[["a", "b", "c", "d"], ["x", "y"]], references=[["a", "b", "d", "c"], ["x", "y"]])
    {'accuracy': 0.75, 'accuracy_per_problem': [0.5, 1.0], 'alignment_match': 0.5}
"""

_CITATION = """
@article{turney2008latent,
    title = "The Latent Relation Mapping Engine: Algorithm and Experiments",
    author = "Turney, Peter D.",
    journal = "Journal of Artificial Intelligence Research",
    volume = "33",
    pages = "615--655",
    year = "2008",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RelationMapping(evaluate.Metric):
    """Per-problem and mean alignment accuracy of predicted target orders."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.List(datasets.Value("string")),
                    "references": datasets.List(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references):
        if not references:
            raise ValueError("no problems to score")
        per_problem = []
        for index, (prediction, reference) in enumerate(zip(predictions, references)):
            if sorted(prediction) != sorted(reference):
                raise ValueError(f"problem {index}: the prediction is not an order of the reference terms")
            per_problem.append(sum(p == r for p, r in zip(prediction, reference)) / len(reference))
        return {
            "accuracy": sum(per_problem) / len(per_problem),
            "accuracy_per_problem": per_problem,
            "alignment_match": sum(score == 1.0 for score in per_problem) / len(per_problem),
        }

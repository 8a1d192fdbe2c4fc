"""The `evaluate` metric modules in relbert_hf/metrics/, against hand-computed cases."""

import evaluate
import pytest

from relbert_hf.metrics import METRICS, load_metric, metric_path


@pytest.mark.parametrize("name", METRICS)
def test_each_metric_is_a_complete_evaluate_module(name):
    folder = metric_path(name)
    assert (folder / f"{name}.py").is_file() and (folder / "README.md").is_file()
    module = evaluate.load(str(folder))
    assert isinstance(module, evaluate.Metric)
    assert type(module).__name__ != "Metric"  # the module's own class, not evaluate's base class
    for features in module.features if isinstance(module.features, list) else [module.features]:
        assert set(features) >= {"predictions", "references"}


def test_unknown_metric_name_is_refused():
    with pytest.raises(ValueError, match="unknown metric 'accuracy'"):
        metric_path("accuracy")


def test_analogy_accuracy_by_hand():
    metric = load_metric("analogy_accuracy")
    assert metric.compute(predictions=[0, 2, 1, 3], references=[0, 1, 1, 3]) == {"accuracy": 0.75}
    assert metric.compute(predictions=[1], references=[0]) == {"accuracy": 0.0}


def test_analogy_accuracy_per_prefix_also_with_add_batch():
    metric = load_metric("analogy_accuracy", "by_prefix")
    expected = {"accuracy": 0.6, "accuracy_per_prefix": {"capital": 1 / 3, "plural": 1.0}}
    inputs = {
        "predictions": [0, 1, 2, 3, 0],
        "references": [0, 2, 2, 1, 0],
        "prefixes": ["plural", "capital", "plural", "capital", "capital"],
    }
    assert metric.compute(**inputs) == expected
    metric.add_batch(**{key: values[:3] for key, values in inputs.items()})
    metric.add_batch(**{key: values[3:] for key, values in inputs.items()})
    assert metric.compute() == expected


def test_analogy_accuracy_unknown_config_is_refused():
    with pytest.raises(ValueError, match="unknown config 'per_category'"):
        load_metric("analogy_accuracy", "per_category")


def test_relation_classification_by_hand():
    # gold:  a a a b b c        pred: a a b b c c
    # a: tp 2, fp 0, fn 1 -> p 1, r 2/3, f1 0.8
    # b: tp 1, fp 1, fn 1 -> p 1/2, r 1/2, f1 1/2
    # c: tp 1, fp 1, fn 0 -> p 1/2, r 1, f1 2/3
    scores = load_metric("relation_classification").compute(
        predictions=["a", "a", "b", "b", "c", "c"], references=["a", "a", "a", "b", "b", "c"]
    )
    assert scores["accuracy"] == pytest.approx(4 / 6)
    for name in ("f1_micro", "p_micro", "r_micro"):
        assert scores[name] == pytest.approx(4 / 6)
    assert scores["p_macro"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert scores["r_macro"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert scores["f1_macro"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert scores["f1/a"] == pytest.approx(0.8) and scores["p/b"] == pytest.approx(0.5) and scores["r/c"] == 1.0


def test_relation_classification_integer_labels_and_a_never_predicted_class():
    scores = load_metric("relation_classification").compute(predictions=[0, 0, 0], references=[0, 1, 0])
    assert scores["f1/1"] == 0.0 and scores["p/1"] == 0.0
    assert scores["f1/0"] == pytest.approx(0.8)
    assert scores["f1_macro"] == pytest.approx(0.4)


def test_relation_mapping_by_hand():
    metric = load_metric("relation_mapping")
    scores = metric.compute(
        predictions=[["a", "b", "c", "d"], ["x", "y"], ["p", "q", "r"]],
        references=[["a", "b", "d", "c"], ["x", "y"], ["q", "r", "p"]],
    )
    assert scores["accuracy_per_problem"] == [0.5, 1.0, 0.0]
    assert scores["accuracy"] == pytest.approx(0.5)
    assert scores["alignment_match"] == pytest.approx(1 / 3)


def test_relation_mapping_refuses_a_prediction_with_other_terms():
    with pytest.raises(ValueError, match="problem 1: the prediction is not an order of the reference terms"):
        load_metric("relation_mapping").compute(predictions=[["a"], ["x", "z"]], references=[["a"], ["x", "y"]])

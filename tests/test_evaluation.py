"""The evaluation package (relbert_hf/evaluation/): embedding cache, analogy scoring, classification probe, relation-
mapping solver, the runner on the real mirror data with the tiny fixture model, and `relbert-hf evaluate`."""

import json
from itertools import permutations

import datasets
import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier

from relbert_hf import RelBertModel
from relbert_hf.cli import main
from relbert_hf.data.benchmarks import load_analogy_questions, load_relation_classification, load_relation_mapping
from relbert_hf.evaluation import (
    BENCHMARKS,
    EmbeddingCache,
    analogy_scores,
    evaluate_analogy,
    evaluate_model,
    evaluate_relation_classification,
    evaluate_relation_mapping,
    format_results_table,
    pair_features,
    select_benchmarks,
    select_probe,
    select_probes,
    solve_relation_mapping,
    write_results,
)
from relbert_hf.evaluation.mapping import mapping_scores, ordered_pairs, pair_similarity, permutation_chunks

from conftest import REFERENCE_DIR, needs_mirror




@pytest.fixture()
def embeddings(tiny_pipeline):
    return EmbeddingCache(tiny_pipeline, batch_size=16)


def direct_vectors(pipe, pairs):
    """Reference values: the pipeline called directly, one float64 row per pair."""
    return np.asarray(pipe([tuple(pair) for pair in pairs], return_numpy=True), dtype=np.float64)


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------------------------------------------------
# embedding cache


def count_encoded_rows(model):
    """Count the pairs the encoder really runs (distinct prompts of every batch; a batch of one prompt runs as two
    copies) with a forward hook."""
    rows = []
    hook = model.encoder.register_forward_hook(
        lambda module, args, kwargs, output: rows.append(len(set(map(tuple, kwargs["input_ids"].tolist())))),
        with_kwargs=True,
    )
    return rows, hook


def test_the_cache_encodes_each_pair_once_and_returns_the_pipelines_vectors(tiny_pipeline, tiny_model, embeddings):
    first = [("dog", "bark"), ("cat", "meow"), ("dog", "bark")]
    second = [("cat", "meow"), ("cow", "moo")]
    rows, hook = count_encoded_rows(tiny_model)
    try:
        vectors = embeddings(first)
        embeddings(second)
        embeddings(first + second)
    finally:
        hook.remove()
    assert sum(rows) == 3 and embeddings.encoded == 3 and len(embeddings) == 3
    assert vectors.shape == (3, tiny_model.config.hidden_size) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, direct_vectors(tiny_pipeline, first), atol=1e-5)
    assert embeddings([]).shape == (0, tiny_model.config.hidden_size)


def test_the_disk_cache_is_reused_by_the_same_model_only(tiny_pipeline, tmp_path):
    pairs = [("dog", "bark"), ("cat", "meow")]
    first = EmbeddingCache(tiny_pipeline, cache_dir=tmp_path)
    vectors = first(pairs)
    second = EmbeddingCache(tiny_pipeline, cache_dir=tmp_path)
    assert second.fingerprint == first.fingerprint and len(second) == 2
    np.testing.assert_array_equal(second(pairs), vectors)
    assert second.encoded == 0
    other_model = RelBertModel.from_backbone(REFERENCE_DIR / "tiny-bert", template="<subj> and <obj>").eval()
    from transformers import pipeline

    other_pipe = pipeline("relation-embedding", model=other_model, tokenizer=other_model.tokenizer)
    other = EmbeddingCache(other_pipe, cache_dir=tmp_path)
    assert other.fingerprint != first.fingerprint and len(other) == 0


# --------------------------------------------------------------------------------------------------------------------
# analogy


QUESTIONS = datasets.Dataset.from_dict(
    {
        "stem": [["word", "language"], ["dog", "bark"], ["hot", "cold"]],
        "choice": [
            [["paint", "portrait"], ["note", "music"]],
            [["cat", "meow"], ["cow", "moo"], ["nest", "bird"]],
            [["up", "down"], ["big", "large"], ["wet", "dry"]],
        ],
        "answer": [1, 0, 2],
        "prefix": ["a", "b", "b"],
    }
)


@pytest.mark.parametrize("scoring", ["forward", "reverse", "bidirectional"])
def test_analogy_scores_are_the_cosines_of_the_pipelines_vectors(tiny_pipeline, embeddings, scoring):
    scores = analogy_scores(embeddings, QUESTIONS, scoring)
    for question, got in zip(QUESTIONS, scores):
        forward = [cosine(*direct_vectors(tiny_pipeline, [question["stem"], pair])) for pair in question["choice"]]
        backward = [
            cosine(*direct_vectors(tiny_pipeline, [question["stem"][::-1], pair[::-1]])) for pair in question["choice"]
        ]
        expected = {"forward": forward, "reverse": backward, "bidirectional": np.multiply(forward, backward)}[scoring]
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_evaluate_analogy_predicts_the_best_choice_and_scores_it(embeddings):
    result = evaluate_analogy(embeddings, QUESTIONS)
    expected = [int(np.argmax(scores)) for scores in analogy_scores(embeddings, QUESTIONS)]
    assert result["predictions"] == expected
    correct = [p == a for p, a in zip(expected, QUESTIONS["answer"])]
    assert result["accuracy"] == sum(correct) / 3
    assert result["accuracy_per_prefix"] == {"a": float(correct[0]), "b": (correct[1] + correct[2]) / 2}


def test_unknown_analogy_scoring_is_refused(embeddings):
    with pytest.raises(ValueError, match="unknown analogy scoring 'both'"):
        analogy_scores(embeddings, QUESTIONS, "both")


# --------------------------------------------------------------------------------------------------------------------
# classification probe


def test_pair_features_concatenate_both_directions(tiny_pipeline, embeddings):
    features = pair_features(embeddings, ["dog", "car"], ["animal", "wheel"])
    forward = direct_vectors(tiny_pipeline, [("dog", "animal"), ("car", "wheel")])
    backward = direct_vectors(tiny_pipeline, [("animal", "dog"), ("wheel", "car")])
    expected = np.concatenate([forward, backward], axis=1)
    assert features.shape == (2, 2 * embeddings.pipe.model.config.hidden_size)
    np.testing.assert_allclose(features, expected, atol=1e-5)


def blobs(seed: int, size: int):
    """Three well separated Gaussian classes in 8 dimensions."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["a", "b", "c"], size=size)
    centres = {"a": np.full(8, -2.0), "b": np.zeros(8), "c": np.full(8, 2.0)}
    features = np.stack([centres[label] for label in labels]) + rng.normal(scale=0.7, size=(size, 8))
    return features.astype(np.float32), labels.tolist()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_grid_keeps_the_setting_with_the_best_validation_micro_f1():
    train, val = blobs(0, 300), blobs(1, 120)
    grid = [
        {"random_state": 0, "hidden_layer_sizes": 2, "max_iter": 1, "learning_rate_init": 1e-5},
        {"random_state": 0, "hidden_layer_sizes": 20, "max_iter": 100},
        {"random_state": 0, "hidden_layer_sizes": 3, "max_iter": 2, "learning_rate_init": 1e-4},
    ]
    probe, val_scores, summary = select_probe(train, val, grid, n_jobs=2)  # two worker processes
    expected = []
    for config in grid:  # scikit-learn directly, independently of the package
        fitted = MLPClassifier(**config).fit(*train)
        expected.append(f1_score(val[1], fitted.predict(val[0]), average="micro"))
    assert [entry["val/f1_micro"] for entry in summary] == pytest.approx(expected)
    assert expected[1] > max(expected[0], expected[2])
    assert probe.get_params()["hidden_layer_sizes"] == 20 and val_scores["f1_micro"] == pytest.approx(expected[1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_one_pool_trains_the_probes_of_several_benchmarks_as_scikit_learn_does_alone():
    grid = [
        {"random_state": 0, "hidden_layer_sizes": 2, "max_iter": 3, "learning_rate_init": 1e-4},
        {"random_state": 0, "hidden_layer_sizes": 20, "max_iter": 60},
    ]
    searches = {"with val": (blobs(0, 300), blobs(1, 120)), "no val": (blobs(2, 200), None)}
    selections = select_probes(searches, grid, n_jobs=2)
    assert set(selections) == {"with val", "no val"}

    with_val = selections["with val"]
    train, val = searches["with val"]
    expected = [
        f1_score(val[1], MLPClassifier(**config).fit(*train).predict(val[0]), average="micro") for config in grid
    ]
    assert [entry["val/f1_micro"] for entry in with_val["grid"]] == pytest.approx(expected)
    assert [entry["config"] for entry in with_val["grid"]] == grid and all(e["seconds"] > 0 for e in with_val["grid"])
    assert with_val["probe"].get_params()["hidden_layer_sizes"] == 20 and expected[1] > expected[0]

    no_val = selections["no val"]
    assert no_val["grid"] is None and no_val["val_scores"] is None and no_val["seconds"] > 0
    features = blobs(3, 50)[0]
    default = MLPClassifier(random_state=0).fit(*searches["no val"][0])  # DEFAULT_PROBE: scikit-learn's defaults
    np.testing.assert_array_equal(no_val["probe"].predict(features), default.predict(features))


def test_a_tie_goes_to_the_first_setting_in_grid_order():
    train, val = blobs(0, 200), blobs(1, 60)
    same = {"random_state": 0, "hidden_layer_sizes": 10, "max_iter": 50}
    probe, _, summary = select_probe(train, val, [{**same, "alpha": 1e-4}, {**same, "alpha": 1.000001e-4}], n_jobs=1)
    assert summary[0]["val/f1_micro"] == summary[1]["val/f1_micro"]
    assert probe.get_params()["alpha"] == 1e-4


@needs_mirror
def test_classification_on_real_data_uses_the_grid_with_val_and_the_default_without(embeddings):
    bless = load_relation_classification("BLESS")
    small = datasets.DatasetDict({split: rows.shuffle(seed=0).select(range(150)) for split, rows in bless.items()})
    grid = [
        {"random_state": 0, "hidden_layer_sizes": 20, "max_iter": 30},
        {"random_state": 0, "hidden_layer_sizes": 10, "max_iter": 30},
    ]
    result = evaluate_relation_classification(embeddings, small, grid, n_jobs=1)
    assert [entry["config"] for entry in result["grid"]] == grid
    best = max(range(2), key=lambda index: (result["grid"][index]["val/f1_micro"], -index))
    assert result["classifier_config"]["hidden_layer_sizes"] == grid[best]["hidden_layer_sizes"]
    for key in ("test/f1_micro", "test/f1_macro", "test/accuracy", "val/f1_micro"):
        assert 0.0 <= result[key] <= 1.0
    assert result["test/f1_micro"] == pytest.approx(result["test/accuracy"])
    assert {f"test/f1/{label}" for label in small["test"]["relation"]} <= set(result)

    no_val = datasets.DatasetDict({"train": small["train"], "test": small["test"]})
    result = evaluate_relation_classification(embeddings, no_val, grid, n_jobs=1)
    assert "grid" not in result and not any(key.startswith("val/") for key in result)
    assert result["classifier_config"]["hidden_layer_sizes"] == (100,)  # DEFAULT_PROBE: scikit-learn's default


# --------------------------------------------------------------------------------------------------------------------
# relation mapping


def brute_force(similarity):
    """The first best permutation over itertools.permutations, scored with plain Python loops."""
    size = similarity.shape[0]
    best, best_score = None, -np.inf
    for perm in permutations(range(size)):
        score = sum(max(similarity[i, j, perm[i], perm[j]] for j in range(size) if j != i) for i in range(size)) / size
        if score > best_score:
            best, best_score = perm, score
    return best, best_score


@pytest.mark.parametrize("size", [2, 3, 4, 5, 6])
def test_the_solver_finds_the_brute_force_optimum(size):
    rng = np.random.default_rng(size)
    for trial in range(3):
        similarity = rng.uniform(-1, 1, size=(size,) * 4)
        perm, score = solve_relation_mapping(similarity, chunk=7)
        expected, expected_score = brute_force(similarity)
        assert perm == expected and score == pytest.approx(expected_score)


@pytest.mark.parametrize("size", [3, 4, 5])
def test_ties_go_to_the_first_permutation_also_across_chunks(size):
    rng = np.random.default_rng(10 + size)
    for trial in range(4):
        similarity = rng.integers(0, 2, size=(size,) * 4).astype(np.float64)  # many exact ties
        for chunk in (1, 5, 1 << 16):
            assert solve_relation_mapping(similarity, chunk=chunk)[0] == brute_force(similarity)[0]


def test_permutation_chunks_follow_itertools_order():
    chunks = list(permutation_chunks(4, chunk=5))
    assert [len(block) for block in chunks] == [5] * 4 + [4]
    assert [tuple(row) for block in chunks for row in block] == list(permutations(range(4)))


def test_mapping_score_of_one_permutation_by_hand():
    similarity = np.zeros((3, 3, 3, 3))
    similarity[0, 1, 2, 0] = 0.9  # source pair (0, 1) ~ target pair (2, 0)
    similarity[1, 2, 0, 1] = 0.6
    similarity[2, 0, 1, 2] = 0.3
    assert mapping_scores(similarity, np.array([[2, 0, 1]])) == pytest.approx([(0.9 + 0.6 + 0.3) / 3])
    assert solve_relation_mapping(similarity)[0] == (2, 0, 1)


def test_a_nine_term_problem_is_solved_exactly_in_bounded_chunks():
    rng = np.random.default_rng(9)
    similarity = rng.uniform(-1, 1, size=(9,) * 4)
    perm, score = solve_relation_mapping(similarity)
    assert sorted(perm) == list(range(9))
    assert score == pytest.approx(mapping_scores(similarity, np.array([perm]))[0])
    sample = np.array([rng.permutation(9) for _ in range(2000)])
    assert mapping_scores(similarity, sample).max() <= score


def test_pair_similarity_is_the_cosine_of_ordered_pairs(tiny_pipeline, embeddings):
    source, target = ["sun", "planet", "gravity"], ["nucleus", "electron", "charge"]
    similarity = pair_similarity(embeddings, source, target)
    assert similarity.shape == (3, 3, 3, 3)
    vectors = dict(zip(ordered_pairs(target), direct_vectors(tiny_pipeline, ordered_pairs(target))))
    head = direct_vectors(tiny_pipeline, [("planet", "sun")])[0]
    assert similarity[1, 0, 2, 1] == pytest.approx(cosine(head, vectors[("charge", "electron")]), abs=1e-6)
    assert similarity[0, 0, 1, 2] == -np.inf


@needs_mirror
def test_relation_mapping_on_the_first_real_problems(embeddings):
    problems = load_relation_mapping().select(range(2))
    result = evaluate_relation_mapping(embeddings, problems)
    columns = (problems["source"], problems["target_random"], problems["target"], result["accuracy_per_problem"])
    for prediction, source, scrambled, target, accuracy in zip(result["predictions"], *columns):
        perm, _ = brute_force(pair_similarity(embeddings, source, scrambled))
        assert prediction == [scrambled[k] for k in perm]
        assert accuracy == sum(p == t for p, t in zip(prediction, target)) / len(target)
    assert result["accuracy"] == pytest.approx(np.mean(result["accuracy_per_problem"]))


# --------------------------------------------------------------------------------------------------------------------
# runner and command line


def test_benchmarks_carry_the_reference_keys():
    keys = [benchmark.key for benchmark in BENCHMARKS]
    assert keys[:3] == ["sat_full", "sat/test", "bats/test"]
    assert "nell_relational_similarity/test" in keys and "lexical_relation_classification/K&H+N" in keys
    assert keys[-1] == "relation_mapping" and len(keys) == 15
    assert [b.name for b in select_benchmarks(["mapping", "analogy"], ["u2", "relation_mapping", "BLESS"])] == [
        "u2",
        "relation_mapping",
    ]
    with pytest.raises(ValueError, match="unknown dataset"):
        select_benchmarks(datasets=["sat_test"])
    with pytest.raises(ValueError, match="unknown task"):
        select_benchmarks(tasks=["analogies"])


@pytest.mark.parametrize(
    "option, message",
    [
        ({"analogy_scoring": "both"}, "unknown analogy scoring 'both'"),
        ({"probe_grid": "small"}, "unknown probe grid 'small'"),
        ({"probe_dtype": "float16"}, "unknown probe dtype 'float16'"),
    ],
)
def test_unknown_runner_options_are_refused_before_any_work(tiny_pipeline, option, message):
    with pytest.raises(ValueError, match=message):
        evaluate_model(tiny_pipeline, datasets=["u2"], log=pytest.fail, **option)


@needs_mirror
def test_the_runner_on_real_data_shares_one_cache_and_reports_reference_keys(tiny_pipeline, tmp_path):
    lines = []
    results = evaluate_model(
        tiny_pipeline,
        datasets=["sat_full", "sat", "t_rex_relational_similarity", "CogALexV", "EVALution", "relation_mapping"],
        limit=20,
        probe_grid="default",
        model_name="tiny",
        log=lines.append,
    )
    for key in ("sat_full", "sat/test", "t_rex_relational_similarity/test"):
        assert 0.0 <= results[key] <= 1.0
    assert results["sat_full"] < 0.7 and results["t_rex_relational_similarity/test"] < 0.5  # an untrained tiny model
    cogalex = results["lexical_relation_classification/CogALexV"]
    assert 0.0 <= cogalex["test/f1_macro"] <= cogalex["test/f1_micro"] + 1e-9 <= 1.0 + 1e-9
    assert 0.0 <= results["relation_mapping"]["accuracy"] <= 1.0
    evalution = results["lexical_relation_classification/EVALution"]  # has a val split: the (one-setting) grid ran
    assert len(evalution["grid"]) == 1 and 0.0 <= evalution["val/f1_micro"] <= 1.0
    assert cogalex["probe_seconds"] > 0 and evalution["probe_seconds"] > 0 and "grid" not in cogalex
    assert results["model"] == "tiny" and results["aggregation"] == "average_no_mask" and results["limit"] == 20
    timings = results["timings_s"]
    assert set(timings) == {"sat_full", "sat/test", "t_rex_relational_similarity/test", "relation_mapping", "total",
                            "lexical_relation_classification/CogALexV", "lexical_relation_classification/EVALution"}
    assert 0 < sum(seconds for key, seconds in timings.items() if key != "total") <= timings["total"]
    # SAT runs after SAT full with the same cache: only the pairs SAT full did not have are encoded
    sat_full = load_analogy_questions("sat_full").select(range(20))
    sat = load_analogy_questions("sat").select(range(20))
    pairs = lambda dataset: {tuple(p) for q in dataset for p in [q["stem"], *q["choice"]]}  # noqa: E731
    assert results["pairs_encoded"]["sat/test"] == len(pairs(sat) - pairs(sat_full))
    assert results["pairs_encoded"]["total"] == sum(v for k, v in results["pairs_encoded"].items() if k != "total")
    assert len(lines) == 6 and lines[0].startswith("sat_full: accuracy ")

    table = format_results_table(results)
    assert "lexical_relation_classification/CogALexV" in table and "f1_macro" in table
    path = write_results(results, tmp_path / "out" / "results.json")
    assert json.loads(path.read_text(encoding="utf-8"))["sat/test"] == results["sat/test"]
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_results({}, path)
    write_results({"a": 1}, path, overwrite=True)
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary file left


@needs_mirror
def test_relbert_hf_evaluate_writes_results_and_refuses_to_overwrite(saved_tiny_model, tmp_path, capsys):
    output = tmp_path / "results.json"
    argv = [
        "evaluate", str(saved_tiny_model), "--datasets", "u2,relation_mapping", "--limit", "5", "--output", str(output)
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    results = json.loads(output.read_text(encoding="utf-8"))
    assert set(results) >= {"u2/test", "relation_mapping", "model", "template", "aggregation", "timings_s"}
    assert results["model"] == str(saved_tiny_model)
    assert "u2/test" in captured.out and "relation_mapping" in captured.out
    assert main(argv) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert json.loads(output.read_text(encoding="utf-8")) == results

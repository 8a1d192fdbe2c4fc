"""The model card of a relbert-hf model folder, built from its `results.json` and `finetuning_config.json`.

```python
>>> from hub_card import generate_model_card, save_model_card
>>> card = generate_model_card("runs/minilm/model", repo_id="my-org/relbert-minilm")
>>> card.data.eval_results[0].metric_value    # the model-index, one EvalResult per reported score
>>> save_model_card("runs/minilm/model", repo_id="my-org/relbert-minilm", overwrite=True)   # -> README.md
```

The folder holds what `RelBertModel.save_pretrained` writes, plus optionally `results.json` (`relbert-hf evaluate`)
and `finetuning_config.json` (training). The card says only what these files say:

- every score comes from `results.json` (`relbert_hf.evaluation.headline_scores`); its table row names the key it was
  read from, and the same numbers form the card's `model-index` (one `EvalResult` per score, grouped by benchmark);
  benchmarks missing from `results.json` are left out;
- a folder without `finetuning_config.json` is described as not fine-tuned, without a training section;
- with `eval_results_files=True` the scores are also written as `.eval_results/*.yaml`, the Hub's newer
  evaluation-results format (it shows them only for datasets registered as Hub benchmarks).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, EvalResultEntry, ModelCard, ModelCardData, eval_result_entries_to_yaml
from huggingface_hub.utils import validate_repo_id

from relbert_hf import RelBertConfig
from relbert_hf.data.benchmarks import ANALOGY_REPO, CLASSIFICATION_REPO, MAPPING_REPO
from relbert_hf.embedded import embedded_backbone_path
from relbert_hf.evaluation.runner import BENCHMARKS, Benchmark, headline_scores
from relbert_hf.training.arguments import EMBEDDED_MODEL_ID
from relbert_hf.training.trainer import FINETUNING_CONFIG_NAME


TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")
README_NAME = "README.md"
RESULTS_NAME = "results.json"
EVAL_RESULTS_DIR = ".eval_results"

TAGS = ["relbert", "relation-embedding", "word-pairs", "analogy", "lexical-relations", "custom_code"]
#: Licence of the weights a model inherits from its base model, for the base models the project uses; others get
#: `unknown` unless a licence is given.
BASE_MODEL_LICENSES = {
    "roberta-base": "mit",
    "roberta-large": "mit",
    "FacebookAI/roberta-base": "mit",
    "FacebookAI/roberta-large": "mit",
    EMBEDDED_MODEL_ID: "apache-2.0",
}


@dataclass(frozen=True)
class TaskCard:
    """How the card and the model-index present one benchmark family of `relbert_hf.evaluation`."""

    title: str
    about: str
    task_type: str
    repo: str


TASK_CARDS = {
    "analogy": TaskCard(
        "Analogy questions",
        "Accuracy: the candidate pair whose relation embedding is the most cosine-similar to the query pair's is "
        "taken as the answer, without any training on the task.",
        "multiple-choice",
        ANALOGY_REPO,
    ),
    "classification": TaskCard(
        "Lexical relation classification",
        "Micro and macro F1 of an MLP trained on the frozen embeddings of (head, tail) and (tail, head).",
        "text-classification",
        CLASSIFICATION_REPO,
    ),
    "mapping": TaskCard(
        "Relation mapping",
        "Accuracy of the alignment of two sets of terms that maximises the similarity of their relation embeddings.",
        "relation-mapping",
        MAPPING_REPO,
    ),
}
#: Display names of the benchmarks (keyed by `Benchmark.name`); the classification sets keep their own names.
DATASET_NAMES = {
    "sat_full": "SAT (full)",
    "sat": "SAT",
    "bats": "BATS",
    "u2": "U2",
    "u4": "U4",
    "google": "Google",
    "conceptnet_relational_similarity": "ConceptNet analogy",
    "t_rex_relational_similarity": "T-REx analogy",
    "nell_relational_similarity": "NELL-ONE analogy",
    "relation_mapping": "Relation mapping",
}
#: score name of `headline_scores` -> (model-index metric type, display name, metric args)
METRICS = {
    "accuracy": ("accuracy", "Accuracy", None),
    "f1_micro": ("f1", "Micro F1", {"average": "micro"}),
    "f1_macro": ("f1", "Macro F1", {"average": "macro"}),
}

BENCHMARK_OF_KEY = {benchmark.key: benchmark for benchmark in BENCHMARKS}


@dataclass(frozen=True)
class Score:
    """One score the card reports: its benchmark, metric (a `METRICS` key), value and place in results.json."""

    benchmark: Benchmark
    metric: str
    value: float

    @property
    def path(self) -> tuple[str, ...]:
        """Keys leading to the value in results.json."""
        if self.benchmark.task == "analogy":
            return (self.benchmark.key,)
        if self.benchmark.task == "classification":
            return (self.benchmark.key, f"test/{self.metric}")
        return (self.benchmark.key, self.metric)

    @property
    def dataset_config(self) -> str | None:
        """Config of the benchmark's dataset repository (relation mapping has none)."""
        return None if self.benchmark.task == "mapping" else self.benchmark.name


def reported_scores(results: dict) -> list[Score]:
    """The scores of `results` (a results.json) a card reports, in benchmark order; `ValueError` if one is not a
    number."""
    scores = []
    for key, metric, value in headline_scores(results):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{RESULTS_NAME}: {key} {metric} is {value!r}, not a number")
        scores.append(Score(BENCHMARK_OF_KEY[key], metric, value))
    return scores


def _file_url(repo_id: str | None, name: str) -> str:
    """Link to a file of the model repo (relative to the card without a repo id)."""
    return f"https://huggingface.co/{repo_id}/blob/main/{name}" if repo_id else name


def _results_url(repo_id: str | None) -> str | None:
    """Link to the repo's results.json, the source of every score (None without a repo id)."""
    return _file_url(repo_id, RESULTS_NAME) if repo_id else None


def eval_results(results: dict, repo_id: str | None = None) -> list[EvalResult]:
    """The model-index of `results`: one `EvalResult` per reported score (source: the repo's results.json)."""
    source_url = _results_url(repo_id)
    evaluations = []
    for score in reported_scores(results):
        task = TASK_CARDS[score.benchmark.task]
        metric_type, metric_name, metric_args = METRICS[score.metric]
        evaluations.append(
            EvalResult(
                task_type=task.task_type,
                task_name=task.title,
                dataset_type=task.repo,
                dataset_name=DATASET_NAMES.get(score.benchmark.name, score.benchmark.name),
                dataset_config=score.dataset_config,
                dataset_split="test",
                metric_type=metric_type,
                metric_name=metric_name,
                metric_args=metric_args,
                metric_value=score.value,
                source_name=RESULTS_NAME if source_url else None,
                source_url=source_url,
            )
        )
    return evaluations


def eval_result_files(results: dict, repo_id: str | None = None) -> dict[str, list[dict]]:
    """The `.eval_results/*.yaml` files of `results`: file name -> entries (`eval_result_entries_to_yaml`).

    One file per dataset repository and metric (the Hub wants one file per variant of a benchmark's score):
    `analogy_questions.yaml`, `lexical_relation_classification_f1_micro.yaml`, `..._f1_macro.yaml`,
    `relation_mapping.yaml`; `task_id` is the dataset config (`default` for relation mapping).
    """
    source_url = _results_url(repo_id)
    notes = f"first {results['limit']} records of each split only (smoke test)" if "limit" in results else None
    files: dict[str, list[EvalResultEntry]] = {}
    for score in reported_scores(results):
        repo = TASK_CARDS[score.benchmark.task].repo
        name = repo.split("/")[-1] + (f"_{score.metric}" if score.benchmark.task == "classification" else "")
        variant = METRICS[score.metric][1] if score.benchmark.task == "classification" else None
        entry = EvalResultEntry(
            dataset_id=repo,
            task_id=score.dataset_config or "default",
            value=score.value,
            source_url=source_url,
            source_name=RESULTS_NAME if source_url else None,
            notes="; ".join(note for note in (variant, notes) if note) or None,
        )
        files.setdefault(f"{name}.yaml", []).append(entry)
    return {name: eval_result_entries_to_yaml(entries) for name, entries in files.items()}


# --------------------------------------------------------------------------------------------------------------------
# the card


def read_json(path: Path) -> dict | None:
    """A JSON object from `path`, or None when the file is absent; `ValueError` naming the file when malformed."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: invalid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return value


def _is_hub_id(name: str | None) -> bool:
    """Whether `name` can be a Hub repository id (`name` or `namespace/name`) rather than a local path."""
    return bool(name) and name.count("/") <= 1 and not name.startswith((".", "/", "~")) and not Path(name).exists()


def _encoder_name(config: RelBertConfig, finetuning: dict | None) -> str | None:
    """The encoder the model was built on: the training's `model`, else the encoder's `_name_or_path` (the embedded
    backbone's folder is named by its Hub id)."""
    if finetuning is not None:
        return finetuning.get("model")
    name = config.encoder_config._name_or_path
    try:
        if name and Path(name).resolve() == embedded_backbone_path().resolve():
            return EMBEDDED_MODEL_ID
    except ImportError:
        pass
    return name or None


def _model_link(name: str | None) -> str:
    if name is None:
        return "an encoder of unknown origin"
    return f"[{name}](https://huggingface.co/{name})" if _is_hub_id(name) else f"`{name}`"


def _dataset_link(name: str) -> str:
    return f"[{name}](https://huggingface.co/datasets/{name})" if _is_hub_id(name) else f"`{name}`"


def _render(value) -> str:
    """A finetuning_config.json value as the card shows it (in a code span): strings as they are, else JSON."""
    return f"`{value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}`"


def _description(encoder: str | None, finetuning: dict | None) -> str:
    if finetuning is None:
        return (
            f"An **untrained** RelBERT model: {_model_link(encoder)} with RelBERT's prompt and pooling, **not "
            f"fine-tuned** on relation data (the model folder has no {FINETUNING_CONFIG_NAME}); a baseline for "
            "fine-tuned RelBERT models."
        )
    parts = [f"A RelBERT model: {_model_link(finetuning.get('model'))} fine-tuned"]
    if finetuning.get("data"):
        parts.append(f"on {_dataset_link(finetuning['data'])}")
    if finetuning.get("loss_function"):
        parts.append(f"with the `{finetuning['loss_function']}` contrastive loss")
    return " ".join(parts) + " to embed the relation between two words."


def _result_notes(results: dict, repo_id: str | None) -> list[str]:
    link = f"[{RESULTS_NAME}]({_results_url(repo_id)})" if repo_id else RESULTS_NAME
    settings = [
        f"{label} `{results[key]}`"
        for key, label in (("analogy_scoring", "analogy scoring"), ("probe_grid", "classification probe grid"))
        if key in results
    ]
    notes = [
        f"Scores of `relbert-hf evaluate` on the test splits{' (' + ', '.join(settings) + ')' if settings else ''}, "
        f"read from {link}; the last column names the key of each value."
    ]
    if "limit" in results:
        notes.append(
            f"**Smoke test only:** each dataset split was cut to its first {results['limit']} records, so these "
            "scores are not comparable with published ones."
        )
    return notes


def _result_groups(results: dict) -> list[dict]:
    """The results tables, one per benchmark family present in `results`, rows in benchmark order."""
    groups: dict[str, dict] = {}
    for score in reported_scores(results):
        task = TASK_CARDS[score.benchmark.task]
        group = groups.setdefault(
            score.benchmark.task,
            {"title": task.title, "about": task.about, "repo": task.repo, "metrics": [], "rows": {}},
        )
        metric_name = METRICS[score.metric][1]
        if metric_name not in group["metrics"]:
            group["metrics"].append(metric_name)
        row = group["rows"].setdefault(
            score.benchmark.key,
            {"name": DATASET_NAMES.get(score.benchmark.name, score.benchmark.name), "values": [], "keys": []},
        )
        row["values"].append(repr(score.value))
        row["keys"].append("`" + "".join(f"[{json.dumps(key, ensure_ascii=False)}]" for key in score.path) + "`")
    return [dict(group, rows=list(group["rows"].values())) for group in groups.values()]


def _details(config: RelBertConfig) -> list[tuple[str, str]]:
    return [
        ("Architecture", f"`RelBertModel` on a `{config.encoder_config.model_type}` encoder"),
        ("Relation embedding size", str(config.hidden_size)),
        ("Prompt template", f"`{config.template}`"),
        ("Pooling (`aggregation_mode`)", f"`{config.aggregation_mode}`"),
        ("Maximum prompt length", f"{config.max_length} tokens"),
        ("Pipeline task", "`relation-embedding` (Hub widget: feature-extraction)"),
    ]


def default_model_name(model_dir: str | os.PathLike) -> str:
    """The name a card gives a folder without a repo id: the folder's name, or its run's name for the `model`
    folder that training writes (`runs/minilm/model` -> `minilm`)."""
    path = Path(model_dir).resolve()
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def generate_model_card(
    model_dir: str | os.PathLike,
    repo_id: str | None = None,
    license: str | None = None,
    model_name: str | None = None,
) -> ModelCard:
    """The model card of `model_dir` (see the module docstring).

    Args:
        repo_id: Hub id the card is written for: its name, usage examples and results links. Without it the card
            uses `default_model_name` and, in the examples, the folder's path.
        license: licence of the weights (default: `BASE_MODEL_LICENSES` of the base model, else `unknown`).
        model_name: the card's (and model-index's) name when there is no `repo_id` (default: `default_model_name`).

    Raises `FileNotFoundError` when `model_dir` has no config.json, `ValueError` for an invalid `repo_id` or malformed
    JSON files.
    """
    model_dir = Path(model_dir)
    if repo_id is not None:
        validate_repo_id(repo_id)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir}: no config.json (not a saved model folder)")
    config = RelBertConfig.from_pretrained(model_dir)
    results = read_json(model_dir / RESULTS_NAME) or {}
    finetuning = read_json(model_dir / FINETUNING_CONFIG_NAME)
    encoder = _encoder_name(config, finetuning)
    base_model = encoder if _is_hub_id(encoder) else None
    model_name = repo_id or model_name or default_model_name(model_dir)
    training_data = finetuning.get("data") if finetuning else None

    evaluations = eval_results(results, repo_id)
    card_data = ModelCardData(
        model_name=model_name,
        eval_results=evaluations or None,
        language="en",
        license=license or BASE_MODEL_LICENSES.get(base_model, "unknown"),
        library_name="transformers",
        pipeline_tag="feature-extraction",
        tags=TAGS,
        base_model=base_model,
        datasets=[training_data] if _is_hub_id(training_data) else None,
        metrics=sorted({result.metric_type for result in evaluations}) or None,
    )
    hyperparameters = [(key, _render(value)) for key, value in (finetuning or {}).items()]
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE_PATH),
        model_name=model_name,  # popped into the model-index when there are eval results: pass it explicitly
        model_id=repo_id or model_dir.as_posix(),
        description=_description(encoder, finetuning),
        hidden_size=config.hidden_size,
        result_notes=_result_notes(results, repo_id),
        groups=_result_groups(results),
        details=_details(config),
        hyperparameters=hyperparameters,
        training_summary=f"Hyperparameters, as recorded in {FINETUNING_CONFIG_NAME}:",
        finetuning_config_url=_file_url(repo_id, FINETUNING_CONFIG_NAME),
    )


def save_model_card(
    model_dir: str | os.PathLike,
    repo_id: str | None = None,
    license: str | None = None,
    eval_results_files: bool = False,
    overwrite: bool = False,
    model_name: str | None = None,
) -> list[Path]:
    """Write the card of `model_dir` to `model_dir/README.md` (and, with `eval_results_files`, the
    `.eval_results/*.yaml` files); returns the paths written.

    The card is checked before anything is written: it must parse back with `ModelCard.load` and its eval results
    must equal those built from results.json. Existing files are refused (`FileExistsError`) unless `overwrite`.
    """
    model_dir = Path(model_dir)
    card = generate_model_card(model_dir, repo_id=repo_id, license=license, model_name=model_name)
    results = read_json(model_dir / RESULTS_NAME) or {}
    outputs = {model_dir / README_NAME: str(card)}
    if eval_results_files:
        for name, entries in eval_result_files(results, repo_id).items():
            outputs[model_dir / EVAL_RESULTS_DIR / name] = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True)
    stale = [path for path in (model_dir / EVAL_RESULTS_DIR).glob("*.yaml") if path not in outputs]
    existing = [str(path) for path in [*outputs, *(stale if eval_results_files else [])] if path.exists()]
    if existing and not overwrite:
        verb = "exists" if len(existing) == 1 else "exist"
        raise FileExistsError(f"{', '.join(existing)} {verb}; pass --overwrite to replace")
    if (ModelCard(str(card)).data.eval_results or []) != eval_results(results, repo_id):
        raise ValueError("the generated card's model-index does not reproduce results.json")  # a bug, not bad input
    if eval_results_files:  # files of benchmarks no longer in results.json
        for path in stale:
            path.unlink()
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(outputs)


__all__ = [
    "BASE_MODEL_LICENSES",
    "EVAL_RESULTS_DIR",
    "README_NAME",
    "RESULTS_NAME",
    "Score",
    "TAGS",
    "default_model_name",
    "eval_result_files",
    "eval_results",
    "generate_model_card",
    "read_json",
    "reported_scores",
    "save_model_card",
]

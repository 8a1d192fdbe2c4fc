"""Publishing a relbert-hf model folder on the Hugging Face Hub with `huggingface_hub` (no git).

```python
>>> from hub_card import missing_items, push_model_folder, upload_plan
>>> missing_items("runs/minilm/model", "my-org/relbert-minilm")     # [] when the folder is complete
>>> upload_plan("runs/minilm/model")                                 # [(path in repo, bytes), ...]
>>> push_model_folder("runs/minilm/model", "my-org/relbert-minilm", private=True)
```

A folder is pushed only when it is complete: weights as safetensors, a config with `auto_map` and `custom_pipelines`,
the code files that `trust_remote_code` loads, the tokenizer, `finetuning_config.json`, `results.json` and a
`README.md` written by `hub_card` for this repo id from the current `results.json`. The push is
`create_repo(exist_ok=True)` then one `upload_folder` commit of the folder, README.md included (transformers'
`push_to_hub` would replace the card with the remote one).
"""

import os
from pathlib import Path

import yaml
from huggingface_hub import CommitInfo, HfApi, ModelCard
from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects, validate_repo_id

from relbert_hf import __version__, configuration_relbert, modeling_relbert, pipeline_relbert
from relbert_hf.training.trainer import FINETUNING_CONFIG_NAME

from .model_card import EVAL_RESULTS_DIR, README_NAME, RESULTS_NAME, eval_result_files, eval_results, read_json


#: The files `trust_remote_code` loads, as `RelBertModel.save_pretrained` names them in the folder.
CODE_FILES = tuple(Path(module.__file__).name for module in (configuration_relbert, modeling_relbert, pipeline_relbert))
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PIPELINE_TASK = "relation-embedding"
#: Never uploaded (besides huggingface_hub's own `.git`/`.cache` defaults): Python caches and temporary files.
IGNORE_PATTERNS = ["*__pycache__*", "*.pyc", "*.tmp"]


class IncompleteModelFolder(ValueError):
    """A model folder that is not ready to push; `missing` lists what is missing or wrong, one item each."""

    def __init__(self, model_dir: str | os.PathLike, missing: list[str]):
        self.missing = missing
        super().__init__(f"{model_dir} is not ready to push: {'; '.join(missing)}")


def _missing_weights(model_dir: Path) -> list[str]:
    if (model_dir / WEIGHTS_NAME).is_file():
        return []
    index = read_json(model_dir / WEIGHTS_INDEX_NAME)
    if index is None:
        found = sorted(path.name for path in model_dir.glob("*.bin"))
        return [f"weights as safetensors ({WEIGHTS_NAME}{'; found ' + ', '.join(found) if found else ''})"]
    shards = sorted(set(index.get("weight_map", {}).values()))
    missing = [shard for shard in shards if not (model_dir / shard).is_file()]
    return [f"weight shard {shard} (listed in {WEIGHTS_INDEX_NAME})" for shard in missing]


def _missing_in_config(model_dir: Path) -> list[str]:
    config = read_json(model_dir / "config.json")
    if config is None:
        return ["config.json"]
    missing = []
    auto_map = config.get("auto_map") or {}
    if not {"AutoConfig", "AutoModel"} <= set(auto_map):
        missing.append("config.json: auto_map with AutoConfig and AutoModel (save with RelBertModel.save_pretrained)")
    if PIPELINE_TASK not in (config.get("custom_pipelines") or {}):
        missing.append(
            f"config.json: custom_pipelines entry for {PIPELINE_TASK} (save with RelBertModel.save_pretrained)"
        )
    return missing


def _missing_in_card(model_dir: Path, repo_id: str, results: dict | None) -> list[str]:
    regenerate = f"run: relbert-hf card {model_dir} --repo-id {repo_id} --overwrite"
    if not (model_dir / README_NAME).is_file():
        return [f"{README_NAME} ({regenerate.replace(' --overwrite', '')})"]
    try:
        card = ModelCard.load(model_dir / README_NAME)
    except ValueError as error:
        return [f"{README_NAME}: unreadable metadata ({error}); {regenerate}"]
    if not card.data.eval_results:
        return [f"{README_NAME}: no model-index with evaluation results; {regenerate}"]
    if card.data.model_name != repo_id:
        return [f"{README_NAME}: written for {card.data.model_name!r}, not {repo_id}; {regenerate}"]
    if results is not None and card.data.eval_results != eval_results(results, repo_id):
        return [f"{README_NAME}: its model-index differs from {RESULTS_NAME}; {regenerate}"]
    return []


def _stale_eval_results(model_dir: Path, repo_id: str, results: dict | None) -> list[str]:
    folder = model_dir / EVAL_RESULTS_DIR
    if not folder.is_dir() or results is None:
        return []
    expected = eval_result_files(results, repo_id)
    try:
        found = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in folder.glob("*.yaml")}
    except yaml.YAMLError:
        found = None
    if found == expected:
        return []
    return [
        f"{EVAL_RESULTS_DIR}/: differs from {RESULTS_NAME} or was written for another repo id; run: relbert-hf card "
        f"{model_dir} --repo-id {repo_id} --eval-results-files --overwrite (or delete {EVAL_RESULTS_DIR}/)"
    ]


def missing_items(model_dir: str | os.PathLike, repo_id: str) -> list[str]:
    """What `model_dir` lacks to be pushed as `repo_id`, one item per problem (empty when complete); see the module
    docstring. Raises `ValueError` for an invalid `repo_id`."""
    validate_repo_id(repo_id)
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return [f"{model_dir}: no such folder"]
    missing = _missing_weights(model_dir) + _missing_in_config(model_dir)
    missing += [name for name in (*CODE_FILES, *TOKENIZER_FILES) if not (model_dir / name).is_file()]
    if not (model_dir / FINETUNING_CONFIG_NAME).is_file():
        missing.append(f"{FINETUNING_CONFIG_NAME} (written by training; an untrained model is not pushed)")
    results = read_json(model_dir / RESULTS_NAME)
    if results is None:
        missing.append(f"{RESULTS_NAME} (run: relbert-hf evaluate {model_dir})")
    elif not eval_results(results):
        missing.append(f"{RESULTS_NAME}: no benchmark scores")
    elif "limit" in results:
        missing.append(f"{RESULTS_NAME}: smoke-test scores (--limit {results['limit']}); evaluate without --limit")
    missing += _missing_in_card(model_dir, repo_id, results) + _stale_eval_results(model_dir, repo_id, results)
    return missing


def upload_plan(model_dir: str | os.PathLike) -> list[tuple[str, int]]:
    """(path in the repo, size in bytes) of every file `push_model_folder` uploads, selected as `upload_folder` does."""
    model_dir = Path(model_dir)
    files = sorted(path.relative_to(model_dir).as_posix() for path in model_dir.glob("**/*") if path.is_file())
    selected = filter_repo_objects(files, ignore_patterns=IGNORE_PATTERNS + DEFAULT_IGNORE_PATTERNS)
    return [(path, (model_dir / path).stat().st_size) for path in selected]


def push_model_folder(
    model_dir: str | os.PathLike,
    repo_id: str,
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
) -> CommitInfo:
    """Create `repo_id` if needed (`private` applies only then) and upload `model_dir` in one commit on `revision`
    (a branch, created if missing; default `main`).

    Raises `IncompleteModelFolder` (see `missing_items`) before touching the network; `huggingface_hub` errors
    (`OfflineModeIsEnabled` with `HF_HUB_OFFLINE=1`, `HfHubHTTPError`) pass through.
    """
    missing = missing_items(model_dir, repo_id)
    if missing:
        raise IncompleteModelFolder(model_dir, missing)
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=model_dir,
        revision=revision,
        commit_message=commit_message or f"Upload RelBERT model (relbert-hf {__version__})",
        ignore_patterns=list(IGNORE_PATTERNS),
    )


__all__ = [
    "CODE_FILES",
    "IGNORE_PATTERNS",
    "IncompleteModelFolder",
    "missing_items",
    "push_model_folder",
    "upload_plan",
]

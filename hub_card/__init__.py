"""Model cards and Hub publishing for relbert-hf model folders.

```python
>>> from hub_card import save_model_card, push_model_folder
>>> save_model_card("runs/minilm/model", repo_id="my-org/relbert-minilm")      # README.md from results.json
>>> push_model_folder("runs/minilm/model", "my-org/relbert-minilm")           # checks, then one upload commit
```
From the shell: `relbert-hf card MODEL_DIR --repo-id ID` and `relbert-hf push MODEL_DIR --repo-id ID [--dry-run]`.
"""

from .model_card import (
    EVAL_RESULTS_DIR,
    README_NAME,
    RESULTS_NAME,
    default_model_name,
    eval_result_files,
    eval_results,
    generate_model_card,
    reported_scores,
    save_model_card,
)
from .push import CODE_FILES, IncompleteModelFolder, missing_items, push_model_folder, upload_plan


__all__ = [
    "CODE_FILES",
    "EVAL_RESULTS_DIR",
    "IncompleteModelFolder",
    "README_NAME",
    "RESULTS_NAME",
    "default_model_name",
    "eval_result_files",
    "eval_results",
    "generate_model_card",
    "missing_items",
    "push_model_folder",
    "reported_scores",
    "save_model_card",
    "upload_plan",
]

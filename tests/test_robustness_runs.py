"""Runs under stress: strict JSON, two processes on one `--out`, a full disk (issue 31)."""

from __future__ import annotations

import dataclasses
import json

import zoo
from tests.toy_recipe import TOY
from zoo import json_files


def _strict_load(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_files_write_non_finite_numbers_as_null(tmp_path):
    import numpy as np

    value = {"inf": float("inf"), "nan": np.float32("nan"), "rows": (1, np.int64(2)), "neg": [-float("inf")]}
    json_files.write_json(tmp_path / "a.json", value)
    assert _strict_load((tmp_path / "a.json").read_text()) == {"inf": None, "nan": None, "rows": [1, 2], "neg": [None]}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def test_metrics_json_is_strict_json_when_a_metric_overflows(tmp_path):
    """char_rnn's perplexity overflowed to inf and metrics.json held `Infinity`."""
    report = lambda hp, data, model, ctx: {"perplexity": float("inf"), "ratio": float("nan")}  # noqa: E731
    result = zoo.fit(dataclasses.replace(TOY, report=report), out=tmp_path / "run", strategy="one", verbose=0, epochs=1)
    metrics = _strict_load((result.run_dir / "metrics.json").read_text())
    assert metrics["perplexity"] is None and metrics["ratio"] is None and metrics["val_loss"] > 0
    _strict_load((result.run_dir / "config.json").read_text())

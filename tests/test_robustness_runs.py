"""Runs under stress: strict JSON, two processes on one `--out`, a full disk (issue 31)."""

from __future__ import annotations

import dataclasses
import json
import os

import pandas as pd
import pytest

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


def _toy(out, *extra):
    from tests.test_driver import toy_cli

    args = ("toy", "--out", str(out), "--strategy", "one", "--batch-size", "8", "--set", "rows=2500", *extra)
    return toy_cli(*args)


def test_two_processes_on_one_out_one_refuses_in_one_line_the_other_finishes(tmp_path):
    """Started together: one takes the run folder's lock, the other is refused at once (before any work)."""
    from tests.test_driver import finish

    out = tmp_path / "run"
    procs = [_toy(out, "--epochs", "8") for _ in range(2)]
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], [err[-2000:] for _, _, err in results]
    winner, loser = (0, 1) if results[0][0] == 0 else (1, 0)
    err = results[loser][2]
    assert "Traceback" not in err, err[-2000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"error: --out {out} is in use: another run (process {procs[winner].pid})"), line
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == list(range(8))  # one header, every epoch once
    assert not (out / ".lock").exists() and not (tmp_path / "run.partial").exists()


def test_the_lock_is_released_in_process_and_a_crashed_runs_folder_resumes(tmp_path):
    """A failed `fit` frees the folder for a retry in the same process; a lock file left behind is no obstacle."""

    def broken_report(hp, data, model, ctx):
        raise RuntimeError("report failed")

    with pytest.raises(RuntimeError, match="report failed"):
        zoo.fit(dataclasses.replace(TOY, report=broken_report), out=tmp_path / "run", strategy="one", verbose=0)
    assert (tmp_path / "run.partial" / ".lock").exists()  # as a killed run leaves it
    result = zoo.fit(TOY, out=tmp_path / "run", strategy="one", verbose=0)
    assert result.metrics["epochs_trained"] == 2 and not (result.run_dir / ".lock").exists()


def test_a_second_holder_in_the_same_process_is_refused(tmp_path):
    from zoo.training.run_folder import RunFolder, RunFolderBusy

    holder = RunFolder.open(tmp_path / "run", chief=True)
    try:
        with pytest.raises(RunFolderBusy, match=f"is in use: another run \\(process {os.getpid()}\\)"):
            RunFolder.open(tmp_path / "run", chief=True)
        assert holder.work.exists()  # the refused one removed nothing
    finally:
        holder.release()
    RunFolder.open(tmp_path / "run", chief=True).release()


def test_history_survives_a_cut_line_and_a_second_header(tmp_path):
    from zoo.training.run_folder import RunFolder

    folder = RunFolder.open(tmp_path / "run", chief=True)
    folder.release()
    folder.history_csv.write_text("epoch,loss\n0,1.5\nepoch,loss\n1,1.2\n2,1.")
    frame = folder.history()
    assert list(frame["epoch"]) == [0, 1, 2] and frame["loss"].dtype.kind == "f"

"""Runs under stress: strict JSON, two processes on one `--out`, a full disk (issue 31)."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
from pathlib import Path

import keras
import pandas as pd
import pytest
import tensorflow as tf

import zoo
from tests.toy_recipe import TOY
from zoo import disk, json_files, run
from zoo.errors import DiskFull


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


def _no_space(path):
    return OSError(errno.ENOSPC, "No space left on device", str(path))


def test_a_full_disk_during_backups_is_one_line_and_keeps_the_last_good_backup(tmp_path, monkeypatch, capsys):
    """The second backup meets a full disk: exit 2, one line naming the file; the first backup still loads."""
    save_weights = keras.Model.save_weights
    calls = []

    def full_on_second_backup(model, *args, **kwargs):
        path = args[0] if args else kwargs["filepath"]
        if "latest" in str(path):
            calls.append(path)
            if len(calls) == 2:
                Path(path).write_bytes(b"half")  # as a write cut short leaves it
                raise _no_space(path)
        return save_weights(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", full_on_second_backup)
    out = tmp_path / "run"
    args = ["toy", "--out", str(out), "--strategy", "one", "--epochs", "3", "--set", "backup_seconds=0"]
    assert run.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    backup = tmp_path / "run.partial" / "backup"
    assert err == [
        f"error: no space left on device while writing {backup / 'latest.weights.h5'}: "
        "free some space and rerun the same command to resume"
    ]
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1  # the first epoch
    assert sorted(p.name for p in backup.iterdir()) == ["latest.weights.h5", "training_metadata.json"]
    TOY.model(zoo.recipes.resolve_hparams(TOY, {}), TOY.data(zoo.recipes.resolve_hparams(TOY, {}), None)).load_weights(
        backup / "latest.weights.h5"
    )
    monkeypatch.setattr(keras.Model, "save_weights", save_weights)  # space was freed: the same command resumes
    assert run.main(args) == 0
    assert "Resuming toy from epoch 2" in capsys.readouterr().out
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0, 1, 2]


def test_a_full_disk_at_export_keeps_the_trained_model_and_resumes_without_training(tmp_path, monkeypatch, capsys):
    def full(model, path, *args, **kwargs):
        raise _no_space(path)

    monkeypatch.setattr(keras.Model, "save", full)
    out = tmp_path / "run"
    args = ["toy", "--out", str(out), "--strategy", "one", "--epochs", "1"]
    assert run.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"error: no space left on device while writing {out}.partial/model.keras"
    )
    partial = tmp_path / "run.partial"
    assert not list(partial.glob("*.tmp*")) and (partial / "checkpoints" / "trained.weights.h5").exists()
    monkeypatch.undo()
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("trained again"))
    assert run.main(args) == 0 and (out / "model.keras").exists()


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        RuntimeError("Can't decrement id ref count (file write failed: errno = 28, error message = 'No space')"),
        tf.errors.ResourceExhaustedError(None, None, "/run/x; No space left on device"),
    ],
)
def test_every_way_a_library_says_the_disk_is_full_is_one_user_error(error, tmp_path):
    with pytest.raises(DiskFull, match=f"no space left on device while writing {tmp_path}/x.json: free some"):
        with disk.writing(tmp_path / "x.json", tmp=tmp_path / "x.json.tmp"):
            (tmp_path / "x.json.tmp").write_text("half")
            raise error
    assert not (tmp_path / "x.json.tmp").exists()


def test_weights_are_not_handed_to_hdf5_when_they_cannot_fit(tmp_path, monkeypatch):
    """HDF5 meeting a full disk breaks its file object and the process segfaults on exit: check first."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    path = tmp_path / "w.weights.h5"
    disk.save_weights(model, path)
    before = path.read_bytes()
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    monkeypatch.setattr(keras.Model, "save_weights", lambda *a, **k: pytest.fail("HDF5 met a full disk"))
    with pytest.raises(DiskFull, match="w.weights.h5"):
        disk.save_weights(model, path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["w.weights.h5"]

"""`zoo.fit`: the one driver every recipe trains through (strategy, callbacks, run folder, export)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import shlex
import shutil
import signal
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from zoo import recipes
from zoo.data.fetch import default_data_dir
from zoo.errors import DataNotFound, UserError
from zoo.recipes.base import Data, HParams, Recipe, RunContext
from zoo.training import callbacks as callbacks_lib
from zoo.training import strategy as strategies


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite (TerminateOnNaN stopped the run)."""


class RunInterrupted(KeyboardInterrupt):
    """Training was stopped by Ctrl-C or SIGTERM; the last finished epoch is backed up in `work`.

    Running the same command again resumes from `epochs_done`.
    """

    def __init__(self, signum: int, epochs_done: int, work: Path):
        super().__init__(f"interrupted after epoch {epochs_done}")
        self.signum, self.epochs_done, self.work = signum, epochs_done, work


@dataclasses.dataclass
class RunResult:
    """What `fit` returns: the finished run folder, its metrics and the trained model."""

    run_dir: Path
    metrics: dict[str, Any]
    model: keras.Model
    hparams: HParams


def default_out(name: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("saved_models") / name / stamp


def fit(
    recipe: str | Recipe,
    *,
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    strategy: str = "auto",
    cpu_replicas: int | None = None,
    max_steps: int | None = None,
    evaluate_only: bool = False,
    verbose: int | str = "auto",
    **overrides: Any,
) -> RunResult:
    """Train, evaluate and export one recipe; `overrides` are its hyper-parameters (`epochs=3`).

    The run folder `out` (default `saved_models/NAME/<timestamp>`) is built as `out.partial` and
    renamed when complete. Restarting with the same `out` resumes from the last finished epoch.
    """
    recipe = recipes.get(recipe) if isinstance(recipe, str) else recipe
    hp = recipes.resolve_hparams(recipe, overrides)
    if max_steps is not None and max_steps < 1:
        raise UserError(f"--max-steps must be >= 1, got {max_steps}")
    if evaluate_only and not hp.checkpoint:
        raise UserError("--evaluate-only needs --set checkpoint=RUN_DIR (a finished run folder)")
    checkpoint = _checkpoint_file(hp.checkpoint, recipe) if hp.checkpoint else None
    final = Path(out) if out else default_out(recipe.name)
    final = final.expanduser().resolve()
    chief = strategies.is_chief()
    if chief:
        _check_out(final)
    dist = strategies.resolve(strategy, cpu_replicas)
    keras.utils.set_random_seed(hp.seed)
    data_dir = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()

    work = final.with_name(final.name + ".partial") if chief else Path(tempfile.mkdtemp(prefix="zoo-worker-"))
    fresh = not work.exists()
    created = _make_folder(work)
    run = {
        "strategy": strategy,
        "cpu_replicas": cpu_replicas,
        "max_steps": max_steps,
        "data_dir": str(data_dir),
        "replicas": dist.num_replicas_in_sync,
    }
    try:
        _check_resume(work, recipe, hp)
        _write_json(work / "config.json", _config(recipe, hp, run, final))
        ctx = RunContext(data_dir=data_dir, run_dir=work, max_steps=max_steps, is_chief=chief, strategy=dist)
        data = prepare_data(recipe, hp, ctx)
        with dist.scope():
            model = recipe.model(hp, data)
            if hp.checkpoint:
                with warnings.catch_warnings():  # the fresh optimizer is unbuilt: its saved state is not wanted
                    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                    try:
                        model.load_weights(checkpoint)
                    except ValueError as error:  # a run of this recipe with other shapes
                        raise UserError(
                            f"--set checkpoint={hp.checkpoint}: its weights do not fit this model "
                            f"(other hyper-parameters?): {str(error).splitlines()[0][:200]}"
                        ) from None
    except BaseException:
        if fresh:  # nothing was trained yet: leave no empty run folder (nor the parents made for it) behind
            shutil.rmtree(created, ignore_errors=True)
        raise

    metrics: dict[str, Any] = {}
    trained = work / "checkpoints" / "trained.weights.h5"  # training finished: a rerun goes straight on
    if not evaluate_only and trained.exists():
        print(f"{recipe.name}: training finished in an earlier attempt; evaluating and exporting", flush=True)
        model.load_weights(trained)
        metrics.update(json.loads((work / "checkpoints" / "train_metrics.json").read_text()))
    elif not evaluate_only:
        metrics.update(_train(model, recipe, hp, data, work, verbose))
        # Keras deletes its backup when fit ends: keep the trained state until the run is complete,
        # so that a stop during evaluation, report or export does not train again.
        tmp = trained.with_name("trained.tmp.weights.h5")
        model.save_weights(tmp)
        _write_json(work / "checkpoints" / "train_metrics.json", metrics)
        os.replace(tmp, trained)
    metrics.update(_evaluate(model, data, verbose))
    if recipe.report is not None:
        metrics.update(recipe.report(hp, data, model, ctx) or {})
    _export(model, recipe, hp, data, work, metrics)
    trained.unlink(missing_ok=True)  # model.keras holds the trained model now
    (work / "checkpoints" / "train_metrics.json").unlink(missing_ok=True)

    if chief:
        os.replace(work, final)
    else:
        shutil.rmtree(work, ignore_errors=True)
        final = work
    return RunResult(run_dir=final, metrics=metrics, model=model, hparams=hp)


def prepare_data(recipe: Recipe, hp: HParams, ctx: RunContext) -> Data:
    """The recipe's `Data` exactly as `fit` trains on it: at most `ctx.max_steps` batches per split, prefetched.

    A seam for benchmarks and notebooks that want the driver's data without the rest of a run.

    Example:
        >>> recipe = zoo.recipes.get("iris_mlp")
        >>> hp = zoo.recipes.resolve_hparams(recipe, {"epochs": 1})
        >>> data = prepare_data(recipe, hp, RunContext(data_dir=Path("../shared/data"), run_dir=Path("/tmp")))
    """
    data = recipe.data(hp, ctx)

    def cap(ds):
        if ds is None:
            return None
        if ctx.max_steps is not None:
            ds = ds.take(ctx.max_steps)
        return ds.prefetch(tf.data.AUTOTUNE)

    return dataclasses.replace(data, train=cap(data.train), validation=cap(data.validation), test=cap(data.test))


def _train(model, recipe: Recipe, hp: HParams, data: Data, work: Path, verbose) -> dict[str, Any]:
    monitor = recipe.monitor if data.validation is not None else recipe.monitor.removeprefix("val_")
    backup = work / "backup"
    resumed_from = _backup_epoch(backup)
    if resumed_from is not None:
        print(f"Resuming {recipe.name} from epoch {resumed_from + 1} (backup in {backup})", flush=True)
    (work / "checkpoints").mkdir(exist_ok=True)
    # The CSV row of an epoch is written before its backup, so a killed run never loses a row
    # (it may log one twice; `_history_frame` keeps the last).
    backup_callback = callbacks_lib.ThrottledBackupAndRestore(str(backup), min_seconds=hp.backup_seconds)
    callbacks = [
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=True),
        backup_callback,
        callbacks_lib.BestWeights(
            str(work / "checkpoints" / "best.weights.h5"), monitor=monitor, min_seconds=hp.backup_seconds
        ),
        keras.callbacks.TensorBoard(str(work / "logs"), profile_batch=0),
        callbacks_lib.TerminateOnNaN(),
    ]
    for callback in callbacks:
        # Their batch hooks do nothing with epoch-level saving (or only read the loss), so Keras 3
        # may run them in its callback thread; one callback without this flag makes every batch
        # wait for all callbacks, which cost the driver about a quarter of plain `fit`'s speed.
        callback.async_safe = True
    if hp.patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor=monitor, patience=hp.patience, restore_best_weights=True)
        )
    if recipe.callbacks is not None:
        callbacks.extend(recipe.callbacks(hp, data))
    train, steps_per_epoch = epoch_stream(data.train, resumed_from or 0)
    try:
        history = model.fit(
            train,
            steps_per_epoch=steps_per_epoch,
            validation_data=data.validation,
            epochs=hp.epochs,
            callbacks=callbacks,
            shuffle=False,  # datasets arrive shuffled by the recipe (seeded); Keras ignores it for tf.data anyway
            verbose=_verbosity(verbose),
        )
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM through the CLI's handler
        backup_callback.save_last_epoch()
        raise RunInterrupted(getattr(stop, "signum", signal.SIGINT), _backup_epoch(backup) or 0, work) from None
    losses = history.history.get("loss", [])
    if losses and not all(math.isfinite(v) for v in losses):
        raise TrainingDiverged(
            f"{recipe.name}: the training loss became {losses[-1]} in epoch {len(losses)}; "
            f"lower the learning rate or enable gradient clipping (the partial run is in {work})"
        )
    result: dict[str, Any] = {f"final_{k}": float(v[-1]) for k, v in history.history.items() if v}
    result["epochs_trained"] = _history_frame(work).shape[0]
    if resumed_from is not None:
        result["resumed_from_epoch"] = resumed_from + 1
    return result


def epoch_stream(train: tf.data.Dataset, start_epoch: int = 0) -> tuple[tf.data.Dataset, int | None]:
    """The training data as one repeated stream and its batches per epoch, starting at `start_epoch`.

    Keras keeps one iterator across epochs when it is given `steps_per_epoch` and an endless
    dataset; given the dataset itself, it creates a new (distributed) iterator every epoch, which
    under a multi-device strategy cost about half a second and ~20 traced functions per epoch.
    Epoch k of the stream is the k-th pass over `train` (its seeded shuffle included), so a resumed
    run skips the passes it already trained on and sees the same batches as an uninterrupted one.
    A dataset of unknown or infinite length is returned as it is.
    """
    batches = int(train.cardinality())
    if batches <= 0:
        return train, None
    stream = train.repeat()
    if start_epoch:
        stream = stream.skip(start_epoch * batches)
    return stream, batches


def _evaluate(model, data: Data, verbose) -> dict[str, float]:
    split, ds = ("test", data.test) if data.test is not None else ("val", data.validation)
    if ds is None:
        return {}
    scores = model.evaluate(ds, return_dict=True, verbose=_verbosity(verbose))
    return {f"{split}_{k}": float(v) for k, v in scores.items()}


def _export(model, recipe: Recipe, hp: HParams, data: Data, work: Path, metrics: dict) -> None:
    from zoo import export
    from zoo.visualize.curves import training_curves

    history = _history_frame(work)
    if not history.empty:
        history.to_csv(work / "history.csv", index=False)
        training_curves(history, work / "curves.png", title=recipe.name)
    model.save(work / "model.keras")
    serving = recipe.serving(hp, data, model) if recipe.serving else model
    export.save_serving(serving, work / "saved_model")
    _write_json(work / "metrics.json", metrics)


def _history_frame(work: Path):
    import pandas as pd

    path = work / "history.csv"
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    frame = pd.read_csv(path)
    # A run killed between two callbacks may have logged an epoch twice: keep the last.
    return frame.drop_duplicates("epoch", keep="last").reset_index(drop=True)


def _backup_epoch(backup: Path) -> int | None:
    meta = backup / "training_metadata.json"
    if not meta.exists():
        return None
    return int(json.loads(meta.read_text())["epoch"])


def _check_resume(work: Path, recipe: Recipe, hp: HParams) -> None:
    config = work / "config.json"
    if not config.exists():
        return
    previous = json.loads(config.read_text())
    changed = _changed_hparams(
        previous.get("hparams") or {},
        _jsonable(hp.to_dict()),
        _jsonable({k: p.default for k, p in recipe.params().items()}),
    )
    if previous.get("recipe") != recipe.name or changed:
        raise UserError(
            f"{work} holds an unfinished run of {previous.get('recipe')} with other hyper-parameters "
            f"({', '.join(changed) or 'another recipe'}); resume it with the same settings "
            f"({previous.get('command')}) or choose another --out"
        )


def _changed_hparams(previous: dict, current: dict, defaults: dict) -> list[str]:
    """Names whose value differs between an unfinished run and this one.

    A parameter the earlier run does not record came with a newer version of the recipe: it matches
    when this run leaves it at its default, so updating the zoo does not strand a half-trained run.
    """
    return sorted(k for k in set(previous) | set(current) if previous.get(k, defaults.get(k)) != current.get(k))


def _checkpoint_file(checkpoint: str, recipe: Recipe) -> Path:
    """The `model.keras` of a finished run folder of `recipe` (or a `.keras` file)."""
    path = Path(checkpoint).expanduser()
    config = path / "config.json"
    if path.is_dir() and config.exists():
        trained = json.loads(config.read_text()).get("recipe")
        if trained != recipe.name:
            raise UserError(f"--set checkpoint={checkpoint} is a run of recipe {trained}, not {recipe.name}")
    path = path / "model.keras" if path.is_dir() else path
    if not path.exists():
        raise DataNotFound(f"--set checkpoint={checkpoint}: no model.keras there (expected a finished run folder)")
    return path


def _check_out(final: Path) -> None:
    """Every way `--out` can be wrong, said in one line before any work is done."""
    if final.is_file():
        raise UserError(f"--out {final} is a file; name a folder for the run")
    if final.is_dir():
        if (final / "config.json").exists() or (final / "metrics.json").exists():
            raise UserError(f"--out {final} already holds a finished run; choose another folder")
        if any(final.iterdir()):
            raise UserError(f"--out {final} is a folder that is not empty (and not a run); choose another folder")
        final.rmdir()  # an empty folder: the finished run takes its place
    ancestor = final.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"--out {final}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"--out {final}: no permission to write in {ancestor}")


def _make_folder(folder: Path) -> Path:
    """`mkdir -p folder`; returns the top-most folder it created (to remove on failure) or `folder`."""
    top = folder
    while not top.parent.exists():
        top = top.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"--out {folder.with_name(folder.name.removesuffix('.partial'))}: cannot create the run "
            f"folder ({error.strerror})"
        ) from None
    return top


def _verbosity(verbose):
    if verbose != "auto":
        return verbose
    return "auto" if sys.stdout.isatty() else 2


def _config(recipe: Recipe, hp: HParams, run: dict, final: Path) -> dict:
    command = ["python", "-m", "zoo.run", recipe.name, "--out", str(final), "--strategy", run["strategy"]]
    if run["cpu_replicas"]:
        command += ["--cpu-replicas", str(run["cpu_replicas"])]
    if run["max_steps"]:
        command += ["--max-steps", str(run["max_steps"])]
    command += ["--data-dir", run["data_dir"]]
    for key, value in hp.to_dict().items():
        value = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
        command += ["--set", f"{key}={value}"]
    return {
        "recipe": recipe.name,
        "chapter": recipe.chapter,
        "hparams": _jsonable(hp.to_dict()),
        "run": run,
        "command": shlex.join(command),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "python": sys.version.split()[0]},
    }


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_jsonable(value), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)

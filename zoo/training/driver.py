"""`zoo.fit`: the one driver every recipe trains through (strategy, callbacks, run folder, export).

`fit` runs a few named steps over one `RunState`:

1. `resolve_settings`: the recipe, its hyper-parameters and every option, checked (`RunSettings`);
2. `open_run`: the strategy, the seed and the run folder (`DIR.partial`, reopened to resume);
3. `prepare`: `config.json`, the data and the model (initialised from `checkpoint`);
4. `train_or_resume`: training (or the model an earlier attempt finished training) and its history;
5. `evaluate_and_report`: the evaluation split's scores, then the recipe's task metrics;
6. `export`: `history.csv`, `curves.png`, `model.keras`, `saved_model/`, `metrics.json`;
7. `finish`: `DIR.partial` renamed to `DIR`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

from zoo import disk, recipes
from zoo.data.fetch import default_data_dir
from zoo.errors import DataNotFound, UserError
from zoo.recipes.base import Data, HParams, Recipe, RunContext
from zoo.training import loop
from zoo.training import run_folder as folders
from zoo.training import strategy as strategies
from zoo.training.loop import RunInterrupted, TrainingDiverged, epoch_stream
from zoo.training.run_folder import RunFolder

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit", "prepare_data", "RunResult", "RunInterrupted", "TrainingDiverged", "epoch_stream", "default_out"]


@dataclasses.dataclass
class RunResult:
    """What `fit` returns: the finished run folder, its metrics and the trained model."""

    run_dir: Path
    metrics: dict[str, Any]
    model: keras.Model
    hparams: HParams


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """What `fit` was asked to do, checked before any work.

    Args:
        recipe: the recipe to run.
        hp: its resolved hyper-parameters (`epochs`, `seed`, `checkpoint`, ... included).
        final: the finished run folder (absolute).
        data_dir: where datasets are read (absolute).
        strategy: the `--strategy` name; `cpu_replicas` splits the CPU into that many devices.
        max_steps: cap on batches per epoch and evaluation (smoke runs).
        evaluate_only: skip training (the model comes from `checkpoint`).
        verbose: Keras' `verbose` (`"auto"`: a progress bar on a terminal, else one line per epoch).
        checkpoint: the `model.keras` that initialises the model, or None.
        chief: whether this process writes the run folder that is kept (`TF_CONFIG`).
    """

    recipe: Recipe
    hp: HParams
    final: Path
    data_dir: Path
    strategy: str = "auto"
    cpu_replicas: int | None = None
    max_steps: int | None = None
    evaluate_only: bool = False
    verbose: int | str = "auto"
    checkpoint: Path | None = None
    chief: bool = True


@dataclasses.dataclass
class RunState:
    """One run as it goes through `fit`'s steps; each step fills in what the next ones read."""

    settings: RunSettings
    strategy: tf.distribute.Strategy
    folder: RunFolder
    ctx: RunContext  # what `data` and `report` see; its `history` is set after training
    data: Data | None = None
    model: keras.Model | None = None
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    history: pd.DataFrame | None = None  # per-epoch metrics, one row per epoch; None if not trained


def default_out(name: str) -> Path:
    """`saved_models/NAME/<timestamp>`, the run folder when `--out` is not given."""
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
    Another process working on the same `out` is refused (`RunFolderBusy`); a full disk stops the
    run with `DiskFull` (both `UserError`s), keeping the last good backup to resume from.
    """
    settings = resolve_settings(
        recipe,
        overrides,
        data_dir=data_dir,
        out=out,
        strategy=strategy,
        cpu_replicas=cpu_replicas,
        max_steps=max_steps,
        evaluate_only=evaluate_only,
        verbose=verbose,
    )
    run = open_run(settings)
    try:
        with disk.writing(run.folder.work):  # a full disk met anywhere (a report's pictures too) names the folder
            with run.folder.removed_on_failure():
                prepare(run)
            train_or_resume(run)
            evaluate_and_report(run)
            export(run)
            return finish(run)
    finally:
        run.folder.release()  # the folder is free for the next attempt (the same process may retry)


def resolve_settings(
    recipe: str | Recipe,
    overrides: dict[str, Any],
    *,
    data_dir: str | os.PathLike | None,
    out: str | os.PathLike | None,
    strategy: str,
    cpu_replicas: int | None,
    max_steps: int | None,
    evaluate_only: bool,
    verbose: int | str,
) -> RunSettings:
    """Step 1: every option checked (a user's mistake is a `UserError`) before anything is written."""
    recipe = recipes.get(recipe) if isinstance(recipe, str) else recipe
    hp = recipes.resolve_hparams(recipe, overrides)
    if max_steps is not None and max_steps < 1:
        raise UserError(f"--max-steps must be >= 1, got {max_steps}")
    if evaluate_only and not hp.checkpoint:
        raise UserError("--evaluate-only needs --set checkpoint=RUN_DIR (a finished run folder)")
    checkpoint = _checkpoint_file(hp.checkpoint, recipe) if hp.checkpoint else None
    final = (Path(out) if out else default_out(recipe.name)).expanduser().resolve()
    chief = strategies.is_chief()
    if chief:
        folders.check_out(final)
    return RunSettings(
        recipe=recipe,
        hp=hp,
        final=final,
        data_dir=Path(data_dir).expanduser().resolve() if data_dir else default_data_dir(),
        strategy=strategy,
        cpu_replicas=cpu_replicas,
        max_steps=max_steps,
        evaluate_only=evaluate_only,
        verbose=verbose,
        checkpoint=checkpoint,
        chief=chief,
    )


def open_run(settings: RunSettings) -> RunState:
    """Step 2: the `tf.distribute` strategy, the seed, and the folder this process works in."""
    dist = strategies.resolve(settings.strategy, settings.cpu_replicas)
    keras.utils.set_random_seed(settings.hp.seed)
    folder = RunFolder.open(settings.final, settings.chief)
    ctx = RunContext(
        data_dir=settings.data_dir,
        run_dir=folder.work,
        max_steps=settings.max_steps,
        is_chief=settings.chief,
        strategy=dist,
    )
    return RunState(settings=settings, strategy=dist, folder=folder, ctx=ctx)


def prepare(run: RunState) -> None:
    """Step 3: `config.json` (after checking a resumed run is the same run), the data, the model."""
    s = run.settings
    run.folder.check_resume(s.recipe, s.hp)
    options = {
        "strategy": s.strategy,
        "cpu_replicas": s.cpu_replicas,
        "max_steps": s.max_steps,
        "data_dir": str(s.data_dir),
        "replicas": run.strategy.num_replicas_in_sync,
    }
    folders.write_json(run.folder.work / "config.json", folders.config(s.recipe, s.hp, options, s.final))
    run.data = prepare_data(s.recipe, s.hp, run.ctx)
    with run.strategy.scope():
        run.model = s.recipe.model(s.hp, run.data)
        if s.checkpoint is not None:
            _load_checkpoint(run.model, s.checkpoint, s.hp.checkpoint)


def train_or_resume(run: RunState) -> None:
    """Step 4: train (resuming from a backup), or load what an earlier attempt finished training.

    Sets `run.history` and `run.ctx.history` (None with `evaluate_only`).
    """
    s, folder = run.settings, run.folder
    if s.evaluate_only:
        return
    metrics = folder.load_trained(run.model)  # training finished: a rerun goes straight on
    if metrics is not None:
        print(f"{s.recipe.name}: training finished in an earlier attempt; evaluating and exporting", flush=True)
    else:
        with loop.deferred_signals() as stop:  # a stop after the last batch waits for the model to be saved
            metrics = loop.train(run.model, s.recipe, s.hp, run.data, folder, s.verbose, stop)
            folder.save_trained(run.model, metrics)
    run.metrics.update(metrics)
    run.history = folder.history()
    run.ctx = dataclasses.replace(run.ctx, history=run.history)


def evaluate_and_report(run: RunState) -> None:
    """Step 5: the scores on the test split (or validation), then the recipe's `report`."""
    # "val_" as Keras prefixes validation metrics (val_loss), so metrics.json has one name for each
    split, ds = ("test", run.data.test) if run.data.test is not None else ("val", run.data.validation)
    if ds is not None:
        scores = run.model.evaluate(ds, return_dict=True, verbose=loop.verbosity(run.settings.verbose))
        run.metrics.update({f"{split}_{k}": float(v) for k, v in scores.items()})
    recipe = run.settings.recipe
    if recipe.report is not None:
        run.metrics.update(recipe.report(run.settings.hp, run.data, run.model, run.ctx) or {})


def export(run: RunState) -> None:
    """Step 6: the history and its curves, `model.keras`, the serving `saved_model/`, `metrics.json`."""
    from zoo import export as export_lib
    from zoo.visualize.curves import training_curves

    s, work = run.settings, run.folder.work
    history = run.history if run.history is not None else run.folder.history()
    if not history.empty:  # each file to a temporary name, then in place: a failed write keeps the last good one
        disk.write_with(work / "history.csv", lambda tmp: history.to_csv(tmp, index=False))
        disk.write_with(work / "curves.png", lambda tmp: training_curves(history, tmp, title=s.recipe.name))
    disk.save_model(run.model, work / "model.keras")
    serving = s.recipe.serving(s.hp, run.data, run.model) if s.recipe.serving else run.model
    export_lib.save_serving(serving, work / "saved_model")
    folders.write_json(work / "metrics.json", run.metrics)
    run.folder.forget_trained()  # model.keras holds the trained model now


def finish(run: RunState) -> RunResult:
    """Step 7: the complete run folder takes its place (a worker's temporary one is deleted)."""
    run_dir = run.folder.finish()
    return RunResult(run_dir=run_dir, metrics=run.metrics, model=run.model, hparams=run.settings.hp)


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


def _load_checkpoint(model: keras.Model, path: Path, flag: str) -> None:
    """Initialise `model` from `path` (`flag` is the `--set checkpoint=` value, for the error)."""
    with warnings.catch_warnings():  # the fresh optimizer is unbuilt: its saved state is not wanted
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        try:
            model.load_weights(path)
        except ValueError as error:  # a run of this recipe with other shapes
            raise UserError(
                f"--set checkpoint={flag}: its weights do not fit this model "
                f"(other hyper-parameters?): {str(error).splitlines()[0][:200]}"
            ) from None

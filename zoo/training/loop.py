"""The training loop around `model.fit`: the driver's callbacks, resuming from a backup, stopping cleanly."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from zoo.data.pipelines import Data
from zoo.recipes.base import HParams, Recipe
from zoo.training import callbacks as callbacks_lib
from zoo.training.run_folder import RunFolder


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite (TerminateOnNaN stopped the run)."""


class RunInterrupted(KeyboardInterrupt):
    """Training was stopped by Ctrl-C or SIGTERM; the last finished epoch is backed up in `work`.

    Running the same command again resumes from `epochs_done`.
    """

    def __init__(self, signum: int, epochs_done: int, work: Path):
        super().__init__(f"interrupted after epoch {epochs_done}")
        self.signum, self.epochs_done, self.work = signum, epochs_done, work


class StopRequested(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived during training; raised at the next safe point (`SignalFlag.check`)."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


class SignalFlag:
    """Ctrl-C and SIGTERM during training as a flag, raised as `StopRequested` where it is checked.

    Python runs a signal handler in the main thread between two bytecodes of whatever code runs
    then; a `KeyboardInterrupt` raised there can land in a finalizer (`__del__`, a weakref callback)
    or an `except BaseException`, which drop it, and a run stopped after epoch 2 finished with exit
    0. Here the handler only records the signal; `callbacks.StopOnSignal` raises it at the next
    batch, and `deferred_signals` after the trained model is saved.
    """

    def __init__(self) -> None:
        self.signum: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:  # a second Ctrl-C: the user does not want to wait for the batch
            raise StopRequested(signum)
        self.signum = signum

    def check(self) -> None:
        """Raise `StopRequested` if a signal arrived."""
        if self.signum is not None:
            raise StopRequested(self.signum)


@contextlib.contextmanager
def deferred_signals() -> Iterator[SignalFlag]:
    """Within the block, Ctrl-C / SIGTERM set a `SignalFlag`; one still pending is raised at its end.

    Only a signal the program already turns into an exception is taken over (Python's Ctrl-C, the
    CLI's SIGTERM handler): a default or ignored SIGTERM, and any signal outside the main thread,
    are left as they are.
    """
    flag = SignalFlag()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                previous[signum] = signal.signal(signum, flag.handle)
    try:
        yield flag
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    flag.check()  # arrived after the last batch: the block's work is done and saved; stop now


def train(
    model: keras.Model,
    recipe: Recipe,
    hp: HParams,
    data: Data,
    folder: RunFolder,
    verbose: int | str,
    stop: SignalFlag | None = None,
) -> dict[str, Any]:
    """`model.fit` on `data.train` for `hp.epochs`, resuming from the folder's backup if there is one.

    Returns the training metrics (`final_loss`, ..., `epochs_trained`, `resumed_from_epoch`).
    Raises `RunInterrupted` on Ctrl-C / SIGTERM (after backing up the last finished epoch; checked
    at every batch through `stop` if given) and `TrainingDiverged` if the loss became NaN or infinite.
    """
    resumed_from = folder.backup_epoch()
    if resumed_from is not None:
        print(f"Resuming {recipe.name} from epoch {resumed_from + 1} (backup in {folder.backup})", flush=True)
    folder.checkpoints.mkdir(exist_ok=True)
    backup = callbacks_lib.ThrottledBackupAndRestore(str(folder.backup), min_seconds=hp.backup_seconds)
    callbacks = driver_callbacks(recipe, hp, data, folder, backup)
    if stop is not None:
        callbacks.insert(0, callbacks_lib.StopOnSignal(stop))
    train_stream, steps_per_epoch = epoch_stream(data.train, resumed_from or 0)
    try:
        history = model.fit(
            train_stream,
            steps_per_epoch=steps_per_epoch,
            validation_data=data.validation,
            epochs=hp.epochs,
            callbacks=callbacks,
            shuffle=False,  # datasets arrive shuffled by the recipe (seeded); Keras ignores it for tf.data anyway
            verbose=verbosity(verbose),
        )
    except KeyboardInterrupt as interrupt:  # StopRequested, or Ctrl-C / SIGTERM without a `stop` flag
        backup.save_last_epoch()
        signum = getattr(interrupt, "signum", signal.SIGINT)
        raise RunInterrupted(signum, folder.backup_epoch() or 0, folder.work) from None
    losses = history.history.get("loss", [])
    if losses and not all(math.isfinite(v) for v in losses):
        raise TrainingDiverged(
            f"{recipe.name}: the training loss became {losses[-1]} in epoch {len(losses)}; "
            f"lower the learning rate or enable gradient clipping (the partial run is in {folder.work})"
        )
    result: dict[str, Any] = {f"final_{k}": float(v[-1]) for k, v in history.history.items() if v}
    result["epochs_trained"] = folder.history().shape[0]
    if resumed_from is not None:
        result["resumed_from_epoch"] = resumed_from + 1
    return result


def driver_callbacks(
    recipe: Recipe,
    hp: HParams,
    data: Data,
    folder: RunFolder,
    backup: callbacks_lib.ThrottledBackupAndRestore,
) -> list[keras.callbacks.Callback]:
    """CSV history, backup, best weights, TensorBoard, NaN stop, early stopping, then the recipe's own."""
    monitor = recipe.monitor if data.validation is not None else recipe.monitor.removeprefix("val_")
    # The CSV row of an epoch is written before its backup, so a killed run never loses a row
    # (it may log one twice; `RunFolder.history` keeps the last).
    callbacks = [
        keras.callbacks.CSVLogger(str(folder.history_csv), append=True),
        backup,
        callbacks_lib.BestWeights(
            str(folder.checkpoints / "best.weights.h5"), monitor=monitor, min_seconds=hp.backup_seconds
        ),
        keras.callbacks.TensorBoard(str(folder.work / "logs"), profile_batch=0),
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
    return callbacks


def epoch_stream(train: tf.data.Dataset, start_epoch: int = 0) -> tuple[tf.data.Dataset, int | None]:
    """The training data as one repeated stream and its batches per epoch, starting at `start_epoch`.

    Keras keeps one iterator across epochs when it is given `steps_per_epoch` and an endless
    dataset; given the dataset itself, it creates a new (distributed) iterator every epoch, which
    under a multi-device strategy cost about half a second and ~20 traced functions per epoch.

    A resumed run does not replay the epochs it already trained on: tf.data's `skip` computes every
    skipped element, so a resume cost time in proportion to the progress (BERT's masking of 2,250
    batches took longer than an epoch). Creating an iterator computes nothing but draws the next
    order of each seeded `shuffle(..., reshuffle_each_iteration=True)`, so one iterator per finished
    epoch is created and dropped: a recipe whose epoch is one shuffled pass sees the same batches
    as an uninterrupted run. Random draws inside `map` functions (BERT's masks) start afresh, as
    they would in any restarted process. A dataset of unknown length is returned after the same
    advance (Keras then creates an iterator per epoch), an infinite one as it is.
    """
    batches = int(train.cardinality())
    if batches != tf.data.INFINITE_CARDINALITY:
        for _ in range(start_epoch):
            iter(train)  # advances the shuffles' seed generators as the finished epoch did
    if batches <= 0:
        return train, None
    return train.repeat(), batches


def verbosity(verbose: int | str) -> int | str:
    """Keras' `verbose`: `"auto"` is a progress bar on a terminal and one line per epoch otherwise."""
    if verbose != "auto":
        return verbose
    return "auto" if sys.stdout.isatty() else 2

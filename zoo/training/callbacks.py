"""The driver's own callbacks (besides Keras' CSVLogger, ModelCheckpoint, TensorBoard and EarlyStopping)."""

from __future__ import annotations

import time
from pathlib import Path

import keras

from zoo import disk, json_files


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """Stops training at the first NaN/inf loss; `fit` then reports it as `TrainingDiverged`."""

    async_safe = True


class ThrottledBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that backs up at the end of an epoch only if `min_seconds` have passed.

    Writing the model and optimizer state every epoch costs more than short epochs themselves
    (tables: ~0.4 s against ~0.05 s); a killed run then loses at most `min_seconds` of work.

    Each backup is written beside the previous one and then replaces it (Keras overwrites it in
    place), so a failed write (a full disk: `DiskFull`) keeps the last good backup.
    """

    def __init__(self, backup_dir: str, min_seconds: float = 0.0):
        super().__init__(backup_dir)
        self.min_seconds = min_seconds
        self._last_backup = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._last_backup >= self.min_seconds:
            super().on_epoch_end(epoch, logs)
            self._last_backup = time.monotonic()
            self._unsaved = None
        else:  # kept in memory, so that a stopped run can still save the end of this epoch
            optimizer = self.model.optimizer
            self._unsaved = (
                epoch,
                [v.numpy() for v in self.model.variables],
                [v.numpy() for v in optimizer.variables] if optimizer is not None else [],
            )

    def _save_model(self):
        with disk.writing(self.backup_dir):
            Path(self.backup_dir).mkdir(parents=True, exist_ok=True)
        disk.save_weights(self.model, self._weights_path)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        with disk.writing(self._training_metadata_path):
            json_files.write_json(Path(self._training_metadata_path), metadata, indent=None)

    def save_last_epoch(self) -> None:
        """Write the backup of the last finished epoch now if the throttle skipped it (on SIGTERM / Ctrl-C).

        The model and optimizer are set back to their state at the end of that epoch first: what a
        stopped run loses is the epoch it was in, never more.
        """
        unsaved = getattr(self, "_unsaved", None)
        if unsaved is None:
            return
        epoch, model_values, optimizer_values = unsaved
        for variable, value in zip(self.model.variables, model_values):
            variable.assign(value)
        if self.model.optimizer is not None:
            for variable, value in zip(self.model.optimizer.variables, optimizer_values):
                variable.assign(value)
        super().on_epoch_end(epoch)
        self._unsaved = None


class BestWeights(keras.callbacks.Callback):
    """Keeps the best weights on `monitor` in memory and writes them at most every `min_seconds`, and at the end.

    `keras.callbacks.ModelCheckpoint(save_best_only=True)` writes an h5 file on every improvement,
    which on small data is most epochs (iris_mlp: 111 writes in 150 epochs). Here an improvement is
    a copy in memory; the file `path` is rewritten (atomically) when `min_seconds` have passed since
    the last write, and once more when training ends, so the best weights are never lost by a
    finished run, and a killed one loses at most `min_seconds` of improvements.

    Args:
        path: the `.weights.h5` file.
        monitor: the quantity in the epoch logs (e.g. `"val_loss"`); `mode` as in ModelCheckpoint.
        min_seconds: the least time between two writes (0 = on every improvement).
    """

    async_safe = True

    def __init__(self, path: str, monitor: str = "val_loss", mode: str = "auto", min_seconds: float = 0.0):
        super().__init__()
        self.path, self.monitor, self.min_seconds = str(path), monitor, min_seconds
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "f1", "auc", "precision", "recall")) else "min"
        self.better = (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)
        self.best: float | None = None
        self._pending: list | None = None
        self._last_write = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if self.best is None or self.better(value, self.best):
            self.best = value
            self._pending = self.model.get_weights()
        if self._pending is not None and time.monotonic() - self._last_write >= self.min_seconds:
            self._write()

    def on_train_end(self, logs=None):
        if self._pending is not None:
            self._write()

    def _write(self) -> None:
        current = self.model.get_weights()
        self.model.set_weights(self._pending)
        try:
            disk.save_weights(self.model, self.path)  # atomic: a failed write keeps the previous best
        finally:
            self.model.set_weights(current)
        self._pending = None
        self._last_write = time.monotonic()


class StopOnSignal(keras.callbacks.Callback):
    """Raises the pending stop of `flag` (Ctrl-C / SIGTERM) at the start of the next batch.

    Keras calls the `*_batch_begin` hooks in the main thread, in the fit loop itself, so the
    exception leaves `model.fit` like a Ctrl-C would, at a point where nothing swallows it. A batch
    of validation counts too: the stop then loses at most the epoch it was in.

    Args:
        flag: any object with a `check()` method that raises when a stop was requested (`loop.SignalFlag`).
    """

    async_safe = True  # it has no batch-end hooks; this only says so to Keras

    def __init__(self, flag):
        super().__init__()
        self.flag = flag

    def on_train_batch_begin(self, batch, logs=None):
        self.flag.check()

    def on_test_batch_begin(self, batch, logs=None):
        self.flag.check()

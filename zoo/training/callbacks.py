"""The driver's own callbacks (besides Keras' CSVLogger, ModelCheckpoint, TensorBoard and EarlyStopping)."""

from __future__ import annotations

import time

import keras


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """Stops training at the first NaN/inf loss; `fit` then reports it as `TrainingDiverged`."""

    async_safe = True


class ThrottledBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that backs up at the end of an epoch only if `min_seconds` have passed.

    Writing the model and optimizer state every epoch costs more than short epochs themselves
    (tables: ~0.4 s against ~0.05 s); a killed run then loses at most `min_seconds` of work.
    """

    def __init__(self, backup_dir: str, min_seconds: float = 0.0):
        super().__init__(backup_dir)
        self.min_seconds = min_seconds
        self._last_backup = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._last_backup >= self.min_seconds:
            super().on_epoch_end(epoch, logs)
            self._last_backup = time.monotonic()

"""Steps/second of `mnist_cnn` through `zoo.fit` vs a plain `model.fit` on the same model and tf.data input.

Both runs happen in one process, alternating (plain, driver, plain, driver, ...), with the same
recipe data/model functions, hyper-parameters, seed and verbosity. A timing callback (batch-begin hooks
only) is appended to both fits; the first epoch (tracing) is skipped. Reported per run:
  * train steps/s: batches / time from `on_epoch_begin` to the first validation batch (`on_test_begin`);
  * epoch steps/s: batches / whole epoch, including validation and every callback's `on_epoch_end`
    (the driver's checkpoint, backup, CSV and TensorBoard writes).

With `--cpu-replicas 2` the CPU is split into two logical devices and both sides run under a
MirroredStrategy over them: the plain fit builds its model in `tf.distribute.MirroredStrategy().scope()`,
the driver gets `strategy="mirrored"`.

    python benchmarks/driver_overhead.py --data-dir ../shared/data --epochs 4 --repeats 2
    python benchmarks/driver_overhead.py --recipe textcnn_mr --cpu-replicas 2
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf

import zoo
from zoo.recipes import get, resolve_hparams
from zoo.recipes.base import RunContext
from zoo.training import prepare_data
from zoo.training.strategy import split_cpu


class EpochTimer(keras.callbacks.Callback):
    """Per-epoch train-phase and whole-epoch durations and batch counts."""

    def __init__(self) -> None:
        super().__init__()
        self.train, self.whole, self.steps = [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._train_end, self._steps = time.perf_counter(), None, 0

    # Counted at batch *begin*: a batch-end hook would turn off Keras' asynchronous callback
    # dispatch for the whole fit and hide the cost of callbacks that need it.
    def on_train_batch_begin(self, batch, logs=None):
        self._steps += 1

    def on_test_begin(self, logs=None):
        if self._train_end is None and hasattr(self, "_start"):
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        end = time.perf_counter()
        self.train.append((self._train_end or end) - self._start)
        self.whole.append(end - self._start)
        self.steps.append(self._steps)

    def rates(self) -> tuple[float, float]:
        """(train steps/s, whole-epoch steps/s) over every epoch but the first."""
        steps = sum(self.steps[1:])
        return steps / sum(self.train[1:]), steps / sum(self.whole[1:])


def plain(name: str, data_dir: Path, overrides: dict, verbose, replicas: int) -> EpochTimer:
    recipe = get(name)
    hp = resolve_hparams(recipe, overrides)
    keras.utils.set_random_seed(hp.seed)
    ctx = RunContext(data_dir=data_dir, run_dir=Path(tempfile.mkdtemp()))
    data = prepare_data(recipe, hp, ctx)  # the driver's own prefetch, nothing else
    strategy = (
        tf.distribute.get_strategy()
        if replicas == 1
        else tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    )
    with strategy.scope():
        model = recipe.model(hp, data)
    timer = EpochTimer()
    model.fit(data.train, validation_data=data.validation, epochs=hp.epochs, callbacks=[timer], verbose=verbose)
    return timer


def through_driver(name: str, data_dir: Path, overrides: dict, verbose, replicas: int) -> EpochTimer:
    recipe = get(name)
    timer = EpochTimer()

    def model_with_timer(hp, data):
        model = recipe.model(hp, data)
        fit = model.fit
        model.fit = lambda *args, callbacks=(), **kwargs: fit(*args, callbacks=[*callbacks, timer], **kwargs)
        return model

    out = Path(tempfile.mkdtemp()) / "run"
    strategy = {"strategy": "one"} if replicas == 1 else {"strategy": "mirrored", "cpu_replicas": replicas}
    zoo.fit(
        dataclasses.replace(recipe, model=model_with_timer),
        data_dir=data_dir,
        out=out,
        verbose=verbose,
        **strategy,
        **overrides,
    )
    return timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="mnist_cnn")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cpu-replicas", type=int, default=1, help="> 1: MirroredStrategy over logical CPUs")
    args = parser.parse_args()
    if args.cpu_replicas > 1:
        split_cpu(args.cpu_replicas)
    overrides = {"epochs": args.epochs}
    results = {"plain": [], "driver": []}
    for repeat in range(args.repeats):
        for kind, run in (("plain", plain), ("driver", through_driver)):
            rates = run(args.recipe, Path(args.data_dir), overrides, 2, args.cpu_replicas).rates()
            results[kind].append(rates)
            print(
                f"repeat {repeat + 1} {kind:>6}: train {rates[0]:.2f} steps/s, whole epoch {rates[1]:.2f} steps/s",
                flush=True,
            )
    summary = {kind: [statistics.median(r[i] for r in runs) for i in range(2)] for kind, runs in results.items()}
    for i, label in enumerate(("train phase", "whole epoch")):
        print(
            f"{label}: plain {summary['plain'][i]:.2f} steps/s, driver {summary['driver'][i]:.2f} steps/s, "
            f"ratio driver/plain {summary['driver'][i] / summary['plain'][i]:.3f}"
        )


if __name__ == "__main__":
    main()

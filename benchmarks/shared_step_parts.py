"""Issue 28: where the shared-negatives step's time goes, on one CPU core or two.

Three measurements, each printed as milliseconds of wall time and of process CPU time per step (CPU / wall
near 2 means both cores worked):

- `parts`: the skip-gram step on real batches held in memory (the `skipgram_corpus` pipeline on the first
  `--max-docs` IMDB training reviews, `--batch-size` pairs in groups of `--group-size`): the recipe's model
  through `model.fit`, one batch per call and 16; the same gradients applied by hand (`scatter_sub`);
  the gradients' arithmetic alone; the row traffic alone (gather and scatter of the same rows, no arithmetic).
- `products`: the three per-group products of the negatives (scores, input gradient, negative rows'
  gradient: `ngd,nkd->ngk`, `ngk,nkd->ngd`, `ngk,ngd->nkd`) as einsums under XLA, as einsums in a plain
  graph, and as broadcast-multiply-reduce under XLA.
- `shards`: gather and scatter of N rows into one table, against two tables holding the even and the odd
  rows: does XLA run the two independent halves on two cores?

    python benchmarks/shared_step_parts.py --data-dir ../shared/data --out /work/bench/step_parts
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

IMDB_TRAIN = ("imdb/aclImdb_labeled.tar.gz", "aclImdb/train/*/*.txt")


def timed(fn: Callable, arguments: list, repeats: int = 2) -> tuple[float, float]:
    """Best of `repeats` passes over `arguments` (one call each, after a warm-up): (wall ms, CPU ms) per call."""
    for a in arguments[:3]:
        fn(a)
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for a in arguments:
            result = fn(a)
        float(result)  # wait for the last call
        n = len(arguments)
        best = min(best, ((time.perf_counter() - wall) / n * 1e3, (time.process_time() - cpu) / n * 1e3))
    return best


def parts(args) -> dict[str, tuple[float, float]]:
    import tensorflow as tf

    from zoo.data import corpus
    from zoo.data.skipgrams import encode_corpus, skipgram_dataset
    from zoo.models import word2vec
    from zoo.models.shared_negatives import shared_negatives_gradients

    texts, _ = corpus.read_texts(Path(args.data_dir) / IMDB_TRAIN[0], IMDB_TRAIN[1])
    documents = list(corpus.documents(texts))[: args.max_docs]
    vocabulary, ids, segments = encode_corpus(documents, 50_000, 5)
    settings = dict(window=5, negatives=5, subsample=1e-4, batch_size=args.batch_size, group_size=args.group_size)
    batches = list(skipgram_dataset(ids, segments, vocabulary, **settings).take(args.steps))
    model = word2vec.compile_word2vec(word2vec.build_word2vec(vocab_size=len(vocabulary), dim=100), decay_steps=10**6)
    inputs = tf.Variable(model.input_embedding.embeddings.numpy())
    outputs = tf.Variable(model.output_embedding.embeddings.numpy())

    def gradients(b):
        return shared_negatives_gradients(inputs, outputs, b["inputs"], b["positives"], b["negatives"])

    @tf.function(jit_compile=True)
    def by_hand(b):
        loss, _, g_in, g_out = gradients(b)
        inputs.scatter_sub(tf.IndexedSlices(g_in.values * 0.025, g_in.indices))
        outputs.scatter_sub(tf.IndexedSlices(g_out.values * 0.025, g_out.indices))
        return loss

    @tf.function(jit_compile=True)
    def arithmetic(b):
        loss, _, g_in, g_out = gradients(b)
        return loss + tf.reduce_sum(g_in.values[:, 0]) + tf.reduce_sum(g_out.values[:, 0])

    @tf.function(jit_compile=True)
    def rows(b):
        i = tf.reshape(b["inputs"], [-1])
        o = tf.concat([tf.reshape(b["positives"], [-1]), tf.reshape(b["negatives"], [-1])], 0)
        inputs.scatter_sub(tf.IndexedSlices(tf.gather(inputs, i) * 1e-3, i))
        outputs.scatter_sub(tf.IndexedSlices(tf.gather(outputs, o) * 1e-3, o))
        return tf.reduce_sum(inputs[0])

    cached = tf.data.Dataset.from_tensor_slices({k: tf.stack([b[k] for b in batches]) for k in batches[0]})
    results = {}
    for per_call in (1, 16):  # Keras' steps_per_execution: batches per call of the compiled train function
        model.compile(optimizer=model.optimizer, jit_compile=True, steps_per_execution=per_call)
        model.fit(cached, verbose=0)  # compile
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(cached, verbose=0)
        n = len(batches)
        results[f"model.fit, steps_per_execution={per_call}"] = (
            (time.perf_counter() - wall) / n * 1e3,
            (time.process_time() - cpu) / n * 1e3,
        )
    results["gradients + scatter_sub by hand"] = timed(by_hand, batches)
    results["gradients' arithmetic alone"] = timed(arithmetic, batches)
    results["row traffic alone (gather + scatter)"] = timed(rows, batches)
    return results


def products(args) -> dict[str, tuple[float, float]]:
    import tensorflow as tf

    g, k, d = args.group_size, 5, 100
    n = args.batch_size // g
    h, u, e = tf.random.normal((n, g, d)), tf.random.normal((n, k, d)), tf.random.normal((n, g, k))

    def einsums(x):
        h, u, e = x
        s = tf.einsum("ngd,nkd->ngk", h, u)
        a = tf.einsum("ngk,nkd->ngd", e, u)
        b = tf.einsum("ngk,ngd->nkd", e, h)
        return tf.reduce_sum(s) + tf.reduce_sum(a) + tf.reduce_sum(b)

    def broadcast(x):
        h, u, e = x
        s = tf.reduce_sum(h[:, :, None, :] * u[:, None, :, :], -1)
        a = tf.reduce_sum(e[..., None] * u[:, None, :, :], 2)
        b = tf.reduce_sum(e[..., None] * h[:, :, None, :], 1)
        return tf.reduce_sum(s) + tf.reduce_sum(a) + tf.reduce_sum(b)

    calls = [(h, u, e)] * args.steps
    return {
        f"einsums, XLA ({n} groups of {g} x {k} x {d})": timed(tf.function(einsums, jit_compile=True), calls),
        "einsums, graph (no XLA)": timed(tf.function(einsums), calls),
        "broadcast-multiply-reduce, XLA": timed(tf.function(broadcast, jit_compile=True), calls),
    }


def shards(args) -> dict[str, tuple[float, float]]:
    import numpy as np
    import tensorflow as tf

    vocabulary, d, n = 41_690, 100, args.rows
    rng = np.random.default_rng(0)
    ids = [tf.constant(np.minimum(rng.zipf(1.2, n) - 1, vocabulary - 1).astype("int32")) for _ in range(8)]
    one = tf.Variable(tf.random.normal((vocabulary, d)) * 0.01)
    half = (vocabulary + 1) // 2
    two = [tf.Variable(tf.random.normal((half + 1, d)) * 0.01) for _ in range(2)]  # the last row takes the others'

    @tf.function(jit_compile=True)
    def one_table(i):
        one.scatter_sub(tf.IndexedSlices(tf.gather(one, i) * 1e-3, i))
        return tf.reduce_sum(one[0])

    @tf.function(jit_compile=True)
    def two_tables(i):
        for parity, table in enumerate(two):
            local = tf.where(i % 2 == parity, i // 2, half)
            table.scatter_sub(tf.IndexedSlices(tf.gather(table, local) * 1e-3, local))
        return tf.reduce_sum(two[0][0]) + tf.reduce_sum(two[1][0])

    calls = ids * (args.steps // 8 + 1)
    return {
        f"{n:,} rows, one table": timed(one_table, calls),
        f"{n:,} rows, two half tables (even / odd rows)": timed(two_tables, calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="", help="folder for step_parts.json and step_parts.md")
    parser.add_argument(
        "--only", nargs="*", choices=("parts", "products", "shards"), default=["parts", "products", "shards"]
    )
    parser.add_argument("--max-docs", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=16_384)
    parser.add_argument("--group-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rows", type=int, default=40_000, help="rows gathered and scattered per step (shards)")
    args = parser.parse_args()
    measures = {"parts": parts, "products": products, "shards": shards}
    results: dict[str, dict] = {}
    lines = ["| measurement | what | wall ms / step | CPU ms / step | cores |", "|---|---|---|---|---|"]
    for name in args.only:
        results[name] = {what: {"wall_ms": w, "cpu_ms": c} for what, (w, c) in measures[name](args).items()}
        for what, r in results[name].items():
            lines.append(
                f"| {name} | {what} | {r['wall_ms']:.2f} | {r['cpu_ms']:.2f} | {r['cpu_ms'] / r['wall_ms']:.2f} |"
            )
            print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "step_parts.json").write_text(json.dumps({"args": vars(args), **results}, indent=1) + "\n")
        (out / "step_parts.md").write_text(table)


if __name__ == "__main__":
    main()

"""Chapter 6 / issue 14: where a skip-gram training step's time goes, on real batches held in memory.

Builds the `skipgram_corpus` pipeline on the first `--max-docs` IMDB reviews, times the input pipeline
alone, then caches `--steps` of its batches and times training steps on them without the pipeline:

- `keras`: the recipe's model through `model.fit` (autodiff, Keras SGD, XLA), as trained by the zoo;
- `scatter:xla` / `scatter:graph`: a hand-written step with word2vec's closed-form gradients applied
  by `Variable.scatter_sub(IndexedSlices)` (`ResourceScatterSub`), with and without XLA;
- `dedup:xla`: the same, summing the context rows of repeated words first (`tf.unique` + segment sum);
- `nocontext:xla`: the same without the context-table update (a lower bound, not a valid step);
- `threads`: `scatter:xla` called from 1 and then 2 Python threads at once (Hogwild-like, as gensim);
- `shared`: issue 28's step (`SharedNegatives` through `model.fit`, XLA): the same pairs in groups of
  each `--group-sizes` G sharing each `--shared-negatives` K negatives.

    python benchmarks/skipgram_step.py --data-dir ../shared/data --variants pipeline keras scatter:xla \
        scatter:graph dedup:xla nocontext:xla threads
    python benchmarks/skipgram_step.py --data-dir ../shared/data --variants keras --mirrored   # 2 CPU replicas
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import threading
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = ("pipeline", "keras", "scatter:xla", "scatter:graph", "dedup:xla", "nocontext:xla", "threads", "shared")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--max-docs", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=150, help="cached batches timed per variant")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--mirrored", action="store_true", help="`keras` under MirroredStrategy over 2 logical CPUs")
    parser.add_argument("--group-sizes", type=int, nargs="+", default=[1, 4, 16, 64, 256, 4096])
    parser.add_argument("--shared-negatives", type=int, nargs="+", default=[5])
    parser.add_argument("--json", default="", help="also write the results to this file")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    if args.mirrored:  # before any op runs: logical devices cannot be changed afterwards
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from zoo.data import corpus
    from zoo.models import word2vec
    from zoo.recipes import RunContext, ch06, get, resolve_hparams

    data_dir = Path(args.data_dir).resolve()
    archive = data_dir / "imdb" / "aclImdb_labeled.tar.gz"
    texts, _ = corpus.read_texts(archive, "aclImdb/*/*/*.txt")
    sentences = list(corpus.documents(texts[: args.max_docs]))
    words = sum(map(len, sentences))
    hp = resolve_hparams(
        get("skipgram_corpus"),
        dict(
            corpus=str(archive),
            corpus_pattern="aclImdb/*/*/*.txt",
            epochs=1,
            batch_size=args.batch_size,
            step="per_pair",
        ),
    )
    data = ch06.word2vec_data(hp, RunContext(data_dir=data_dir, run_dir=Path("/tmp")), sentences, source="imdb subset")
    vocab, dim, batch, steps = len(data.info.vocabulary), hp.dim, args.batch_size, args.steps
    results: dict = {"words": words, "vocabulary": vocab, "batch_size": batch, "steps": steps}
    print(f"{len(sentences)} reviews, {words:,} words, vocabulary {vocab:,}, batch {batch}", flush=True)

    clock = {"cpu": 0.0}

    def report(name: str, seconds: float, pairs: int) -> None:
        # process CPU seconds since the timer started: a loaded machine stretches wall time, much less CPU time
        cpu = (time.process_time() - clock["cpu"]) * batch / pairs
        results[name] = {
            "ms_per_step": 1000 * seconds * batch / pairs,
            "pairs_per_second": pairs / seconds,
            "cpu_ms_per_step": 1000 * cpu,
            "load_average": os.getloadavg()[0],
        }
        print(
            f"{name:>14}: {results[name]['ms_per_step']:.2f} ms/step, {pairs / seconds:,.0f} pairs/s, "
            f"CPU {1000 * cpu:.2f} ms/step",
            flush=True,
        )

    if "pipeline" in args.variants:
        for _ in range(2):  # the second pass is the one reported (first-pass tracing excluded)
            (start, clock["cpu"]), count = (time.perf_counter(), time.process_time()), 0
            for _ in data.train.prefetch(-1):
                count += 1
            seconds = time.perf_counter() - start
        report("pipeline", seconds, count * batch)
        results["pipeline"]["words_per_second"] = words / seconds

    cached = list(data.train.take(steps))
    targets = tf.stack([x["target"] for x, _ in cached])
    contexts = tf.stack([x["contexts"] for x, _ in cached])
    labels = tf.stack([y for _, y in cached])
    rate = hp.learning_rate

    if "keras" in args.variants:
        scope = contextlib.nullcontext()
        if args.mirrored:
            scope = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")]).scope()
        with scope:
            model = word2vec.compile_skipgram(
                word2vec.build_skipgram(vocab_size=vocab, dim=dim, negatives=hp.negatives),
                learning_rate=rate,
                batch_size=batch,
            )
        ds = tf.data.Dataset.from_tensor_slices(({"target": targets, "contexts": contexts}, labels)).repeat()
        model.fit(ds, steps_per_epoch=5, epochs=1, verbose=0)  # trace and compile
        start, clock["cpu"] = time.perf_counter(), time.process_time()
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
        report("keras", time.perf_counter() - start, steps * batch)

    def make_step(mode: str, jit: bool):
        target_table = tf.Variable(tf.random.uniform((vocab, dim), -0.5 / dim, 0.5 / dim))
        context_table = tf.Variable(tf.zeros((vocab, dim)))

        @tf.function(jit_compile=jit)
        def step(t, c, y):
            wt, wc = tf.gather(target_table, t), tf.gather(context_table, c)  # (B, d), (B, 1 + K, d)
            scores = tf.einsum("bd,bkd->bk", wt, wc)
            g = (tf.sigmoid(scores) - y) * rate  # word2vec's per-pair gradient of the logistic loss
            target_table.scatter_sub(tf.IndexedSlices(tf.einsum("bk,bkd->bd", g, wc), t))
            rows, ids = tf.reshape(g[:, :, None] * wt[:, None, :], (-1, dim)), tf.reshape(c, (-1,))
            if mode == "dedup":
                unique, index = tf.unique(ids)
                rows, ids = tf.math.unsorted_segment_sum(rows, index, tf.shape(unique)[0]), unique
            if mode != "nocontext":
                context_table.scatter_sub(tf.IndexedSlices(rows, ids))
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, scores))

        return step

    def run(step, lo: int, hi: int) -> None:
        for i in range(lo, hi):
            loss = step(targets[i], contexts[i], labels[i])
        float(np.asarray(loss))

    for variant in args.variants:
        if ":" in variant:
            mode, backend = variant.split(":")
            step = make_step(mode, backend == "xla")
            run(step, 0, 1)
            start, clock["cpu"] = time.perf_counter(), time.process_time()
            run(step, 0, steps)
            report(variant, time.perf_counter() - start, steps * batch)
    if "threads" in args.variants:
        step = make_step("scatter", True)
        run(step, 0, 1)
        for count in (1, 2):
            workers = [
                threading.Thread(target=run, args=(step, k * steps // count, (k + 1) * steps // count))
                for k in range(count)
            ]
            start, clock["cpu"] = time.perf_counter(), time.process_time()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            report(f"threads={count}", time.perf_counter() - start, steps * batch)
    if "shared" in args.variants:
        from zoo.data.skipgrams import negative_cdf

        cdf = negative_cdf(np.asarray(data.info.counts))
        rng = np.random.default_rng(0)
        for k in args.shared_negatives:
            for g in args.group_sizes:
                model = word2vec.compile_word2vec(
                    word2vec.build_word2vec(vocab_size=vocab, dim=dim), learning_rate=rate
                )
                negatives = np.minimum(
                    np.searchsorted(cdf, rng.random((steps, batch // g, k)), side="right"), vocab - 1
                )
                grouped = {
                    "inputs": tf.reshape(targets, (steps, batch // g, g)),
                    "positives": tf.reshape(contexts[:, :, 0], (steps, batch // g, g)),
                    "negatives": tf.constant(negatives.astype("int32")),
                }
                ds = tf.data.Dataset.from_tensor_slices(grouped).repeat()
                model.fit(ds, steps_per_epoch=5, epochs=1, verbose=0)  # trace and compile
                start, clock["cpu"] = time.perf_counter(), time.process_time()
                model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
                report(f"shared G={g} K={k}", time.perf_counter() - start, steps * batch)
    print(json.dumps(results, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""The hierarchical attention network against a plain Keras model of its size, on IMDB, at equal training time.

Both read the zoo's IMDB split (25k train / 25k test) with the vocabulary adapted on the training
reviews (20,000 words, embedding 200):

- `han`: `zoo.models.han.build_han_classifier` (the `han_imdb` model) on 16 sentences x 32 words;
- `plain`: plain Keras layers, Embedding(200, mask_zero) -> BiGRU(50) -> BiGRU(50) -> masked mean ->
  Dense(1, sigmoid), on the first 512 tokens as one sequence (the same word budget, 16 x 32). Two
  BiGRU(50) layers and the same embedding: its parameter count is within 1% of the HAN's.

A flat BiGRU over 512 steps takes about 7x the time per batch of the HAN (whose recurrences are 32
and 16 steps long) on this CPU, so an epoch each is not the same budget: the two train for the same
number of seconds instead, in alternating rounds (so a busy machine slows both alike), with Adam
1e-3 and batch 64; after each round both are scored on a fixed sample of test reviews. The final
score is on `--test-sample` test reviews (the same for both). Writes `han_vs_plain.json` and
`curves.png` (test accuracy against training seconds) in `--out`.

    python benchmarks/han.py --data-dir ../shared/data --out /work/bench/han_vs_plain --minutes 8
    python benchmarks/han.py --out /tmp/han_speed --minutes 0.75 --round-seconds 15 \
        --train-sample 3000 --test-sample 500 --curve-sample 200          # steps/s only, 3 minutes
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from zoo.data import imdb
from zoo.data.sentences import SentenceIds
from zoo.data.text import encode, strip_html_lower_punct, vectorizer
from zoo.models.classifier import compile_classifier
from zoo.models.han import build_han_classifier

S, W, VOCAB, EMBED, UNITS = 16, 32, 20000, 200, 50


def plain_model(vocab: int, length: int) -> keras.Model:
    ids = keras.Input((length,), dtype="int32")
    x = keras.layers.Embedding(vocab, EMBED, mask_zero=True)(ids)
    x = keras.layers.Bidirectional(keras.layers.GRU(UNITS, return_sequences=True))(x)
    x = keras.layers.Bidirectional(keras.layers.GRU(UNITS, return_sequences=True))(x)
    x = keras.layers.GlobalAveragePooling1D()(x)  # mean over the real (masked) steps
    return keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(x), name="plain_bigru")


def batches(x: np.ndarray, y: np.ndarray, seed: int):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat().batch(64)
    return iter(ds.prefetch(2))


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    p = model.predict(x, batch_size=256, verbose=0).reshape(-1)
    return float(np.mean((p > 0.5) == y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=8.0, help="training time of each model")
    parser.add_argument("--round-seconds", type=float, default=60.0)
    parser.add_argument("--test-sample", type=int, default=5000)
    parser.add_argument("--curve-sample", type=int, default=1000)
    parser.add_argument("--train-sample", type=int, default=0, help="train on this many reviews (0 = all 25,000)")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    splits = imdb.load(args.data_dir)
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    sample = np.random.RandomState(args.seed).permutation(len(test_x))[: args.test_sample]
    if args.train_sample:  # a quick speed check: fewer reviews to vectorise
        keep = np.random.RandomState(args.seed + 1).permutation(len(train_x))[: args.train_sample]
        train_x, train_y = [train_x[i] for i in keep], train_y[keep]
    test_x, test_y = [test_x[i] for i in sample], test_y[sample]
    curve = slice(0, args.curve_sample)
    han_layer = vectorizer(train_x, VOCAB, W, strip_html_lower_punct)
    flat_layer = vectorizer(train_x, VOCAB, S * W, strip_html_lower_punct)
    data = {
        "han": (encode(SentenceIds(han_layer, S), train_x), encode(SentenceIds(han_layer, S), test_x)),
        "plain": (encode(flat_layer, train_x), encode(flat_layer, test_x)),
    }
    models = {
        "han": build_han_classifier(vocab_size=VOCAB, max_sentences=S, max_words=W, num_classes=2),
        "plain": plain_model(VOCAB, S * W),
    }
    state = {}
    for name, model in models.items():
        compile_classifier(model, num_classes=2, learning_rate=1e-3)
        state[name] = {"it": batches(data[name][0], train_y, args.seed), "seconds": 0.0, "steps": 0, "curve": []}
        model.train_on_batch(*next(state[name]["it"]))  # build and trace outside the timed budget
        state[name]["steps"] = 1
    budget = 60.0 * args.minutes
    while any(s["seconds"] < budget for s in state.values()):
        for name, model in models.items():
            s = state[name]
            if s["seconds"] >= budget:
                continue
            start = time.perf_counter()
            while time.perf_counter() - start < min(args.round_seconds, budget - s["seconds"]):
                model.train_on_batch(*next(s["it"]))
                s["steps"] += 1
            s["seconds"] += time.perf_counter() - start
            s["curve"].append((round(s["seconds"], 1), accuracy(model, data[name][1][curve], test_y[curve])))
            print(
                f"{name}: {s['seconds']:.0f} s, {s['steps']} steps, curve accuracy {s['curve'][-1][1]:.4f}", flush=True
            )
    result = {"args": vars(args), "train_reviews": len(train_x), "test_reviews": len(test_x)}
    for name, model in models.items():
        s = state[name]
        result[name] = {
            "params": model.count_params(),
            "train_seconds": round(s["seconds"], 1),
            "steps": s["steps"],
            "steps_per_second": round(s["steps"] / s["seconds"], 3),
            "epochs": round(s["steps"] * 64 / len(train_x), 3),
            "test_accuracy": accuracy(model, data[name][1], test_y),
            "curve": s["curve"],
        }
        print(name, {k: v for k, v in result[name].items() if k != "curve"}, flush=True)
    (out / "han_vs_plain.json").write_text(json.dumps(result, indent=1))
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name in models:
        seconds, acc = zip(*state[name]["curve"])
        ax.plot(seconds, acc, marker="o", label=f"{name} ({result[name]['steps_per_second']} steps/s)")
    ax.set_xlabel("training seconds")
    ax.set_ylabel(f"accuracy, {args.curve_sample} test reviews")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=90)


if __name__ == "__main__":
    main()

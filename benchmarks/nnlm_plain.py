"""Chapter 8 benchmark (issue 30): `nnlm_ptb` against the plainest Keras version of Bengio's model.

The textbook formulation: (context of `window` ids, next id) pairs, `Embedding -> Flatten ->
Dense(tanh) -> Dense(vocab)`, trained with plain `model.fit` on the same PTB streams, the same sizes,
optimiser, batch (`batch_size x num_steps` pairs) and epochs as the recipe, with no early stopping.
Perplexity over every validation and test token once (the first tokens' context is `<eos>`, as in the
recipe), and training tokens/s. The recipe's own run is read from its run folder (`--recipe-run`).

    python benchmarks/nnlm_plain.py --data-dir ../shared/data --epochs 10 --recipe-run /work/bench/c30/nnlm_ptb
    python benchmarks/nnlm_plain.py --epochs 1 --max-pairs 20000     # a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np


def pairs(ids: np.ndarray, window: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """`(contexts [n, window], targets [n])` for every (input, next) pair of the stream, once."""
    padded = np.concatenate([np.full(window - 1, pad_id, np.int32), ids[:-1]])
    index = np.arange(len(ids) - 1)[:, None] + np.arange(window)[None, :]
    return padded[index], ids[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--embedding-dim", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=32 * 64, help="pairs per batch (the recipe: 32 rows x 64)")
    parser.add_argument("--max-pairs", type=int, default=0, help="train on the first N pairs only (smoke runs)")
    parser.add_argument("--recipe-run", default="", help="a finished nnlm_ptb run folder to compare with")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from zoo.data import language_model as lmdata

    keras.utils.set_random_seed(args.seed)
    streams = lmdata.ptb_word_streams(args.data_dir)
    pad_id = streams.vocabulary.index(streams.boundary)
    vocab = len(streams.vocabulary)
    x, y = pairs(streams.train, args.window, pad_id)
    if args.max_pairs:
        x, y = x[: args.max_pairs], y[: args.max_pairs]
    inputs = keras.Input(shape=(args.window,), dtype="int32")
    h = keras.layers.Flatten()(keras.layers.Embedding(vocab, args.embedding_dim)(inputs))
    h = keras.layers.Dropout(args.dropout)(h)
    h = keras.layers.Dropout(args.dropout)(keras.layers.Dense(args.hidden, activation="tanh")(h))
    model = keras.Model(inputs, keras.layers.Dense(vocab)(h))
    model.compile(
        keras.optimizers.Adam(1e-3, global_clipnorm=5.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=args.seed).batch(args.batch)
    start = time.perf_counter()
    history = model.fit(train.prefetch(-1), epochs=args.epochs, verbose=2)
    seconds = time.perf_counter() - start
    result = {
        "epochs": args.epochs,
        "train_tokens_per_s": len(x) * args.epochs / seconds,
        "train_loss": history.history["loss"][-1],
    }
    for split in ("validation", "test"):
        sx, sy = pairs(getattr(streams, split), args.window, pad_id)
        nll = sum(  # summed over every pair, then averaged: exact whatever the last batch's size
            float(
                tf.reduce_sum(
                    keras.losses.sparse_categorical_crossentropy(
                        sy[i : i + args.batch], model(sx[i : i + args.batch]), from_logits=True
                    )
                )
            )
            for i in range(0, len(sy), args.batch)
        )
        result[f"{split}_perplexity"] = math.exp(nll / len(sy))
    if args.recipe_run and (Path(args.recipe_run) / "metrics.json").exists():  # else: not finished yet
        metrics = json.loads((Path(args.recipe_run) / "metrics.json").read_text())
        result["recipe"] = {k: metrics.get(k) for k in ("val_perplexity", "test_perplexity", "epochs_trained")}
        rows = (Path(args.recipe_run) / "history.csv").read_text().splitlines()
        header, values = rows[0].split(","), [row.split(",") for row in rows[1:]]
        if len(values) >= args.epochs:  # the recipe's validation perplexity after as many epochs
            result["recipe"]["val_perplexity_same_epochs"] = float(
                values[args.epochs - 1][header.index("val_perplexity")]
            )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

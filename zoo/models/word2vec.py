"""Chapter 6 word2vec (skip-gram and CBOW with negative sampling): models, word vectors, neighbours, vector files.

The book shares one `Embedding(50000, 300)` between targets and contexts and calls `train_on_batch`
on mis-shaped batches; here (as in word2vec.c) inputs and outputs have separate embeddings and
training runs through `model.fit`. Two steps: `build_word2vec` (the default, issue 28) lets groups of
examples share their negatives (`zoo.models.shared_negatives`), which serves skip-gram and CBOW;
`build_skipgram` is the per-pair skip-gram model (each pair scored with its own K negatives in one row).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.models.shared_negatives import STEPS_PER_EXECUTION, SharedNegatives, steps_per_call


def build_skipgram(*, vocab_size: int, dim: int, negatives: int) -> keras.Model:
    """Skip-gram scorer `{"target": (B,), "contexts": (B, 1 + K)} -> logits (B, 1 + K)` (chapter 6).

    Column 0 of `contexts` is the true context word, the other K are negative samples. Target vectors
    start as word2vec.c's uniform(-0.5/dim, 0.5/dim), context vectors at zero.

    Args:
        vocab_size: words in the vocabulary (`[UNK]` at 0).
        dim: embedding size.
        negatives: negative samples per positive pair (K).

    Example:
        >>> model = build_skipgram(vocab_size=100, dim=8, negatives=5)
        >>> model({"target": np.array([3]), "contexts": np.array([[4, 1, 2, 5, 6, 7]])}).shape
        (1, 6)
    """
    target = keras.Input(shape=(), dtype="int32", name="target")
    contexts = keras.Input(shape=(1 + negatives,), dtype="int32", name="contexts")
    target_vectors = keras.layers.Embedding(
        vocab_size,
        dim,
        embeddings_initializer=keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim),
        name="target_embedding",
    )(target)
    context_vectors = keras.layers.Embedding(vocab_size, dim, embeddings_initializer="zeros", name="context_embedding")(
        contexts
    )
    logits = keras.layers.Dot(axes=(2, 1), name="score")([context_vectors, target_vectors])
    return keras.Model({"target": target, "contexts": contexts}, logits, name="skipgram")


def build_word2vec(*, vocab_size: int, dim: int, row_cap: float | None = None) -> SharedNegatives:
    """Skip-gram or CBOW with shared negatives (chapter 6): the batches say which (`skipgram_dataset` with a
    `group_size`, or `cbow_dataset`).

    Word vectors are the input table (word2vec.c's `syn0`: targets for skip-gram, context words for CBOW).

    Args:
        vocab_size: words in the vocabulary (`[UNK]` at 0).
        dim: embedding size.
        row_cap: examples' worth of update a row may take per step (`SharedNegatives`); None: no cap.

    Example:
        >>> model = compile_word2vec(build_word2vec(vocab_size=100, dim=8), learning_rate=0.025)
        >>> batch = {"inputs": [[1, 2]], "positives": [[3, 4]], "negatives": [[5, 6, 7]]}
        >>> model(batch).shape   # groups, examples per group, 1 + shared negatives
        TensorShape([1, 2, 4])
    """
    return SharedNegatives(input_rows=vocab_size, output_rows=vocab_size, dim=dim, row_cap=row_cap, name="word2vec")


def compile_word2vec(
    model: SharedNegatives,
    *,
    learning_rate: float = 0.025,
    decay_steps: int = 0,
    jit_compile: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> SharedNegatives:
    """word2vec's SGD on a `SharedNegatives` model: `learning_rate` per example (its gradients are sums), decayed
    linearly to 1e-4 of itself over `decay_steps` as word2vec.c does; `steps_per_execution` batches per call
    of the compiled step (callbacks' batch hooks run once per call; 1 under a multi-replica strategy);
    returns `model`."""
    if jit_compile and _replicas_share_a_cpu():
        warnings.warn(
            "word2vec: XLA is turned off under a multi-replica strategy over CPU devices (XLA "
            "cannot reach the other replicas' variables there); expect about half the speed"
        )
        jit_compile = False
    rate = (
        keras.optimizers.schedules.PolynomialDecay(learning_rate, decay_steps, learning_rate * 1e-4)
        if decay_steps > 0
        else learning_rate
    )
    model.compile(
        optimizer=keras.optimizers.SGD(rate),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_call(steps_per_execution),
    )
    model.optimizer.build(model.trainable_variables)
    return model


def compile_skipgram(
    model: keras.Model,
    *,
    learning_rate: float = 0.025,
    batch_size: int = 4096,
    decay_steps: int = 0,
    jit_compile: bool = True,
    steps_per_execution: int = STEPS_PER_EXECUTION,
) -> keras.Model:
    """word2vec's SGD on a `build_skipgram` model, `steps_per_execution` batches per compiled call (1 under a
    multi-replica strategy); returns `model`.

    `learning_rate` is word2vec's per-pair SGD rate (0.025 in word2vec.c), decayed linearly to 1e-4 of
    itself over `decay_steps`; since Keras averages the loss over the batch and the 1 + K columns,
    the optimizer's rate is that times `batch_size * (1 + K)`, which makes a batch equal to the sum of
    its pairs' word2vec updates. Plain SGD keeps the embedding gradients sparse (Adam would not).
    """
    if jit_compile and _replicas_share_a_cpu():
        warnings.warn(
            "skip-gram: XLA is turned off under a multi-replica strategy over CPU devices (XLA "
            "cannot reach the other replicas' variables there); expect about half the speed"
        )
        jit_compile = False
    columns = model.input["contexts"].shape[-1]
    rate = learning_rate * batch_size * columns
    schedule = keras.optimizers.schedules.PolynomialDecay(rate, decay_steps, rate * 1e-4) if decay_steps > 0 else rate
    model.compile(
        optimizer=keras.optimizers.SGD(schedule),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_call(steps_per_execution),
    )
    return model


def _replicas_share_a_cpu() -> bool:
    """True inside a strategy whose local replicas are more than one and include a CPU device."""
    if not tf.distribute.has_strategy():  # the default strategy has no worker_devices
        return False
    devices = tf.distribute.get_strategy().extended.worker_devices
    return len(devices) > 1 and any("CPU" in d.upper() for d in devices)


def word_vectors(model: keras.Model) -> np.ndarray:
    """The trained input embeddings (row i = vocabulary word i), the vectors word2vec publishes (`syn0`)."""
    if isinstance(model, SharedNegatives):
        return np.asarray(model.input_embedding.embeddings)
    return np.asarray(model.get_layer("target_embedding").embeddings)


def nearest(matrix: np.ndarray, queries: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the k nearest rows to each query row (row 0, UNK, and the query excluded)."""
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    sims = unit[queries] @ unit.T
    sims[:, 0] = -np.inf
    sims[np.arange(len(queries)), queries] = -np.inf
    top = np.argsort(-sims, axis=1)[:, :k]
    return top, np.take_along_axis(sims, top, axis=1)


def write_word2vec(path: str | os.PathLike, vocabulary: Sequence[str], matrix: np.ndarray) -> Path:
    """word2vec text format (`N D` header, then `word v1 ... vD`), without the `[UNK]` row."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(vocabulary) - 1} {matrix.shape[1]}\n")
        row_format = " ".join(["%.6f"] * matrix.shape[1])  # one %-format per row: 3x faster than per value
        for word, row in zip(vocabulary[1:], matrix[1:].tolist()):
            f.write(f"{word} {row_format % tuple(row)}\n")
    return path


def write_projector(folder: str | os.PathLike, vocabulary: Sequence[str], matrix: np.ndarray) -> None:
    """`vectors.tsv` + `metadata.tsv` for the TensorBoard Embedding Projector (projector.tensorflow.org)."""
    folder = Path(folder)
    np.savetxt(folder / "vectors.tsv", matrix[1:], delimiter="\t", fmt="%.6f")
    (folder / "metadata.tsv").write_text("".join(f"{w}\n" for w in vocabulary[1:]), encoding="utf-8")

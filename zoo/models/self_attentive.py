"""Chapter 11 self-attentive sentence classifier (Lin et al. 2017): builder, compile, attention probes.

    ids -> Embedding(mask_zero) -> BiLSTM(u, return_sequences) -> SelfAttention(r hops, d_a)
        -> M (r x 2u) -> Flatten -> Dense(relu) -> Dropout -> Dense(k, softmax)

Differences from the book (bugs fixed): the attention softmax runs over the tokens, not the hops;
the penalty is the squared Frobenius norm times a coefficient, averaged over the batch, and is
actually added to the loss (see `zoo.layers.self_attention`); padding is masked. The book's accuracy
metric does not measure what it claims (REFERENCES.md); here it is explicit: `SparseCategoricalAccuracy`
on the softmax over k classes with integer labels, plus `MacroF1` for k > 2, and the attention
penalty is logged as its own metric. The author's code also builds `Adam(learning_rate=0.005)` but
compiles with the string `'adam'` (so 0.001 is used); here the learning rate passed is the one used.

The exported string model is `zoo.serving.self_attentive.SelfAttentiveServing`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.layers.self_attention import SelfAttention
from zoo.layers.token_strings import TokenStrings
from zoo.losses import SmoothedSparseCrossentropy
from zoo.metrics.classification import MacroF1
from zoo.models.classifier import vectors_dim
from zoo.regularizers import Orthogonality, l1_activity

ATTENTION_LAYER = "self_attention"


def build_self_attentive_classifier(
    *,
    vocab_size: int,
    sequence_length: int | None,
    num_classes: int,
    embedding_dim: int = 50,
    vectors: np.ndarray | None = None,
    freeze_vectors: bool = False,
    units: int = 200,
    hops: int = 50,
    attention_units: int = 30,
    penalty: float = 1.0,
    dense_units: int = 128,
    dropout: float = 0.5,
    regularizer: str = "none",
    penalty_gradient: str = "all",
) -> keras.Model:
    """Lin et al.'s self-attentive sentence embedding with an MLP classifier on the flattened M.

    Args:
        vocab_size: rows of the embedding (id 0 = padding, masked).
        sequence_length: tokens per text (`None` for any length).
        num_classes: k; the output is a softmax over k classes (also for k = 2, as the author's code).
        embedding_dim: embedding size (the author's code: 50; taken from `vectors` when given).
        vectors: optional `(vocab_size, dim)` pre-trained matrix aligned to the vocabulary
            (`zoo.data.vectors.load_word_vectors`), copied into the embedding after building.
        freeze_vectors: keep those vectors fixed (default: fine-tune them, as Lin et al.).
        units: u, LSTM units per direction (the code: 200; H has 2u features).
        hops, attention_units, penalty: r, d_a and the penalty coefficient (code: 50, 30, 1).
        penalty_gradient: `"all"` (Lin et al.) or `"attention"`: what the penalty trains (`SelfAttention`).
        dense_units: the hidden layer of the classifier MLP (the code: 128).
        dropout: dropout before the output layer (Lin et al.: 0.5; the author's code: none).
        regularizer: `"none"`, `"l1_activity"` (`zoo.regularizers.l1_activity` on the hidden
            layer's activations) or `"orthogonal"` (`zoo.regularizers.Orthogonality(1e-4)` on its
            kernel): the chapter 11.3 custom regularisers.

    Returns:
        An uncompiled `keras.Model`, int ids `(batch, sequence_length)` -> probabilities `(batch, k)`.
        `attention_model(model)` adds the attention matrix A as a second output.

    Example:
        >>> model = build_self_attentive_classifier(vocab_size=100, sequence_length=12, num_classes=3,
        ...                                         units=8, hops=4, attention_units=5, dense_units=16)
        >>> model.output_shape
        (None, 3)
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if regularizer not in ("none", "l1_activity", "orthogonal"):
        raise ValueError(f"regularizer must be none, l1_activity or orthogonal, got {regularizer!r}")
    embedding_dim = vectors_dim(vectors, vocab_size=vocab_size, embedding_dim=embedding_dim)
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    trainable = not (vectors is not None and freeze_vectors)
    embedding = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, trainable=trainable, name="embedding")
    x = embedding(ids)
    h = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    m, _ = SelfAttention(
        hops=hops,
        attention_units=attention_units,
        penalty=penalty,
        penalty_gradient=penalty_gradient,
        name=ATTENTION_LAYER,
    )(h)
    x = keras.layers.Flatten(name="flatten_m")(m)
    x = keras.layers.Dense(
        dense_units,
        activation="relu",
        name="hidden",
        activity_regularizer=l1_activity if regularizer == "l1_activity" else None,
        kernel_regularizer=Orthogonality(1e-4) if regularizer == "orthogonal" else None,
    )(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    model = keras.Model(ids, outputs, name="self_attentive")
    if vectors is not None:  # after building: a Constant initialiser would copy the matrix into the config
        embedding.set_weights([np.asarray(vectors, "float32")])
    return model


def compile_self_attentive(
    model: keras.Model,
    *,
    num_classes: int,
    learning_rate: float = 1e-3,
    label_smoothing: float = 0.0,
    optimizer: str = "adam",
    clipnorm: float = 0.0,
) -> keras.Model:
    """The optimizer, sparse cross-entropy (label-smoothed when `label_smoothing` > 0), accuracy, macro F1 (k > 2).

    The loss is `zoo.losses.SmoothedSparseCrossentropy` (the chapter 11.3 `Loss` subclass; with
    smoothing 0 it is plain sparse cross-entropy). The attention penalty joins it through `add_loss`.

    Args:
        optimizer: `"adam"` (the author's code) or `"sgd"` (Lin et al.: plain SGD, learning rate 0.06,
            with gradient clipping).
        clipnorm: global gradient-norm clip (0 = none; Lin et al. clip at 0.5).
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be adam or sgd, got {optimizer!r}")
    opt = (keras.optimizers.Adam if optimizer == "adam" else keras.optimizers.SGD)(
        learning_rate, global_clipnorm=clipnorm or None
    )
    metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    if num_classes > 2:
        metrics.append(MacroF1(num_classes))
    model.compile(optimizer=opt, loss=SmoothedSparseCrossentropy(label_smoothing), metrics=metrics)
    return model


def attention_model(model: keras.Model) -> keras.Model:
    """The same weights with two outputs: `{"probabilities": (batch, k), "attention": A (batch, r, n)}`."""
    attention = model.get_layer(ATTENTION_LAYER).output[1]
    return keras.Model(
        model.input, {"probabilities": model.outputs[0], "attention": attention}, name=f"{model.name}_attention"
    )


def mean_pairwise_overlap(attention: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean over texts and hop pairs i < j of sum_t min(A_i,t, A_j,t): 1 = hops identical, 0 = disjoint.

    The number Lin et al. (section 4.4) use to show what the penalty does: without it the hops
    collapse onto the same tokens. `attention` is `(texts, hops, n)`.
    """
    attention = np.asarray(attention, "float64")
    if mask is not None:
        attention = attention * np.asarray(mask, "float64")[:, None, :]
    r = attention.shape[1]
    if r < 2:
        raise ValueError("overlap needs at least two hops")
    i, j = np.triu_indices(r, k=1)
    return float(np.minimum(attention[:, i, :], attention[:, j, :]).sum(-1).mean())


def attend(
    model: keras.Model, vectorizer: keras.layers.TextVectorization, texts: Sequence[str], batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Tokens `(m, n)`, attention A `(m, r, n)`, probabilities `(m, k)` and the padding mask for raw texts."""
    probe = attention_model(model)
    tokenize = TokenStrings.like(vectorizer)
    parts = {"tokens": [], "attention": [], "probabilities": [], "mask": []}
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(list(texts[start : start + batch_size]))
        ids = vectorizer(batch)
        out = probe(ids, training=False)
        parts["tokens"].append(np.asarray(tokenize(batch)))
        parts["attention"].append(np.asarray(out["attention"]))
        parts["probabilities"].append(np.asarray(out["probabilities"]))
        parts["mask"].append(np.asarray(ids) != 0)
    return {key: np.concatenate(value) for key, value in parts.items()}

"""Chapter 7 convolutional text classifiers: Kim's TextCNN (four variants), keras' imdb_cnn, and the
Embedding+Flatten toy."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from zoo.errors import UserError
from zoo.models.classifier import classifier_head, vectors_dim

VARIANTS = ("rand", "static", "non-static", "multichannel", "book-multichannel")


def build_textcnn(
    *,
    vocab_size: int,
    sequence_length: int,
    num_classes: int = 2,
    variant: str = "rand",
    embedding_dim: int = 50,
    vectors: np.ndarray | None = None,
    windows: Sequence[int] = (3, 4, 5),
    filters: int = 10,
    dropout: float = 0.5,
    max_norm: float = 0.0,
) -> keras.Model:
    """Kim (2014) TextCNN, chapter 7: embedding, one Conv1D per window, 1-max pooling, dropout, classifier.

    Args:
        vocab_size: rows of the embedding (0 = padding).
        sequence_length: tokens per input.
        num_classes: 2 (one sigmoid unit) or more (softmax).
        variant: `rand` (random, trained embedding), `static` (pre-trained, frozen), `non-static`
            (pre-trained, fine-tuned), `multichannel` (Kim's: a frozen and a fine-tuned copy of the
            pre-trained vectors; each filter is applied to both channels and the results summed),
            `book-multichannel` (the book's section 7.3.3: a *randomly initialised* trainable channel
            and a frozen pre-trained channel, stacked, each with its own kernel weights).
        embedding_dim: embedding size (taken from `vectors` when given).
        vectors: `(vocab_size, dim)` pre-trained matrix, required by every variant but `rand`.
        windows: convolution widths, one Conv1D each.
        filters, dropout, max_norm: the book's 10 / 0.5 / off; the paper's 100 / 0.5 / 3.

    Input: int ids `(batch, sequence_length)`; output: probabilities.

    The two multichannel variants differ in two ways. Kim's second channel starts from the same
    pre-trained vectors as the frozen one (fine-tuning moves it away), and one kernel is shared
    by both channels. The book's second channel starts random (it learns task-specific features
    from nothing, beside the fixed GloVe ones), and the channels are stacked like the two colour
    planes of an image, so each has its own kernel slice: a `Conv1D` over the two embeddings
    concatenated feature-wise is exactly a `Conv2D` over the stacked channels, summed.

    Example:
        >>> model = build_textcnn(vocab_size=100, sequence_length=20)
        >>> model(np.ones((2, 20), "int32")).shape
        (2, 1)
    """
    if variant not in VARIANTS:
        raise UserError(f"expected one of {', '.join(VARIANTS)}", param="variant", value=variant)
    if variant != "rand" and vectors is None:
        raise UserError(f"variant {variant!r} needs pre-trained vectors (a word2vec/GloVe text file)", param="vectors")
    embedding_dim = vectors_dim(vectors, vocab_size=vocab_size, embedding_dim=embedding_dim)
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")

    layers = []

    def embedding(name: str, trainable: bool):
        layers.append(keras.layers.Embedding(vocab_size, embedding_dim, trainable=trainable, name=name))
        return layers[-1](ids)

    if variant == "multichannel":
        channels = [embedding("embedding_static", False), embedding("embedding_non_static", True)]
    elif variant == "book-multichannel":
        random = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding_random")(ids)
        stacked = [random, embedding("embedding_static", False)]
        channels = [keras.layers.Concatenate(name="channels")(stacked)]
    else:
        channels = [embedding("embedding", variant != "static")]
    pooled = []
    for width in windows:
        conv = keras.layers.Conv1D(filters, width, name=f"conv_{width}")
        features = [conv(channel) for channel in channels]
        x = keras.layers.Add(name=f"channels_{width}")(features) if len(features) > 1 else features[0]
        x = keras.layers.Activation("relu", name=f"relu_{width}")(x)
        pooled.append(keras.layers.GlobalMaxPooling1D(name=f"max_{width}")(x))
    x = keras.layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]
    x = keras.layers.Dropout(dropout)(x)
    model = keras.Model(
        ids, classifier_head(x, num_classes, max_norm=max_norm), name=f"textcnn_{variant.replace('-', '_')}"
    )
    if vectors is not None:  # set after building: a Constant initialiser would copy the matrix into the config
        for layer in layers:  # the pre-trained channels only (the book's random channel keeps its init)
            layer.set_weights([vectors])
    return model


def build_cnn1d(
    *,
    vocab_size: int,
    sequence_length: int,
    num_classes: int = 2,
    embedding_dim: int = 50,
    filters: int = 250,
    kernel_size: int = 3,
    hidden_dims: int = 250,
    dropout: float = 0.2,
) -> keras.Model:
    """The book's port of keras' imdb_cnn, chapter 7: embedding, Conv1D, global max pooling, Dense, classifier.

    Args:
        vocab_size, sequence_length, num_classes, embedding_dim: as `build_textcnn`.
        filters, kernel_size: the one Conv1D layer.
        hidden_dims: units of the hidden Dense layer.
        dropout: after the embedding and after the hidden layer.

    Example:
        >>> model = build_cnn1d(vocab_size=100, sequence_length=20, filters=8, hidden_dims=8)
        >>> model(np.ones((2, 20), "int32")).shape
        (2, 1)
    """
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim)(ids)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Conv1D(filters, kernel_size, activation="relu")(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dense(hidden_dims)(x)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.Activation("relu")(x)
    return keras.Model(ids, classifier_head(x, num_classes), name="cnn1d")


def build_embedding_flatten(*, vocab_size: int, sequence_length: int = 4, embedding_dim: int = 8) -> keras.Model:
    """The chapter 7 toy: Embedding(vocab, 8) over 4 tokens, Flatten, one sigmoid unit.

    Args:
        vocab_size: rows of the embedding.
        sequence_length: tokens per document (the book: 4).
        embedding_dim: embedding size (the book: 8).

    Example:
        >>> build_embedding_flatten(vocab_size=50).output.shape
        (None, 1)
    """
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim)(ids)
    x = keras.layers.Flatten()(x)
    return keras.Model(ids, classifier_head(x, 2), name="embedding_flatten")

"""Convolutional networks of chapter 5: the MNIST CNN and the 1D CNN for UCI HAR."""

from __future__ import annotations

import keras


def build_mnist_cnn(*, classes: int = 10, dropout: float = 0.5) -> keras.Model:
    """Chapter 5 MNIST CNN on raw 0-255 pixels (28, 28): Conv32 5x5, pool, Conv64 5x5, pool, Dense1024, logits.

    The book feeds pre-scaled images and puts a softmax before a `from_logits=True` loss; here the
    model rescales inside (so exports take raw pixels) and returns logits.

    Args:
        classes: output units (logits).
        dropout: rate before the output layer.

    Example:
        >>> build_mnist_cnn().output.shape
        (None, 10)
    """
    inputs = keras.Input(shape=(28, 28), name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Reshape((28, 28, 1))(x)
    x = keras.layers.Conv2D(32, 5, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(64, 5, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(1024, activation="relu", kernel_initializer="he_normal")(x)
    x = keras.layers.Dropout(dropout)(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_cnn")


def build_har_cnn1d(
    *,
    normalizer: keras.layers.Layer,
    steps: int = 128,
    channels: int = 9,
    classes: int = 6,
    filters: int = 64,
    kernel_size: int = 3,
    dense: int = 100,
    dropout: float = 0.5,
) -> keras.Model:
    """Chapter 5 activity recognition: Normalization, Conv1D64 k3, Dropout, MaxPool2, Dense100, Dense6 softmax.

    Args:
        normalizer: scales each raw channel (e.g. `Normalization(axis=-1)` with train-split statistics).
        steps, channels: the shape of one raw window.
        classes: activities (softmax outputs).
        filters, kernel_size: the Conv1D layer.
        dense: hidden Dense units.
        dropout: rate after the convolution.

    Example:
        >>> build_har_cnn1d(normalizer=keras.layers.Normalization(axis=-1, mean=0.0, variance=1.0)).output.shape
        (None, 6)
    """
    inputs = keras.Input(shape=(steps, channels), name="signals")
    x = normalizer(inputs)
    x = keras.layers.Conv1D(filters, kernel_size, activation="relu")(x)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense, activation="relu")(x)
    probabilities = keras.layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, probabilities, name="har_cnn1d")

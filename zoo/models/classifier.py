"""The output layer and compile settings every text classifier of the zoo shares (chapters 7, 9, 11)."""

from __future__ import annotations

import keras

from zoo.errors import UserError


def classifier_head(x, num_classes: int, *, max_norm: float = 0.0, name: str = "output"):
    """Probabilities for `num_classes`: one sigmoid unit for two classes, a softmax otherwise.

    Args:
        x: the features tensor (functional API).
        num_classes: 2 gives `(batch, 1)` probabilities of class 1, more gives `(batch, num_classes)`.
        max_norm: Kim (2014)'s max-norm constraint on the output weights when > 0.
        name: the layer's name.

    Example:
        >>> features = keras.Input(shape=(16,))
        >>> model = keras.Model(features, classifier_head(features, 3))
        >>> model.output.shape
        (None, 3)
    """
    constraint = keras.constraints.MaxNorm(max_norm) if max_norm > 0 else None
    if num_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", kernel_constraint=constraint, name=name)(x)
    return keras.layers.Dense(num_classes, activation="softmax", kernel_constraint=constraint, name=name)(x)


def compile_classifier(model: keras.Model, *, num_classes: int, learning_rate: float = 1e-3) -> keras.Model:
    """Adam with binary (2 classes) or sparse categorical cross-entropy, and accuracy; returns `model`."""
    loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return model


def vectors_dim(vectors, *, vocab_size: int, embedding_dim: int) -> int:
    """The embedding size a text classifier uses: the pre-trained matrix's, when one is given.

    Args:
        vectors: a `(vocab_size, dim)` matrix aligned to the vocabulary (`zoo.data.vectors`), or None.
        vocab_size: rows the embedding must have.
        embedding_dim: the size to use without vectors.

    Raises:
        UserError: the matrix does not have one row per vocabulary entry.
    """
    if vectors is None:
        return embedding_dim
    if vectors.shape[0] != vocab_size:
        raise UserError(f"vectors have {vectors.shape[0]} rows, the vocabulary {vocab_size}")
    return int(vectors.shape[1])

"""A word -> vector lookup layer (chapter 6): serves trained embeddings for a 1-D batch of word strings."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="zoo")
class WordVectorLookup(keras.layers.Layer):
    """Maps word strings to rows of an embedding matrix; unknown words get row 0 (`[UNK]`).

    Args:
        vocabulary: the words of rows 1..V-1 (row 0 is the out-of-vocabulary vector), as
            `keras.layers.StringLookup` numbers them.
        dim: vector size.
        lowercase: lower-case the input first (the chapter 6 vocabularies are lower-case).

    Example:
        layer = WordVectorLookup(["king", "queen"], dim=2)
        layer.build(None); layer.embeddings.assign(matrix)   # matrix: (3, 2)
        layer(tf.constant(["King", "zebra"]))                # rows 1 and 0
    """

    def __init__(self, vocabulary: Sequence[str], dim: int, lowercase: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = list(vocabulary)
        self.dim = dim
        self.lowercase = lowercase
        self.lookup = keras.layers.StringLookup(vocabulary=self.vocabulary, num_oov_indices=1, name="lookup")

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(len(self.vocabulary) + 1, self.dim),
            initializer="zeros",
            trainable=False,
        )

    def call(self, words):
        # String preprocessing is TF-only (serving side); the gather itself is a keras op.
        if self.lowercase:
            words = tf.strings.lower(words, encoding="utf-8")
        return keras.ops.take(self.embeddings, self.lookup(words), axis=0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "dim": self.dim, "lowercase": self.lowercase}

"""Sentiment from averaged word embeddings (the sequence-models notes' first sentiment model): mean -> softmax."""

from __future__ import annotations

import keras
import numpy as np

from zoo.errors import UserError
from zoo.models.classifier import classifier_head, vectors_dim


def build_average_embedding(
    *,
    vocab_size: int,
    sequence_length: int,
    num_classes: int = 2,
    embedding_dim: int = 50,
    vectors: np.ndarray | None = None,
    freeze: bool = False,
) -> keras.Model:
    """Embedding -> mean over the real tokens -> one softmax (sigmoid for two classes) layer.

    The notes' model averages the GloVe vectors of a sentence's words and trains only the softmax
    layer on top (`vectors=..., freeze=True`); without vectors the embedding is learned from
    scratch with the classifier (a fastText-style model without n-grams). The mean skips the
    padding (`mask_zero`; `GlobalAveragePooling1D` honours the mask), so a sentence's vector does
    not shrink with the padding it gets. Word order is lost: "not good" and "good, not" are one
    point, which is what the recurrent models of chapters 8-9 are for.

    Args:
        vocab_size: rows of the embedding (0 = padding, 1 = out of vocabulary).
        sequence_length: tokens per input.
        num_classes: 2 (one sigmoid unit, the same as a two-way softmax) or more (softmax).
        embedding_dim: size of the learned embedding (taken from `vectors` when given).
        vectors: a `(vocab_size, dim)` pre-trained matrix aligned to the vocabulary (the zoo's
            skip-gram `vectors.txt`, GloVe ...), loaded with `zoo.data.vectors.load_word_vectors`.
        freeze: keep the vectors fixed and train only the output layer (needs `vectors`).

    Example:
        >>> model = build_average_embedding(vocab_size=100, sequence_length=12, num_classes=5)
        >>> model(np.ones((2, 12), "int32")).shape
        (2, 5)
    """
    if freeze and vectors is None:
        raise UserError(
            "a frozen embedding needs pre-trained vectors (random frozen ones learn nothing)", param="freeze"
        )
    embedding_dim = vectors_dim(vectors, vocab_size=vocab_size, embedding_dim=embedding_dim)
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(
        vocab_size, embedding_dim, mask_zero=True, trainable=not freeze, name="embedding"
    )
    x = keras.layers.GlobalAveragePooling1D(name="mean_of_words")(embedding(ids))
    model = keras.Model(ids, classifier_head(x, num_classes), name="average_embedding")
    if vectors is not None:  # after building: a Constant initialiser would copy the matrix into the config
        embedding.set_weights([vectors])
    return model

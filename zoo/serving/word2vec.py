"""Serving model of chapter 6's skip-gram: word strings in, their trained vectors out."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from zoo.layers.embedding_lookup import WordVectorLookup


def serving_model(vocabulary: Sequence[str], matrix: np.ndarray) -> keras.Model:
    """Word strings (a 1-D batch) -> vectors; `vocabulary[0]` is `[UNK]`, whose vector unknown words get."""
    words = keras.Input(shape=(), dtype="string", name="words")
    lookup = WordVectorLookup(vocabulary[1:], dim=matrix.shape[1], name="word_vectors")
    model = keras.Model(words, lookup(words), name="word2vec_serving")
    lookup.embeddings.assign(matrix)
    return model

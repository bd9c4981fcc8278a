"""Keras callbacks that recipes hand to the driver for one model family (`Recipe.callbacks`).

`ResetStates` (chapter 8's stateful language models) and `NearestNeighbours` (chapter 6's skip-gram).
They sit above `zoo.models` (they read what a model module defines) and below `zoo.recipes`, so model
builders never import them. The driver's own callbacks (progress, checkpoints, logs) are
`zoo.training.callbacks`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from zoo.models.language_model import reset_rnn_states
from zoo.models.word2vec import nearest, word_vectors


class ResetStates(keras.callbacks.Callback):
    """Resets stateful RNNs at every epoch start, before and after every evaluation, and after training.

    After training too, so a later `model.evaluate` (the driver's test pass) starts from zero state.
    """

    async_safe = True  # epoch-level hooks only

    def on_epoch_begin(self, epoch, logs=None):
        reset_rnn_states(self.model)

    def on_test_begin(self, logs=None):
        reset_rnn_states(self.model)

    def on_test_end(self, logs=None):
        reset_rnn_states(self.model)

    def on_train_end(self, logs=None):
        reset_rnn_states(self.model)


class NearestNeighbours(keras.callbacks.Callback):
    """Prints the k cosine nearest neighbours of probe words after each epoch (the book prints 8 for 16 words)."""

    def __init__(self, vocabulary: Sequence[str], probes: Sequence[str], k: int = 8, print_fn=print):
        super().__init__()
        index = {word: i for i, word in enumerate(vocabulary)}
        self.vocabulary = list(vocabulary)
        self.probes = np.array([index[w] for w in probes if w in index], "int64")
        self.k = k
        self.print_fn = print_fn
        self.last: dict[str, list[str]] = {}

    def on_epoch_end(self, epoch, logs=None):
        if not len(self.probes):
            return
        top, _ = nearest(word_vectors(self.model), self.probes, self.k)
        self.last = {self.vocabulary[q]: [self.vocabulary[j] for j in row] for q, row in zip(self.probes, top)}
        lines = [f"  {word}: {', '.join(near)}" for word, near in self.last.items()]
        self.print_fn(f"epoch {epoch + 1} nearest neighbours:\n" + "\n".join(lines))

"""Chapter 14's SavedModel: raw strings in, paragraph vectors out, inferred inside the graph (gensim's `infer_vector`).

`ParagraphVectorServing` is what `paragraph_vectors(_imdb)` exports. Its `serve` and `infer`
endpoints (the same function) tokenise a 1-D batch of raw strings as training did
(`zoo.data.documents.tokenize_strings`), look the words up (unknown words are ignored, as gensim
ignores them) and run `ParagraphVectors.infer`: `epochs` gradient steps on a fresh vector per text
against the frozen word and output tables. An empty string, or one of unknown words only, gets the
zero vector. Any Keras code can use it: `keras.layers.TFSMLayer(path, call_endpoint="infer")`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from zoo.data.documents import tokenize_strings
from zoo.models.paragraph_vectors import ParagraphVectors


class ParagraphVectorServing(keras.Model):
    """Raw strings `(batch,)` -> inferred paragraph vectors `(batch, model.output_dim)`.

    Args:
        vocabulary: the model's words, `[UNK]` at 0 (`DocumentInfo.vocabulary`).
        model: the trained `ParagraphVectors`.
        epochs: inference passes over each text (gensim: the training epochs).
        learning_rate: the first pass's rate, decayed linearly to `min_learning_rate`.
        seed: seed of the starting vector and of the negatives (a text always gets the same vector).

    Example:
        >>> serving = ParagraphVectorServing(info.vocabulary, model, epochs=20)
        >>> serving(tf.constant(["A fine film.", ""])).shape   # the empty text's row is zeros
        TensorShape([2, 100])
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        model: ParagraphVectors,
        *,
        epochs: int,
        learning_rate: float = 0.025,
        min_learning_rate: float = 0.0001,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "paragraph_vectors_serving"), **kwargs)
        self.lookup = keras.layers.StringLookup(vocabulary=list(vocabulary[1:]), num_oov_indices=1, name="lookup")
        self.paragraph_vectors = model
        self.epochs, self.learning_rate, self.min_learning_rate = int(epochs), learning_rate, min_learning_rate
        self.seed = int(seed)
        self.input_signature = [tf.TensorSpec([None], tf.string, name="text")]
        self.built = True

    def call(self, text):
        ids = self.lookup(tokenize_strings(text))
        return self.paragraph_vectors.infer(
            tf.cast(ids, tf.int32),
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            seed=self.seed,
        )

    @property
    def endpoints(self) -> dict:
        """`infer`, the issue's name for `serve` (`zoo.export.save_serving` writes both)."""
        return {"infer": (self.__call__, self.input_signature)}

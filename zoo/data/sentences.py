"""Documents as sentences of word ids, inside the TensorFlow graph: the input of the hierarchical attention network.

    raw strings (batch,) --split_sentences--> sentences (batch, S) --TextVectorization--> ids (batch, S, W)

`split_sentences` is a regular expression over the raw text (tf.strings, so it runs inside the
exported SavedModel and in `tf.data` alike): a sentence ends after `.`, `!` or `?` (repeated, and
possibly followed by a closing quote or bracket) followed by white space, and at IMDB's `<br />`
line breaks. It runs *before* the vectoriser's standardisation, which strips the punctuation it
needs. Like every rule-based splitter it also breaks after abbreviations ("Mr. Smith"); for a
classifier that only shortens a sentence. `SentenceIds` is the Keras layer a serving model uses:
raw strings in, the `(batch, S, W)` ids the HAN reads out, with the vectoriser adapted on the
training texts inside. `hierarchical_data` builds a recipe's `Data` from `(texts, labels)` splits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.data.pipelines import Data
from zoo.data.text import dataset, encode, vectorizer

_BREAK = "\n"
# The end of a sentence: terminal punctuation (and closing quotes/brackets) followed by white space.
_SENTENCE_END = r"([.!?]+[\"')\]]*)\s+"


def split_sentences(texts, max_sentences: int) -> tf.Tensor:
    """Raw strings `(batch,)` -> their first `max_sentences` sentences `(batch, max_sentences)`, padded with "".

    Empty sentences (runs of breaks, trailing white space) are dropped, so sentence i is the i-th
    real one and padding only comes after the last.

    Example:
        >>> split_sentences(tf.constant(["Great film! I loved it.<br />See it."]), 4).numpy().tolist()
        [[b'Great film!', b'I loved it.', b'See it.', b'']]
    """
    texts = tf.convert_to_tensor(texts, tf.string)
    texts = tf.strings.regex_replace(texts, r"<br\s*/?>", _BREAK)  # IMDB's line breaks end a sentence
    texts = tf.strings.regex_replace(texts, _SENTENCE_END, r"\1" + _BREAK)
    sentences = tf.strings.strip(tf.strings.split(texts, _BREAK))
    sentences = tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)
    return sentences.to_tensor(default_value="", shape=[None, max_sentences])


def sentence_ids(layer: keras.layers.TextVectorization, texts, max_sentences: int) -> tf.Tensor:
    """Raw strings `(batch,)` -> int ids `(batch, max_sentences, W)`: each sentence through `layer` (W tokens).

    A padding sentence ("") is all zeros, so a model masks it with its words.
    """
    sentences = split_sentences(texts, max_sentences)
    ids = layer(tf.reshape(sentences, [-1]))
    words = layer.get_config()["output_sequence_length"]
    return tf.reshape(tf.cast(ids, tf.int32), [-1, max_sentences, words])


@keras.saving.register_keras_serializable(package="zoo")
class SentenceIds(keras.layers.Layer):
    """Raw strings `(batch,)` -> sentence-by-word ids `(batch, max_sentences, max_words)` (`sentence_ids`).

    Args:
        vectorizer: a `TextVectorization` with `output_sequence_length` (= max_words), adapted on
            the training texts; it is applied to each sentence on its own.
        max_sentences: sentences kept per text (the first ones).

    Example:
        >>> layer = keras.layers.TextVectorization(output_sequence_length=3)
        >>> layer.adapt(["good film", "bad film"])
        >>> SentenceIds(layer, 2)(tf.constant(["Good film. Bad film!"])).shape
        TensorShape([1, 2, 3])
    """

    def __init__(self, vectorizer: keras.layers.TextVectorization, max_sentences: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(vectorizer, dict):
            vectorizer = keras.layers.deserialize(vectorizer)
        words = vectorizer.get_config()["output_sequence_length"]
        if not words or max_sentences < 1:
            raise ValueError("SentenceIds needs max_sentences >= 1 and a vectorizer with output_sequence_length")
        self.vectorizer = vectorizer
        self.max_sentences = int(max_sentences)
        self.max_words = int(words)

    def call(self, text):
        return sentence_ids(self.vectorizer, text, self.max_sentences)

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], self.max_sentences, self.max_words), dtype="int32")

    def get_config(self):
        return {
            **super().get_config(),
            "vectorizer": keras.layers.serialize(self.vectorizer),
            "max_sentences": self.max_sentences,
        }


@dataclasses.dataclass
class SentenceInfo:
    """What a sentence-level (hierarchical) classifier needs to know about its data.

    Attributes:
        vectorizer: the `TextVectorization` adapted on the training texts, applied per sentence
            (0 = padding, 1 = OOV; `output_sequence_length` = max_words).
        vocabulary: its vocabulary, index = token id.
        max_sentences, max_words: the `(S, W)` of every document's ids.
        class_names: label names, index = label id.
        texts: raw texts of the evaluation splits (`"validation"`, `"test"`; `None` if absent).
    """

    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    max_sentences: int
    max_words: int
    class_names: list[str]
    texts: dict[str, Sequence[str] | None] = dataclasses.field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def hierarchical_data(
    train: tuple,
    *,
    validation: tuple | None = None,
    test: tuple | None = None,
    vocab_size: int,
    max_sentences: int,
    max_words: int,
    batch_size: int,
    seed: int,
    class_names: Sequence[str] = ("negative", "positive"),
    standardize="lower_and_strip_punctuation",
) -> Data[SentenceInfo]:
    """`Data` of `(ids (S, W), label)` from `(texts, int labels)` splits; the vocabulary is adapted on `train` only.

    The vocabulary is adapted on whole training documents (the same words as their sentences).

    Example:
        >>> data = hierarchical_data((["Good film. Great cast!", "Bad film."], np.array([1, 0])), vocab_size=10,
        ...                          max_sentences=3, max_words=4, batch_size=2, seed=0)
        >>> next(iter(data.train))[0].shape
        TensorShape([2, 3, 4])
    """
    layer = vectorizer(train[0], vocab_size, max_words, standardize)
    to_ids = SentenceIds(layer, max_sentences)

    def ds(split, shuffle=False):
        if split is None:
            return None
        ids = encode(to_ids, split[0])  # once, so training reads ready-made int32 batches
        return dataset(ids, np.asarray(split[1], "int32"), batch_size, shuffle, seed)

    info = SentenceInfo(
        vectorizer=layer,
        vocabulary=layer.get_vocabulary(),
        max_sentences=max_sentences,
        max_words=max_words,
        class_names=list(class_names),
        texts={"validation": validation and validation[0], "test": test and test[0]},
    )
    return Data(train=ds(train, shuffle=True), validation=ds(validation), test=ds(test), info=info)

"""Text-classification pipelines (chapters 7, 9, 11): vectoriser adapted on train only, tf.data, serving."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.data.pipelines import Data
from zoo.data.vectors import VectorCoverage


@dataclasses.dataclass
class TextInfo:
    """What a text classifier needs to know about its data.

    Attributes:
        vectorizer: the `TextVectorization` adapted on the training texts (0 = padding, 1 = OOV).
        vocabulary: its vocabulary, index = token id.
        sequence_length: tokens per text (padded / truncated).
        class_names: label names, index = label id.
        texts: raw texts of the evaluation splits (`"validation"`, `"test"`; `None` if absent).
        vectors: a `(vocab_size, dim)` pre-trained matrix aligned to `vocabulary`, when one is given.
        vectors_report: coverage of those vectors (`zoo.data.vectors.load_word_vectors`).
    """

    vectorizer: keras.layers.TextVectorization
    vocabulary: list[str]
    sequence_length: int
    class_names: list[str]
    texts: dict[str, Sequence[str] | None] = dataclasses.field(default_factory=dict)
    vectors: np.ndarray | None = None
    vectors_report: VectorCoverage | None = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@keras.saving.register_keras_serializable(package="zoo")
def strip_html_lower_punct(text: tf.Tensor) -> tf.Tensor:
    """Lower-case, turn IMDB's `<br />` tags into spaces and drop punctuation (keras.io's imdb standardiser)."""
    text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    return tf.strings.regex_replace(text, r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']", "")


def vectorizer(
    texts: Sequence[str], max_tokens: int, sequence_length: int, standardize="lower_and_strip_punctuation"
) -> keras.layers.TextVectorization:
    """A `TextVectorization` (0 = padding, 1 = OOV) adapted on `texts`, which must be the training split only."""
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        output_sequence_length=sequence_length,
        standardize=standardize,
        name="vectorizer",
    )
    layer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    return layer


def encode(layer: keras.layers.TextVectorization, texts: Sequence[str], batch: int = 4096) -> np.ndarray:
    """Integer ids of `texts`, computed once so training reads ready-made int32 batches."""
    parts = [np.asarray(layer(tf.constant(list(texts[i : i + batch])))) for i in range(0, len(texts), batch)]
    return np.concatenate(parts).astype("int32")


def dataset(
    ids: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """`(ids, label)` batches with the global batch size; shuffled each epoch when `shuffle`."""
    ds = tf.data.Dataset.from_tensor_slices((ids, labels))
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def string_model(layer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings (a 1-D batch) -> the adapted vectoriser -> the trained integer-input model -> probabilities."""
    text = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(text, model(layer(text)), name=f"{model.name}_serving")


def classification_data(
    train: tuple,
    *,
    validation: tuple | None = None,
    test: tuple | None = None,
    vocab_size: int,
    sequence_length: int,
    batch_size: int,
    seed: int,
    class_names: Sequence[str] = ("negative", "positive"),
    standardize="lower_and_strip_punctuation",
) -> Data[TextInfo]:
    """`Data` for a text classifier from `(texts, int labels)` splits; the vectoriser is adapted on `train` only.

    Args:
        train, validation, test: `(list of str, int labels)`; validation and test optional.
        vocab_size: vocabulary size including padding and OOV.
        sequence_length: tokens per text.
        batch_size: the global batch size; `seed` seeds the per-epoch reshuffle of train.
        class_names: label names (index = label id).
        standardize: the `TextVectorization` standardisation (a name or a registered function).

    Example:
        >>> data = classification_data((["good film", "bad film"], np.array([1, 0])), vocab_size=10,
        ...                            sequence_length=4, batch_size=2, seed=0)
        >>> data.info.vocabulary[:3]
        ['', '[UNK]', 'film']
    """
    layer = vectorizer(train[0], vocab_size, sequence_length, standardize)

    def ds(split, shuffle=False):
        if split is None:
            return None
        return dataset(encode(layer, split[0]), np.asarray(split[1], "int32"), batch_size, shuffle, seed)

    info = TextInfo(
        vectorizer=layer,
        vocabulary=layer.get_vocabulary(),
        sequence_length=sequence_length,
        class_names=list(class_names),
        texts={"validation": validation and validation[0], "test": test and test[0]},
    )
    return Data(train=ds(train, shuffle=True), validation=ds(validation), test=ds(test), info=info)

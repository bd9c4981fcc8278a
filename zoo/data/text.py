"""Text-classification pipelines shared by chapters 7 and 9: vectoriser adapted on train only, tf.data, serving."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.recipes.base import Data


@keras.saving.register_keras_serializable(package="zoo")
def strip_html_lower_punct(text: tf.Tensor) -> tf.Tensor:
    """Lower-case, turn IMDB's `<br />` tags into spaces and drop punctuation (keras.io's imdb standardiser)."""
    text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    return tf.strings.regex_replace(text, r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']", "")


def vectorizer(texts: Sequence[str], max_tokens: int, sequence_length: int,
               standardize="lower_and_strip_punctuation") -> keras.layers.TextVectorization:
    """A `TextVectorization` (0 = padding, 1 = OOV) adapted on `texts`, which must be the training split only."""
    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=sequence_length, standardize=standardize,
        name="vectorizer",
    )
    layer.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024))
    return layer


def encode(layer: keras.layers.TextVectorization, texts: Sequence[str], batch: int = 4096) -> np.ndarray:
    """Integer ids of `texts`, computed once so training reads ready-made int32 batches."""
    parts = [np.asarray(layer(tf.constant(list(texts[i:i + batch])))) for i in range(0, len(texts), batch)]
    return np.concatenate(parts).astype("int32")


def dataset(ids: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool = False,
            seed: int = 0) -> tf.data.Dataset:
    """`(ids, label)` batches with the global batch size; shuffled each epoch when `shuffle`."""
    ds = tf.data.Dataset.from_tensor_slices((ids, labels))
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def string_model(layer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings (a 1-D batch) -> the adapted vectoriser -> the trained integer-input model -> probabilities."""
    text = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(text, model(layer(text)), name=f"{model.name}_serving")


def classification_data(hp, train: tuple, validation: tuple | None = None, test: tuple | None = None,
                        class_names: Sequence[str] = ("negative", "positive"),
                        standardize="lower_and_strip_punctuation", **info) -> Data:
    """`Data` for a text classifier: `(texts, int labels)` splits, vectoriser adapted on `train` only.

    Reads `hp.vocab_size`, `hp.sequence_length`, `hp.batch_size`, `hp.seed`; `info` gets the adapted
    `vectorizer`, its `vocabulary`, `vocab_size`, `sequence_length`, `class_names`, `num_classes`
    and the raw texts of the evaluation splits (`texts`), plus anything passed in `info`.
    """

    layer = vectorizer(train[0], hp.vocab_size, hp.sequence_length, standardize)
    vocabulary = layer.get_vocabulary()

    def ds(split, shuffle=False):
        if split is None:
            return None
        return dataset(encode(layer, split[0]), np.asarray(split[1], "int32"), hp.batch_size, shuffle, hp.seed)

    info = {"vectorizer": layer, "vocabulary": vocabulary, "vocab_size": len(vocabulary),
            "sequence_length": hp.sequence_length, "class_names": list(class_names),
            "num_classes": len(class_names), "texts": {"validation": validation and validation[0],
                                                       "test": test and test[0]}, **info}
    return Data(train=ds(train, shuffle=True), validation=ds(validation), test=ds(test), info=info)

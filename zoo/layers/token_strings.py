"""`TokenStrings`: raw strings -> the token strings a `TextVectorization` sees, aligned with its ids.

Used to label attention weights with the words they fall on (chapter 11's self-attentive classifier,
`zoo.serving.self_attentive` and `zoo.models.self_attentive.attend`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

_STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # TextVectorization's own pattern


@keras.saving.register_keras_serializable(package="zoo")
class TokenStrings(keras.layers.Layer):
    """Raw strings -> the tokens a `TextVectorization` sees, `(batch, sequence_length)`, padded with "".

    Applies the vectoriser's standardisation and whitespace split, so token i lines up with id i of
    the vectoriser's output (also for out-of-vocabulary words, which show as themselves, not [UNK]).

    Args:
        standardize: the vectoriser's `standardize` (a name it accepts, `None`, or a registered function).
        sequence_length: tokens kept per text.

    Example:
        >>> vectorizer = keras.layers.TextVectorization(output_sequence_length=4)
        >>> vectorizer.adapt(["the cat sat"])
        >>> TokenStrings.like(vectorizer)(tf.constant(["The zebra sat!"]))  # [[b"the", b"zebra", b"sat", b""]]
    """

    def __init__(self, standardize="lower_and_strip_punctuation", sequence_length: int = 50, **kwargs):
        super().__init__(**kwargs)
        if isinstance(standardize, dict):
            standardize = keras.saving.deserialize_keras_object(standardize)
        self.standardize = standardize
        self.sequence_length = int(sequence_length)

    @classmethod
    def like(cls, vectorizer: keras.layers.TextVectorization) -> TokenStrings:
        """Tokens exactly as `vectorizer` splits them (whitespace split only)."""
        config = vectorizer.get_config()
        if config["split"] != "whitespace" or not config["output_sequence_length"]:
            raise ValueError("TokenStrings needs a vectorizer with split='whitespace' and output_sequence_length")
        return cls(config["standardize"], config["output_sequence_length"], name="tokens")

    def call(self, text):
        text = tf.convert_to_tensor(text, tf.string)
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = tf.strings.lower(text)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = tf.strings.regex_replace(text, _STRIP_PUNCTUATION, "")
        if callable(self.standardize):
            text = self.standardize(text)
        tokens = tf.strings.split(text)
        return tokens.to_tensor(default_value="", shape=[None, self.sequence_length])

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], self.sequence_length), dtype="string")

    def get_config(self):
        standardize = self.standardize
        if callable(standardize):
            standardize = keras.saving.serialize_keras_object(standardize)
        return {**super().get_config(), "standardize": standardize, "sequence_length": self.sequence_length}

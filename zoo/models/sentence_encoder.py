"""Chapter 14 sentence encoders as served: raw sentences in, the trained encoder's vector out.

Skip-thought (`zoo.models.skip_thought`) and the sequence autoencoder (`zoo.models.sequence_autoencoder`)
both train an encoder that reads a sentence's word ids through an `embedding` layer into an
`encoder` RNN, decode with teacher forcing into one shared `Dense` vocabulary matrix, and throw
their decoders away afterwards. `compile_decoders` is their training objective, `SentenceEncoder`
their encoder behind the `TextVectorization` it was trained with.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def compile_decoders(model: keras.Model, *, learning_rate: float = 1e-3, clipnorm: float = 10.0) -> keras.Model:
    """Adam with gradient norms clipped at `clipnorm` (0 = off), per-word cross-entropy of every output
    (each decoder's logits) over real words only (padding, id 0, ignored); returns `model`."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm or None),
        loss={name: loss for name in model.output_names},
    )
    return model


class SentenceEncoder(keras.Model):
    """Raw sentences `(batch,)` -> sentence vectors `(batch, units)`: `serve` and `encode` endpoints.

    Args:
        vectorizer: the `TextVectorization` the model was trained with (0 = padding, 1 = OOV).
        model: a trained model with an `embedding` layer and an `encoder` RNN layer (if the RNN
            also returns its states, its first output, the final hidden state, is the vector).
        name: the serving model's name.

    Example:
        >>> SentenceEncoder(vectorizer, model)(tf.constant(["A fine film.", ""])).shape
        TensorShape([2, 256])
    """

    def __init__(
        self, vectorizer: keras.layers.TextVectorization, model: keras.Model, name: str = "sentence_encoder", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.vectorizer = vectorizer
        self.embedding = model.get_layer("embedding")
        self.encoder = model.get_layer("encoder")
        self.input_signature = [tf.TensorSpec([None], tf.string, name="text")]
        self.built = True

    def call(self, text):
        ids = tf.cast(self.vectorizer(text), tf.int32)
        # an empty sentence (all padding) is fully masked: the RNN's state stays at its zero start
        outputs = self.encoder(self.embedding(ids), mask=ids > 0)
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    @property
    def endpoints(self) -> dict:
        """`encode`, the chapter's name for `serve` (`zoo.export.save_serving` writes both)."""
        return {"encode": (self.__call__, self.input_signature)}

"""Serving models of chapter 11's self-attentive classifier: raw strings in, one SavedModel.

`SelfAttentiveServing` is what the recipe exports (`serve`: probabilities; `attention`: probabilities,
tokens and hop-averaged weights); `string_classifier` and `explain_model` are its two endpoints as
functional models, and `explain` reads either endpoint's output into one dict per text.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.layers.token_strings import TokenStrings
from zoo.models.self_attentive import attention_model


def explain_model(vectorizer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings -> `{"probabilities", "tokens", "weights"}`: the SavedModel's `attention` endpoint.

    `weights` `(batch, sequence_length)` are the attention rows summed over the hops and divided
    by r (Lin et al.'s visualisation), so each text's weights sum to 1 over its real tokens and are
    0 on padding; `tokens` are the matching strings ("" for padding).
    """
    text = keras.Input(shape=(), dtype="string", name="text")
    outputs = attention_model(model)(vectorizer(text))
    weights = keras.layers.GlobalAveragePooling1D(name="hop_mean")(outputs["attention"])  # mean over axis 1 (hops)
    return keras.Model(
        text,
        {"probabilities": outputs["probabilities"], "tokens": TokenStrings.like(vectorizer)(text), "weights": weights},
        name=f"{model.name}_explain",
    )


def string_classifier(vectorizer: keras.layers.TextVectorization, model: keras.Model) -> keras.Model:
    """Raw strings (a 1-D batch) -> class probabilities: the `serve` endpoint."""
    text = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(text, model(vectorizer(text)), name=f"{model.name}_serving")


class SelfAttentiveServing(keras.Model):
    """The exported model: raw strings in, with two endpoints in one SavedModel.

    - `serve(text)` -> class probabilities `(batch, k)` (what `TFSMLayer(path, call_endpoint="serve")` gives);
    - `attention(text)` -> `{"probabilities", "tokens", "weights"}` (see `explain_model`), so another
      program can draw the same highlights as the run's `attention.html`. (The endpoint is named like
      chapter 11's translator's `attention` endpoint, `zoo.serving.translator.Translator`.)

    `zoo.export.save_serving` writes `serve` (this model's `call` on `input_signature`, the 1-D
    string batch) and the `endpoints` property's `attention`.

    Args:
        vectorizer: the `TextVectorization` adapted on the training texts.
        model: the trained classifier from `build_self_attentive_classifier`.
    """

    def __init__(self, vectorizer: keras.layers.TextVectorization, model: keras.Model, **kwargs):
        super().__init__(name=kwargs.pop("name", f"{model.name}_serving"), **kwargs)
        self.classifier = string_classifier(vectorizer, model)
        self.explainer = explain_model(vectorizer, model)
        self.input_signature = [tf.TensorSpec([None], tf.string, name="text")]
        self.built = True

    def call(self, text):
        return self.classifier(text)

    def attention(self, text):
        return self.explainer(text)

    @property
    def endpoints(self) -> dict:
        """The SavedModel's endpoints besides `serve` (`zoo.export.save_serving` writes them)."""
        return {"attention": (self.attention, self.input_signature)}


def explain(explainer, texts: Sequence[str]) -> list[dict]:
    """Run an explain model (or a loaded SavedModel's `attention` endpoint) on texts.

    Returns one dict per text: `text`, its `tokens` (padding dropped), their `weights` and the
    class `probabilities`.
    """
    out = explainer(tf.constant(list(texts)))
    tokens, weights = np.asarray(out["tokens"]), np.asarray(out["weights"])
    probabilities = np.asarray(out["probabilities"])
    rows = []
    for k, text in enumerate(texts):
        real = [t.decode() if isinstance(t, bytes) else str(t) for t in tokens[k]]
        real = [t for t in real if t]
        rows.append(
            {
                "text": text,
                "tokens": real,
                "weights": weights[k, : len(real)].tolist(),
                "probabilities": probabilities[k].tolist(),
            }
        )
    return rows

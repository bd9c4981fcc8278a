"""The hierarchical attention network's SavedModel: raw strings in, sentences split inside the graph.

`HanServing` is what `han_imdb` exports: `serve(text)` -> class probabilities, and
`attention(text)` -> the probabilities with both levels of weights and the strings they fall on, so
any program (TensorFlow only, no zoo) can draw the run's `attention/` pictures again.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.data.sentences import sentence_ids, split_sentences
from zoo.layers.token_strings import TokenStrings
from zoo.models.han import attention_model, class_probabilities


class HanServing(keras.Model):
    """The exported model, two endpoints over a 1-D batch of raw strings.

    - `serve(text)` -> probabilities, what the classifier outputs (`(batch, 1)` for two classes);
    - `attention(text)` -> `{"probabilities", "sentences" (batch, S), "tokens" (batch, S, W),
      "word_weights" (batch, S, W), "sentence_weights" (batch, S)}`: sentence i of a text is
      `sentences[i]`, its words as the vectoriser sees them `tokens[i]` ("" for padding), their
      weights `word_weights[i]` (summing to 1 over a real sentence) and the sentence's weight
      `sentence_weights[i]` (summing to 1 over the text's real sentences).

    Args:
        vectorizer: the `TextVectorization` adapted on the training texts (`output_sequence_length` = W).
        max_sentences: S, sentences kept per text.
        model: the trained classifier from `zoo.models.han.build_han_classifier`.
    """

    def __init__(self, vectorizer: keras.layers.TextVectorization, max_sentences: int, model: keras.Model, **kwargs):
        super().__init__(name=kwargs.pop("name", f"{model.name}_serving"), **kwargs)
        self.vectorizer = vectorizer
        self.max_sentences = int(max_sentences)
        self.classifier = model
        self.probe = attention_model(model)
        self.tokens = TokenStrings.like(vectorizer)
        self.input_signature = [tf.TensorSpec([None], tf.string, name="text")]
        self.built = True

    def call(self, text):
        return self.classifier(sentence_ids(self.vectorizer, text, self.max_sentences))

    def attention(self, text):
        sentences = split_sentences(text, self.max_sentences)
        out = self.probe(sentence_ids(self.vectorizer, text, self.max_sentences))
        words = self.tokens.sequence_length
        tokens = tf.reshape(self.tokens(tf.reshape(sentences, [-1])), [-1, self.max_sentences, words])
        return {**out, "sentences": sentences, "tokens": tokens}

    @property
    def endpoints(self) -> dict:
        """The SavedModel's endpoints besides `serve` (`zoo.export.save_serving` writes them)."""
        return {"attention": (self.attention, self.input_signature)}


def explain(attention, texts: Sequence[str]) -> list[dict]:
    """Run an `attention` endpoint (a `HanServing`'s or a loaded SavedModel's) on raw texts.

    Returns one dict per text: `text`, `sentences` (each `{"text", "weight", "tokens", "weights"}`,
    real sentences and real tokens only) and the class `probabilities` (two columns for two classes).
    """
    out = attention(tf.constant(list(texts)))
    decode = lambda s: s.decode("utf-8") if isinstance(s, bytes) else str(s)  # noqa: E731
    sentences, tokens = np.asarray(out["sentences"]), np.asarray(out["tokens"])
    word_weights, sentence_weights = np.asarray(out["word_weights"]), np.asarray(out["sentence_weights"])
    probabilities = class_probabilities(np.asarray(out["probabilities"]))
    rows = []
    for k, text in enumerate(texts):
        parts = []
        for i, sentence in enumerate(sentences[k]):
            if not sentence:
                break  # padding sentences come after the last real one
            real = [decode(t) for t in tokens[k, i] if t]
            parts.append(
                {
                    "text": decode(sentence),
                    "weight": float(sentence_weights[k, i]),
                    "tokens": real,
                    "weights": word_weights[k, i, : len(real)].tolist(),
                }
            )
        rows.append({"text": text, "sentences": parts, "probabilities": probabilities[k].tolist()})
    return rows

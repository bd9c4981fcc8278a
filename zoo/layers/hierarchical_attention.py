"""The hierarchical attention network's encoder (Yang et al. 2016, "Hierarchical attention networks for
document classification"), one of the attention models chapter 11 surveys.

A document is S sentences of W words (ids `(batch, S, W)`, embedded to `(batch, S, W, E)`):

    word level      h_it = BiGRU(x_i1 .. x_iW)_t                      (each sentence on its own)
                    a_it = softmax_t(u_w^T tanh(W_w h_it + b_w))        s_i = sum_t a_it h_it
    sentence level  h_i  = BiGRU(s_1 .. s_S)_i
                    b_i  = softmax_i(u_s^T tanh(W_s h_i + b_s))         v   = sum_i b_i h_i

Each attention is Bahdanau's additive score with a learned query, so it is Keras' own
`AdditiveAttention(use_scale=True)` (as in `zoo.layers.attention.EncoderDecoderAttention`): the keys are
`Dense(attention_units)(h)` = W h + b, the query is zero, and the layer's `scale` vector is the
context vector u: score_t = sum(u * tanh(0 + W h_t + b)); Keras does the masked softmax and the
weighted sum. (Chapter 11's `SelfAttention` with one hop computes the same without b, but it also
logs a Frobenius penalty, meaningless for one hop, as a metric of every model that holds it.)
Padding words and padding sentences (all-zero ids) are masked at both levels: their weights are
exactly 0, each real sentence's word weights and each document's sentence weights sum to 1.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class HierarchicalAttention(keras.layers.Layer):
    """Word-level then sentence-level BiGRU + attention over embedded documents `(batch, S, W, E)`.

    Args:
        units: GRU units per direction at both levels (Yang et al.: 50, so h has 100 features).
        attention_units: size of the word and sentence context vectors u_w, u_s and of the tanh
            layers before them (Yang et al.: 100).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: embedded words `(batch, S, W, E)`.
        mask: optional boolean `(batch, S, W)`, True for real words; an `Embedding(mask_zero=True)`
            on the ids passes it automatically. A sentence without a real word is padding.

    Returns:
        `(document, word_weights, sentence_weights)`: the document vector v `(batch, 2 * units)`, the
        word attention a `(batch, S, W)` and the sentence attention b `(batch, S)`.

    Example:
        >>> x = keras.random.normal((2, 3, 5, 8))
        >>> v, words, sentences = HierarchicalAttention(units=4, attention_units=6)(x)
        >>> tuple(v.shape), tuple(words.shape), tuple(sentences.shape)
        ((2, 8), (2, 3, 5), (2, 3))
    """

    def __init__(self, units: int = 50, attention_units: int = 100, **kwargs):
        super().__init__(**kwargs)
        if units < 1 or attention_units < 1:
            raise ValueError(f"units and attention_units must be >= 1, got {units} and {attention_units}")
        self.units = int(units)
        self.attention_units = int(attention_units)
        self.supports_masking = True
        gru = lambda name: keras.layers.Bidirectional(  # noqa: E731
            keras.layers.GRU(self.units, return_sequences=True), name=name
        )
        self.word_encoder = gru("word_encoder")
        self.sentence_encoder = gru("sentence_encoder")
        self.word_projection = keras.layers.Dense(self.attention_units, name="word_projection")  # W_w, b_w
        self.sentence_projection = keras.layers.Dense(self.attention_units, name="sentence_projection")  # W_s, b_s
        self.word_attention = keras.layers.AdditiveAttention(use_scale=True, name="word_attention")  # scale: u_w
        self.sentence_attention = keras.layers.AdditiveAttention(use_scale=True, name="sentence_attention")  # u_s

    def build(self, input_shape):
        sentences, words, features = input_shape[1], input_shape[2], input_shape[3]
        hidden, context = 2 * self.units, self.attention_units
        for encoder, projection, attention, steps, width in (
            (self.word_encoder, self.word_projection, self.word_attention, words, features),
            (self.sentence_encoder, self.sentence_projection, self.sentence_attention, sentences, hidden),
        ):
            encoder.build((None, steps, width))
            projection.build((None, steps, hidden))
            attention.build([(None, 1, context), (None, steps, hidden), (None, steps, context)])

    def attend(self, level: str, h, mask):
        """One level's attention over states h `(rows, n, 2 * units)` with a boolean mask `(rows, n)`.

        `level` is `"word"` (u_w, W_w, b_w) or `"sentence"` (u_s, W_s, b_s). Returns the weights
        `(rows, n)` (0 on padding, each row with a real position sums to 1) and the weighted sum
        `(rows, 2 * units)`.
        """
        if level not in ("word", "sentence"):
            raise ValueError(f"level must be 'word' or 'sentence', got {level!r}")
        projection, attention = (
            (self.word_projection, self.word_attention)
            if level == "word"
            else (self.sentence_projection, self.sentence_attention)
        )
        keys = projection(h)
        query = ops.zeros((ops.shape(h)[0], 1, self.attention_units), dtype=keys.dtype)
        pooled, weights = attention([query, h, keys], mask=[None, mask], return_attention_scores=True)
        # A row with no real position (a padding sentence) gets Keras' uniform weights: zero them.
        weights = weights[:, 0, :] * ops.cast(ops.any(mask, axis=-1, keepdims=True), weights.dtype)
        return weights, pooled[:, 0, :]

    def call(self, inputs, mask=None, training=None):
        shape = ops.shape(inputs)
        sentences, words = shape[1], shape[2]
        if mask is None:
            mask = ops.ones(shape[:3], "bool")
        mask = ops.cast(mask, "bool")
        # Every sentence of every document is one row of the word level.
        flat = ops.reshape(inputs, (-1, words, shape[3]))
        flat_mask = ops.reshape(mask, (-1, words))
        h = self.word_encoder(flat, mask=flat_mask, training=training)
        word_weights, s = self.attend("word", h, flat_mask)
        s = ops.reshape(s, (-1, sentences, 2 * self.units))
        sentence_mask = ops.any(mask, axis=-1)
        g = self.sentence_encoder(s, mask=sentence_mask, training=training)
        sentence_weights, document = self.attend("sentence", g, sentence_mask)
        return document, ops.reshape(word_weights, (-1, sentences, words)), sentence_weights

    def compute_output_shape(self, input_shape):
        batch, sentences, words = input_shape[:3]
        return (batch, 2 * self.units), (batch, sentences, words), (batch, sentences)

    def compute_mask(self, inputs, mask=None):
        return None, None, None  # the document vector has no time axis; the weights are already 0 on padding

    def get_config(self):
        return {**super().get_config(), "units": self.units, "attention_units": self.attention_units}

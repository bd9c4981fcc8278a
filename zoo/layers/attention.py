"""Encoder-decoder attention of chapters 10-11: additive (Bahdanau), general and dot (Luong), scaled dot,
and one Transformer head (projected scaled dot, with or without value and output projections)."""

from __future__ import annotations

import math

import keras
from keras import ops

SCORES = ("additive", "general", "dot", "scaled_dot", "projected_dot", "multi_head")


@keras.saving.register_keras_serializable(package="zoo")
class EncoderDecoderAttention(keras.layers.Layer):
    """Attention of a decoder state (the query) over encoder outputs (the values), with a padding mask.

    With query `s` (decoder state) and keys/values `h_j` (encoder outputs):

        additive   (Bahdanau 2015)   score(s, h_j) = v^T tanh(W_q s + W_k h_j)
        general    (Luong 2015)      score(s, h_j) = s^T W h_j
        dot        (Luong 2015)      score(s, h_j) = s^T h_j          (needs dim(s) == dim(h))
        scaled_dot (Vaswani 2017)    score(s, h_j) = s^T h_j / sqrt(d)
        projected_dot (one head)     score(s, h_j) = (W_q s)^T (W_k h_j) / sqrt(units)
        multi_head (one head)        score(s, h_j) = (W_q s + b_q)^T (W_k h_j + b_k) / sqrt(units)

        a_j = softmax_j(score(s, h_j)) over the real (unmasked) positions only
        context = sum_j a_j h_j              (multi_head: W_o sum_j a_j (W_v h_j + b_v) + b_o, of the query's size)

    The softmax, the masking and the weighted sum are Keras' own layers: `additive` projects the
    query and the keys with `W_q`, `W_k` (Dense, no bias) and hands them to
    `keras.layers.AdditiveAttention(use_scale=True)`, whose `scale` vector is Bahdanau's `v`;
    `general` projects the keys with `W` and hands them to `keras.layers.Attention` (dot score);
    `dot` is `keras.layers.Attention` as is; `scaled_dot` divides the query by sqrt(d) first,
    because `keras.layers.Attention(use_scale=True)` learns its scalar (initialised to 1) instead of
    fixing it to 1/sqrt(d). Neither Keras layer has the projections, so they cannot be used alone
    for Bahdanau's or Luong's general score. `projected_dot` projects query and keys with `W_q`,
    `W_k` and scales by 1/sqrt(units): the score of one head of `keras.layers.MultiHeadAttention`
    without its biases, value and output projections. `multi_head` is that head whole, as
    `MultiHeadAttention(num_heads=1, key_dim=units)` computes it (its context has the query's size,
    every other score's the values'); it is written out rather than wrapping `MultiHeadAttention`
    because a decoder projects the keys and values once per sentence (`project_keys`) and attends
    at every step, which that layer cannot be told. Padding positions get the score -1e9 (Keras' own mask
    handling), so their weight is exactly 0 after the softmax whenever a row has one real position;
    a row with no real position (an empty source sentence) gets uniform weights, not NaN.

    Args:
        score: `"additive"` (the default), `"general"`, `"dot"`, `"scaled_dot"`, `"projected_dot"` or
            `"multi_head"`.
        units: size of the additive score's hidden layer (`W_q`, `W_k`, `v`), or of the projected
            query, keys (and values) of `projected_dot` and `multi_head`; defaults to the query size.
            Unused by the other scores.
        **kwargs: base `Layer` arguments (name, dtype, ...).

    Call arguments:
        query: `(batch, dq)` for one decoder step or `(batch, Tq, dq)`.
        value: encoder outputs `(batch, Tv, dv)`, also used as keys.
        value_mask: optional boolean `(batch, Tv)`, True for real tokens.
        keys: optional `project_keys(value)` (for `multi_head` a pair: keys and values), computed once
            when the same values are attended to at many steps (a decoder); by default computed here.

    Returns:
        `(context, weights)`: context `(batch, dc)` or `(batch, Tq, dc)` (`dc = context_size(dq, dv)`:
        dv, or dq for `multi_head`), weights `(batch, Tv)` or `(batch, Tq, Tv)` (each row sums to 1,
        zero on padding).

    Example:

    >>> layer = EncoderDecoderAttention(score="general")
    >>> context, weights = layer(np.ones((2, 8), "float32"), np.ones((2, 5, 6), "float32"),
    ...                          value_mask=np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool))
    >>> context.shape, weights.shape
    (TensorShape([2, 6]), TensorShape([2, 5]))
    """

    def __init__(self, score: str = "additive", units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}; got {score!r}")
        self.score = score
        self.units = units
        if score == "additive":
            self.attention = keras.layers.AdditiveAttention(use_scale=True, name="additive")
        else:
            self.attention = keras.layers.Attention(use_scale=False, score_mode="dot", name="dot")
        self.query_dense = None
        self.key_dense = None
        self.value_dense = None
        self.output_dense = None

    def build(self, query_shape, value_shape, value_mask_shape=None):
        dq, dv = int(query_shape[-1]), int(value_shape[-1])
        q3 = (None, None, dq)
        k3 = (None, None, dv)
        if self.score in ("additive", "projected_dot", "multi_head"):
            units = self.units or dq
            bias = self.score == "multi_head"
            self.query_dense = keras.layers.Dense(units, use_bias=bias, name="query_dense")
            self.key_dense = keras.layers.Dense(units, use_bias=bias, name="key_dense")
            self.query_dense.build(q3)
            self.key_dense.build(k3)
            mixed = dv
            if self.score == "multi_head":
                self.value_dense = keras.layers.Dense(units, name="value_dense")
                self.output_dense = keras.layers.Dense(dq, name="output_dense")
                self.value_dense.build(k3)
                self.output_dense.build((None, None, units))
                mixed = units
            self.attention.build([(None, None, units), (None, None, mixed), (None, None, units)])
        elif self.score == "general":
            self.key_dense = keras.layers.Dense(dq, use_bias=False, name="key_dense")
            self.key_dense.build(k3)
            self.attention.build([q3, k3, q3])
        else:
            if dq != dv:
                raise ValueError(
                    f"score={self.score!r} needs query and value of the same size; got "
                    f"{dq} and {dv} (use 'general' or 'additive')"
                )
            self.attention.build([q3, k3])
        self.built = True

    def context_size(self, query_size: int, value_size: int) -> int:
        """The size of the context vectors for queries and values of these sizes."""
        return query_size if self.score == "multi_head" else value_size

    def project_keys(self, value):
        """The keys the scores compare the query with: `W_k h_j` (additive, projected_dot), `W h_j` (general),
        `(W_k h_j + b_k, W_v h_j + b_v)` (multi_head: keys and the values mixed), else `h_j`.

        A decoder calls this once per sentence and passes the result as `keys=` at every step.
        """
        if self.value_dense is not None:
            return self.key_dense(value), self.value_dense(value)
        return self.key_dense(value) if self.key_dense is not None else value

    def call(self, query, value, value_mask=None, keys=None):
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
        key = self.project_keys(value) if keys is None else keys
        if self.value_dense is not None:
            key, value = key
        if self.score == "additive":
            query = self.query_dense(query)
        elif self.score == "scaled_dot":
            query = query / math.sqrt(int(query.shape[-1]))
        elif self.score in ("projected_dot", "multi_head"):
            query = self.query_dense(query) / math.sqrt(self.query_dense.units)
        mask = None if value_mask is None else [None, ops.cast(value_mask, "bool")]
        context, weights = self.attention([query, value, key], mask=mask, return_attention_scores=True)
        if self.output_dense is not None:
            context = self.output_dense(context)
        if single_step:
            context, weights = context[:, 0], weights[:, 0]
        return context, weights

    def compute_output_spec(self, query, value, value_mask=None, keys=None):
        lead = tuple(query.shape[:-1])
        return (
            keras.KerasTensor(lead + (self.context_size(query.shape[-1], value.shape[-1]),), dtype=self.compute_dtype),
            keras.KerasTensor(lead + (value.shape[1],), dtype=self.compute_dtype),
        )

    def get_config(self):
        return {**super().get_config(), "score": self.score, "units": self.units}

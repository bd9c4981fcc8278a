"""Structured self-attention of chapter 11 (Lin et al. 2017, "A structured self-attentive sentence embedding").

Given the hidden states H of a sentence (n tokens x 2u features, e.g. a BiLSTM's outputs):

    A = softmax_over_tokens(W_s2 tanh(W_s1 H^T))     (r x n: one attention distribution per hop)
    M = A H                                           (r x 2u: the sentence embedding matrix)
    P = || A A^T - I ||_F^2                            (penalty: hops should look at different tokens)

The book's version has three bugs this layer fixes:
- its softmax runs over the hops (a `Dense(r, activation="softmax")` on each token), so each *token*
  distributes one unit of weight over the r hops; Lin et al. normalise each *hop* over the tokens;
- its penalty is the unsquared Frobenius norm and is added without a coefficient (and, in the
  author's code, never added at all); Lin et al. use the squared norm times a coefficient, averaged
  over the batch;
- it attends to padding; here masked tokens get weight exactly 0 and each hop still sums to 1.
"""

from __future__ import annotations

import keras
from keras import ops


def _large_negative(dtype) -> float:
    """A logit that underflows to zero in softmax but stays finite (float16 tops out at 65504)."""
    return -3e4 if str(dtype) in ("float16", "bfloat16") else -1e9


@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention(keras.layers.Layer):
    """Lin et al.'s multi-hop self-attention over a sequence, with the Frobenius penalty as `add_loss`.

    Args:
        hops: r, the number of attention rows (the author's code: 50; the paper: 30).
        attention_units: d_a, the hidden size of the scoring MLP (30 in the paper and the code).
        penalty: coefficient of P = mean over the batch of ||A A^T - I||_F^2, added to the model's
            loss with `add_loss`; 0 turns the penalty off (P is still measured and reported).
        penalty_gradient: what the penalty trains. `"all"` (Lin et al.): every weight A depends on,
            the encoder that produced H included; `"attention"`: only W_s1 and W_s2 (the penalty is
            computed on a stop-gradient copy of H), so that making the hops distinct cannot reshape
            the states the classifier reads. Both give the same forward value of P.
        kernel_initializer: initialiser of W_s1 and W_s2.
        kernel_regularizer: optional regulariser of W_s1 and W_s2 (any `keras.regularizers` object).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: H, `(batch, n, features)`.
        mask: optional boolean `(batch, n)`; Keras passes the mask of an `Embedding(mask_zero=True)`
            through a `Bidirectional(LSTM(return_sequences=True))` automatically. A text whose tokens
            are all masked gets an all-zero attention row (there is nothing to attend to).

    Returns:
        `(M, A)`: M `(batch, hops, features)` and A `(batch, hops, n)`.

    Weights: `w_s1` of shape `(attention_units, features)` and `w_s2` of shape `(hops, attention_units)`,
    in the paper's orientation. The layer owns a `keras.metrics.Mean` named `attention_penalty` that
    tracks the *unweighted* P of every batch it sees, so `fit` logs `attention_penalty` and
    `val_attention_penalty` in its history (and the driver's `history.csv`) even when the coefficient
    is 0, which is what the penalty ablation compares.

    Example:
        >>> h = keras.random.normal((2, 7, 8))
        >>> m, a = SelfAttention(hops=3, attention_units=5)(h)
        >>> tuple(m.shape), tuple(a.shape)
        ((2, 3, 8), (2, 3, 7))
    """

    PENALTY_GRADIENTS = ("all", "attention")

    def __init__(
        self,
        hops: int = 50,
        attention_units: int = 30,
        penalty: float = 1.0,
        penalty_gradient: str = "all",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hops < 1 or attention_units < 1:
            raise ValueError(f"hops and attention_units must be >= 1, got {hops} and {attention_units}")
        if penalty < 0:
            raise ValueError(f"penalty must be >= 0, got {penalty}")
        if penalty_gradient not in self.PENALTY_GRADIENTS:
            raise ValueError(f"penalty_gradient must be one of {self.PENALTY_GRADIENTS}, got {penalty_gradient!r}")
        self.penalty_gradient = penalty_gradient
        self.hops = int(hops)
        self.attention_units = int(attention_units)
        self.penalty = float(penalty)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.supports_masking = True
        self.penalty_tracker = keras.metrics.Mean(name="attention_penalty")

    def build(self, input_shape):
        features = input_shape[-1]
        self.w_s1 = self.add_weight(
            shape=(self.attention_units, features),
            name="w_s1",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.w_s2 = self.add_weight(
            shape=(self.hops, self.attention_units),
            name="w_s2",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )

    def attention(self, inputs, mask=None):
        """A `(batch, hops, n)`: each hop's softmax over the (unmasked) tokens."""
        hidden = ops.tanh(ops.einsum("bnf,af->bna", inputs, self.w_s1))  # tanh(W_s1 H^T), token-major
        logits = ops.einsum("bna,ra->brn", hidden, self.w_s2)  # W_s2 tanh(...): (batch, hops, n)
        if mask is None:
            return ops.softmax(logits, axis=-1)
        keep = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (batch, 1, n)
        logits = ops.where(keep, logits, ops.cast(_large_negative(logits.dtype), logits.dtype))
        # For a fully masked text the softmax would spread over padding: zero those rows instead.
        return ops.softmax(logits, axis=-1) * ops.cast(keep, logits.dtype)

    @staticmethod
    def frobenius_penalty(attention):
        """Mean over the batch of ||A A^T - I||_F^2 for A `(batch, hops, n)`."""
        gram = ops.einsum("brn,bsn->brs", attention, attention)
        eye = ops.eye(ops.shape(attention)[1], dtype=attention.dtype)
        return ops.mean(ops.sum(ops.square(gram - eye), axis=(1, 2)))

    def call(self, inputs, mask=None, training=None):
        attention = self.attention(inputs, mask)
        embedding = ops.einsum("brn,bnf->brf", attention, inputs)  # M = A H
        penalized = attention
        if training and self.penalty > 0 and self.penalty_gradient == "attention":
            # The same A again, from a stop-gradient copy of H: only W_s1 and W_s2 get the penalty's gradient.
            # Outside training no gradient is taken, so the second pass would only cost time.
            penalized = self.attention(ops.stop_gradient(inputs), mask)
        penalty = self.frobenius_penalty(ops.cast(penalized, "float32"))
        if self.penalty > 0:
            self.add_loss(self.penalty * penalty)
        self.penalty_tracker.update_state(ops.stop_gradient(penalty))
        return embedding, attention

    def compute_output_shape(self, input_shape):
        batch, steps, features = input_shape
        return (batch, self.hops, features), (batch, self.hops, steps)

    def compute_mask(self, inputs, mask=None):
        return None, None  # M and A have a hop axis, not a token axis: nothing left to mask

    def get_config(self):
        config = super().get_config()
        config.update(
            hops=self.hops,
            attention_units=self.attention_units,
            penalty=self.penalty,
            penalty_gradient=self.penalty_gradient,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config

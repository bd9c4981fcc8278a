"""Transformer building blocks of chapter 12 (Vaswani et al. 2017, "Attention is all you need").

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V          (masked positions get weight 0)
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,  head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)
    sublayer "Add & Norm": LayerNorm(x + Dropout(Sublayer(x)))  (post-norm, the paper's; pre-norm with
                           `normalize_first=True`: x + Dropout(Sublayer(LayerNorm(x))))
    FFN(x) = max(0, x W_1 + b_1) W_2 + b_2

The blocks are built on `keras.layers.MultiHeadAttention`. `scaled_dot_product_attention`,
`split_heads`, `merge_heads` and `multi_head_attention_by_hand` write the same computation out with
`keras.ops` for teaching (a test checks they give the Keras layer's outputs). keras_hub's
`TransformerEncoder`/`TransformerDecoder` are not used: as of keras-hub 0.32 the decoder cannot
return its cross-attention weights, which the `attention` endpoint and the heat maps (one panel per
layer and head) need.

Masks are explicit: the blocks take boolean padding masks `(B, T)` (True = real token) and build
the attention mask `(B, Tq, Tk)` themselves (`attention_mask`): the keys' padding, AND the look-ahead
mask in the decoder's self-attention. Padding *queries* are not masked: their rows attend to the real
keys, and no real position reads them (they are masked as keys). `MultiHeadAttention` would also AND
in the Keras masks (`_keras_mask`, e.g. from `Embedding(mask_zero=True)`) found on its inputs, making
the rows of padding queries attend uniformly to every key, padding included; the blocks hand it
copies without Keras masks, so the mask is the one built here whatever the inputs carry. A Keras mask
on a block's input passes on unchanged to its output (for standard Keras layers downstream).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from zoo.layers.pooling import large_negative


def split_heads(x, num_heads: int):
    """`(B, T, num_heads * d)` -> `(B, num_heads, T, d)`: each head gets its own slice of the features."""
    batch, length = ops.shape(x)[0], ops.shape(x)[1]
    x = ops.reshape(x, (batch, length, num_heads, x.shape[-1] // num_heads))
    return ops.transpose(x, (0, 2, 1, 3))


def merge_heads(x):
    """`(B, num_heads, T, d)` -> `(B, T, num_heads * d)`, the inverse of `split_heads` (the "Concat")."""
    x = ops.transpose(x, (0, 2, 1, 3))
    return ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], x.shape[2] * x.shape[3]))


def scaled_dot_product_attention(query, key, value, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V, written out.

    Args:
        query: `(..., Tq, d_k)`.
        key: `(..., Tk, d_k)`.
        value: `(..., Tk, d_v)`.
        mask: optional boolean, broadcastable to `(..., Tq, Tk)`; True = may attend.

    Returns:
        `(outputs (..., Tq, d_v), weights (..., Tq, Tk))`; each row of weights sums to 1 and is 0
        where masked (a row with nothing to attend to gets uniform weights, not NaN).

    Example:
        >>> q = k = v = np.ones((2, 3, 4), "float32")
        >>> out, w = scaled_dot_product_attention(q, k, v, mask=np.array([True, True, False]))
        >>> w[0, 0].numpy()
        array([0.5, 0.5, 0. ], dtype=float32)
    """
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / math.sqrt(int(query.shape[-1]))
    if mask is not None:
        scores = ops.where(ops.cast(mask, "bool"), scores, ops.cast(large_negative(scores.dtype), scores.dtype))
    weights = ops.softmax(scores, axis=-1)
    return ops.matmul(weights, value), weights


def multi_head_attention_by_hand(layer: keras.layers.MultiHeadAttention, query, value, mask=None):
    """A built `MultiHeadAttention`'s outputs, recomputed from its weights with the head split by hand.

    Keras stores each projection as an `EinsumDense` kernel `(D, heads, d_k)` (output: `(heads, d_v,
    D)`); reshaped to `(D, heads * d_k)` it is the paper's W_Q = [W_Q^1 ... W_Q^h] side by side, so one
    matmul projects every head and `split_heads` cuts the result into heads. The kernels are read
    through the layer's public `query_dense`, `key_dense`, `value_dense` and `output_dense`.

    Args:
        layer: a built `keras.layers.MultiHeadAttention` (default `use_bias=True`, no gate).
        query: `(B, Tq, D)`.
        value: `(B, Tk, D)`, also the keys.
        mask: optional boolean `(B, Tq, Tk)` (or broadcastable), as the layer's `attention_mask`.

    Returns:
        `(outputs (B, Tq, D), weights (B, heads, Tq, Tk))`, what
        `layer(query, value, attention_mask=mask, return_attention_scores=True)` returns.

    Example:
        >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
        >>> x = np.random.rand(1, 4, 6).astype("float32")
        >>> _ = mha(x, x)
        >>> out, w = multi_head_attention_by_hand(mha, x, x)
        >>> bool(np.allclose(out, mha(x, x), atol=1e-5))
        True
    """
    heads = layer.num_heads

    def project(dense, x):
        kernel = dense.kernel  # (D, heads, d)
        flat = ops.reshape(kernel, (kernel.shape[0], kernel.shape[1] * kernel.shape[2]))
        return split_heads(ops.matmul(x, flat) + ops.reshape(dense.bias, (-1,)), heads)

    q = project(layer.query_dense, query)  # (B, heads, Tq, d_k)
    k = project(layer.key_dense, value)
    v = project(layer.value_dense, value)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # one mask for every head
    context, weights = scaled_dot_product_attention(q, k, v, mask)
    out_kernel = layer.output_dense.kernel  # (heads, d_v, D)
    w_o = ops.reshape(out_kernel, (out_kernel.shape[0] * out_kernel.shape[1], out_kernel.shape[2]))
    return ops.matmul(merge_heads(context), w_o) + layer.output_dense.bias, weights


def attention_mask(query, key_mask=None, *, causal: bool = False):
    """The boolean attention mask `(B, Tq, Tk)` of `query` `(B, Tq, ...)`, True = may attend.

    `key_mask` `(B, Tk)` marks the real keys (padding is False); `causal` (self-attention, Tk = Tq)
    also forbids attending to later positions (the look-ahead mask). None when nothing is masked.

    Example:
        >>> attention_mask(np.zeros((1, 3, 8)), np.array([[True, True, False]]), causal=True)[0].numpy()
        array([[ True, False, False],
               [ True,  True, False],
               [ True,  True, False]])
    """
    if key_mask is None and not causal:
        return None
    batch, q_len = ops.shape(query)[0], ops.shape(query)[1]
    k_len = q_len if key_mask is None else ops.shape(key_mask)[1]
    mask = ops.ones((batch, q_len, k_len), dtype="bool")
    if key_mask is not None:
        mask = ops.logical_and(mask, ops.expand_dims(ops.cast(key_mask, "bool"), 1))
    if causal:
        rows, cols = ops.arange(q_len)[:, None], ops.arange(k_len)[None, :]
        mask = ops.logical_and(mask, ops.expand_dims(ops.greater_equal(rows, cols), 0))
    return mask


def _without_keras_mask(x):
    # A new tensor with no `_keras_mask`: `MultiHeadAttention` would AND a Keras mask it finds on
    # its inputs into our explicit attention mask (and deletes it from the caller's tensor).
    return ops.copy(x)


def sinusoidal_encoding(length, dim: int, dtype="float32"):
    """The paper's positional encoding `(length, dim)`: PE(p, 2i) = sin(p / 10000^(2i/dim)), PE(p, 2i+1) = cos(.)."""
    positions = ops.cast(ops.arange(length), "float32")[:, None]
    frequencies = ops.exp(ops.cast(ops.arange(0, dim, 2), "float32") * (-math.log(10000.0) / dim))
    angles = positions * frequencies[None, :]
    interleaved = ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1), (-1, 2 * angles.shape[-1]))
    return ops.cast(interleaved[:, :dim], dtype)


@keras.saving.register_keras_serializable(package="zoo")
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding * sqrt(model_dim) + the sinusoidal positional encoding (no maximum length).

    Args:
        vocab_size: rows of the embedding matrix (id 0 = padding).
        model_dim: d_model.
        mask_zero: attach a Keras padding mask (`ids != 0`) to the output, like
            `Embedding(mask_zero=True)`. The transformer blocks do not need it (they take explicit
            masks); standard Keras layers downstream use it.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: int ids `(B, T)`; or, with `reverse=True`, vectors `(B, T, model_dim)`.
        reverse: return `inputs @ embeddings^T` (logits `(B, T, vocab_size)`): an output layer tied
            to the embedding matrix (Press & Wolf 2017; the paper shares it too).

    The matrix is the `embeddings` weight, initialised N(0, 1/model_dim): the scaled embeddings have
    unit variance, like the positional encoding.

    Example:
        >>> layer = PositionalEmbedding(20, 8)
        >>> layer(np.array([[5, 6, 0]])).shape
        TensorShape([1, 3, 8])
    """

    def __init__(self, vocab_size: int, model_dim: int, mask_zero: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.model_dim, self.mask_zero = int(vocab_size), int(model_dim), bool(mask_zero)
        self.supports_masking = True

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.vocab_size, self.model_dim),
            initializer=keras.initializers.RandomNormal(stddev=self.model_dim**-0.5),
            name="embeddings",
        )

    def call(self, inputs, reverse: bool = False):
        if reverse:
            return ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))
        tokens = ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)
        tokens = ops.cast(tokens, self.compute_dtype) * math.sqrt(self.model_dim)
        return tokens + sinusoidal_encoding(ops.shape(inputs)[-1], self.model_dim, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero or not keras.backend.is_int_dtype(inputs.dtype):  # a reverse call: vectors, no mask
            return None
        return ops.not_equal(inputs, 0)

    def get_config(self):
        config = {"vocab_size": self.vocab_size, "model_dim": self.model_dim, "mask_zero": self.mask_zero}
        return {**super().get_config(), **config}


class _Block(keras.layers.Layer):
    """What both blocks share: sizes, the position-wise FFN and the Add & Norm around each sublayer."""

    def __init__(
        self, model_dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1, normalize_first: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        if model_dim % num_heads:
            raise ValueError(f"model_dim ({model_dim}) must be a multiple of num_heads ({num_heads})")
        self.model_dim, self.num_heads, self.ff_dim = int(model_dim), int(num_heads), int(ff_dim)
        self.dropout, self.normalize_first = float(dropout), bool(normalize_first)
        self.supports_masking = True  # a Keras mask on the input passes on to the output, unused
        self.ff_inner = keras.layers.Dense(ff_dim, activation="relu", name="ff_inner")
        self.ff_outer = keras.layers.Dense(model_dim, name="ff_outer")
        self.ff_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ff_norm")
        self.dropout_layer = keras.layers.Dropout(dropout)

    def attention_layer(self, name: str) -> keras.layers.MultiHeadAttention:
        # No dropout on the weights (the paper drops sublayer outputs): returned weights are the real ones.
        return keras.layers.MultiHeadAttention(self.num_heads, self.model_dim // self.num_heads, name=name)

    def build(self, input_shape):
        if input_shape[-1] != self.model_dim:
            raise ValueError(f"{self.name} expects inputs of size model_dim={self.model_dim}; got {input_shape[-1]}")
        shape = (None, None, self.model_dim)
        for layer in self.attention_layers():
            layer.build(shape, shape)
        for norm in self.norms():
            norm.build(shape)
        self.ff_inner.build(shape)
        self.ff_outer.build((None, None, self.ff_dim))

    def attend(self, layer, query, value, mask, return_attention: bool, training):
        """`layer`'s outputs and weights (None unless asked: asking rules out Keras' fused attention kernel)."""
        if return_attention:
            return layer(query, value, attention_mask=mask, return_attention_scores=True, training=training)
        return layer(query, value, attention_mask=mask, training=training), None

    def before(self, x, norm):
        """A sublayer's input: `norm(x)` (pre-norm) or `x`, without Keras mask."""
        return _without_keras_mask(norm(x) if self.normalize_first else x)

    def after(self, x, y, norm, training):
        """Add & Norm: `norm(x + dropout(y))` (post-norm) or `x + dropout(y)` (pre-norm)."""
        x = x + self.dropout_layer(y, training=training)
        return x if self.normalize_first else norm(x)

    def feed_forward(self, x, training):
        return self.after(x, self.ff_outer(self.ff_inner(self.before(x, self.ff_norm))), self.ff_norm, training)

    def get_config(self):
        names = ("model_dim", "num_heads", "ff_dim", "dropout", "normalize_first")
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(_Block):
    """Self-attention + Add & Norm, then the position-wise FFN (ReLU) + Add & Norm.

    Args:
        model_dim: d_model, the input and output size (a multiple of `num_heads`).
        num_heads: h; each head has `model_dim // num_heads` dimensions.
        ff_dim: the FFN's inner size (the paper: 4 * d_model).
        dropout: on each sublayer's output, before the residual addition.
        normalize_first: pre-norm (a stack of such blocks needs a final `LayerNormalization`).
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: `(B, T, model_dim)`.
        padding_mask: optional boolean `(B, T)`, True for real tokens: padding keys are masked.
        return_attention: also return the self-attention weights `(B, heads, T, T)`.

    Example:
        >>> block = TransformerEncoderBlock(8, 2, 16)
        >>> block(np.ones((2, 5, 8), "float32"), padding_mask=np.arange(5) < np.array([[3], [5]])).shape
        TensorShape([2, 5, 8])
    """

    def __init__(self, model_dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1, **kwargs):
        super().__init__(model_dim, num_heads, ff_dim, dropout, **kwargs)
        self.self_attention = self.attention_layer("self_attention")
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="attention_norm")

    def attention_layers(self):
        return [self.self_attention]

    def norms(self):
        return [self.attention_norm, self.ff_norm]

    def call(self, x, padding_mask=None, return_attention: bool = False, training=None):
        h = self.before(x, self.attention_norm)
        y, weights = self.attend(self.self_attention, h, h, attention_mask(h, padding_mask), return_attention, training)
        x = self.feed_forward(self.after(x, y, self.attention_norm, training), training)
        return (x, weights) if return_attention else x


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderBlock(_Block):
    """Causal self-attention, cross-attention over the encoder outputs, FFN; each with Add & Norm.

    Args:
        model_dim, num_heads, ff_dim, dropout, normalize_first: as `TransformerEncoderBlock`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: the target so far, `(B, Tt, model_dim)`.
        encoder_outputs: `(B, Ts, model_dim)`.
        target_mask: optional boolean `(B, Tt)`, True for real target tokens. The self-attention mask
            is the look-ahead mask AND the target padding (always causal, even without it).
        source_mask: optional boolean `(B, Ts)`, True for real source tokens (the cross-attention mask).
        return_attention: also return the cross-attention weights `(B, heads, Tt, Ts)`.

    Example:
        >>> block = TransformerDecoderBlock(8, 2, 16)
        >>> out, w = block(np.ones((2, 4, 8), "float32"), np.ones((2, 6, 8), "float32"), return_attention=True)
        >>> out.shape, w.shape
        (TensorShape([2, 4, 8]), TensorShape([2, 2, 4, 6]))
    """

    def __init__(self, model_dim: int, num_heads: int, ff_dim: int, dropout: float = 0.1, **kwargs):
        super().__init__(model_dim, num_heads, ff_dim, dropout, **kwargs)
        self.self_attention = self.attention_layer("self_attention")
        self.cross_attention = self.attention_layer("cross_attention")
        self.self_attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="self_attention_norm")
        self.cross_attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="cross_attention_norm")

    def attention_layers(self):
        return [self.self_attention, self.cross_attention]

    def norms(self):
        return [self.self_attention_norm, self.cross_attention_norm, self.ff_norm]

    def call(self, x, encoder_outputs, target_mask=None, source_mask=None, return_attention=False, training=None):
        h = self.before(x, self.self_attention_norm)
        y = self.self_attention(h, h, attention_mask=attention_mask(h, target_mask, causal=True), training=training)
        x = self.after(x, y, self.self_attention_norm, training)
        h = self.before(x, self.cross_attention_norm)
        source, mask = _without_keras_mask(encoder_outputs), attention_mask(h, source_mask)
        y, weights = self.attend(self.cross_attention, h, source, mask, return_attention, training)
        x = self.feed_forward(self.after(x, y, self.cross_attention_norm, training), training)
        return (x, weights) if return_attention else x

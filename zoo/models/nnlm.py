"""Chapter 8's feed-forward language model: Bengio et al. (2003)'s neural probabilistic LM.

`build_nnlm` maps ids `[batch, T]` to logits `[batch, T, vocab]` like the recurrent LMs of
`zoo.models.language_model` (which re-exports it), so the same compile function, perplexity metric,
SavedModel and samplers serve it; `initial_window` and `window_step` are its generation step, the
last `window` ids standing in for a recurrent state.
"""

from __future__ import annotations

import keras
import numpy as np  # noqa: F401 (the docstring example)
from keras import ops

from zoo.layers.context_pad import ContextPad


def build_nnlm(
    *,
    vocab_size: int,
    window: int = 4,
    embedding_dim: int = 100,
    hidden: int = 200,
    direct: bool = False,
    dropout: float = 0.0,
    pad_id: int = 0,
) -> keras.Model:
    """Bengio et al. (2003)'s neural probabilistic LM: the last `window` words -> next-word logits.

        x = [C(w(t-window+1)), ..., C(w(t))]        (the shared word features, concatenated)
        logits = b + W x + U tanh(d + H x)           (W: the optional direct connections)

    Written for whole sequences: `H x` over every position's window of concatenated embeddings is a
    1-D convolution of width `window` over the embedded text, so `Conv1D(hidden, window)` is `H`
    (its kernel `[window, embedding_dim, hidden]` is `H` reshaped) and `Conv1D(vocab, window)` is
    `W`. The model maps ids `[batch, T]` to logits `[batch, T, vocab]` like the recurrent LMs, position
    `t` seeing tokens `t - window + 1 .. t` only; `ContextPad` puts `window - 1` copies of `pad_id`
    (the sentence boundary) before the first token. It is a Markov model of order `window`: nothing
    before the window counts, so it needs no state (`step` keeps the last `window` ids as its cache).

    Bengio's own training was SGD over (context, next word) pairs; here Adam over rows of targets,
    each row carrying its `window - 1` tokens of context (`zoo.data.language_model.context_windows`).
    `dropout` (not in the paper) acts on the concatenated features and on the tanh layer. `H` and `W`
    start as the dense layers of the textbook formulation would (Glorot over `window * embedding_dim`
    inputs and `hidden` or `vocab_size` outputs): Keras' Conv1D default counts `window * hidden`
    outputs, which drew `H` 30% smaller at the default sizes.

    Args:
        vocab_size: words in the vocabulary (id 0 = `<unk>`).
        window: words of context, `n - 1` for an n-gram model (Bengio: n = 5, so 4).
        embedding_dim: size of each word's features C(w) (Bengio: 30-100).
        hidden: units of the tanh layer (Bengio: 50-100 on AP News; 0 = none, `direct` only).
        direct: the direct connections `W x` from the features to the output.
        dropout: rate on the features and the hidden layer (0 = off, as Bengio).
        pad_id: the id of the context before a text's first token (the boundary, `<eos>`).

    Example:
        >>> model = build_nnlm(vocab_size=50, window=3, embedding_dim=8, hidden=16)
        >>> model(np.zeros((2, 7), "int32")).shape
        TensorShape([2, 7, 50])
    """
    if window < 1:
        raise ValueError(f"window must be >= 1 word of context, got {window}")
    if hidden < 1 and not direct:
        raise ValueError("hidden = 0 needs direct connections (direct=True), or there is no path to the output")
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    padded = ContextPad(window - 1, value=pad_id, name="context_pad")(ids)
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(padded)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_features")(x)
    outputs = []
    if hidden:
        h = keras.layers.Conv1D(
            hidden,
            window,
            activation="tanh",
            kernel_initializer=_dense_glorot(window, embedding_dim, hidden),
            name="hidden",
        )(x)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout_hidden")(h)
        outputs.append(keras.layers.Dense(vocab_size, name="logits")(h))
    if direct:
        direct_kernel = _dense_glorot(window, embedding_dim, vocab_size)
        outputs.append(
            keras.layers.Conv1D(
                vocab_size, window, use_bias=not hidden, kernel_initializer=direct_kernel, name="direct"
            )(x)
        )
    logits = keras.layers.Add(name="logits_sum")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(ids, logits, name="nnlm")


def _dense_glorot(window: int, features: int, units: int) -> keras.initializers.Initializer:
    """Glorot-uniform for a `Conv1D(units, window)` kernel as for the `Dense(units)` on `window * features` inputs
    it computes (fans `window * features` and `units`, where Keras' Conv1D counts `window * units` outputs)."""
    dense_fans, conv_fans = window * features + units, window * (features + units)
    return keras.initializers.VarianceScaling(scale=conv_fans / dense_fans, mode="fan_avg", distribution="uniform")


def context_pad(model: keras.Model) -> ContextPad | None:
    """The `ContextPad` of a feed-forward LM (`build_nnlm`), or None for a recurrent one."""
    return next((layer for layer in model.layers if isinstance(layer, ContextPad)), None)


def initial_window(model: keras.Model, batch_size) -> tuple:
    """The generation "state" of a feed-forward LM: the last `window` ids, all the boundary at first."""
    pad = context_pad(model)
    return (ops.full((batch_size, pad.width + 1), pad.value, "int32"),)


def window_step(model: keras.Model, tokens, states: tuple):
    """Slide the window by one token and read the model's last position: logits `[batch, vocab]`, new window."""
    window = ops.concatenate([states[0][:, 1:], ops.cast(tokens, "int32")[:, None]], axis=1)
    return model(window, training=False)[:, -1], (window,)

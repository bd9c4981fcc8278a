"""Chapter 8 language models: the book's char RNN, the word-level LSTM of Zaremba et al. (2014), and
Bengio et al. (2003)'s feed-forward neural probabilistic language model (`build_nnlm`).

Builders return uncompiled `keras.Model`s mapping token ids `[batch, steps]` to next-token *logits*
`[batch, steps, vocab]`; `compile_language_model` adds the loss, optimizer, clipping and the
`keras_hub.metrics.Perplexity` metric. `zoo.serving.language_model.LanguageModelServing` wraps a
trained model for export with string endpoints (scoring and generation, built on `step` here).

What the book gets wrong, and what is done here instead:

* Its output layers apply a softmax and the loss then treats the result as probabilities; the
  builders output logits and the loss uses `from_logits=True` (numerically stable; the metric and
  the SavedModel apply log-softmax themselves).
* Its char RNN is a ReLU `SimpleRNN` trained with plain Adam: without gradient clipping a ReLU
  recurrence explodes within a few hundred steps. `compile_language_model` clips the global
  gradient norm (`global_clipnorm`, 5 by default as in Zaremba et al.).
* It trains with `fit_generator` (gone in Keras 3) on independent windows and reports no perplexity.
  Here the windows are laid out as parallel streams (`zoo.data.language_model`) and the LSTM keeps
  its state from one batch to the next (`stateful=True`), reset at every epoch start and before
  every evaluation (`zoo.callbacks.ResetStates`), as Zaremba et al. do.
* Keras 3 facts the book predates: a stateful RNN needs a fixed batch, `keras.Input(batch_shape=...)`;
  `Model` has no `reset_states()` (each RNN layer has `reset_state()`, see `reset_rnn_states`);
  a partial last batch fails, so training streams are trimmed to whole batches.
* Zaremba's loss is summed over a window, Keras' averaged: see `zoo.models.lm_configs.zaremba_optimizer`.
"""

from __future__ import annotations

import math

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.models import nnlm
from zoo.models.lm_configs import CONFIGS, EpochDecay, LanguageModelConfig, zaremba_optimizer  # noqa: F401
from zoo.models.nnlm import build_nnlm, context_pad  # noqa: F401 (build_nnlm: one import for every LM builder)
from zoo.models.rnn import check_cell, recurrent_layer

# ----------------------------------------------------------------------------- builders


def _ids_input(batch_size: int | None, num_steps: int | None, stateful: bool) -> keras.KerasTensor:
    if stateful:
        if not batch_size:
            raise ValueError("a stateful language model needs a fixed batch_size (keras.Input(batch_shape=...))")
        return keras.Input(batch_shape=(batch_size, num_steps), dtype="int32", name="ids")
    return keras.Input(shape=(num_steps,), dtype="int32", name="ids")


def build_char_rnn(
    *,
    vocab_size: int,
    hidden: int = 1000,
    batch_size: int | None = None,
    num_steps: int | None = None,
    stateful: bool = False,
) -> keras.Model:
    """The book's character RNN: one-hot chars -> Dense(hidden) -> SimpleRNN(relu) -> Dense(vocab) logits.

    `Dense(hidden)` on a one-hot vector is a row lookup, so it is an `Embedding(vocab, hidden)`
    here (the Dense bias it lacks is absorbed by the SimpleRNN's own bias: both are linear). The
    output is logits (the book's softmax + probabilities loss is fixed); train it with clipping
    (`compile_language_model` clips the global norm), which a ReLU recurrence needs.

    Args:
        vocab_size: characters in the vocabulary (id 0 = out of vocabulary).
        hidden: units of the input projection and the recurrence (the book prints 500 with Adam at
            1e-1; its author's code has 1000 and 1e-3, which the `char_rnn` recipe keeps: at 1e-1 the
            ReLU recurrence diverges, RESULTS.md).
        batch_size: fixed batch size; required when `stateful`.
        num_steps: window length (the book: 25); `None` accepts any length.
        stateful: carry the recurrent state from one batch to the next.

    Example:
        >>> model = build_char_rnn(vocab_size=50, hidden=16)
        >>> model(np.zeros((2, 25), "int32")).shape
        TensorShape([2, 25, 50])
    """
    ids = _ids_input(batch_size, num_steps, stateful)
    x = keras.layers.Embedding(vocab_size, hidden, name="one_hot_dense")(ids)
    x = keras.layers.SimpleRNN(hidden, activation="relu", return_sequences=True, stateful=stateful, name="rnn")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(ids, logits, name="char_rnn")


def build_word_lstm_lm(
    *,
    vocab_size: int,
    units: int = 200,
    layers: int = 2,
    dropout: float = 0.0,
    init_scale: float = 0.1,
    batch_size: int | None = None,
    num_steps: int | None = None,
    stateful: bool = True,
    unroll: bool = False,
    cell: str = "lstm",
) -> keras.Model:
    """Word-level LSTM LM: Embedding(units) -> [Dropout] -> LSTM x layers -> Dropout -> Dense(vocab) logits.

    As Zaremba et al.: the embedding size equals the LSTM size, dropout sits on the non-recurrent
    connections only (after the embedding, between LSTM layers and before the output), every
    weight including biases is drawn from U(-init_scale, init_scale) and there is no forget-gate
    bias of 1. The book's version is `units=500, dropout=0.5` (dropout only before the output in
    the book; here on every non-recurrent connection, as in the paper it follows).

    Args:
        vocab_size: words in the vocabulary (id 0 = `<unk>`).
        units: embedding and LSTM size (small 200, medium 650, large 1500, book 500).
        layers: stacked LSTM layers.
        dropout: rate on the non-recurrent connections (0 = no Dropout layers).
        init_scale: half-width of the uniform initialiser.
        batch_size: fixed batch size; required when `stateful`.
        num_steps: window length; `None` accepts any length.
        stateful: carry the LSTM state from one batch to the next (reset with `reset_rnn_states`).
        unroll: unroll the time loop (faster on CPU for short windows, more memory).
        cell: the recurrent cell, `"lstm"` (the default), `"gru"`, `"simple_rnn"` (tanh) or
            `"peephole"` (diagonal `PeepholeLSTMCell`); every weight, peepholes included, gets
            the same uniform initialiser (`zoo.models.rnn.recurrent_layer`).

    Example:
        >>> model = build_word_lstm_lm(vocab_size=50, units=8, batch_size=4, num_steps=5)
        >>> model(np.zeros((4, 5), "int32")).shape
        TensorShape([4, 5, 50])
    """
    check_cell(cell)
    init = lambda: keras.initializers.RandomUniform(-init_scale, init_scale)  # noqa: E731 (fresh per weight)
    ids = _ids_input(batch_size, num_steps, stateful)
    x = keras.layers.Embedding(vocab_size, units, embeddings_initializer=init(), name="embedding")(ids)
    for i in range(layers):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        extra = {"peephole_initializer": init()} if cell == "peephole" else {}
        x = recurrent_layer(
            cell,
            units,
            return_sequences=True,
            stateful=stateful,
            unroll=unroll,
            kernel_initializer=init(),
            recurrent_initializer=init(),
            bias_initializer=init(),
            unit_forget_bias=False,
            # lstm_0, lstm_1 as before for the LSTM (saved runs keep their layer names)
            name=f"{'lstm' if cell == 'lstm' else cell}_{i}",
            **extra,
        )(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"dropout_{layers}")(x)
    logits = keras.layers.Dense(vocab_size, kernel_initializer=init(), bias_initializer=init(), name="logits")(x)
    return keras.Model(ids, logits, name="word_lstm_lm" if cell == "lstm" else f"word_{cell}_lm")


# ----------------------------------------------------------------------------- training pieces


def compile_language_model(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer | str = "adam",
    *,
    clipnorm: float | None = 5.0,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Sparse cross-entropy on logits, `keras_hub.metrics.Perplexity` (token-weighted), clipped gradients.

    A string optimizer gets `global_clipnorm=clipnorm`; an optimizer object is used as given.
    Validation and test batches carry 0/1 weights (`zoo.data.language_model.eval_dataset`), so
    `val_perplexity`/`test_perplexity` are `exp` of the mean cross-entropy over every real token.
    """
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"global_clipnorm": clipnorm}})
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        # weighted_metrics: Keras hands sample weights to these only (plain `metrics` ignore them).
        weighted_metrics=[keras_hub.metrics.Perplexity(from_logits=True, name="perplexity")],
        jit_compile=jit_compile,
    )
    return model


def rnn_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


def reset_rnn_states(model: keras.Model) -> None:
    """Zero the carried state of every stateful RNN layer (Keras 3's `Model` has no `reset_states`)."""
    for layer in rnn_layers(model):
        if layer.stateful:
            layer.reset_state()


# ----------------------------------------------------------------------------- stateless copies and steps


def stateless_copy(model: keras.Model) -> keras.Model:
    """The same functional model with any batch size and window length, not stateful, same weights."""
    config = model.get_config()
    for layer in config["layers"]:
        cfg = layer["config"]
        if layer["class_name"] == "InputLayer":
            cfg["batch_shape"] = [None] * len(cfg["batch_shape"])
        if "stateful" in cfg:
            cfg["stateful"] = False
        if "unroll" in cfg:
            cfg["unroll"] = False
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def initial_states(model: keras.Model, batch_size) -> tuple:
    """Zero states for `step`, a flat tuple over the RNN layers (LSTM: h and c; SimpleRNN: h).

    A feed-forward LM's "state" is its window: the last `window` ids, all the boundary at first.
    """
    if context_pad(model) is not None:
        return nnlm.initial_window(model, batch_size)
    states = []
    for layer in rnn_layers(model):
        sizes = layer.cell.state_size if isinstance(layer.cell.state_size, (list, tuple)) else [layer.cell.state_size]
        states.extend(ops.zeros((batch_size, size), "float32") for size in sizes)
    return tuple(states)


def step(model: keras.Model, tokens, states: tuple):
    """One time step of a (stateless) LM built here: token ids `[batch]` + states -> logits `[batch, vocab]`, states."""
    if context_pad(model) is not None:
        return nnlm.window_step(model, tokens, states)
    x = tokens
    flat = list(states)
    new_states = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or isinstance(layer, keras.layers.Dropout):
            continue
        if isinstance(layer, keras.layers.RNN):
            n = len(layer.cell.state_size) if isinstance(layer.cell.state_size, (list, tuple)) else 1
            mine, flat = flat[:n], flat[n:]
            x, out_states = layer.cell(x, mine, training=False)
            new_states.extend(out_states if isinstance(out_states, (list, tuple)) else [out_states])
        else:
            x = layer(x)
    return x, tuple(new_states)


def token_log_probs(model: keras.Model, inputs, targets):
    """`log p(targets | inputs)` per position, `[batch, steps]`, from the model's logits."""
    logits = ops.cast(model(inputs, training=False), "float32")
    return -keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)


def perplexity_of(model: keras.Model, dataset: tf.data.Dataset) -> float:
    """`exp(sum of -log p over weighted targets / their count)` over a dataset of (x, y[, w]) batches.

    Stateful models are reset first and carry their state across the dataset's batches.
    """
    reset_rnn_states(model)
    total, count = 0.0, 0.0
    for batch in dataset:
        x, y = batch[0], batch[1]
        w = batch[2] if len(batch) > 2 else tf.ones_like(y, tf.float32)
        log_probs = np.asarray(token_log_probs(model, x, y), np.float64)
        total -= float((log_probs * np.asarray(w)).sum())
        count += float(np.asarray(w).sum())
    reset_rnn_states(model)
    return math.exp(total / count)

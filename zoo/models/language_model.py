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
* Zaremba's loss is summed over the `num_steps` of a window (averaged over the batch) while Keras
  averages over both. The same SGD steps (learning rate 1, gradient norm clipped at 5 on the
  summed loss) are therefore `learning_rate * num_steps` with the norm clipped at
  `clipnorm / num_steps` on Keras' mean loss; `zaremba_optimizer` does this rescaling, so the
  logged loss stays the per-token cross-entropy.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.layers.context_pad import ContextPad
from zoo.models.rnn import check_cell, recurrent_layer

# ----------------------------------------------------------------------------- configurations


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig:
    """Hyper-parameters of one word-level LSTM language model (Zaremba et al. 2014, section 4).

    `decay_after` is the number of epochs at the initial learning rate; every later epoch
    multiplies it by `decay` (small: lr 1 for 4 epochs, then halved each epoch).
    """

    units: int
    num_steps: int
    batch_size: int
    dropout: float
    epochs: int
    learning_rate: float
    decay: float
    decay_after: int
    clipnorm: float
    init_scale: float
    optimizer: str = "sgd"
    layers: int = 2


CONFIGS: dict[str, LanguageModelConfig] = {
    # Zaremba et al. (2014) "Recurrent neural network regularization", section 4.1 (the paper's text).
    "small": LanguageModelConfig(
        units=200,
        num_steps=20,
        batch_size=20,
        dropout=0.0,
        epochs=13,
        learning_rate=1.0,
        decay=0.5,
        decay_after=4,
        clipnorm=5.0,
        init_scale=0.1,
    ),
    "medium": LanguageModelConfig(
        units=650,
        num_steps=35,
        batch_size=20,
        dropout=0.5,
        epochs=39,
        learning_rate=1.0,
        decay=1 / 1.2,
        decay_after=6,
        clipnorm=5.0,
        init_scale=0.05,
    ),
    "large": LanguageModelConfig(
        units=1500,
        num_steps=35,
        batch_size=20,
        dropout=0.65,
        epochs=55,
        learning_rate=1.0,
        decay=1 / 1.15,
        decay_after=14,
        clipnorm=10.0,
        init_scale=0.04,
    ),
    # The book's code: hidden 500, num_steps 30, batch 20, dropout 0.5, 50 epochs, Adam; clipping added.
    "book": LanguageModelConfig(
        units=500,
        num_steps=30,
        batch_size=20,
        dropout=0.5,
        epochs=50,
        learning_rate=1e-3,
        decay=1.0,
        decay_after=50,
        clipnorm=5.0,
        init_scale=0.05,
        optimizer="adam",
    ),
}


@keras.saving.register_keras_serializable(package="zoo")
class EpochDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial * decay ** max(0, epoch - decay_after + 1)` with `epoch = step // steps_per_epoch`.

    Zaremba et al.'s schedule as a Keras schedule: it reads the optimizer's step counter, which
    `BackupAndRestore` saves, so a resumed run continues with the right rate.

    Args:
        initial: the learning rate of the first `decay_after` epochs.
        decay: the factor applied once per later epoch (0.5 halves it).
        decay_after: epochs at the initial rate.
        steps_per_epoch: batches per epoch.

    Example:
        >>> schedule = EpochDecay(1.0, 0.5, decay_after=4, steps_per_epoch=10)
        >>> [float(schedule(step)) for step in (0, 39, 40, 50)]
        [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, initial: float, decay: float, decay_after: int, steps_per_epoch: int):
        self.initial = float(initial)
        self.decay = float(decay)
        self.decay_after = int(decay_after)
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / float(max(1, self.steps_per_epoch)))
        times = ops.maximum(epoch - float(self.decay_after) + 1.0, 0.0)
        return self.initial * ops.power(self.decay, times)

    def get_config(self):
        return {
            "initial": self.initial,
            "decay": self.decay,
            "decay_after": self.decay_after,
            "steps_per_epoch": self.steps_per_epoch,
        }


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
        hidden: units of the input projection and the recurrence (book text: 500, its code: 1000).
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
    `dropout` (not in the paper) acts on the concatenated features and on the tanh layer.

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
        h = keras.layers.Conv1D(hidden, window, activation="tanh", name="hidden")(x)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout_hidden")(h)
        outputs.append(keras.layers.Dense(vocab_size, name="logits")(h))
    if direct:
        outputs.append(keras.layers.Conv1D(vocab_size, window, use_bias=not hidden, name="direct")(x))
    logits = keras.layers.Add(name="logits_sum")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(ids, logits, name="nnlm")


# ----------------------------------------------------------------------------- training pieces


def zaremba_optimizer(config: LanguageModelConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimizer of a config, rescaled for Keras' per-token mean loss (see the module docstring).

    SGD: learning rate `lr * num_steps` under `EpochDecay`, global norm clipped at `clipnorm / num_steps`
    (the same update as Zaremba's on a loss summed over the window). Adam is scale-invariant, so
    the book's Adam keeps its rate and the clipping is on the mean loss.
    """
    if config.optimizer == "sgd":
        schedule = EpochDecay(
            config.learning_rate * config.num_steps, config.decay, config.decay_after, steps_per_epoch
        )
        return keras.optimizers.SGD(schedule, global_clipnorm=config.clipnorm / config.num_steps)
    if config.optimizer == "adam":
        rate = (
            EpochDecay(config.learning_rate, config.decay, config.decay_after, steps_per_epoch)
            if config.decay != 1.0
            else config.learning_rate
        )
        return keras.optimizers.Adam(rate, global_clipnorm=config.clipnorm)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")


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


def context_pad(model: keras.Model) -> ContextPad | None:
    """The `ContextPad` of a feed-forward LM (`build_nnlm`), or None for a recurrent one."""
    return next((layer for layer in model.layers if isinstance(layer, ContextPad)), None)


def initial_states(model: keras.Model, batch_size) -> tuple:
    """Zero states for `step`, a flat tuple over the RNN layers (LSTM: h and c; SimpleRNN: h).

    A feed-forward LM's "state" is its window: the last `window` ids, all the boundary at first.
    """
    pad = context_pad(model)
    if pad is not None:
        return (ops.full((batch_size, pad.width + 1), pad.value, "int32"),)
    states = []
    for layer in rnn_layers(model):
        sizes = layer.cell.state_size if isinstance(layer.cell.state_size, (list, tuple)) else [layer.cell.state_size]
        states.extend(ops.zeros((batch_size, size), "float32") for size in sizes)
    return tuple(states)


def step(model: keras.Model, tokens, states: tuple):
    """One time step of a (stateless) LM built here: token ids `[batch]` + states -> logits `[batch, vocab]`, states."""
    if context_pad(model) is not None:  # feed-forward: slide the window by one token, read its last position
        window = ops.concatenate([states[0][:, 1:], ops.cast(tokens, "int32")[:, None]], axis=1)
        return model(window, training=False)[:, -1], (window,)
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

"""The recurrent decoder of chapters 10-11's encoder-decoders: a GRU/LSTM cell, attention, input feeding."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.attention import SCORES, EncoderDecoderAttention

ATTENTIONS = (*SCORES, "none")
COMBINE_ACTIVATIONS = ("linear", "tanh", "none")
CELLS = ("gru", "lstm")


@keras.saving.register_keras_serializable(package="zoo")
class Seq2SeqDecoder(keras.layers.Layer):
    """An RNN decoder that attends over the encoder outputs, with input feeding (Luong et al. 2015).

    One step, for an embedded input token `e_t`:

        x_t = [e_t; a_{t-1}]                       (input feeding; x_t = e_t without it)
        s_t = cell(x_t, s_{t-1})                   (GRUCell or LSTMCell)
        c_t, w_t = attention(s_t, encoder outputs, padding mask)
        a_t = W_c [c_t; s_t]                       (the attentional vector, fed into step t+1)
        logits_t = W_o a_t                         (W_o s_t without attention)

    Luong et al. write `a_t = tanh(W_c [c_t; s_t])`. Trained with Adam, that tanh layer saturates
    within the first 20 steps (92% of its units at |a| > 0.99 on Anki deu-eng, RESULTS.md): its
    inputs are bounded, but Adam moves all 2 x units weights of a unit by about the learning rate
    in the same direction while the output layer learns the word frequencies, and the sum swings by
    tens. A saturated `a_t` is the same vector at every step, so the decoder sits at "the most
    frequent words" (training accuracy 0.17) for hundreds or thousands of steps: that plateau was
    chapter 10's slow learning and chapter 11's titles of "the the the". The default is therefore
    linear, as in TensorFlow's `AttentionWrapper` (and GNMT); `combine_activation="tanh"` is Luong's.

    Feeding `a_{t-1}` into the next step is what the book's title-generation model leaves out (its
    decoder never sees the previous context during training); here it is part of the step, so
    training (teacher forcing) and decoding run exactly the same computation. The initial state
    comes from the encoder's final states: concatenated forward/backward states through a
    `Dense(units, tanh)` bridge (`bridge=True`), or used as they are (`bridge=False`, the book's
    character model, whose encoder and decoder have the same size).

    Training runs only what must be sequential inside the time loop: the attention keys (`W_k h_j`)
    are projected once per sentence, the output projection `W_o` (the largest matrix) runs once
    over all steps after the loop, and without input feeding the attention too runs once over all
    steps, as in Luong et al.'s model without feeding (and the plain Keras model of a GRU layer
    followed by `keras.layers.MultiHeadAttention`).

    Args:
        units: decoder state size.
        vocab_size: output vocabulary size (logits).
        cell: `"gru"` or `"lstm"`.
        attention: a score of `EncoderDecoderAttention` (`"additive"`, `"general"`, `"dot"`,
            `"scaled_dot"`, `"projected_dot"`, `"multi_head"`) or `"none"`.
        input_feeding: feed the attentional vector into the next step (ignored without attention).
        bridge: map the encoder's final states to the decoder's initial state with Dense+tanh.
        bidirectional_encoder: the encoder states come as forward states then backward states.
        combine_activation: activation of the attentional layer `W_c`: `"linear"` (the default) or
            `"tanh"` (Luong et al.'s; it stalls under Adam, see above); `"none"` drops the layer:
            `a_t = [c_t; s_t]`, fed back and into the output layer as they are.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `[target_embedded (B, T, E), encoder_outputs (B, Ts, D), source_ids (B, Ts),
            *encoder_states]` (padding id 0 in `source_ids` is never attended to).
        return_attention: also return the attention weights `(B, T, Ts)`.

    Example:

    >>> decoder = Seq2SeqDecoder(units=8, vocab_size=20, attention="additive")
    >>> embedded, outputs = np.ones((2, 4, 5), "float32"), np.ones((2, 6, 8), "float32")
    >>> states = [np.ones((2, 4), "float32"), np.ones((2, 4), "float32")]  # forward, backward
    >>> decoder([embedded, outputs, np.ones((2, 6), "int32"), *states]).shape
    TensorShape([2, 4, 20])
    """

    def __init__(
        self,
        units: int,
        vocab_size: int,
        cell: str = "gru",
        attention: str = "additive",
        input_feeding: bool = True,
        bridge: bool = True,
        bidirectional_encoder: bool = True,
        combine_activation: str = "linear",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if combine_activation not in COMBINE_ACTIVATIONS:
            raise ValueError(
                f"combine_activation must be one of {', '.join(COMBINE_ACTIVATIONS)}; got {combine_activation!r}"
            )
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}; got {attention!r}")
        self.units, self.vocab_size, self.cell_type = int(units), int(vocab_size), cell
        self.attention_score, self.bridge, self.bidirectional_encoder = attention, bridge, bidirectional_encoder
        self.input_feeding = bool(input_feeding) and attention != "none"
        make = keras.layers.GRUCell if cell == "gru" else keras.layers.LSTMCell
        self.cell = make(self.units, name="cell")
        self.n_states = 1 if cell == "gru" else 2
        self.attention = None if attention == "none" else EncoderDecoderAttention(score=attention, name="attention")
        self.combine_activation = combine_activation
        self.combine = (
            None
            if attention == "none" or combine_activation == "none"
            else keras.layers.Dense(self.units, activation=combine_activation, use_bias=False, name="combine")
        )
        self.feed_dim = self.units  # the attentional vector's size; [c; s] is wider (set in build)
        self.bridges = (
            [keras.layers.Dense(self.units, activation="tanh", name=f"bridge_{i}") for i in range(self.n_states)]
            if bridge
            else []
        )
        self.output_dense = keras.layers.Dense(self.vocab_size, name="logits")
        # The padding masks are recomputed from the ids (source) and the sample weights (target);
        # accepting Keras masks only silences the warning about dropping them.
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def build(self, input_shape):
        embedded, encoder_outputs = input_shape[0], input_shape[1]
        state_shapes = input_shape[3:]
        if len(state_shapes) != self.n_states * (2 if self.bidirectional_encoder else 1):
            raise ValueError(f"{self.cell_type} decoder got {len(state_shapes)} encoder states")
        embed_dim, enc_dim = int(embedded[-1]), int(encoder_outputs[-1])
        context_dim = enc_dim if self.attention is None else self.attention.context_size(self.units, enc_dim)
        if self.attention is not None and self.combine is None:
            self.feed_dim = context_dim + self.units
        self.cell.build((None, embed_dim + (self.feed_dim if self.input_feeding else 0)))
        state_dim = sum(int(s[-1]) for s in state_shapes[: (2 if self.bidirectional_encoder else 1)])
        for b in self.bridges:
            b.build((None, state_dim))
        if self.attention is not None:
            self.attention.build((None, self.units), (None, None, enc_dim))
            if self.combine is not None:
                self.combine.build((None, context_dim + self.units))
        self.output_dense.build((None, self.feed_dim))
        self.built = True

    # --- pieces shared by training and decoding -------------------------------------------------
    def initial_state(self, encoder_states) -> tuple:
        """Decoder states (a tuple) from the encoder's final states."""
        encoder_states = list(encoder_states)
        if self.bidirectional_encoder:
            half = len(encoder_states) // 2
            encoder_states = [
                ops.concatenate([f, b], axis=-1) for f, b in zip(encoder_states[:half], encoder_states[half:])
            ]
        if self.bridge:
            encoder_states = [dense(s) for dense, s in zip(self.bridges, encoder_states)]
        return tuple(encoder_states)

    def initial_feed(self, encoder_outputs):
        batch = ops.shape(encoder_outputs)[0]
        return ops.zeros((batch, self.feed_dim), dtype=self.compute_dtype)

    def keys(self, encoder_outputs):
        """The attention keys of the encoder outputs, computed once per sentence (None without attention)."""
        return None if self.attention is None else self.attention.project_keys(encoder_outputs)

    def attend(self, h, encoder_outputs, keys, encoder_mask):
        """`(attentional vectors a = W_c [c; h], weights)` for decoder states `h` (B, dq) or (B, T, dq)."""
        context, weights = self.attention(h, encoder_outputs, value_mask=encoder_mask, keys=keys)
        features = ops.concatenate([context, h], axis=-1)
        return (features if self.combine is None else self.combine(features)), weights

    def step(self, embedded, states, feed, encoder_outputs, encoder_mask, keys=None):
        """One step: `(e_t (B, E), states, a_{t-1}, H, mask, keys) -> (output, states, a_t, weights)`.

        `output` is the vector the logits are computed from (`output_dense(output)`): the attentional
        vector `a_t`, or the cell's output without attention. `keys` defaults to `self.keys(H)`.
        """
        x = ops.concatenate([embedded, feed], axis=-1) if self.input_feeding else embedded
        h, new_states = self.cell(x, list(states))
        new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        if self.attention is None:
            return h, new_states, feed, ops.zeros(ops.shape(encoder_mask), dtype=h.dtype)
        keys = self.keys(encoder_outputs) if keys is None else keys
        attentional, weights = self.attend(h, encoder_outputs, keys, encoder_mask)
        return attentional, new_states, attentional, weights

    def call(self, inputs, return_attention: bool = False):
        embedded, encoder_outputs, source_ids = inputs[0], inputs[1], inputs[2]
        mask = ops.not_equal(source_ids, 0)
        states = self.initial_state(inputs[3:])
        keys = self.keys(encoder_outputs)
        if self.input_feeding:
            outputs, weights = self._feeding_loop(embedded, states, encoder_outputs, keys, mask)
        else:  # the cell alone is sequential; attention runs once over all steps
            outputs = self._cell_loop(embedded, states)
            if self.attention is not None:
                outputs, weights = self.attend(outputs, encoder_outputs, keys, mask)
            else:
                weights = ops.zeros((ops.shape(embedded)[0], ops.shape(embedded)[1], ops.shape(mask)[1]))
        logits = self.output_dense(outputs)
        return (logits, weights) if return_attention else logits

    def _time_loop(self, embedded, body, carry, n_outputs: int):
        """`tf.while_loop` over the time axis of `embedded`; `body(e_t, carry) -> (carry, outputs)`.

        keras.ops.scan needs outputs shaped like the carry, and Keras 3's RNN layer has no
        `constants` to hand the encoder outputs to a cell, hence this loop.
        """
        steps = tf.shape(embedded)[1]
        inputs_ta = tf.TensorArray(embedded.dtype, size=steps).unstack(tf.transpose(embedded, (1, 0, 2)))
        arrays = tuple(tf.TensorArray(self.compute_dtype, size=steps) for _ in range(n_outputs))

        def loop(t, carry, arrays):
            carry, outputs = body(inputs_ta.read(t), carry)
            return t + 1, carry, tuple(a.write(t, o) for a, o in zip(arrays, outputs))

        _, _, arrays = tf.while_loop(lambda t, *_: t < steps, loop, (tf.constant(0), carry, arrays))
        return [tf.transpose(a.stack(), (1, 0, 2)) for a in arrays]

    def _feeding_loop(self, embedded, states, encoder_outputs, keys, mask):
        def body(e_t, carry):
            states, feed = carry
            output, states, feed, weights = self.step(e_t, states, feed, encoder_outputs, mask, keys)
            return (states, feed), (output, weights)

        outputs, weights = self._time_loop(embedded, body, (states, self.initial_feed(encoder_outputs)), 2)
        return outputs, weights

    def _cell_loop(self, embedded, states):
        def body(e_t, states):
            h, new_states = self.cell(e_t, list(states))
            return (tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)), (h,)

        return self._time_loop(embedded, body, states, 1)[0]

    def compute_output_spec(self, inputs, return_attention: bool = False):
        batch, steps = inputs[0].shape[0], inputs[0].shape[1]
        logits = keras.KerasTensor((batch, steps, self.vocab_size), dtype=self.compute_dtype)
        if return_attention:
            return logits, keras.KerasTensor((batch, steps, inputs[2].shape[1]), dtype=self.compute_dtype)
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "vocab_size": self.vocab_size,
            "cell": self.cell_type,
            "attention": self.attention_score,
            "input_feeding": self.input_feeding,
            "bridge": self.bridge,
            "bidirectional_encoder": self.bidirectional_encoder,
            "combine_activation": self.combine_activation,
        }

    @classmethod
    def from_config(cls, config):
        # Saved before `combine_activation` existed: those decoders were trained with Luong's tanh.
        return cls(**{"combine_activation": "tanh", **config})

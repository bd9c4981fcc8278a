"""A GRU cell with layer normalisation (Ba, Kiros & Hinton 2016), as skip-thought's reference code trains it."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class LayerNormGRUCell(keras.layers.Layer):
    """A GRU cell whose input and recurrent projections are each layer-normalised before they are added.

        z, r = s(LN(x Wzr) + LN(h Uzr))
        h~ = tanh(LN(x W) + r * LN(h U))
        h(t) = (1 - z) * h(t-1) + z * h~

    Each `LN` has its own gain and bias (the biases of the gates are the LNs' betas). This is the cell
    of the layer-norm paper's skip-thought experiments and of TensorFlow's skip-thoughts reference
    implementation (`research/skip_thoughts`: `LayerNormGRUCell`, recurrent weights orthonormal). Keras'
    `GRUCell` has no hook for normalising its two projections apart, hence a cell of its own. Why the
    zoo needs it: with Keras' `GRU`, skip-thought's encoder collapsed within one epoch of 10,000 IMDB
    triples (every sentence the same saturated vector, cosine 0.9997 between sentences, rt-polarity at
    chance); with this cell, the same run kept them apart (cosine 0.92) and scored 43.8% CV error
    (RESULTS.md, chapter 14). Normalised pre-activations cannot grow until tanh saturates.

    Args:
        units: size of the state h.
        kernel_initializer: initialiser of the input kernel `(input_dim, 3 * units)`.
        recurrent_initializer: initialiser of the recurrent kernel `(units, 3 * units)`.
        epsilon: the layer normalisations' epsilon.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Use it in `keras.layers.RNN(LayerNormGRUCell(256))`; masked steps keep the state, as with `GRU`.

    Example:
        >>> rnn = keras.layers.RNN(LayerNormGRUCell(8), return_sequences=True)
        >>> rnn(np.zeros((2, 5, 3), "float32")).shape
        (2, 5, 8)
    """

    def __init__(
        self,
        units: int,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        epsilon: float = 1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.epsilon = epsilon
        names = ("gates_input", "gates_recurrent", "candidate_input", "candidate_recurrent")
        self.norms = {name: keras.layers.LayerNormalization(epsilon=epsilon, name=f"{name}_norm") for name in names}

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 3 * u), initializer=self.kernel_initializer, name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(u, 3 * u), initializer=self.recurrent_initializer, name="recurrent_kernel"
        )
        for name, norm in self.norms.items():
            norm.build((None, 2 * u if name.startswith("gates") else u))

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        x = ops.matmul(inputs, self.kernel)
        gates = ops.sigmoid(
            self.norms["gates_input"](x[:, : 2 * u])
            + self.norms["gates_recurrent"](ops.matmul(h, self.recurrent_kernel[:, : 2 * u]))
        )
        z, r = gates[:, :u], gates[:, u:]
        candidate = ops.tanh(
            self.norms["candidate_input"](x[:, 2 * u :])
            + r * self.norms["candidate_recurrent"](ops.matmul(h, self.recurrent_kernel[:, 2 * u :]))
        )
        h = (1.0 - z) * h + z * candidate
        return h, [h]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "epsilon": self.epsilon,
        }

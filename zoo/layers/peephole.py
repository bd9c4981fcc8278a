"""The peephole LSTM cell of chapter 9: gates that also look at the cell state (Gers & Schmidhuber 2000)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PeepholeLSTMCell(keras.layers.LSTMCell):
    """An `LSTMCell` whose input and forget gates see c(t-1) and whose output gate sees c(t).

        i = s(x Wi + h Ui + P_i(c(t-1)) + bi)     f = s(x Wf + h Uf + P_f(c(t-1)) + bf)
        c(t) = f * c(t-1) + i * tanh(x Wc + h Uc + bc)
        o = s(x Wo + h Uo + P_o(c(t)) + bo)       h(t) = o * tanh(c(t))

    Args:
        units: size of h and c.
        peephole: `"diagonal"` (default; Gers & Schmidhuber: P(c) = p * c, one vector per gate)
            or `"full"` (the book's version: P(c) = c @ P, one u x u matrix per gate).
        peephole_initializer: initialiser of the peephole weights.
        **kwargs: everything `keras.layers.LSTMCell` takes (dropout, recurrent_dropout, ...);
            kernel, recurrent_kernel and bias keep Keras' gate order i, f, c, o.

    Use it in `keras.layers.RNN(PeepholeLSTMCell(64))`, optionally inside `Bidirectional`.

    Example:
        >>> rnn = keras.layers.RNN(PeepholeLSTMCell(8, peephole="full"), return_sequences=True)
        >>> rnn(np.zeros((2, 5, 3), "float32")).shape
        (2, 5, 8)
    """

    def __init__(self, units: int, peephole: str = "diagonal", peephole_initializer="glorot_uniform", **kwargs):
        if peephole not in ("diagonal", "full"):
            raise ValueError(f"peephole must be 'diagonal' or 'full', got {peephole!r}")
        super().__init__(units, **kwargs)
        self.peephole = peephole
        self.peephole_initializer = keras.initializers.get(peephole_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        shape = (self.units,) if self.peephole == "diagonal" else (self.units, self.units)
        self.input_peephole, self.forget_peephole, self.output_peephole = (
            self.add_weight(shape=shape, name=f"{gate}_peephole", initializer=self.peephole_initializer)
            for gate in ("input", "forget", "output")
        )

    def _peep(self, weights, c):
        return weights * c if self.peephole == "diagonal" else ops.matmul(c, weights)

    # LSTMCell.call computes the gate pre-activations (with its dropout masks) and hands them to
    # one of these two methods; only the gate non-linearities differ for a peephole cell.
    def _compute_carry_and_output(self, x, h_tm1, c_tm1):
        u = self.units
        z = [x[k] + ops.matmul(h_tm1[k], self.recurrent_kernel[:, k * u : (k + 1) * u]) for k in range(4)]
        return self._gates(z, c_tm1)

    def _compute_carry_and_output_fused(self, z, c_tm1):
        return self._gates(z, c_tm1)

    def _gates(self, z, c_tm1):
        z_i, z_f, z_c, z_o = z
        i = self.recurrent_activation(z_i + self._peep(self.input_peephole, c_tm1))
        f = self.recurrent_activation(z_f + self._peep(self.forget_peephole, c_tm1))
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o + self._peep(self.output_peephole, c))
        return c, o

    def get_config(self):
        return {
            **super().get_config(),
            "peephole": self.peephole,
            "peephole_initializer": keras.initializers.serialize(self.peephole_initializer),
        }

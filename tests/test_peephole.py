"""Chapter 9 PeepholeLSTMCell: NumPy equations step by step, reduction to keras.layers.LSTM, serialisation."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.layers.peephole import PeepholeLSTMCell

UNITS, FEATURES, STEPS, BATCH = 4, 3, 5, 2


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_peephole_lstm(x, kernel, recurrent, bias, peepholes, mode):
    """The cell's equations, one time step at a time; gate order i, f, c, o as in Keras."""
    u = recurrent.shape[0]
    h = np.zeros((x.shape[0], u))
    c = np.zeros((x.shape[0], u))
    peep = (lambda p, s: p * s) if mode == "diagonal" else (lambda p, s: s @ p)
    p_i, p_f, p_o = peepholes
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        z_i, z_f, z_c, z_o = (z[:, k * u : (k + 1) * u] for k in range(4))
        i = sigmoid(z_i + peep(p_i, c))
        f = sigmoid(z_f + peep(p_f, c))
        c = f * c + i * np.tanh(z_c)
        o = sigmoid(z_o + peep(p_o, c))
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def random_weights(rng, mode):
    shape = (UNITS,) if mode == "diagonal" else (UNITS, UNITS)
    return (
        rng.normal(size=(FEATURES, 4 * UNITS)),
        rng.normal(size=(UNITS, 4 * UNITS)),
        rng.normal(size=(4 * UNITS,)),
        [rng.normal(size=shape) for _ in range(3)],
    )


@pytest.mark.parametrize("implementation", [1, 2])
@pytest.mark.parametrize("mode", ["diagonal", "full"])
def test_matches_numpy_equations_step_by_step(mode, implementation):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    kernel, recurrent, bias, peepholes = random_weights(rng, mode)
    layer = keras.layers.RNN(
        PeepholeLSTMCell(UNITS, peephole=mode, implementation=implementation), return_sequences=True, return_state=True
    )
    layer.build(x.shape)
    layer.set_weights([kernel, recurrent, bias, *peepholes])
    sequence, h, c = (np.asarray(t) for t in layer(x))
    want_sequence, want_h, want_c = numpy_peephole_lstm(x, kernel, recurrent, bias, peepholes, mode)
    np.testing.assert_allclose(sequence, want_sequence, atol=1e-5)
    np.testing.assert_allclose(h, want_h, atol=1e-5)
    np.testing.assert_allclose(c, want_c, atol=1e-5)


@pytest.mark.parametrize("mode", ["diagonal", "full"])
def test_zero_peepholes_reduce_to_keras_lstm(mode):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    kernel, recurrent, bias, peepholes = random_weights(rng, mode)
    lstm = keras.layers.LSTM(UNITS, return_sequences=True)
    lstm.build(x.shape)
    lstm.set_weights([kernel, recurrent, bias])
    peephole = keras.layers.RNN(PeepholeLSTMCell(UNITS, peephole=mode), return_sequences=True)
    peephole.build(x.shape)
    peephole.set_weights([kernel, recurrent, bias, *(np.zeros_like(p) for p in peepholes)])
    np.testing.assert_allclose(np.asarray(peephole(x)), np.asarray(lstm(x)), atol=1e-5)


def test_peephole_weights_change_the_output():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    kernel, recurrent, bias, peepholes = random_weights(rng, "diagonal")
    layer = keras.layers.RNN(PeepholeLSTMCell(UNITS))
    layer.build(x.shape)
    layer.set_weights([kernel, recurrent, bias, *peepholes])
    with_peepholes = np.asarray(layer(x))
    layer.set_weights([kernel, recurrent, bias, *(np.zeros_like(p) for p in peepholes)])
    assert np.abs(with_peepholes - np.asarray(layer(x))).max() > 1e-3


def test_dropout_only_in_training():
    x = np.random.default_rng(3).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    layer = keras.layers.RNN(PeepholeLSTMCell(UNITS, dropout=0.5, recurrent_dropout=0.5, seed=1))
    inference = np.asarray(layer(x))
    np.testing.assert_allclose(np.asarray(layer(x)), inference)
    assert np.abs(np.asarray(layer(x, training=True)) - inference).max() > 1e-4


def test_get_config_round_trip():
    cell = PeepholeLSTMCell(7, peephole="full", dropout=0.1, recurrent_dropout=0.2, peephole_initializer="zeros")
    clone = PeepholeLSTMCell.from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()
    assert (clone.peephole, clone.units, clone.dropout) == ("full", 7, 0.1)
    with pytest.raises(ValueError, match="diagonal"):
        PeepholeLSTMCell(3, peephole="matrix")


@pytest.mark.parametrize("mode", ["diagonal", "full"])
def test_bidirectional_model_keras_round_trip(tmp_path, mode):
    x = np.random.default_rng(4).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    inputs = keras.Input((STEPS, FEATURES))
    outputs = keras.layers.Bidirectional(keras.layers.RNN(PeepholeLSTMCell(UNITS, peephole=mode)))(inputs)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.layers[1].forward_layer.cell.peephole == mode
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)

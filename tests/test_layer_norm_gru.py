"""`LayerNormGRUCell`: normalised projections, masking, saving, and skip-thought's use of it."""

from __future__ import annotations

import keras
import numpy as np

from zoo.layers.layer_norm_gru import LayerNormGRUCell
from zoo.models.skip_thought import build_skip_thought


def _rnn(units: int = 6) -> keras.layers.RNN:
    keras.utils.set_random_seed(0)
    return keras.layers.RNN(LayerNormGRUCell(units), return_sequences=True)


def test_states_do_not_depend_on_the_scale_of_the_inputs():
    """Each projection is layer-normalised, so inputs 100 times larger cannot push tanh into saturation
    (Keras' GRU, without the normalisation, gives other states)."""
    x = np.random.default_rng(0).normal(size=(3, 7, 4)).astype("float32")
    rnn = _rnn()
    np.testing.assert_allclose(rnn(x), rnn(100.0 * x), atol=1e-3)  # up to LN's epsilon
    gru = keras.layers.GRU(6, return_sequences=True)
    assert np.abs(np.asarray(gru(x)) - np.asarray(gru(100.0 * x))).max() > 0.1


def test_a_masked_step_keeps_the_state_and_an_all_padding_row_stays_at_zero():
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [False] * 4])
    out = np.asarray(_rnn()(x, mask=mask))
    np.testing.assert_allclose(out[0, 2], out[0, 1])
    np.testing.assert_allclose(out[0, 3], out[0, 1])
    np.testing.assert_array_equal(out[1], 0.0)


def test_a_model_with_the_cell_saves_and_loads(tmp_path):
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, _rnn(4)(inputs))
    assert len(model.trainable_weights) == 10  # two kernels, each norm's gain and bias: all trained
    x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    config = loaded.layers[1].cell.get_config()
    assert config["units"] == 4 and config["epsilon"] == 1e-5


def test_skip_thought_uses_layer_normalised_grus_unless_told_not_to():
    names = ("encoder", "previous_decoder", "next_decoder")
    model = build_skip_thought(vocab_size=30, embedding_dim=4, units=6, sequence_length=5)
    assert all(isinstance(model.get_layer(n).cell, LayerNormGRUCell) for n in names)
    plain = build_skip_thought(vocab_size=30, embedding_dim=4, units=6, sequence_length=5, layer_norm=False)
    assert all(isinstance(plain.get_layer(n), keras.layers.GRU) for n in names)

"""The `cell` switch (simple_rnn, gru, lstm, peephole) of chapter 9's classifiers and chapter 8's word
LMs, the one-line refusal of an unknown cell, and chapter 9's hidden Dense (linear, as the book)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.errors import UserError
from zoo.layers.peephole import PeepholeLSTMCell
from zoo.models import language_model as lm
from zoo.models.rnn import CELLS, build_lstm_classifier, recurrent_layer

CELL_TYPES = {
    "simple_rnn": keras.layers.SimpleRNNCell,
    "gru": keras.layers.GRUCell,
    "lstm": keras.layers.LSTMCell,
    "peephole": PeepholeLSTMCell,
}


@pytest.mark.parametrize("cell", CELLS)
def test_classifier_uses_the_cell_and_ignores_padding(cell):
    kwargs = dict(vocab_size=20, units=3, dense_units=2, cell=cell, bidirectional=True)
    short = build_lstm_classifier(sequence_length=5, **kwargs)
    long = build_lstm_classifier(sequence_length=9, **kwargs)
    long.set_weights(short.get_weights())
    rnn = next(layer for layer in short.layers if isinstance(layer, keras.layers.Bidirectional)).forward_layer
    assert type(rnn.cell) is CELL_TYPES[cell]
    a = np.asarray(short(np.array([[4, 5, 6, 0, 0]])))
    b = np.asarray(long(np.array([[4, 5, 6, 0, 0, 0, 0, 0, 0]])))
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_word_lm_with_each_cell_steps_like_its_full_pass_and_carries_state(cell):
    keras.utils.set_random_seed(4)
    model = lm.build_word_lstm_lm(vocab_size=9, units=5, batch_size=2, num_steps=4, stateful=True, cell=cell)
    assert all(type(layer.cell) is CELL_TYPES[cell] for layer in lm.rnn_layers(model))
    assert len(lm.rnn_layers(model)) == 2
    ids = np.random.default_rng(0).integers(0, 9, size=(2, 8)).astype("int32")
    first, second = np.asarray(model(ids[:, :4])), np.asarray(model(ids[:, 4:]))  # state carried
    copy = lm.stateless_copy(model)
    whole = np.asarray(copy(ids))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5, atol=1e-5)
    states = lm.initial_states(copy, 2)
    for t in range(8):
        logits, states = lm.step(copy, tf.constant(ids[:, t]), states)
        np.testing.assert_allclose(np.asarray(logits), whole[:, t], rtol=1e-5, atol=1e-5)
    lm.reset_rnn_states(model)
    np.testing.assert_allclose(np.asarray(model(ids[:, :4])), first, rtol=1e-5, atol=1e-5)


def test_peephole_lm_initialises_its_peepholes_like_every_other_weight():
    model = lm.build_word_lstm_lm(vocab_size=9, units=5, stateful=False, cell="peephole", init_scale=0.01)
    cell = lm.rnn_layers(model)[0].cell
    assert float(np.abs(np.asarray(cell.input_peephole)).max()) <= 0.01 + 1e-7


def test_unknown_cell_is_one_line_everywhere():
    for build in (
        lambda: recurrent_layer("transformer", 4),
        lambda: build_lstm_classifier(vocab_size=10, sequence_length=4, cell="lsmt"),
        lambda: lm.build_word_lstm_lm(vocab_size=10, units=4, stateful=False, cell="rnn"),
    ):
        with pytest.raises(UserError, match=r"^cell=\w+: expected one of simple_rnn, gru, lstm, peephole$"):
            build()


@pytest.mark.parametrize("name", ["lstm_mr", "ptb_lstm_small"])
def test_recipes_refuse_an_unknown_cell_before_any_data(tmp_path, name):
    with pytest.raises(UserError, match=r"^cell=elman: expected one of simple_rnn, gru, lstm, peephole$"):
        zoo.fit(name, data_dir=tmp_path / "nothing", out=tmp_path / "run", cell="elman")
    assert not any(tmp_path.iterdir())


def test_hidden_dense_is_linear_as_the_book_and_relu_on_request():
    ids = np.random.default_rng(0).integers(1, 20, size=(3, 6)).astype("int32")
    book = build_lstm_classifier(vocab_size=20, sequence_length=6, units=3, dense_units=4)
    hidden = book.get_layer("hidden")
    assert hidden.activation is keras.activations.linear
    # linear: the hidden layer and the output unit compose into one linear map of the mean
    pooled = keras.Model(book.input, book.get_layer("mean_over_time").output)(ids)
    (w1, b1), (w2, b2) = hidden.get_weights(), book.get_layer("output").get_weights()
    folded = 1 / (1 + np.exp(-(np.asarray(pooled) @ (w1 @ w2) + (b1 @ w2 + b2))))
    np.testing.assert_allclose(np.asarray(book(ids)), folded, rtol=1e-5, atol=1e-6)
    relu = build_lstm_classifier(vocab_size=20, sequence_length=6, units=3, dense_units=4, dense_activation="relu")
    assert relu.get_layer("hidden").activation is keras.activations.relu
    with pytest.raises(UserError, match="^dense_activation=tanh: expected one of linear, relu$"):
        build_lstm_classifier(vocab_size=20, sequence_length=6, dense_activation="tanh")
    assert zoo.recipes.get("lstm_mr").params()["dense_activation"].default == "linear"

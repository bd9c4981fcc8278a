"""Chapter 2 by hand: the perceptron's batch and online gradient descent, and backpropagation checked by TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from zoo.data import uci
from zoo.data.food_price import FOOD_X, FOOD_Y
from zoo.data.splits import split_table
from zoo.models.numpy_network import (
    NumpyMLP,
    batch_gradient_descent,
    online_gradient_descent,
    relative_error,
    squared_error,
)

X, Y = FOOD_X.astype(float), FOOD_Y.astype(float)


def test_batch_and_online_gradient_descent_find_the_prices():
    w_batch, batch_losses = batch_gradient_descent(X, Y, learning_rate=0.01, epochs=2000)
    w_online, online_losses = online_gradient_descent(X, Y, learning_rate=0.01, epochs=200)
    np.testing.assert_allclose(w_batch, [150, 50, 100], atol=0.01)
    np.testing.assert_allclose(w_online, [150, 50, 100], atol=0.01)
    assert batch_losses[-1] == pytest.approx(squared_error(X, Y, w_batch))
    assert all(np.diff(batch_losses) <= 0)  # a small enough step never goes uphill on a quadratic
    assert online_losses[99] < batch_losses[99]  # five steps an epoch against one


def test_batch_step_is_the_mean_gradient():
    """One batch step from w equals w - lr * (the finite-difference gradient of the loss)."""
    w0 = np.array([100.0, 80.0, 60.0])
    w1, _ = batch_gradient_descent(X, Y, learning_rate=0.001, epochs=1, w=w0)
    eps = 1e-4
    numeric = [(squared_error(X, Y, w0 + eps * e) - squared_error(X, Y, w0 - eps * e)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose((w0 - w1) / 0.001, numeric, rtol=1e-6)


def tape_gradients(net: NumpyMLP, x: np.ndarray, y: np.ndarray):
    """The same network's loss differentiated by `tf.GradientTape` (float64)."""
    weights = [tf.Variable(w) for w in net.weights]
    biases = [tf.Variable(b) for b in net.biases]
    activation = {"relu": tf.nn.relu, "sigmoid": tf.sigmoid}[net.activation]
    with tf.GradientTape() as tape:
        a = tf.constant(x)
        for i, (w, b) in enumerate(zip(weights, biases)):
            a = a @ w + b
            if i < len(weights) - 1:
                a = activation(a)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, a))
    grads = tape.gradient(loss, weights + biases)
    return float(loss), [g.numpy() for g in grads]


@pytest.mark.parametrize(
    ("sizes", "activation"), [((4, 10, 3), "relu"), ((4, 10, 8, 3), "relu"), ((5, 7, 4), "sigmoid")]
)
def test_backpropagation_equals_gradient_tape(sizes, activation):
    rng = np.random.default_rng(3)
    net = NumpyMLP.create(sizes, activation=activation, seed=1)
    x, y = rng.normal(size=(16, sizes[0])), rng.integers(0, sizes[-1], 16)
    loss, expected = tape_gradients(net, x, y)
    grad_w, grad_b = net.gradients(x, y)
    assert net.loss(x, y) == pytest.approx(loss, rel=1e-9)
    errors = [relative_error(ours, theirs) for ours, theirs in zip(grad_w + grad_b, expected)]
    assert max(errors) < 1e-10, errors


def test_relative_error_sees_a_wrong_gradient():
    net = NumpyMLP.create((4, 6, 3), seed=0)
    x, y = np.random.default_rng(0).normal(size=(8, 4)), np.arange(8) % 3
    _, expected = tape_gradients(net, x, y)
    grad_w, _ = net.gradients(x, y)
    assert relative_error(grad_w[0] * 1.01, expected[0]) > 1e-3


def test_hand_written_network_learns_iris(shared_data):
    """iris_mlp's 10-8-3 shape on its own split (seed 1337), standardised with the training rows."""
    x, y, _ = uci.load_iris(shared_data)
    splits = split_table(x, y, test_size=1 / 3, val_size=0.1, seed=1337, stratify=True)
    (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    net = NumpyMLP.create((4, 10, 8, 3), seed=0)
    losses = net.fit((x_train - mean) / std, y_train, learning_rate=0.1, epochs=150, batch_size=32)
    assert losses[-1] < losses[0] / 5
    assert np.mean(net.predict_proba((x_test - mean) / std).argmax(axis=1) == y_test) >= 0.9


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="relu, sigmoid"):
        NumpyMLP.create((2, 2), activation="tanh")

"""Chapter 4's toolbox on `mnist_mlp`: the switches build what they say, are recorded, and bad values are refused."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import zoo
from tests.test_ch03_05 import fake_mnist  # noqa: F401  (a fixture)
from zoo.errors import UserError
from zoo.models.mlp import build_mlp, hidden_gradient_norms
from zoo.recipes import get, resolve_hparams
from zoo.recipes.images import OPTIMIZERS, make_optimizer

SWITCHES = {
    "optimizer": "nesterov",
    "initializer": "he_uniform",
    "activation": "tanh",
    "layers": 3,
    "units": 16,
    "batchnorm": True,
    "dropout": 0.25,
    "l1": 1e-5,
    "l2": 1e-4,
    "clipnorm": 1.5,
}


def _model(**switches) -> keras.Model:
    recipe = get("mnist_mlp")
    return recipe.model(resolve_hparams(recipe, switches), None)


def test_switches_build_the_model_they_name():
    model = _model(**SWITCHES)
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert [layer.units for layer in hidden] == [16, 16, 16]
    assert all(not layer.use_bias for layer in hidden)  # batch norm's shift replaces the bias
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]) == 3
    assert {layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Activation)} == {
        "tanh"
    }
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.25] * 3
    assert isinstance(hidden[0].kernel_initializer, keras.initializers.HeUniform)
    regularizer = model.get_layer("output").kernel_regularizer
    assert (regularizer.l1, regularizer.l2) == pytest.approx((1e-5, 1e-4))
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.nesterov and optimizer.momentum == 0.9
    assert optimizer.clipnorm == 1.5 and optimizer.clipvalue is None


def test_book_defaults_are_the_book_model():
    model = _model()
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [128, 10]
    assert isinstance(model.optimizer, keras.optimizers.Nadam) and model.optimizer.clipnorm is None
    assert model.get_layer("hidden_1").kernel_regularizer is None and model.get_layer("hidden_1").use_bias


def test_penalties_enter_the_loss():
    """L1 + L2 on every Dense kernel: the model's losses are exactly the two penalties of each kernel."""
    model = build_mlp(input_shape=(5,), hidden=(4, 3), outputs=2, l1=0.01, l2=0.1)
    model(np.zeros((1, 5), np.float32))
    kernels = [layer.kernel.numpy() for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    expected = sum(0.01 * np.abs(k).sum() + 0.1 * np.square(k).sum() for k in kernels)
    assert len(model.losses) == 3
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_name_takes_a_step_with_clipping(name):
    optimizer = make_optimizer(name, 0.1, clipvalue=0.01)
    variable = keras.Variable(np.ones(3, np.float32))
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.array([5.0, -5.0, 0.0], np.float32)), variable)])
    moved = 1.0 - variable.numpy()
    assert moved[0] > 0 > moved[1] and moved[2] == 0  # each goes against the gradient
    if name == "sgd":  # clipped to 0.01 before the step: 0.1 * 0.01
        np.testing.assert_allclose(moved[:2], [0.001, -0.001], rtol=1e-3)  # float32 steps


@pytest.mark.parametrize(
    ("switch", "value", "says"),
    [
        ("optimizer", "adamw", "one of sgd, momentum, nesterov"),
        ("initializer", "xavier", "one of glorot_uniform"),
        ("activation", "softplus2", "one of relu"),
        ("l2", "-0.01", "from 0.0 to 1.0"),
        ("l1", "-1e-5", "from 0.0 to 1.0"),
        ("layers", "0", "from 1 to 100"),
        ("clipvalue", "-1", ">= 0.0"),
        ("dropout", "1", "< 1.0"),
    ],
)
def test_bad_values_are_refused_in_one_line_before_any_work(switch, value, says, tmp_path):
    with pytest.raises(UserError) as error:
        zoo.fit("mnist_mlp", data_dir=tmp_path / "no-data", out=tmp_path / "run", **{switch: value})
    message = str(error.value)
    assert "\n" not in message and switch in message and says in message
    assert list(tmp_path.iterdir()) == []  # nothing read, nothing written


def test_clipping_by_norm_and_by_value_together_is_refused_before_the_data(tmp_path):
    with pytest.raises(UserError, match="clip by norm or by value, not both") as error:
        zoo.fit("mnist_mlp", data_dir=tmp_path / "no-data", out=tmp_path / "run", clipnorm=1.0, clipvalue=0.5)
    assert "\n" not in str(error.value) and "clipnorm=1.0" in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_switches_are_recorded_and_trained_end_to_end(fake_mnist, tmp_path):  # noqa: F811
    result = zoo.fit(
        "mnist_mlp", data_dir=fake_mnist, out=tmp_path / "run", max_steps=2, epochs=1, verbose=0, **SWITCHES
    )
    recorded = json.loads((result.run_dir / "config.json").read_text())["hparams"]
    assert {key: recorded[key] for key in SWITCHES} == SWITCHES
    assert (result.run_dir / "saved_model").is_dir() and np.isfinite(result.metrics["test_loss"])


def test_vanishing_gradient_sigmoid_against_relu_and_batchnorm():
    """Ten sigmoid layers: the first layer's gradient is far below the last's; ReLU + batch norm keep them close."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 20)).astype(np.float32), rng.integers(0, 3, 64)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ratios = {}
    for activation, batchnorm in (("sigmoid", False), ("relu", True)):
        keras.utils.set_random_seed(0)
        model = build_mlp(input_shape=(20,), hidden=(32,) * 10, outputs=3, activation=activation, batchnorm=batchnorm)
        norms = hidden_gradient_norms(model, x, y, loss)
        assert len(norms) == 10
        ratios[activation] = norms[0] / norms[-1]
    assert ratios["sigmoid"] < 1e-3
    assert ratios["relu"] > 0.1

"""Chapter 4's toolbox on `mnist_mlp` and chapter 3's table MLPs: the switches build what they say, are recorded,
and bad values are refused."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import zoo
from tests.test_ch03_05 import fake_mnist  # noqa: F401  (a fixture)
from zoo.data.pipelines import ArrayInfo, Data
from zoo.errors import UserError
from zoo.models.mlp import build_mlp, hidden_gradient_norms
from zoo.recipes import get, resolve_hparams
from zoo.recipes.images import OPTIMIZERS, make_optimizer
from zoo.training import run_folder

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
    """Ten sigmoid layers: the first layer's gradient is far below the last's (about 2e-6 here); ReLU alone, or
    batch norm alone with the same sigmoids, keeps them of one order (about 1), as chapter 4's demo shows."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 20)).astype(np.float32), rng.integers(0, 3, 64)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ratios = {}
    for activation, batchnorm in (("sigmoid", False), ("sigmoid", True), ("relu", False), ("relu", True)):
        keras.utils.set_random_seed(0)
        model = build_mlp(input_shape=(20,), hidden=(32,) * 10, outputs=3, activation=activation, batchnorm=batchnorm)
        norms = hidden_gradient_norms(model, x, y, loss)
        assert len(norms) == 10
        ratios[activation, batchnorm] = norms[0] / norms[-1]
    assert ratios["sigmoid", False] < 1e-3
    assert ratios["sigmoid", True] > 0.1  # batch norm alone: the activation is the same
    assert ratios["relu", False] > 0.1  # the activation alone: no batch norm
    assert ratios["relu", True] > 0.1


# --- the same switches on chapter 3's table MLPs -------------------------------------------------------

TABLE_MLPS = {  # name: (features, outputs, output activation, loss), as the recipes built them before the switches
    "ionosphere_mlp": (34, 1, "sigmoid", "binary_crossentropy"),
    "iris_mlp": (4, 3, "softmax", "sparse_categorical_crossentropy"),
    "boston_mlp": (13, 1, None, "mse"),
}


def _table_data(features: int) -> Data[ArrayInfo]:
    x = np.random.default_rng(0).normal(size=(30, features)).astype(np.float32)
    return Data(train=None, info=ArrayInfo(splits={"train": (x, x[:, 0])}, mean=x.mean(0), variance=x.var(0)))


def _layers(model: keras.Model) -> list:
    """Each layer's class and configuration without its (auto-numbered) name."""
    configs = [(type(layer).__name__, layer.get_config()) for layer in model.layers]
    return [(kind, {k: v for k, v in config.items() if k != "name"}) for kind, config in configs]


@pytest.mark.parametrize("name", list(TABLE_MLPS))
def test_table_mlps_default_to_the_model_and_optimizer_they_had(name):
    features, outputs, output_activation, loss = TABLE_MLPS[name]
    data, recipe = _table_data(features), get(name)
    keras.utils.set_random_seed(0)
    model = recipe.model(resolve_hparams(recipe), data)
    keras.utils.set_random_seed(0)
    before = build_mlp(
        input_shape=(features,),
        hidden=(10, 8),
        outputs=outputs,
        kernel_initializer="he_normal",
        output_activation=output_activation,
        preprocessing=[keras.layers.Normalization(axis=-1, mean=data.info.mean, variance=data.info.variance)],
        name=name,
    )
    assert _layers(model) == _layers(before)
    for now, then in zip(model.get_weights(), before.get_weights(), strict=True):
        np.testing.assert_array_equal(now, then)
    adam = keras.optimizers.Adam(0.001)
    assert type(model.optimizer) is type(adam)
    assert {**model.optimizer.get_config(), "name": ""} == {**adam.get_config(), "name": ""}  # names are numbered
    assert model.loss == loss


def test_table_mlp_switches_build_what_they_name_and_are_recorded(tmp_path):
    switches = {key: value for key, value in SWITCHES.items() if key not in ("layers", "units")}
    recipe = get("iris_mlp")
    hp = resolve_hparams(recipe, switches)
    model = recipe.model(hp, _table_data(4))
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert [layer.units for layer in hidden] == [10, 8] and not any(layer.use_bias for layer in hidden)
    assert isinstance(hidden[0].kernel_initializer, keras.initializers.HeUniform)
    assert {layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Activation)} == {
        "tanh"
    }
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.25] * 2
    assert model.get_layer("output").kernel_regularizer.l2 == pytest.approx(1e-4)
    assert isinstance(model.optimizer, keras.optimizers.SGD) and model.optimizer.nesterov
    assert model.optimizer.clipnorm == 1.5
    options = {"strategy": "auto", "cpu_replicas": None, "max_steps": None, "data_dir": str(tmp_path)}
    recorded = run_folder.config(recipe, hp, options, tmp_path / "run")["hparams"]
    assert {key: recorded[key] for key in switches} == switches


@pytest.mark.parametrize(
    ("name", "switch", "value", "says"),
    [
        ("iris_mlp", "optimizer", "adamw", "one of sgd, momentum, nesterov"),
        ("boston_mlp", "activation", "softplus2", "one of relu"),
        ("ionosphere_mlp", "dropout", "1", "< 1.0"),
        ("iris_mlp", "learning_rate", "0", "> 0.0"),
        ("mnist_mlp", "learning_rate", "0", "> 0.0"),
        ("boston_mlp", "layers", "2", "unknown hyper-parameter 'layers'"),  # the tables' 10-8 layers are fixed
    ],
)
def test_table_mlps_refuse_bad_switches_in_one_line_before_any_work(name, switch, value, says, tmp_path):
    with pytest.raises(UserError) as error:
        zoo.fit(name, data_dir=tmp_path / "no-data", out=tmp_path / "run", **{switch: value})
    assert "\n" not in str(error.value) and says in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", list(TABLE_MLPS))
def test_table_mlps_refuse_both_clippings_before_the_data(name, tmp_path):
    with pytest.raises(UserError, match="clip by norm or by value, not both"):
        zoo.fit(name, data_dir=tmp_path / "no-data", out=tmp_path / "run", clipnorm=1.0, clipvalue=0.5)
    assert list(tmp_path.iterdir()) == []

"""Chapter 5's CNN family: convolution arithmetic against Keras, the builders' shapes and sizes, the recipes."""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import serve_in_fresh_process
from tests.test_ch03_05 import fake_mnist  # noqa: F401  (a fixture)
from zoo.data import mnist
from zoo.models.cnn_family import (
    build_inception,
    build_lenet5,
    build_resnet,
    conv_output_size,
    conv_params,
    inception_block,
)
from zoo.recipes import get
from zoo.recipes.images import serve_probabilities

FAMILY = ["lenet5_mnist", "inception_mnist", "resnet_mnist", "mlp_dropout_mnist"]


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"), list(itertools.product((28, 13), (1, 3, 5), (1, 2, 3), ("valid", "same")))
)
def test_conv_arithmetic_matches_keras(size, kernel, stride, padding):
    conv = keras.layers.Conv2D(7, kernel, strides=stride, padding=padding)
    pool = keras.layers.MaxPooling2D(kernel, strides=stride, padding=padding)
    for layer in (conv, pool):
        shape = layer.compute_output_shape((None, size, size, 3))
        assert shape[1:3] == (conv_output_size(size, kernel, stride=stride, padding=padding),) * 2
    conv.build((None, size, size, 3))
    assert conv.count_params() == conv_params(kernel, 3, 7)


def test_lenet5_as_published():
    model = build_lenet5()
    sizes = {name: model.get_layer(name).output.shape[1:] for name in ("pad_to_32", "C1", "S2", "C3", "S4", "C5")}
    assert sizes == {
        "pad_to_32": (32, 32, 1),
        "C1": (28, 28, 6),
        "S2": (14, 14, 6),
        "C3": (10, 10, 16),
        "S4": (5, 5, 16),
        "C5": (1, 1, 120),
    }
    counts = {name: model.get_layer(name).count_params() for name in ("C1", "C3", "C5", "F6", "logits")}
    assert counts == {
        "C1": conv_params(5, 1, 6),
        "C3": conv_params(5, 6, 16),
        "C5": conv_params(5, 16, 120),
        "F6": 120 * 84 + 84,
        "logits": 84 * 10 + 10,
    }
    assert model.count_params() == 61_706
    assert model.get_layer("C1").activation.__name__ == "tanh"
    assert isinstance(model.get_layer("S2"), keras.layers.AveragePooling2D)


def test_inception_bottleneck_costs_fewer_weights_for_the_same_outputs():
    inputs = keras.Input((14, 14, 192))
    wide = keras.Model(inputs, inception_block(inputs, ones=64, threes=128, fives=32, pool=32, name="b"))
    naive = keras.Model(
        inputs, inception_block(inputs, ones=64, threes=128, fives=32, pool=32, bottleneck=False, name="n")
    )
    assert wide.output.shape[-1] == 64 + 128 + 32 + 32  # the pooled branch projected to 32 channels
    assert naive.output.shape[-1] == 64 + 128 + 32 + 192  # the pooled branch passes all 192 through
    assert wide.count_params() < naive.count_params() / 3
    assert build_inception().count_params() < build_inception(bottleneck=False).count_params()


def test_resnet_adds_its_shortcuts():
    model = build_resnet(filters=(8, 16, 32), blocks=2)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 6
    projections = [layer.name for layer in model.layers if layer.name.endswith("_shortcut_conv")]
    assert projections == ["stage2_block1_shortcut_conv", "stage3_block1_shortcut_conv"]
    assert model.get_layer("stage3_block2_out").output.shape[1:] == (7, 7, 32)
    assert len([layer for layer in build_resnet().layers if isinstance(layer, keras.layers.Conv2D)]) == 15  # docstring


def test_augmentation_acts_only_while_training(tmp_path):
    """`model(x)` (how a SavedModel export calls it) and `training=False` leave the digits alone."""
    keras.utils.set_random_seed(0)
    model = build_resnet(filters=(4, 4, 4), blocks=1, augment=True)
    x = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(model(x), model(x, training=False))
    np.testing.assert_allclose(model(x), model(x))
    layer, images = model.get_layer("shift_and_turn"), x[..., None] / 255
    np.testing.assert_allclose(layer(images), images)
    assert not np.allclose(layer(images, training=True), images)
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "m.keras")(x), model(x), atol=1e-6)


@pytest.mark.parametrize("name", FAMILY)
def test_family_shares_mnist_cnns_data_and_serving(name):
    """The same data callable (hence split) and serving as `mnist_cnn`, raw pixels in."""
    recipe, reference = get(name), get("mnist_cnn")
    assert recipe.serving is serve_probabilities is reference.serving
    assert recipe.params()["val_fraction"] == reference.params()["val_fraction"]
    if name != "mlp_dropout_mnist":  # the MLP's data first checks its clipping switches, then is the same
        assert recipe.data is reference.data


@pytest.mark.slow
def test_lenet5_recipe_trains_and_serves_probabilities(fake_mnist, tmp_path):  # noqa: F811
    """Two steps through `zoo.fit`; the SavedModel, in a process without `zoo`, is softmax(model.keras)."""
    result = zoo.fit("lenet5_mnist", data_dir=fake_mnist, out=tmp_path / "run", max_steps=2, epochs=1, verbose=0)
    x = mnist.load(fake_mnist)["test"][0][:4].astype(np.float32)
    served = serve_in_fresh_process(result.run_dir / "saved_model", x)
    logits = keras.saving.load_model(result.run_dir / "model.keras")(x)
    np.testing.assert_allclose(served, keras.ops.convert_to_numpy(keras.ops.softmax(logits)), atol=1e-5)
    schedule = result.model.optimizer.get_config()["learning_rate"]  # cosine decay over every step of every epoch
    assert schedule["class_name"] == "CosineDecay"
    assert schedule["config"]["decay_steps"] == math.ceil(54 / 32)  # 60 fake training images, 10% for validation


@pytest.mark.slow
def test_section_5_4_mlp_trains_with_its_penalties(fake_mnist, tmp_path):  # noqa: F811
    result = zoo.fit("mlp_dropout_mnist", data_dir=fake_mnist, out=tmp_path / "run", max_steps=2, epochs=1, verbose=0)
    assert (result.hparams.l2, result.hparams.dropout, result.hparams.layers, result.hparams.units) == (
        1e-4,
        0.2,
        2,
        512,
    )
    assert len(result.model.losses) == 3  # an L2 penalty on each of the three Dense kernels
    assert (result.run_dir / "saved_model").is_dir()


@pytest.mark.parametrize(
    ("name", "switch", "value"),
    [("lenet5_mnist", "pooling", "median"), ("resnet_mnist", "blocks", "0"), ("inception_mnist", "dropout", "-0.1")],
)
def test_family_refuses_bad_values_before_any_work(name, switch, value, tmp_path):
    with pytest.raises(zoo.errors.UserError) as error:
        zoo.fit(name, data_dir=tmp_path / "none", out=tmp_path / "run", **{switch: value})
    assert "\n" not in str(error.value) and switch in str(error.value)
    assert list(tmp_path.iterdir()) == []

"""What the image recipes of chapters 4 and 5 share: the validation fraction, MNIST's data and serving,
and chapter 4's toolbox (optimizers, initialisers, activations, depth, batch norm, dropout, L1/L2,
gradient clipping) as hyper-parameters, which chapter 3's table MLPs take too (without depth and width).

Not a chapter: it registers nothing. `mnist_data` is a recipe's `data` callable
(`(hp, ctx) -> Data[MnistInfo]`), `serve_probabilities` a recipe's `serving`; `toolbox_params` the
toolbox's `Param`s, `toolbox_data` a `data` that first refuses settings that cannot work together,
`make_optimizer` the optimizer a toolbox name stands for, and `toolbox_mlp` the MNIST MLP they set.
"""

from __future__ import annotations

from typing import Any

import keras

from zoo.data import mnist
from zoo.data.mnist import MnistInfo
from zoo.data.pipelines import ArrayInfo, Data
from zoo.errors import UserError
from zoo.models.mlp import build_mlp, with_softmax
from zoo.recipes.base import HParams, Param, RunContext

VAL_FRACTION = Param(0.1, "fraction of the training examples used for validation (seeded; 0 = none)")
"""The `val_fraction` hyper-parameter of the chapter 4-5 recipes (MNIST, UCI HAR)."""


def mnist_data(hp: HParams, ctx: RunContext) -> Data[MnistInfo]:
    """MNIST train/validation/test pipelines of raw pixels (train from t10k when that is all there is)."""
    return mnist.datasets(ctx.data_dir, batch_size=hp.batch_size, seed=hp.seed, val_fraction=hp.val_fraction)


def serve_probabilities(hp: HParams, data: Data[ArrayInfo], model: keras.Model) -> keras.Model:
    """Raw arrays in, class probabilities out, for a classifier trained on logits."""
    return with_softmax(model)


# --- chapter 4's toolbox --------------------------------------------------------------------------

MOMENTUM = 0.9  # the usual value (Sutskever et al. 2013), for "momentum" and "nesterov"
OPTIMIZERS: dict[str, Any] = {
    "sgd": lambda lr, **clip: keras.optimizers.SGD(lr, **clip),
    "momentum": lambda lr, **clip: keras.optimizers.SGD(lr, momentum=MOMENTUM, **clip),
    "nesterov": lambda lr, **clip: keras.optimizers.SGD(lr, momentum=MOMENTUM, nesterov=True, **clip),
    "adagrad": lambda lr, **clip: keras.optimizers.Adagrad(lr, **clip),
    "rmsprop": lambda lr, **clip: keras.optimizers.RMSprop(lr, **clip),
    "adadelta": lambda lr, **clip: keras.optimizers.Adadelta(lr, **clip),
    "adam": lambda lr, **clip: keras.optimizers.Adam(lr, **clip),
    "adamax": lambda lr, **clip: keras.optimizers.Adamax(lr, **clip),
    "nadam": lambda lr, **clip: keras.optimizers.Nadam(lr, **clip),
}
"""Chapter 4's optimizers by name: `OPTIMIZERS[name](learning_rate, clipnorm=..., clipvalue=...)`."""

INITIALIZERS = (
    *("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal"),
    *("orthogonal", "random_normal", "random_uniform", "zeros"),
)
"""Keras initialiser names for the hidden kernels ("zeros" shows why weights must differ: every unit stays alike)."""

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "leaky_relu", "gelu", "swish")
"""Keras activation names for the hidden layers."""


def make_optimizer(name: str, learning_rate: float, *, clipnorm: float = 0.0, clipvalue: float = 0.0):
    """The optimizer `name` stands for, clipping each gradient by norm or by value (0 = off; not both).

    Example:
        >>> make_optimizer("nesterov", 0.01, clipnorm=1.0).nesterov
        True
    """
    clip = {key: value for key, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue)) if value}
    return OPTIMIZERS[name](learning_rate, **clip)


def toolbox_params(
    *,
    optimizer: str = "nadam",
    learning_rate: float = 0.001,
    initializer: str = "glorot_uniform",
    activation: str = "relu",
    layers: int | None = 1,
    units: int | None = 128,
    batchnorm: bool = False,
    dropout: float = 0.5,
    l1: float = 0.0,
    l2: float = 0.0,
) -> dict[str, Param]:
    """Chapter 4's switches as hyper-parameters, with a recipe's defaults; all recorded in config.json.

    `layers` / `units` None leaves out the depth and width switches, for a recipe whose hidden layers are fixed.
    """
    shape = {
        "layers": Param(layers, "number of hidden layers (depth)", minimum=1, maximum=100),
        "units": Param(units, "units of each hidden layer", minimum=1, maximum=100_000),
    }
    return {
        "optimizer": Param(
            optimizer,
            f"momentum/nesterov: SGD with momentum {MOMENTUM}; the learning rate is `learning_rate` for all "
            "(SGD usually wants about 0.01, adadelta about 1.0)",
            choices=tuple(OPTIMIZERS),
        ),
        "learning_rate": Param(learning_rate, "the optimizer's learning rate", minimum=0.0, exclusive_minimum=True),
        "initializer": Param(initializer, "initialiser of the hidden kernels", choices=INITIALIZERS),
        "activation": Param(activation, "activation of the hidden layers", choices=ACTIVATIONS),
        **{key: param for key, param in shape.items() if param.default is not None},
        "batchnorm": Param(batchnorm, "batch normalisation in every hidden layer (before its activation)"),
        "dropout": Param(
            dropout,
            "dropout rate after every hidden layer (0 = none)",
            minimum=0.0,
            maximum=1.0,
            exclusive_maximum=True,
        ),
        "l1": Param(l1, "L1 penalty factor on every Dense kernel (0 = none)", minimum=0.0, maximum=1.0),
        "l2": Param(l2, "L2 penalty factor on every Dense kernel (0 = none)", minimum=0.0, maximum=1.0),
        "clipnorm": Param(0.0, "clip each gradient to this L2 norm (0 = off; not with clipvalue)", minimum=0.0),
        "clipvalue": Param(0.0, "clip each gradient element to [-v, v] (0 = off; not with clipnorm)", minimum=0.0),
    }


def check_toolbox(hp: HParams) -> None:
    """Refuse toolbox settings that cannot work together (Keras allows one kind of clipping)."""
    if hp.clipnorm and hp.clipvalue:
        raise UserError(
            "clip by norm or by value, not both (set the other to 0)",
            params={"clipnorm": hp.clipnorm, "clipvalue": hp.clipvalue},
        )


def toolbox_data(hp: HParams, ctx: RunContext) -> Data[MnistInfo]:
    """`mnist_data` after `check_toolbox` has refused settings that cannot work together."""
    check_toolbox(hp)
    return mnist_data(hp, ctx)


def toolbox_mlp(name: str):
    """A recipe's `model`: the MNIST MLP the toolbox hyper-parameters describe, on logits, compiled.

    Raw 0-255 pixels, rescaled inside; `layers` hidden layers of `units`; `from_logits=True` loss
    (`serve_probabilities` adds the softmax for serving).
    """

    def model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
        mlp = build_mlp(
            input_shape=(28, 28),
            hidden=(hp.units,) * hp.layers,
            outputs=10,
            activation=hp.activation,
            kernel_initializer=hp.initializer,
            dropout=hp.dropout,
            batchnorm=hp.batchnorm,
            l1=hp.l1,
            l2=hp.l2,
            preprocessing=[keras.layers.Rescaling(1.0 / 255)],
            name=name,
        )
        mlp.compile(
            optimizer=make_optimizer(hp.optimizer, hp.learning_rate, clipnorm=hp.clipnorm, clipvalue=hp.clipvalue),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return mlp

    return model

"""Chapter 4 recipes: softmax regression and a deep MLP on MNIST (raw 0-255 pixels in, probabilities out).

Fixes to the book: the softmax regression applied a softmax and then a `from_logits=True` loss; here
it outputs probabilities with `from_logits=False`, while the deep MLP trains on logits with
`from_logits=True` and serves `softmax(logits)`. Pixels are rescaled inside the model, and the
validation split is seeded.
"""

from __future__ import annotations

import keras

from zoo.data import mnist
from zoo.models.mlp import build_mlp, with_softmax
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register

_VAL_FRACTION = Param(0.1, "fraction of the training images used for validation (seeded; 0 = none)")


def _data(hp: HParams, ctx: RunContext) -> Data:
    """MNIST train/validation/test pipelines of raw pixels (train from t10k when that is all there is)."""
    return mnist.datasets(ctx.data_dir, batch_size=hp.batch_size, seed=hp.seed, val_fraction=hp.val_fraction)


def _softmax_model(hp: HParams, data: Data) -> keras.Model:
    model = build_mlp(
        input_shape=(28, 28),
        hidden=(),
        outputs=10,
        output_activation="softmax",
        preprocessing=[keras.layers.Rescaling(1.0 / 255)],
        name="mnist_softmax",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
        metrics=["accuracy"],
    )
    return model


def _mlp_model(hp: HParams, data: Data) -> keras.Model:
    model = build_mlp(
        input_shape=(28, 28),
        hidden=(128,),
        outputs=10,
        dropout=hp.dropout,
        preprocessing=[keras.layers.Rescaling(1.0 / 255)],
        name="mnist_mlp",
    )
    model.compile(
        optimizer=keras.optimizers.Nadam(hp.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _serving(hp: HParams, data: Data, model: keras.Model) -> keras.Model:
    """Raw pixels in, class probabilities out (the model was trained on logits)."""
    return with_softmax(model)


register(
    Recipe(
        name="mnist_softmax",
        chapter=4,
        dataset="MNIST",
        summary="softmax regression Flatten-Dense10 on raw pixels (book's softmax + from_logits bug fixed)",
        hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "val_fraction": _VAL_FRACTION},
        data=_data,
        model=_softmax_model,
    )
)
register(
    Recipe(
        name="mnist_mlp",
        chapter=4,
        dataset="MNIST",
        summary="deep MLP Dense128-Dropout0.5-Dense10 (logits, from_logits=True); serves probabilities",
        hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "dropout": 0.5, "val_fraction": _VAL_FRACTION},
        data=_data,
        model=_mlp_model,
        serving=_serving,
    )
)

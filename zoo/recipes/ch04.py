"""Chapter 4 recipes: softmax regression and a deep MLP on MNIST (raw 0-255 pixels in, probabilities out).

Fixes to the book: the softmax regression applied a softmax and then a `from_logits=True` loss; here
it outputs probabilities with `from_logits=False`, while the deep MLP trains on logits with
`from_logits=True` and serves `softmax(logits)`. Pixels are rescaled inside the model, and the
validation split is seeded.
"""

from __future__ import annotations

import keras

from zoo.data.mnist import MnistInfo
from zoo.models.mlp import build_mlp
from zoo.recipes.base import Data, HParams, Recipe, register
from zoo.recipes.images import VAL_FRACTION, mnist_data, serve_probabilities


def _softmax_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
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


def _mlp_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
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


register(
    Recipe(
        name="mnist_softmax",
        chapter=4,
        dataset="MNIST",
        summary="softmax regression Flatten-Dense10 on raw pixels (book's softmax + from_logits bug fixed)",
        hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "val_fraction": VAL_FRACTION},
        data=mnist_data,
        model=_softmax_model,
    )
)
register(
    Recipe(
        name="mnist_mlp",
        chapter=4,
        dataset="MNIST",
        summary="deep MLP Dense128-Dropout0.5-Dense10 (logits, from_logits=True); serves probabilities",
        hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "dropout": 0.5, "val_fraction": VAL_FRACTION},
        data=mnist_data,
        model=_mlp_model,
        serving=serve_probabilities,
    )
)

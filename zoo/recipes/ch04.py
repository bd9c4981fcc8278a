"""Chapter 4 recipes: softmax regression and a deep MLP on MNIST (raw 0-255 pixels in, probabilities out).

Fixes to the book: the softmax regression applied a softmax and then a `from_logits=True` loss; here
it outputs probabilities with `from_logits=False`, while the deep MLP trains on logits with
`from_logits=True` and serves `softmax(logits)`. Pixels are rescaled inside the model, and the
validation split is seeded.

`mnist_mlp` carries the chapter's toolbox as hyper-parameters (`--set optimizer=momentum`,
`initializer=`, `activation=`, `layers=`, `units=`, `batchnorm=`, `dropout=`, `l1=`, `l2=`,
`clipnorm=`, `clipvalue=`; see `zoo.recipes.images.toolbox_params`); their defaults are the book's
model, and `patience=` is the early stopping the chapter teaches.
"""

from __future__ import annotations

import keras

from zoo.data.mnist import MnistInfo
from zoo.models.mlp import build_mlp
from zoo.recipes.base import Data, HParams, Recipe, register
from zoo.recipes.images import (
    VAL_FRACTION,
    mnist_data,
    serve_probabilities,
    toolbox_data,
    toolbox_mlp,
    toolbox_params,
)


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
        summary="deep MLP Dense128-Dropout0.5-Dense10 (logits); chapter 4's optimizers, initialisers, "
        "depth, batch norm, L1/L2, clipping as --set switches",
        hparams={
            "epochs": 10,
            "batch_size": 10,
            **toolbox_params(),
            "val_fraction": VAL_FRACTION,
        },
        data=toolbox_data,
        model=toolbox_mlp("mnist_mlp"),
        serving=serve_probabilities,
    )
)

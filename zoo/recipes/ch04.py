"""Chapter 4 recipes: softmax regression and a deep MLP on MNIST (raw 0-255 pixels in, probabilities out).

Fixes to the book: the softmax regression applied a softmax and then a `from_logits=True` loss; here
it outputs probabilities with `from_logits=False`, while the deep MLP trains on logits with
`from_logits=True` and serves `softmax(logits)`. Pixels are rescaled inside the model, and the
validation split is seeded.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.data import mnist
from zoo.models.mlp import mlp, with_softmax
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register
from zoo.recipes.ch03 import array_data, take_out, with_validation

# Without MNIST's training images (e.g. ../shared/data holds only t10k), a seeded 80/20 split of the
# 10,000 test images gives 8,000 for training (validation comes out of these) and 2,000 for testing.
TEST_ONLY_HOLDOUT = 0.2

VAL_FRACTION = Param(0.1, "fraction of the training images used for validation (seeded; 0 = none)")


def mnist_data(hp: HParams, ctx: RunContext) -> Data:
    """MNIST train/validation/test pipelines of raw pixels; `info["test_only"]` says if train came from t10k."""
    splits = {k: (x, y.astype(np.int32)) for k, (x, y) in mnist.load(ctx.data_dir).items()}
    test_only = "train" not in splits
    if test_only:
        splits["train"], splits["test"] = take_out(splits["test"], TEST_ONLY_HOLDOUT, hp.seed)
    arrays = with_validation(splits, hp.val_fraction, hp.seed)
    sizes = {k: len(v[1]) for k, v in arrays.items()}
    return array_data(arrays, hp, standardize=False, test_only=test_only, sizes=sizes)


def pixels() -> keras.layers.Rescaling:
    """Raw 0-255 pixels to [0, 1] inside the model."""
    return keras.layers.Rescaling(1.0 / 255)


def _softmax_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((28, 28), (), 10, output_activation="softmax", preprocessing=[pixels()], name="mnist_softmax")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False), metrics=["accuracy"])
    return model


register(Recipe(
    name="mnist_softmax",
    chapter=4,
    dataset="MNIST",
    summary="softmax regression Flatten-Dense10 on raw pixels (book's softmax + from_logits bug fixed)",
    hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "val_fraction": VAL_FRACTION},
    data=mnist_data,
    model=_softmax_model,
))


def _mlp_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((28, 28), (128,), 10, dropout=hp.dropout, preprocessing=[pixels()], name="mnist_mlp")
    model.compile(optimizer=keras.optimizers.Nadam(hp.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def serve_probabilities(hp: HParams, data: Data, model: keras.Model) -> keras.Model:
    """Serving model for a logits model: raw pixels in, class probabilities out."""
    return with_softmax(model)


register(Recipe(
    name="mnist_mlp",
    chapter=4,
    dataset="MNIST",
    summary="deep MLP Dense128-Dropout0.5-Dense10 (logits, from_logits=True); serves probabilities",
    hparams={"epochs": 10, "batch_size": 10, "learning_rate": 0.001, "dropout": 0.5, "val_fraction": VAL_FRACTION},
    data=mnist_data,
    model=_mlp_model,
    serving=serve_probabilities,
))

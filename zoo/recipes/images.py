"""What the image recipes of chapters 4 and 5 share: the validation fraction, MNIST's data and serving.

Not a chapter: it registers nothing. `mnist_data` is a recipe's `data` callable
(`(hp, ctx) -> Data[MnistInfo]`), `serve_probabilities` a recipe's `serving`.
"""

from __future__ import annotations

import keras

from zoo.data import mnist
from zoo.data.mnist import MnistInfo
from zoo.data.pipelines import ArrayInfo, Data
from zoo.models.mlp import with_softmax
from zoo.recipes.base import HParams, Param, RunContext

VAL_FRACTION = Param(0.1, "fraction of the training examples used for validation (seeded; 0 = none)")
"""The `val_fraction` hyper-parameter of the chapter 4-5 recipes (MNIST, UCI HAR)."""


def mnist_data(hp: HParams, ctx: RunContext) -> Data[MnistInfo]:
    """MNIST train/validation/test pipelines of raw pixels (train from t10k when that is all there is)."""
    return mnist.datasets(ctx.data_dir, batch_size=hp.batch_size, seed=hp.seed, val_fraction=hp.val_fraction)


def serve_probabilities(hp: HParams, data: Data[ArrayInfo], model: keras.Model) -> keras.Model:
    """Raw arrays in, class probabilities out, for a classifier trained on logits."""
    return with_softmax(model)

"""Chapter 5 recipes: the MNIST CNN and the 1D CNN for activity recognition (UCI HAR).

Fixes to the book: the MNIST CNN put a softmax before a `from_logits=True` loss; it now outputs
logits (and serves softmax probabilities). Pixels and inertial signals are scaled inside the models
(Rescaling; Normalization with training-split statistics), so exports take raw arrays; the
validation splits are seeded.
"""

from __future__ import annotations

import keras

from zoo.data import har
from zoo.data.mnist import MnistInfo
from zoo.data.pipelines import ArrayInfo, array_data
from zoo.data.splits import with_validation
from zoo.models.cnn import build_har_cnn1d, build_mnist_cnn
from zoo.recipes.base import Data, HParams, Recipe, RunContext, register
from zoo.recipes.images import VAL_FRACTION, mnist_data, serve_probabilities


def _mnist_cnn_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
    model = build_mnist_cnn(dropout=hp.dropout)
    model.compile(
        optimizer=keras.optimizers.Nadam(hp.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


register(
    Recipe(
        name="mnist_cnn",
        chapter=5,
        dataset="MNIST",
        summary="CNN Conv32-pool-Conv64-pool-Dense1024 on raw pixels (logits); serves probabilities",
        hparams={
            "epochs": 10,
            "batch_size": 100,
            "learning_rate": 0.001,
            "dropout": 0.5,
            "val_fraction": VAL_FRACTION,
        },
        data=mnist_data,
        model=_mnist_cnn_model,
        serving=serve_probabilities,
    )
)


def _har_data(hp: HParams, ctx: RunContext) -> Data[ArrayInfo]:
    """UCI HAR train (seeded validation split) and official test split of raw (128, 9) windows."""
    arrays = with_validation(har.load(ctx.data_dir), hp.val_fraction, hp.seed)
    return array_data(arrays, batch_size=hp.batch_size, seed=hp.seed, class_names=list(har.ACTIVITIES))


def _har_model(hp: HParams, data: Data[ArrayInfo]) -> keras.Model:
    normalizer = keras.layers.Normalization(axis=-1, mean=data.info.mean, variance=data.info.variance)
    model = build_har_cnn1d(normalizer=normalizer, dropout=hp.dropout)
    model.compile(
        optimizer=keras.optimizers.Adam(hp.learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


register(
    Recipe(
        name="har_cnn1d",
        chapter=5,
        dataset="UCI HAR",
        summary="1D CNN Conv1D64-Dropout-MaxPool-Dense100-Dense6 on raw 128x9 inertial windows",
        hparams={"epochs": 10, "batch_size": 32, "learning_rate": 0.001, "dropout": 0.5, "val_fraction": VAL_FRACTION},
        data=_har_data,
        model=_har_model,
    )
)

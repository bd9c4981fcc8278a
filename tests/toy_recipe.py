"""A tiny registered recipe for the driver's tests (imported by tests and by their subprocesses)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.data.pipelines import ArrayInfo
from zoo.recipes import Data, Param, Recipe, register


def _data(hp, ctx) -> Data:
    rng = np.random.default_rng(hp.seed)
    x = (rng.normal(size=(hp.rows, 4)) * 10 + 3).astype("float32")
    y = (x[:, 0] > 3).astype("int32")
    split = int(0.8 * hp.rows)
    batch = lambda a, b: tf.data.Dataset.from_tensor_slices((a, b)).batch(hp.batch_size)  # noqa: E731
    train = (
        tf.data.Dataset.from_tensor_slices((x[:split], y[:split]))
        .shuffle(split, seed=hp.seed, reshuffle_each_iteration=True)
        .batch(hp.batch_size)
    )
    return Data(
        train=train, validation=batch(x[split:], y[split:]), info=ArrayInfo(splits={"train": (x[:split], y[:split])})
    )


def _model(hp, data: Data) -> keras.Model:
    norm = keras.layers.Normalization()
    norm.adapt(data.info.splits["train"][0])
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(norm(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    model.compile(keras.optimizers.Adam(hp.learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


TOY = Recipe(
    name="toy",
    chapter=0,
    dataset="synthetic",
    summary="two-class toy table for the driver's tests",
    hparams={"epochs": 2, "batch_size": 16, "rows": 320, "learning_rate": Param(1e-2, "Adam step size")},
    data=_data,
    model=_model,
)
register(TOY, replace=True)

"""Chapter 5 recipes: the MNIST CNN, the CNN family (LeNet-5, Inception, ResNet), the section 5.4
regularised MLP, and the 1D CNN for activity recognition (UCI HAR).

Every MNIST recipe here shares `mnist_cnn`'s data (the same seeded split: 2,000 held-out images
when only t10k is present) and serving (raw pixels in, probabilities out).

Fixes to the book: the MNIST CNN put a softmax before a `from_logits=True` loss; it now outputs
logits (and serves softmax probabilities). Pixels and inertial signals are scaled inside the models
(Rescaling; Normalization with training-split statistics), so exports take raw arrays; the
validation splits are seeded.
"""

from __future__ import annotations

import math

import keras

from zoo.data import har
from zoo.data.mnist import MnistInfo
from zoo.data.pipelines import ArrayInfo, array_data
from zoo.data.splits import with_validation
from zoo.models.cnn import build_har_cnn1d, build_mnist_cnn
from zoo.models.cnn_family import build_inception, build_lenet5, build_resnet
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register
from zoo.recipes.images import (
    VAL_FRACTION,
    mnist_data,
    serve_probabilities,
    toolbox_data,
    toolbox_mlp,
    toolbox_params,
)


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


# --- the CNN family and the section 5.4 MLP ---------------------------------------------------------

LEARNING_RATE = Param(0.001, "Adam learning rate (the start of the cosine schedule)", minimum=0.0)
AUGMENT = Param(False, "random shifts (10%) and rotations (about 10 degrees) of the training images")
SCHEDULE = Param(
    "cosine",
    "learning rate over training: cosine decay to 0 over all epochs (LeNet-5 and ResNet also lowered "
    "theirs in steps) or constant",
    choices=("cosine", "constant"),
)


def _compiled(model: keras.Model, hp: HParams, data: Data[MnistInfo]) -> keras.Model:
    learning_rate = hp.learning_rate
    if hp.schedule == "cosine":
        steps = math.ceil(len(data.info.splits["train"][1]) / hp.batch_size) * hp.epochs
        learning_rate = keras.optimizers.schedules.CosineDecay(hp.learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _lenet5_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
    return _compiled(build_lenet5(activation=hp.activation, pooling=hp.pooling, augment=hp.augment), hp, data)


def _inception_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
    return _compiled(build_inception(bottleneck=hp.bottleneck, dropout=hp.dropout, augment=hp.augment), hp, data)


def _resnet_model(hp: HParams, data: Data[MnistInfo]) -> keras.Model:
    return _compiled(build_resnet(blocks=hp.blocks, augment=hp.augment), hp, data)


register(
    Recipe(
        name="lenet5_mnist",
        chapter=5,
        dataset="MNIST",
        summary="LeNet-5 (LeCun et al. 1998: 32x32 input, tanh, average pooling, C5 120, F6 84, distortions), logits",
        hparams={
            "epochs": Param(
                40,
                "passes over the training data (the paper: 20 passes over 60,000 images, 1.2 M images seen; "
                "40 x 7,200 here when only t10k is present)",
                minimum=1,
            ),
            "batch_size": 32,
            "learning_rate": LEARNING_RATE,
            "schedule": SCHEDULE,
            "activation": Param("tanh", "of every hidden layer (as published: tanh)", choices=("tanh", "relu")),
            "pooling": Param("average", "S2/S4 subsampling (as published: average)", choices=("average", "max")),
            "augment": Param(
                True,
                "random shifts and rotations of the training images (the paper's best LeNet-5, 0.8% error, "
                "trained on distorted images; without them it overfits 7,200 images: 0.9675 for seed 1)",
            ),
            "val_fraction": VAL_FRACTION,
        },
        data=mnist_data,
        model=_lenet5_model,
        serving=serve_probabilities,
    )
)
register(
    Recipe(
        name="inception_mnist",
        chapter=5,
        dataset="MNIST",
        summary="small GoogLeNet: 3x3 stem, three Inception blocks with 1x1 bottlenecks, global average pool",
        hparams={
            "epochs": 10,
            "batch_size": 100,
            "learning_rate": LEARNING_RATE,
            "schedule": SCHEDULE,
            "bottleneck": Param(True, "1x1 reductions before the 3x3/5x5 convolutions (false: the naive module)"),
            "dropout": Param(
                0.4, "before the output layer (GoogLeNet: 0.4)", minimum=0.0, maximum=1.0, exclusive_maximum=True
            ),
            "augment": AUGMENT,
            "val_fraction": VAL_FRACTION,
        },
        data=mnist_data,
        model=_inception_model,
        serving=serve_probabilities,
    )
)
register(
    Recipe(
        name="resnet_mnist",
        chapter=5,
        dataset="MNIST",
        summary="small ResNet: 3 stages (16-32-64) of basic residual blocks, batch norm, global average pool",
        hparams={
            "epochs": 15,
            "batch_size": 100,
            "learning_rate": LEARNING_RATE,
            "schedule": SCHEDULE,
            "blocks": Param(2, "residual blocks per stage", minimum=1, maximum=20),
            "augment": Param(True, AUGMENT.help),
            "val_fraction": VAL_FRACTION,
        },
        data=mnist_data,
        model=_resnet_model,
        serving=serve_probabilities,
    )
)
register(
    Recipe(
        name="mlp_dropout_mnist",
        chapter=5,
        dataset="MNIST",
        summary="section 5.4's regularised MLP: 512-512 relu, dropout 0.2, L2 1e-4 on every kernel (logits)",
        hparams={
            "epochs": 20,
            "batch_size": 128,
            **toolbox_params(optimizer="adam", initializer="he_normal", layers=2, units=512, dropout=0.2, l2=1e-4),
            "val_fraction": VAL_FRACTION,
        },
        data=toolbox_data,
        model=toolbox_mlp("mlp_dropout_mnist"),
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

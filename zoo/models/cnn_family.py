"""The CNN family of chapter 5 and the course notes on MNIST: LeNet-5, a small Inception, a small ResNet.

Every builder takes raw 0-255 pixels `(28, 28)` (rescaled inside the model, so exports take what a
user has) and returns logits, as `zoo.models.cnn.build_mnist_cnn` does: the book's softmax before a
`from_logits=True` loss is fixed the same way. `augment` adds `ShiftAndTurn`, random shifts and
rotations that act only while training (the served model sees the image unchanged).

Also here: chapter 5's convolution arithmetic (`conv_output_size`, `conv_params`), the formulas the
walk-through checks against the shapes and parameter counts Keras reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

# --- convolution arithmetic -------------------------------------------------------------------------


def conv_output_size(size: int, kernel: int, *, stride: int = 1, padding: str = "valid") -> int:
    """Output length of a convolution or pooling window along one axis.

    "valid": the window stays inside the input, `floor((n - k) / s) + 1`; "same": the input is padded
    so that every stride-th position is a centre, `ceil(n / s)` (Keras' and TensorFlow's rule).

    Example:
        >>> conv_output_size(28, 5), conv_output_size(28, 5, padding="same"), conv_output_size(28, 2, stride=2)
        (24, 28, 14)
    """
    if padding == "valid":
        return (size - kernel) // stride + 1
    if padding == "same":
        return math.ceil(size / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv_params(kernel: int | tuple[int, int], in_channels: int, filters: int, *, bias: bool = True) -> int:
    """Weights of a 2D convolution: one `kh x kw x in_channels` kernel per filter, plus one bias each.

    Example:
        >>> conv_params(5, 1, 32)  # the chapter 5 CNN's first layer
        832
    """
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return kh * kw * in_channels * filters + (filters if bias else 0)


# --- shared pieces ------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class ShiftAndTurn(keras.layers.Layer):
    """Random shifts and rotations of a batch of images, applied only when called with `training=True`.

    Why not Keras' `RandomTranslation` and `RandomRotation` directly: their `training` defaults to
    True, so a model called as `model(x)` (as a SavedModel export traces it) would distort what it
    serves. Here anything but `training=True` passes the images through unchanged.

    Args:
        shift: largest shift, as a fraction of the height and of the width.
        turn: largest rotation, as a fraction of a full turn (0.03: about 10 degrees).
        seed: of the random draws.

    Example:
        >>> ShiftAndTurn()(keras.ops.ones((2, 28, 28, 1))).shape  # not training: unchanged
        (2, 28, 28, 1)
    """

    def __init__(self, shift: float = 0.1, turn: float = 0.03, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.shift, self.turn, self.seed = shift, turn, seed
        self.translation = keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed)
        self.rotation = keras.layers.RandomRotation(turn, fill_mode="constant", seed=seed)

    def build(self, input_shape):
        self.translation.build(input_shape)
        self.rotation.build(input_shape)

    def call(self, inputs, training=None):
        if training is not True:
            return inputs
        return self.rotation(self.translation(inputs, training=True), training=True)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shift": self.shift, "turn": self.turn, "seed": self.seed}


def _pixels(augment: bool) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Raw (28, 28) pixels -> (28, 28, 1) in [0, 1], randomly shifted and turned when training if `augment`."""
    inputs = keras.Input(shape=(28, 28), name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Reshape((28, 28, 1))(x)
    if augment:
        x = ShiftAndTurn(name="shift_and_turn")(x)
    return inputs, x


def _conv_bn(x, filters: int, kernel: int, *, strides: int = 1, relu: bool = True, name: str):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


# --- LeNet-5 ------------------------------------------------------------------------------------------


def build_lenet5(*, classes: int = 10, activation: str = "tanh", pooling: str = "average", augment: bool = False):
    """LeNet-5 (LeCun et al. 1998) on raw MNIST pixels: C1-S2-C3-S4-C5-F6-output, 61,706 weights.

    As published: the 28 x 28 digit padded to 32 x 32, C1 6 maps 5x5, S2 2x2 subsampling, C3 16
    maps 5x5, S4, C5 120 maps 5x5 (1 x 1 outputs), F6 84 units, tanh throughout. Simplified, as
    everyone does today: S2/S4 are plain average pooling (the paper's have a trainable coefficient
    and bias each), C3 sees all six S2 maps (the paper's connection table gives 1,516 weights, not
    2,416), and the output is a Dense layer of logits with cross-entropy (the paper's Euclidean RBF
    units had fixed 7 x 12 bitmap targets).

    Args:
        classes: output units (logits).
        activation: of every hidden layer ("tanh" as published; "relu" the modern choice).
        pooling: "average" (as published) or "max".
        augment: random shifts and rotations while training.

    Example:
        >>> build_lenet5().count_params()
        61706
    """
    if pooling not in ("average", "max"):
        raise ValueError(f"pooling must be 'average' or 'max', got {pooling!r}")
    pool = keras.layers.AveragePooling2D if pooling == "average" else keras.layers.MaxPooling2D
    inputs, x = _pixels(augment)
    x = keras.layers.ZeroPadding2D(2, name="pad_to_32")(x)
    x = keras.layers.Conv2D(6, 5, activation=activation, name="C1")(x)
    x = pool(2, name="S2")(x)
    x = keras.layers.Conv2D(16, 5, activation=activation, name="C3")(x)
    x = pool(2, name="S4")(x)
    x = keras.layers.Conv2D(120, 5, activation=activation, name="C5")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(84, activation=activation, name="F6")(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, logits, name="lenet5")


# --- a small Inception (GoogLeNet) -------------------------------------------------------------------


def inception_block(x, *, ones: int, threes: int, fives: int, pool: int, bottleneck: bool = True, name: str):
    """GoogLeNet's module: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side, concatenated.

    With `bottleneck` a 1x1 convolution first shrinks the channels to half the branch's filters before
    each 3x3 and 5x5 convolution, and projects the pooled branch (Szegedy et al. 2015's "dimension
    reduction"): the same outputs for a fraction of the weights and multiplications. Without it the
    3x3/5x5 branches read every input channel and the pooled branch passes them all through.
    """
    branches = [_conv_bn(x, ones, 1, name=f"{name}_1x1")]
    for kernel, filters in ((3, threes), (5, fives)):
        y = _conv_bn(x, max(filters // 2, 1), 1, name=f"{name}_{kernel}x{kernel}_reduce") if bottleneck else x
        branches.append(_conv_bn(y, filters, kernel, name=f"{name}_{kernel}x{kernel}"))
    y = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branches.append(_conv_bn(y, pool, 1, name=f"{name}_pool_proj") if bottleneck else y)
    return keras.layers.Concatenate(name=f"{name}_concat")(branches)


def build_inception(
    *,
    classes: int = 10,
    stem: int = 32,
    blocks: Sequence[tuple[int, int, int, int]] = ((16, 32, 8, 8), (32, 48, 16, 16), (48, 64, 16, 16)),
    bottleneck: bool = True,
    dropout: float = 0.4,
    augment: bool = False,
):
    """A small GoogLeNet-style network: a 3x3 stem, Inception blocks with max pools between, global average.

    28x28 stem (32 filters) -> pool -> block 1 -> block 2 at 14x14 -> pool -> block 3 at 7x7 ->
    global average pooling -> dropout -> logits (GoogLeNet also ends in average pooling, not Dense
    layers; its auxiliary classifiers are left out, as in its successors).

    Args:
        classes: output units (logits).
        stem: filters of the first 3x3 convolution.
        blocks: (1x1, 3x3, 5x5, pool projection) filters of each Inception block.
        bottleneck: 1x1 reductions before the 3x3 and 5x5 convolutions (see `inception_block`).
        dropout: before the output layer (GoogLeNet: 0.4).
        augment: random shifts and rotations while training.

    Example:
        >>> build_inception().output.shape
        (None, 10)
    """
    inputs, x = _pixels(augment)
    x = _conv_bn(x, stem, 3, name="stem")
    x = keras.layers.MaxPooling2D(2, name="pool_1")(x)
    for i, (ones, threes, fives, pool) in enumerate(blocks):
        if i == 2:
            x = keras.layers.MaxPooling2D(2, name="pool_2")(x)
        x = inception_block(
            x, ones=ones, threes=threes, fives=fives, pool=pool, bottleneck=bottleneck, name=f"mixed_{i + 1}"
        )
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, logits, name="inception" if bottleneck else "inception_naive")


# --- a small ResNet -----------------------------------------------------------------------------------


def residual_block(x, filters: int, *, strides: int = 1, name: str):
    """He et al. 2016's basic block: two 3x3 conv-BN layers, the input added back before the last ReLU.

    Where the block halves the size or changes the channels, the shortcut is a 1x1 strided
    convolution with batch norm (the paper's option B); elsewhere it is the identity.
    """
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides=strides, relu=False, name=f"{name}_shortcut")
    y = _conv_bn(x, filters, 3, strides=strides, name=f"{name}_a")
    y = _conv_bn(y, filters, 3, relu=False, name=f"{name}_b")
    y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def build_resnet(*, classes: int = 10, filters: Sequence[int] = (16, 32, 64), blocks: int = 2, augment: bool = False):
    """A small residual network in the CIFAR style of He et al. 2016: stages of basic blocks, global average.

    3x3 stem conv -> for each stage `blocks` residual blocks (the first of each later stage halves
    the size: 28 -> 14 -> 7) -> global average pooling -> logits. With the defaults it has
    1 + 3 x 2 x 2 = 13 convolutional layers on the main path and 2 more (1x1) on the shortcuts of
    the two blocks that halve the size: 15 in all.

    Args:
        classes: output units (logits).
        filters: channels of each stage.
        blocks: residual blocks per stage.
        augment: random shifts and rotations while training.

    Example:
        >>> build_resnet().output.shape
        (None, 10)
    """
    inputs, x = _pixels(augment)
    x = _conv_bn(x, filters[0], 3, name="stem")
    for stage, width in enumerate(filters):
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = residual_block(x, width, strides=strides, name=f"stage{stage + 1}_block{block + 1}")
    x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, logits, name="resnet")

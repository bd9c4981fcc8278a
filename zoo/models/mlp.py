"""Multi-layer perceptrons of chapters 3-5 (tables, curve fitting, MNIST), a softmax serving head, gradient norms."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def build_mlp(
    *,
    input_shape: Sequence[int],
    hidden: Sequence[int],
    outputs: int,
    activation: str = "relu",
    output_activation: str | None = None,
    kernel_initializer: str = "glorot_uniform",
    preprocessing: Sequence[keras.layers.Layer] = (),
    dropout: float = 0.0,
    batchnorm: bool = False,
    l1: float = 0.0,
    l2: float = 0.0,
    name: str = "mlp",
) -> keras.Model:
    """Input -> preprocessing layers (e.g. `Normalization`, `Rescaling`) -> Flatten -> Dense x N -> Dense(outputs).

    Each hidden block is `Dense -> activation -> Dropout`, or with `batchnorm`
    `Dense (no bias) -> BatchNormalization -> activation -> Dropout` (Ioffe & Szegedy normalise the
    pre-activation; the normalisation's own shift makes the Dense bias redundant).

    Args:
        input_shape: shape of one raw example, e.g. `(34,)` or `(28, 28)`.
        hidden: units of the hidden Dense layers, e.g. `(10, 8)`.
        outputs: units of the output layer.
        activation: hidden activation; `output_activation` None means linear outputs (logits).
        kernel_initializer: of the hidden layers (the book uses "he_normal" with relu).
        preprocessing: layers applied to the raw input inside the model, so exports take raw data.
        dropout: rate after each hidden layer (0 = none).
        batchnorm: batch normalisation in each hidden block.
        l1, l2: factors of the L1 / L2 penalties on every Dense kernel, hidden and output (0 = none).
        name: the model's name.

    Example:
        >>> model = build_mlp(input_shape=(4,), hidden=(10, 8), outputs=3, output_activation="softmax")
        >>> model.output.shape
        (None, 3)
    """
    inputs = keras.Input(shape=tuple(input_shape), name="features")
    x = inputs
    for layer in preprocessing:
        x = layer(x)
    if len(input_shape) > 1:
        x = keras.layers.Flatten()(x)
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if l1 or l2 else None
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(
            units,
            activation=None if batchnorm else activation,
            use_bias=not batchnorm,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"hidden_{i + 1}",
        )(x)
        if batchnorm:
            x = keras.layers.BatchNormalization(name=f"batchnorm_{i + 1}")(x)
            x = keras.layers.Activation(activation, name=f"activation_{i + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    outputs_ = keras.layers.Dense(outputs, activation=output_activation, kernel_regularizer=regularizer, name="output")(
        x
    )
    return keras.Model(inputs, outputs_, name=name)


def with_softmax(model: keras.Model) -> keras.Model:
    """The same model with a Softmax appended: serves probabilities for a model trained on logits.

    Example:
        >>> logits = build_mlp(input_shape=(4,), hidden=(), outputs=3)
        >>> with_softmax(logits).output.shape
        (None, 3)
    """
    probabilities = keras.layers.Softmax(name="probabilities")(model.output)
    # `model.input` keeps the input structure (a single tensor, not a list): TFSMLayer needs that.
    return keras.Model(model.input, probabilities, name=f"{model.name}_probabilities")


def hidden_gradient_norms(model: keras.Model, x, y, loss: keras.losses.Loss) -> list[float]:
    """The L2 norm of the loss gradient for each hidden Dense kernel, first layer first (one batch).

    Chapter 4's vanishing gradient made visible: through a deep stack of sigmoids the norms shrink
    layer after layer towards the input (each sigmoid derivative is at most 1/4); ReLU or batch
    normalisation keeps them of one order. The model must come from `build_mlp` (layers `hidden_i`).

    Example:
        >>> model = build_mlp(input_shape=(4,), hidden=(8, 8), outputs=3, activation="sigmoid")
        >>> loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> norms = hidden_gradient_norms(model, keras.ops.ones((2, 4)), keras.ops.array([0, 1]), loss)
        >>> len(norms)
        2
    """
    import tensorflow as tf  # the gradient tape: the zoo runs Keras on the TensorFlow backend

    kernels = [layer.kernel for layer in model.layers if layer.name.startswith("hidden_")]
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    return [float(tf.norm(g)) for g in tape.gradient(value, kernels)]

"""Multi-layer perceptrons of chapters 3-4 (tables, curve fitting, MNIST) and a softmax serving head."""

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
    name: str = "mlp",
) -> keras.Model:
    """Input -> preprocessing layers (e.g. `Normalization`, `Rescaling`) -> Flatten -> Dense x N -> Dense(outputs).

    Args:
        input_shape: shape of one raw example, e.g. `(34,)` or `(28, 28)`.
        hidden: units of the hidden Dense layers, e.g. `(10, 8)`.
        outputs: units of the output layer.
        activation: hidden activation; `output_activation` None means linear outputs (logits).
        kernel_initializer: of the hidden layers (the book uses "he_normal" with relu).
        preprocessing: layers applied to the raw input inside the model, so exports take raw data.
        dropout: rate after each hidden layer (0 = none).
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
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(
            units, activation=activation, kernel_initializer=kernel_initializer, name=f"hidden_{i + 1}"
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    outputs_ = keras.layers.Dense(outputs, activation=output_activation, name="output")(x)
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

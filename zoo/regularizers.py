"""Chapter 11.3 custom regularizers, the Keras 3 way: a plain function and a `Regularizer` subclass.

Why a module of its own: it mirrors `keras.regularizers` (users look for `zoo.regularizers.X`
where they know `keras.regularizers.X`), and every model family can use it; `zoo/layers/` holds
layers and `zoo/metrics/` metrics, so neither is the right home.

- `l1_activity` is the book's "regularizer as a function": any callable `x -> scalar` can be a
  layer's `activity_regularizer` (or `kernel_regularizer`). It is registered as serialisable, so a
  model using it saves to and loads from `.keras` (an unregistered function would not load).
- `Orthogonality` is the book's "regularizer as a class": it has hyper-parameters, so it subclasses
  `keras.regularizers.Regularizer` and returns them from `get_config`, which is what lets a `.keras`
  file rebuild it (a function closing over its factor could not be saved).

Keras itself divides an *activity* regulariser's value by the batch size, so `l1_activity` is the
summed penalty of the batch and its strength does not depend on the batch size.

The book's own two examples are here too, beside the zoo's: `book_l1_activity` (its function,
`0.01 * sum(|x|)`, used as an activity regulariser) and `L2Regularizer` (its `Regularizer` subclass,
`l2 * sum(x^2)` with `get_config`). What to know about them:
- Keras 3 loads a `.keras` file only with custom objects it can find by name: a function or class
  that is not registered (`@keras.saving.register_keras_serializable`) makes the saved model
  unloadable without `custom_objects`. Both are registered here.
- The book's rate is 0.01, the zoo's `l1_activity` 1e-4; both are sums over the layer's units
  (Keras averages them over the batch), so neither is "right" in general: the strength to use
  depends on the layer's size and its activations' scale. `L2Regularizer` is Keras' own
  `keras.regularizers.L2(l2)` written out (the same value): a teaching example of the pattern;
  the zoo's own subclass is `Orthogonality`.
"""

from __future__ import annotations

import keras
from keras import ops

L1_ACTIVITY_RATE = 1e-4


@keras.saving.register_keras_serializable(package="zoo")
def l1_activity(x):
    """`1e-4 * sum(|x|)`: an L1 activity regulariser as a plain function (sparse activations).

    Example:
        >>> layer = keras.layers.Dense(4, activity_regularizer=l1_activity)
    """
    return L1_ACTIVITY_RATE * ops.sum(ops.abs(x))


@keras.saving.register_keras_serializable(package="zoo")
class Orthogonality(keras.regularizers.Regularizer):
    """`factor * ||W^T W - I||_F^2`: pushes a kernel's columns (one per unit) to be orthonormal.

    It is the weight-space twin of Lin et al.'s attention penalty ||A A^T - I||_F^2: units that
    read the same direction of their input are redundant, as are hops that attend to the same tokens.
    (Keras' own `OrthogonalRegularizer` penalises the mean absolute cosine instead, ignoring norms.)

    Args:
        factor: the coefficient (>= 0).
        mode: `"columns"` (default: the units of a `Dense` kernel `(inputs, units)`) or `"rows"`.

    Example:
        >>> layer = keras.layers.Dense(8, kernel_regularizer=Orthogonality(1e-3))
    """

    def __init__(self, factor: float = 1e-3, mode: str = "columns"):
        if factor < 0:
            raise ValueError(f"factor must be >= 0, got {factor}")
        if mode not in ("columns", "rows"):
            raise ValueError(f"mode must be 'columns' or 'rows', got {mode!r}")
        self.factor = float(factor)
        self.mode = mode

    def __call__(self, x):
        if len(x.shape) != 2:
            raise ValueError(f"Orthogonality needs a 2-D kernel, got shape {tuple(x.shape)}")
        if self.mode == "rows":
            x = ops.transpose(x)
        gram = ops.matmul(ops.transpose(x), x)
        eye = ops.eye(ops.shape(gram)[0], dtype=gram.dtype)
        return self.factor * ops.sum(ops.square(gram - eye))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


BOOK_L1_ACTIVITY_RATE = 0.01


@keras.saving.register_keras_serializable(package="zoo")
def book_l1_activity(x):
    """The book's activity regulariser function, `0.01 * sum(|x|)` (registered, so a `.keras` file reloads it).

    Example:
        >>> layer = keras.layers.Dense(4, activity_regularizer=book_l1_activity)
    """
    return BOOK_L1_ACTIVITY_RATE * ops.sum(ops.abs(x))


@keras.saving.register_keras_serializable(package="zoo")
class L2Regularizer(keras.regularizers.Regularizer):
    """The book's `Regularizer` subclass: `l2 * sum(x^2)`, its factor returned by `get_config`.

    The same value as Keras' own `keras.regularizers.L2(l2)`; here as the book writes it, to show
    the pattern (constructor arguments, `__call__`, `get_config`). Registered, so it reloads.

    Args:
        l2: the factor (>= 0).

    Example:
        >>> layer = keras.layers.Dense(4, kernel_regularizer=L2Regularizer(0.01))
    """

    def __init__(self, l2: float = 0.01):
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        self.l2 = float(l2)

    def __call__(self, x):
        return self.l2 * ops.sum(ops.square(x))

    def get_config(self):
        return {"l2": self.l2}


REGULARIZERS = ("none", "l1_activity", "orthogonal")

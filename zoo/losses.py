"""Chapter 11.3 custom losses, the Keras 3 way: the same loss as a factory and as a `Loss` subclass.

Label-smoothed cross-entropy for integer labels and probability (or logit) outputs:
q = (1 - s) * one_hot(y) + s / k, loss = -sum(q * log p). Keras' `SparseCategoricalCrossentropy`
has no `label_smoothing` argument (only the one-hot `CategoricalCrossentropy` does), so this is a
loss the zoo's sparse-label classifiers can actually use.

Why a module of its own: it mirrors `keras.losses` and serves every classifier family.

- `smoothed_sparse_crossentropy(s)` is the book's loss *factory*: a function that returns a
  `loss(y_true, y_pred)` closure. Quick to write and fine for `compile`, but a closure cannot be
  rebuilt from a `.keras` file (load such a model with `compile=False`, or pass it in
  `custom_objects`).
- `SmoothedSparseCrossentropy` is the same loss as a `keras.losses.Loss` subclass with
  `get_config`: it saves and loads with the model, and takes `reduction`/`name` like any Keras loss.
  Recipes use this one.

The book's own factory is here too, beside the zoo's: `book_crossentropy()` returns a plain
categorical cross-entropy `loss(y_true, y_pred) = -sum(y_true * log(y_pred))` for one-hot labels and
probability outputs. It is the same loss as Keras' `categorical_crossentropy` (and as
`smoothed_sparse_crossentropy(0)` on integer labels); what a hand-written version must not forget is
the clip of `y_pred` away from 0: a softmax that puts exactly 0 on the true class (float32 underflows
for logits about 104 apart) makes `log` return -inf and the whole batch's loss and gradients inf or
NaN. `book_crossentropy` clips as Keras does (to [epsilon, 1 - epsilon]); as any closure, a model
compiled with it saves, but reloads only with `compile=False` or `custom_objects`.
"""

from __future__ import annotations

import keras
from keras import ops

# Not exported by Keras: the hook through which its own `ignore_class` reaches the loss reduction.
from keras.src.backend import set_keras_mask


def _smoothed_crossentropy(y_true, y_pred, smoothing: float, from_logits: bool):
    """Per-example label-smoothed cross-entropy; `y_true` int `(batch,)` or `(batch, 1)`."""
    y_pred = ops.convert_to_tensor(y_pred)
    num_classes = ops.shape(y_pred)[-1]
    y_true = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
    target = ops.one_hot(y_true, num_classes, dtype=y_pred.dtype)
    target = target * (1.0 - smoothing) + smoothing / ops.cast(num_classes, y_pred.dtype)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    else:
        eps = keras.config.epsilon()
        log_p = ops.log(ops.clip(y_pred, eps, 1.0 - eps))
    return -ops.sum(target * log_p, axis=-1)


def smoothed_sparse_crossentropy(smoothing: float = 0.1, from_logits: bool = False):
    """A loss factory: returns `loss(y_true, y_pred)`, label-smoothed sparse cross-entropy.

    Args:
        smoothing: s in [0, 1): the share of probability mass spread uniformly over the classes.
        from_logits: whether `y_pred` are logits rather than probabilities.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", loss=smoothed_sparse_crossentropy(0.1))
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")

    def loss(y_true, y_pred):
        return _smoothed_crossentropy(y_true, y_pred, smoothing, from_logits)

    loss.__name__ = f"smoothed_sparse_crossentropy_{smoothing:g}"
    return loss


@keras.saving.register_keras_serializable(package="zoo")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Label-smoothed cross-entropy for integer labels, as a serialisable `keras.losses.Loss`.

    Args:
        smoothing: s in [0, 1); 0 is plain sparse categorical cross-entropy.
        from_logits: whether `y_pred` are logits rather than probabilities.
        ignore_class: a label whose positions add nothing to the loss (e.g. 0, the padding of
            sequence targets), as in Keras' `SparseCategoricalCrossentropy(ignore_class=...)`: their
            per-element loss is 0 and carries a Keras mask, so the default reduction is the mean over
            the other positions only (however much padding a batch has).
        **kwargs: `reduction`, `name`, `dtype` as in any Keras loss.

    Example:
        >>> y_true, y_pred = np.array([0]), np.array([[0.9, 0.1]])
        >>> plain = keras.losses.SparseCategoricalCrossentropy()(y_true, y_pred)
        >>> bool(SmoothedSparseCrossentropy(0.1)(y_true, y_pred) > plain)
        True
    """

    def __init__(
        self,
        smoothing: float = 0.1,
        from_logits: bool = False,
        ignore_class: int | None = None,
        name: str = "smoothed_sparse_crossentropy",
        **kwargs,
    ):
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        super().__init__(name=name, **kwargs)
        self.smoothing = float(smoothing)
        self.from_logits = bool(from_logits)
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def call(self, y_true, y_pred):
        if self.ignore_class is None:
            return _smoothed_crossentropy(y_true, y_pred, self.smoothing, self.from_logits)
        y_true = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
        valid = ops.not_equal(y_true, self.ignore_class)
        # As Keras does: a harmless label where ignored (e.g. -1 is no class), then zero loss and a mask there.
        losses = _smoothed_crossentropy(ops.where(valid, y_true, 0), y_pred, self.smoothing, self.from_logits)
        losses = ops.where(valid, losses, ops.zeros_like(losses))
        set_keras_mask(losses, valid)
        return losses

    def get_config(self):
        config = super().get_config()
        config.update(smoothing=self.smoothing, from_logits=self.from_logits, ignore_class=self.ignore_class)
        return config


def book_crossentropy(epsilon: float | None = None):
    """The book's loss factory: returns `loss(y_true, y_pred)`, categorical cross-entropy on one-hot labels.

    Args:
        epsilon: probabilities are clipped to [epsilon, 1 - epsilon] before the log (default
            `keras.config.epsilon()`, 1e-7, as Keras' own cross-entropy), so a 0 gives a large but
            finite loss instead of inf.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", loss=book_crossentropy())
    """
    eps = keras.config.epsilon() if epsilon is None else float(epsilon)
    if not 0.0 < eps < 0.5:
        raise ValueError(f"epsilon must be in (0, 0.5), got {epsilon}")

    def loss(y_true, y_pred):
        y_pred = ops.clip(ops.convert_to_tensor(y_pred), eps, 1.0 - eps)
        return -ops.sum(ops.cast(y_true, y_pred.dtype) * ops.log(y_pred), axis=-1)

    loss.__name__ = "book_crossentropy"
    return loss

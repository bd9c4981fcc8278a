"""Pooling a sequence into one vector over its real steps, and the masking constant attention shares.

`SequencePooling` serves chapter 9's recurrent classifiers and chapter 12's Transformer classifier;
a sequence with no real step pools to zeros (Keras' `GlobalAveragePooling1D` gives 0 / 0 = NaN).
"""

from __future__ import annotations

import keras
from keras import ops

POOLING = ("mean", "max", "first")


def large_negative(dtype) -> float:
    """A logit that underflows to 0 in softmax but stays finite (float16 tops out at 65504)."""
    return -3e4 if keras.backend.standardize_dtype(dtype) in ("float16", "bfloat16") else -1e9


@keras.saving.register_keras_serializable(package="zoo")
class SequencePooling(keras.layers.Layer):
    """One vector per sequence from `(B, T, D)` and an explicit padding mask: `"mean"`, `"max"` or `"first"`.

    `"mean"` and `"max"` use only the real tokens (a sequence with none gives zeros); `"first"` takes
    position 0 (a [CLS]-like token, if the data puts one there).

    Example:
        >>> SequencePooling("mean")(np.ones((2, 3, 4), "float32"), np.array([[1, 1, 0], [1, 0, 0]], bool)).shape
        TensorShape([2, 4])
    """

    def __init__(self, mode: str = "mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING:
            raise ValueError(f"pooling must be one of {', '.join(POOLING)}; got {mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, x, padding_mask=None):
        if self.mode == "first":
            return x[:, 0]
        if padding_mask is None:
            padding_mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        keep = ops.expand_dims(ops.cast(padding_mask, "bool"), -1)
        any_token = ops.any(keep, axis=1)
        if self.mode == "max":
            pooled = ops.max(ops.where(keep, x, ops.cast(large_negative(x.dtype), x.dtype)), axis=1)
            return ops.where(any_token, pooled, ops.zeros_like(pooled))
        count = ops.maximum(ops.sum(ops.cast(keep, x.dtype), axis=1), ops.cast(1, x.dtype))
        return ops.sum(ops.where(keep, x, ops.zeros_like(x)), axis=1) / count

    def compute_mask(self, x, mask=None):
        return None  # no time axis left

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}

"""Span-labelling head for extractive QA (chapter 12): one Dense to start/end logits over the tokens."""

from __future__ import annotations

import keras
from keras import ops

MASK_VALUE = -1e9


@keras.saving.register_keras_serializable(package="zoo")
class SpanHead(keras.layers.Layer):
    """Start and end logits for every token of a window, in float32 even under mixed precision.

    Padding and question (segment 0) tokens get a logit of -1e9 so neither the loss nor the span
    search can pick them; position 0 ([CLS], the v2.0 "no answer" slot and the label of windows
    without the answer) stays open.

    Args:
        kernel_initializer: initialiser of the Dense kernel (BERT: truncated normal, stddev 0.02).

    Call args:
        sequence_output: [batch, seq, hidden] encoder output.
        segment_ids: [batch, seq] 0 for [CLS] question [SEP], 1 for the context and its [SEP].
        padding_mask: [batch, seq] 1 for real tokens.

    Returns:
        (start_logits, end_logits), each [batch, seq] float32.

    Example:
        >>> head = SpanHead()
        >>> start, end = head(np.zeros((2, 8, 16), "float32"), np.ones((2, 8), "int32"), np.ones((2, 8), "int32"))
        >>> start.shape
        (2, 8)
    """

    def __init__(self, kernel_initializer=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )
        self.dense = keras.layers.Dense(
            2, kernel_initializer=self.kernel_initializer, dtype=self.dtype_policy, name="logits"
        )

    def build(self, sequence_output_shape, segment_ids_shape=None, padding_mask_shape=None):
        self.dense.build(sequence_output_shape)
        self.built = True

    def call(self, sequence_output, segment_ids, padding_mask):
        logits = self.dense(ops.cast(sequence_output, self.compute_dtype))
        is_cls = ops.expand_dims(ops.arange(ops.shape(segment_ids)[1]) == 0, 0)
        allowed = ops.logical_or(ops.logical_and(ops.cast(padding_mask, "bool"), ops.equal(segment_ids, 1)), is_cls)
        logits = ops.where(ops.expand_dims(allowed, -1), logits, MASK_VALUE)
        return logits[..., 0], logits[..., 1]

    def compute_output_shape(self, sequence_output_shape, segment_ids_shape=None, padding_mask_shape=None):
        return tuple(sequence_output_shape[:2]), tuple(sequence_output_shape[:2])

    def get_config(self):
        config = super().get_config()
        config["kernel_initializer"] = keras.initializers.serialize(self.kernel_initializer)
        return config

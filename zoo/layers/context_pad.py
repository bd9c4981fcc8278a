"""The context a feed-forward language model reads before the first token of a text (chapter 8, Bengio et al. 2003)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ContextPad(keras.layers.Layer):
    """Token ids `[batch, T]` -> `[batch, width + T]` with `width` copies of `value` in front.

    A feed-forward n-gram model predicts token `t + 1` from tokens `t - n + 2 .. t`; before the first
    token of a text there are none, and this layer supplies them as the sentence boundary (`<eos>`),
    as a language-model stream starts after one. Padding with a real token rather than zero vectors
    means every position the model ever sees has a context of real embeddings.

    Args:
        width: tokens added in front (`window - 1` for a window of `window` tokens).
        value: the id they carry.

    Example:
        >>> ContextPad(2, value=7)(np.array([[1, 2, 3]], "int32")).numpy().tolist()
        [[7, 7, 1, 2, 3]]
    """

    def __init__(self, width: int, value: int = 0, **kwargs):
        super().__init__(**kwargs)
        if width < 0:
            raise ValueError(f"width must be >= 0, got {width}")
        self.width, self.value = int(width), int(value)

    def call(self, ids):
        return ops.pad(ids, [[0, 0], [self.width, 0]], constant_values=self.value)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps + self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "value": self.value}

"""A custom `keras.metrics.Metric` (chapter 11.3): macro-averaged F1 for integer labels.

Keras' `F1Score` wants one-hot targets and a threshold; the zoo's classifiers train on integer
labels, so this metric takes them directly: integer `y_true` `(batch,)` or `(batch, 1)` and class
probabilities `y_pred` `(batch, k)` (arg-max), or one sigmoid unit `(batch, 1)` (threshold 0.5)
for binary tasks. It accumulates a k x k confusion matrix in a metric variable, so the score is
exact over a whole epoch or evaluation, not an average of per-batch scores, and it aggregates
across replicas like any Keras metric.

Macro F1 = mean over classes of 2 TP / (2 TP + FP + FN), over the classes that occur in the labels
or the predictions (scikit-learn's `f1_score(average="macro")` default).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MacroF1(keras.metrics.Metric):
    """Macro-averaged F1 over `num_classes` classes, from integer labels.

    Args:
        num_classes: k (2 for a single sigmoid unit).
        name: the key in `fit`'s logs and `evaluate`'s results (default `macro_f1`).

    Example:
        >>> metric = MacroF1(3)
        >>> metric.update_state([0, 1, 2, 2], [[.8, .1, .1], [.1, .8, .1], [.1, .1, .8], [.8, .1, .1]])
        >>> round(float(metric.result()), 4)
        0.7778
    """

    def __init__(self, num_classes: int, name: str = "macro_f1", **kwargs):
        super().__init__(name=name, **kwargs)
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.num_classes = int(num_classes)
        self.confusion = self.add_variable(
            shape=(self.num_classes, self.num_classes), initializer="zeros", name="confusion", dtype="float32"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        if y_pred.shape[-1] == 1:
            predicted = ops.cast(ops.reshape(y_pred, (-1,)) > 0.5, "int32")
        else:
            predicted = ops.cast(ops.argmax(ops.reshape(y_pred, (-1, y_pred.shape[-1])), axis=-1), "int32")
        actual = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        weight = (
            ops.ones_like(actual, dtype="float32")
            if sample_weight is None
            else ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        )
        cells = ops.one_hot(actual, self.num_classes)[:, :, None] * ops.one_hot(predicted, self.num_classes)[:, None, :]
        self.confusion.assign_add(ops.sum(cells * weight[:, None, None], axis=0))

    def result(self):
        tp = ops.diagonal(self.confusion)
        fp = ops.sum(self.confusion, axis=0) - tp
        fn = ops.sum(self.confusion, axis=1) - tp
        denominator = 2 * tp + fp + fn
        present = ops.cast(denominator > 0, "float32")
        f1 = ops.where(denominator > 0, 2 * tp / ops.maximum(denominator, 1e-12), 0.0)
        return ops.sum(f1) / ops.maximum(ops.sum(present), 1.0)

    def reset_state(self):
        self.confusion.assign(ops.zeros_like(self.confusion))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

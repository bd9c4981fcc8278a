"""What a dataset loader hands a model: `tf.data` pipelines plus what the model needs to know (`Data`).

`Data.info` is a small dataclass of the task family (`ArrayInfo` here for tables and images,
`zoo.data.text.TextInfo` for text classification, ...), so a model builder's inputs can be read
from its fields rather than from string keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.data.splits import Arrays


@dataclasses.dataclass(frozen=True)
class Data:
    """Training, validation and test pipelines of one run, and what the model needs to know.

    Datasets are batched with the *global* batch size and yield `(inputs, targets)`; the driver adds
    `prefetch` and lets Keras distribute them. `info` is the task family's info dataclass (vocabulary,
    adapted preprocessing, class names, raw test examples, ...).
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None = None
    test: tf.data.Dataset | None = None
    info: Any = None


@dataclasses.dataclass
class ArrayInfo:
    """What a table or image model needs: the raw splits and the training split's statistics.

    Attributes:
        splits: the raw `(x, y)` arrays by split (`"train"`, `"val"`, `"test"`), for reports.
        mean, variance: per-feature (last axis) statistics of the training split, for a
            `keras.layers.Normalization` inside the model (`None` when not standardised).
        class_names: names of the classes, for classifiers.
        columns: names of the features, for tables.
        notes: anything else worth recording (e.g. MNIST's `test_only`).
    """

    splits: dict[str, Arrays]
    mean: np.ndarray | None = None
    variance: np.ndarray | None = None
    class_names: Sequence[str] = ()
    columns: Sequence[str] = ()
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one raw example."""
        return tuple(self.splits["train"][0].shape[1:])


def array_data(
    splits: dict[str, Arrays],
    *,
    batch_size: int,
    seed: int,
    standardize: bool = True,
    class_names: Sequence[str] = (),
    columns: Sequence[str] = (),
    **notes,
) -> Data:
    """`Data` from in-memory splits: float32 features, global batch size, seeded reshuffle of train each epoch.

    Args:
        splits: `{"train": (x, y), "val": (x, y), "test": (x, y)}`; `"val"` and `"test"` optional.
        batch_size: the global batch size.
        seed: seeds the shuffle of the training split.
        standardize: record the training split's per-feature mean and variance in the info
            (training-split statistics only) for a `Normalization` layer inside the model.
        class_names, columns, notes: recorded in the `ArrayInfo`.

    Example:
        >>> splits = {"train": (np.random.rand(8, 3), np.arange(8) % 2)}
        >>> data = array_data(splits, batch_size=4, seed=0)
        >>> data.info.input_shape
        (3,)
    """

    def dataset(split: str, shuffle: bool = False) -> tf.data.Dataset | None:
        if split not in splits:
            return None
        x, y = splits[split]
        ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size)

    info = ArrayInfo(splits=splits, class_names=list(class_names), columns=list(columns), notes=notes)
    if standardize:
        x_train = splits["train"][0].astype(np.float64)
        axes = tuple(range(x_train.ndim - 1))
        info.mean, info.variance = x_train.mean(axis=axes), x_train.var(axis=axes)
    return Data(train=dataset("train", shuffle=True), validation=dataset("val"), test=dataset("test"), info=info)

"""What a dataset loader hands a model: `tf.data` pipelines plus what the model needs to know (`Data`).

`Data` is generic in its `info`, a small dataclass of the task family: `ArrayInfo` here for tables
and images (`zoo.data.mnist.MnistInfo` adds where MNIST's training images came from),
`zoo.data.text.TextInfo` for text classification, `zoo.data.skipgrams.SkipgramInfo`,
`zoo.data.language_model.LanguageModelInfo`, `zoo.squad.features.SquadInfo`, ... A recipe's
functions are annotated with the family they read (`def model(hp, data: Data[TextInfo])`), so a
model builder's inputs are read from typed fields rather than from string keys.

Splits are named `"train"`, `"validation"` and `"test"` everywhere (a dataset's own word, such as
PTB's `valid` file or SQuAD's dev set, stays in its file names and documentation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np
import tensorflow as tf

from zoo.data.splits import Arrays

InfoT = TypeVar("InfoT", covariant=True)
"""The info dataclass of a data family (`ArrayInfo`, `TextInfo`, `LanguageModelInfo`, ...)."""


@dataclasses.dataclass(frozen=True)
class Data(Generic[InfoT]):
    """Training, validation and test pipelines of one run, and what the model needs to know.

    Datasets are batched with the *global* batch size and yield `(inputs, targets)`; the driver adds
    `prefetch` and lets Keras distribute them. `info` (a keyword argument) is the task family's info
    dataclass (vocabulary, adapted preprocessing, class names, raw test examples, ...): `Data[TextInfo]`
    is the type of a text classifier's data.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None = None
    test: tf.data.Dataset | None = None
    info: InfoT = dataclasses.field(kw_only=True)


@dataclasses.dataclass
class ArrayInfo:
    """What a table or image model needs: the raw splits and the training split's statistics.

    Attributes:
        splits: the raw `(x, y)` arrays by split (`"train"`, `"validation"`, `"test"`), for reports.
        mean, variance: per-feature (last axis) statistics of the training split, for a
            `keras.layers.Normalization` inside the model (`None` when not standardised).
        class_names: names of the classes, for classifiers.
        columns: names of the features, for tables.
    """

    splits: dict[str, Arrays]
    mean: np.ndarray | None = None
    variance: np.ndarray | None = None
    class_names: Sequence[str] = ()
    columns: Sequence[str] = ()

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
) -> Data[ArrayInfo]:
    """`Data` from in-memory splits: float32 features, global batch size, seeded reshuffle of train each epoch.

    Args:
        splits: `{"train": (x, y), "validation": (x, y), "test": (x, y)}`; `"validation"` and `"test"`
            optional.
        batch_size: the global batch size.
        seed: seeds the shuffle of the training split.
        standardize: record the training split's per-feature mean and variance in the info
            (training-split statistics only) for a `Normalization` layer inside the model.
        class_names, columns: recorded in the `ArrayInfo`.

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

    info = ArrayInfo(splits=splits, class_names=list(class_names), columns=list(columns))
    if standardize:
        x_train = splits["train"][0].astype(np.float64)
        axes = tuple(range(x_train.ndim - 1))
        info.mean, info.variance = x_train.mean(axis=axes), x_train.var(axis=axes)
    return Data(train=dataset("train", shuffle=True), validation=dataset("validation"), test=dataset("test"), info=info)

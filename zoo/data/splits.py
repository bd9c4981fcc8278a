"""Seeded splits of in-memory arrays (tables, images): test, validation and train parts.

Every split is seeded (and stratified for classes when asked), so the same seed gives the same rows
in every run and on every machine.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from zoo.errors import UserError

Arrays = tuple[np.ndarray, np.ndarray]


def take_out(
    arrays: Arrays, size: float | int, seed: int, *, stratify: bool = False, param: str = "size"
) -> tuple[Arrays, Arrays]:
    """Seeded split of `(x, y)` into (rest, held out); `size` is a fraction or a count of rows.

    A split that leaves a part empty (or, stratified, without a row of every class) is a `UserError`
    naming `param`, the argument `size` came from.

    Example:
        >>> rest, held_out = take_out((np.zeros((10, 2)), np.arange(10)), 0.2, seed=1)
        >>> len(held_out[0])
        2
    """
    try:
        x_rest, x_out, y_rest, y_out = train_test_split(
            *arrays, test_size=size, random_state=seed, stratify=arrays[1] if stratify else None
        )
    except ValueError as error:  # scikit-learn's checks of the sizes against the rows and classes
        raise UserError(f"cannot split {len(arrays[0])} rows this way: {error}", param=param, value=size) from None
    return (x_rest, y_rest), (x_out, y_out)


def with_validation(
    splits: dict[str, Arrays], fraction: float, seed: int, *, stratify: bool = False, param: str = "val_fraction"
) -> dict[str, Arrays]:
    """`splits` with a seeded `fraction` of `"train"` moved to `"validation"` (unchanged when 0)."""
    if fraction <= 0:
        return splits
    train, validation = take_out(splits["train"], fraction, seed, stratify=stratify, param=param)
    return {**splits, "train": train, "validation": validation}


def split_table(
    x: np.ndarray, y: np.ndarray, *, test_size: float, val_size: float, seed: int, stratify: bool
) -> dict[str, Arrays]:
    """Seeded train/validation/test split of a table, keyed `"train"`, `"validation"` (if `val_size`),
    `"test"`.

    `val_size` is a fraction of the rows left after the test rows are taken out.
    """
    rest, test = take_out((x, y), test_size, seed, stratify=stratify, param="test_size")
    return with_validation({"train": rest, "test": test}, val_size, seed, stratify=stratify, param="val_size")

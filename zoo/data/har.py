"""UCI HAR (chapter 5): the raw inertial signals, 128 steps x 9 channels per window, 6 activities."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.data.fetch import Archive, Source, fetch, locate
from zoo.errors import CorruptData

_INNER_ZIP = "UCI HAR Dataset.zip"
_INNER_SHA256 = "2045e435c955214b38145fb5fa00776c72814f01b203fec405152dac7d5bfeb0"

# The UCI download is a zip holding `UCI HAR Dataset.zip` (and a .names file); that inner zip holds
# `UCI HAR Dataset/{train,test}/...`. Either zip, or the extracted folder, may be placed in DATA_DIR/har/.
HAR = Source(
    name="har",
    folder="har",
    files=(_INNER_ZIP,),
    archives=(
        Archive(
            "human+activity+recognition+using+smartphones.zip",
            "c00b803081a5c797cd5e4b83700a9810b38d53d9d84e01917e090e1fdbc81031",
            "https://archive.ics.uci.edu/static/public/240/human+activity+recognition+using+smartphones.zip",
        ),
    ),
    file_sha256={_INNER_ZIP: _INNER_SHA256},
    title="Human Activity Recognition Using Smartphones (UCI HAR Dataset, v1.0)",
    size="7,352 train + 2,947 test windows of 128 steps x 9 inertial signals, 6 activities; "
    f"inner `{_INNER_ZIP}` sha256 {_INNER_SHA256}",
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    citation="Anguita, Ghio, Oneto, Parra and Reyes-Ortiz (2013), A Public Domain Dataset for Human "
    "Activity Recognition Using Smartphones, ESANN 2013; doi:10.24432/C54S4K",
    homepage="https://archive.ics.uci.edu/dataset/240/human+activity+recognition+using+smartphones",
)

SIGNALS = (
    "body_acc_x",
    "body_acc_y",
    "body_acc_z",
    "body_gyro_x",
    "body_gyro_y",
    "body_gyro_z",
    "total_acc_x",
    "total_acc_y",
    "total_acc_z",
)
ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
STEPS = 128


def _files(split: str) -> tuple[str, ...]:
    return tuple(f"{split}/Inertial Signals/{s}_{split}.txt" for s in SIGNALS) + (f"{split}/y_{split}.txt",)


def _extracted() -> Source:
    """The extracted layout (or the inner zip); not module-level so `sources()` lists HAR once."""
    return Source(
        name="har", folder="har", files=_files("train") + _files("test"), archives=(Archive(_INNER_ZIP, _INNER_SHA256),)
    )


def _table(path: Path, columns: int) -> np.ndarray:
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float32).to_numpy()
    except (ValueError, pd.errors.ParserError) as error:
        raise CorruptData(f"{path}: not a whitespace-separated numeric table ({error})") from None
    if table.ndim != 2 or table.shape[1] != columns or np.isnan(table).any():
        raise CorruptData(f"{path}: expected {columns} numbers on every line, got shape {table.shape}")
    return table


def read_split(paths: dict[str, Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Windows (n, 128, 9) float32 in `SIGNALS` order and labels (n,) int32 in 0-5 (file labels 1-6)."""
    *signal_files, label_file = _files(split)
    channels = [_table(paths[f], STEPS) for f in signal_files]
    labels = _table(paths[label_file], 1)[:, 0]
    if any(len(c) != len(labels) for c in channels):
        raise CorruptData(
            f"{paths[label_file].parent}: {len(labels)} labels but signal files with "
            f"{sorted({len(c) for c in channels})} rows"
        )
    if not np.isin(labels, np.arange(1, 7)).all():
        raise CorruptData(f"{paths[label_file]}: labels must be integers 1-6")
    return np.stack(channels, axis=-1), labels.astype(np.int32) - 1


def load(data_dir: str | os.PathLike | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """UCI HAR as {"train": (x, y), "test": (x, y)}, downloading the UCI zip when nothing is there."""
    paths = locate(_extracted(), data_dir)
    if paths is None:
        fetch(HAR, data_dir)  # the outer zip, extracted: leaves the inner zip in place
        paths = locate(_extracted(), data_dir)
    if paths is None:
        raise CorruptData(f"{HAR.name}: the downloaded archive lacks the files {', '.join(_files('train'))}")
    return {split: read_split(paths, split) for split in ("train", "test")}

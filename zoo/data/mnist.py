"""MNIST for chapters 4-5: Keras' `mnist.npz`, or the original IDX files (possibly the test set only)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from zoo.data.fetch import Archive, Source, fetch, locate
from zoo.data.pipelines import ArrayInfo, Data, array_data
from zoo.data.splits import take_out, with_validation
from zoo.errors import CorruptData

MNIST = Source(
    name="mnist",
    folder="mnist",
    files=("mnist.npz",),
    archives=(
        Archive(
            "mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        ),
    ),
    file_sha256={"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
    title="MNIST handwritten digits (Keras' mnist.npz: x_train, y_train, x_test, y_test)",
    size="60,000 train + 10,000 test images, 28x28 uint8; 11,490,434 bytes",
    licence="CC BY-SA 3.0",
    citation="LeCun, Bottou, Bengio and Haffner (1998), Gradient-based learning applied to document "
    "recognition, Proc. IEEE 86(11)",
    homepage="http://yann.lecun.com/exdb/mnist/",
)

_IDX_TRAIN = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
_IDX_TEST = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

MNIST_IDX = Source(
    name="mnist_idx",
    folder="mnist",
    files=_IDX_TRAIN + _IDX_TEST,
    title="MNIST in the original IDX format (accepted instead of mnist.npz; the test pair alone also works)",
    size="4 gzip files: 9,912,422 + 28,881 + 1,648,877 + 4,542 bytes; mirror "
    "https://storage.googleapis.com/cvdf-datasets/mnist/<file>; published .gz sha256: train-images "
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609, train-labels "
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c, t10k-images "
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6, t10k-labels "
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 (the loader checks the "
    "decompressed bytes, so re-gzipped copies are accepted)",
    licence="CC BY-SA 3.0",
    citation=MNIST.citation,
    homepage=MNIST.homepage,
)

# sha256 of the *decompressed* IDX files: mirrors re-gzip them (different gzip headers, same bytes).
IDX_SHA256 = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

Split = tuple[np.ndarray, np.ndarray]  # images (n, 28, 28) uint8, labels (n,) uint8


def read_idx(path: Path) -> np.ndarray:
    """One gzipped IDX file (images: magic 2051, labels: magic 2049) as a uint8 array, fully checked."""
    try:
        raw = gzip.decompress(Path(path).read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise CorruptData(f"{path}: not a readable gzip file ({error})") from None
    expected = IDX_SHA256.get(Path(path).name)
    if expected and hashlib.sha256(raw).hexdigest() != expected:
        raise CorruptData(
            f"{path}: decompressed sha256 is {hashlib.sha256(raw).hexdigest()}, expected "
            f"{expected}; the file is corrupt or not the published MNIST file"
        )
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 8 else 0
    if magic not in (2049, 2051):
        raise CorruptData(f"{path}: not an IDX file (magic number {magic}, expected 2049 or 2051)")
    ndim = 1 if magic == 2049 else 3
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise CorruptData(f"{path}: {len(raw) - header} data bytes, the header promises shape {shape}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _checked(where: str, images: np.ndarray, labels: np.ndarray) -> Split:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise CorruptData(f"{where}: images have shape {images.shape} {images.dtype}, expected (n, 28, 28) uint8")
    if labels.shape != (images.shape[0],) or labels.size == 0 or labels.max() > 9:
        raise CorruptData(f"{where}: {labels.shape[0]} labels for {images.shape[0]} images, or labels outside 0-9")
    return images, labels.astype(np.uint8)


def read_npz(path: Path) -> dict[str, Split]:
    """Keras' `mnist.npz` as {"train": (x, y), "test": (x, y)}, fully checked."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise CorruptData(f"{path}: not Keras' mnist.npz ({error})") from None
    return {
        split: _checked(f"{path} [{split}]", arrays[f"x_{split}"], arrays[f"y_{split}"]) for split in ("train", "test")
    }


def load(data_dir: str | os.PathLike | None = None) -> dict[str, Split]:
    """MNIST as {"train": (x, y), "test": (x, y)}; without training files, only {"test": (x, y)}.

    Looks for `mnist.npz`, then the four IDX files, then the two t10k IDX files (a note is printed:
    the recipes then split the test set 8,000/2,000), else downloads `mnist.npz`.
    """
    npz = locate(MNIST, data_dir)
    if npz is not None:
        return read_npz(npz["mnist.npz"])
    idx = locate(MNIST_IDX, data_dir)
    if idx is None:
        idx = locate(dataclasses.replace(MNIST_IDX, files=_IDX_TEST), data_dir)
        if idx is not None:
            print(
                f"MNIST: only the test set ({', '.join(_IDX_TEST)}) is in "
                f"{idx[_IDX_TEST[0]].parent}; no training images",
                file=sys.stderr,
                flush=True,
            )
    if idx is None:
        return read_npz(fetch(MNIST, data_dir)["mnist.npz"])
    pairs = {"train": _IDX_TRAIN, "test": _IDX_TEST}
    return {
        split: _checked(str(idx[images]), read_idx(idx[images]), read_idx(idx[labels]))
        for split, (images, labels) in pairs.items()
        if images in idx
    }


@dataclasses.dataclass
class MnistInfo(ArrayInfo):
    """`ArrayInfo` of MNIST, and whether the training images came out of t10k (`TEST_ONLY_HOLDOUT`)."""

    test_only: bool = False


# Without MNIST's training images (e.g. ../shared/data holds only t10k), a seeded 80/20 split of the
# 10,000 test images gives 8,000 for training (validation comes out of these) and 2,000 for testing.
TEST_ONLY_HOLDOUT = 0.2


def splits(
    data_dir: str | os.PathLike | None = None, *, seed: int, val_fraction: float
) -> tuple[dict[str, Split], bool]:
    """Train/validation/test arrays of raw pixels (int32 labels), and whether train came from t10k.

    The validation split is a seeded `val_fraction` of the training images (none when 0).
    """
    arrays = {k: (x, y.astype(np.int32)) for k, (x, y) in load(data_dir).items()}
    test_only = "train" not in arrays
    if test_only:
        arrays["train"], arrays["test"] = take_out(arrays["test"], TEST_ONLY_HOLDOUT, seed)
    return with_validation(arrays, val_fraction, seed), test_only


def datasets(
    data_dir: str | os.PathLike | None = None, *, batch_size: int, seed: int, val_fraction: float
) -> Data[MnistInfo]:
    """`Data` of raw-pixel batches (float32 0-255, int32 labels) from `splits`, with a `MnistInfo`.

    `info.test_only` says whether the training images came out of t10k.
    """
    arrays, test_only = splits(data_dir, seed=seed, val_fraction=val_fraction)
    data = array_data(
        arrays, batch_size=batch_size, seed=seed, standardize=False, class_names=[str(d) for d in range(10)]
    )
    fields = {field.name: getattr(data.info, field.name) for field in dataclasses.fields(ArrayInfo)}
    return dataclasses.replace(data, info=MnistInfo(**fields, test_only=test_only))

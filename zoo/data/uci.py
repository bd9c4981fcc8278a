"""UCI tables of chapter 3: Ionosphere, Iris and Boston housing, parsed completely before use."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo.data.fetch import Archive, Source, fetch
from zoo.errors import CorruptData

_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"

IONOSPHERE = Source(
    name="ionosphere",
    folder="uci",
    files=("ionosphere.data",),
    archives=(
        Archive(
            "ionosphere.data",
            "46d52186b84e20be52918adb93e8fb9926b34795ff7504c24350ae0616a04bbd",
            f"{_UCI}/ionosphere/ionosphere.data",
        ),
    ),
    file_sha256={"ionosphere.data": "46d52186b84e20be52918adb93e8fb9926b34795ff7504c24350ae0616a04bbd"},
    title="Johns Hopkins University Ionosphere database (radar returns, good/bad)",
    size="351 rows x 34 features + class g/b; 76,467 bytes",
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    citation="Sigillito, Wing, Hutton and Baker (1989), Johns Hopkins APL Technical Digest 10; doi:10.24432/C5W01B",
    homepage="https://archive.ics.uci.edu/dataset/52/ionosphere",
)

IRIS = Source(
    name="iris",
    folder="uci",
    files=("iris.data",),
    archives=(
        Archive(
            "iris.data", "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0", f"{_UCI}/iris/iris.data"
        ),
    ),
    file_sha256={"iris.data": "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0"},
    title="Fisher's Iris data",
    size="150 rows x 4 features + class (3 species); 4,551 bytes",
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    citation="R. A. Fisher (1936), The use of multiple measurements in taxonomic problems, "
    "Annals of Eugenics 7(2); doi:10.24432/C56C76",
    homepage="https://archive.ics.uci.edu/dataset/53/iris",
)

BOSTON = Source(
    name="boston_housing",
    folder="uci",
    files=("housing.data",),
    archives=(
        Archive(
            "housing.data",
            "baadf72995725d76efe787b664e1f083388c79ba21ef9a7990d87f774184735a",
            f"{_UCI}/housing/housing.data",
        ),
    ),
    file_sha256={"housing.data": "baadf72995725d76efe787b664e1f083388c79ba21ef9a7990d87f774184735a"},
    title="Boston housing (Harrison and Rubinfeld), median home value MEDV in $1000s",
    size="506 rows x 13 features + MEDV, fixed-width; 49,082 bytes",
    licence="StatLib (free for research); note the data set's ethical problems (variable B)",
    citation="Harrison and Rubinfeld (1978), Hedonic prices and the demand for clean air, "
    "J. Environ. Economics and Management 5",
    homepage="http://lib.stat.cmu.edu/datasets/boston",
)

BOSTON_COLUMNS = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT")


def _rows(path: Path, sep: str | None, width: int) -> list[list[str]]:
    """Every non-blank line split into exactly `width` fields, or a ValueError naming the line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="ascii", errors="strict").splitlines(), 1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(sep)]
        if len(fields) != width:
            raise CorruptData(f"{path}:{number}: expected {width} fields, found {len(fields)}")
        rows.append(fields)
    if not rows:
        raise CorruptData(f"{path}: no data rows")
    return rows


def _floats(path: Path, rows: list[list[str]]) -> np.ndarray:
    try:
        return np.asarray(rows, dtype=np.float32)
    except ValueError as error:
        raise CorruptData(f"{path}: non-numeric feature ({error})") from None


def load_ionosphere(data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features (351, 34) float32 and labels (351,) int32 with good=1, bad=0."""
    path = fetch(IONOSPHERE, data_dir)["ionosphere.data"]
    rows = _rows(path, ",", 35)
    labels = [r[-1] for r in rows]
    if bad := sorted(set(labels) - {"g", "b"}):
        raise CorruptData(f"{path}: unknown class labels {bad} (expected g or b)")
    return _floats(path, [r[:-1] for r in rows]), np.asarray([lab == "g" for lab in labels], np.int32)


def load_iris(data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (150, 4) float32, labels (150,) int32 and the class names (sorted) they index."""
    path = fetch(IRIS, data_dir)["iris.data"]
    rows = _rows(path, ",", 5)
    names = sorted({r[-1] for r in rows})
    if len(names) != 3:
        raise CorruptData(f"{path}: expected 3 classes, found {names}")
    labels = np.asarray([names.index(r[-1]) for r in rows], np.int32)
    return _floats(path, [r[:-1] for r in rows]), labels, names


def load_boston(data_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features (506, 13) float32 (columns `BOSTON_COLUMNS`) and MEDV (506,) float32."""
    path = fetch(BOSTON, data_dir)["housing.data"]
    table = _floats(path, _rows(path, None, 14))
    return table[:, :-1], table[:, -1]

"""Pang & Lee sentence polarity v1.0 (rt-polarity) for chapters 7 and 9: the book's split and Kim's CV folds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from zoo.data.fetch import Source, locate
from zoo.errors import CorruptData, DataNotFound, UserError

DOWNLOAD_URL = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"

# No published sha256 of rt-polaritydata.tar.gz could be found, so the archive is not downloaded
# automatically; the two extracted files are verified against the checksums of the 2005 release.
RT_POLARITY = Source(
    name="rt_polarity",
    folder="rt-polarity",
    files=("rt-polarity.pos", "rt-polarity.neg"),
    file_sha256={
        "rt-polarity.pos": "d79ef14009bbf87cd6be21f91c3ea1a3cbcb73b34dfb4231aef7bbcd7677abc4",
        "rt-polarity.neg": "4af43bf489620b498a0852c5a8c6a535155dec7985fdfea782b8f7756b957ccc",
    },
    title="Sentence polarity dataset v1.0 (Pang & Lee, rt-polarity / MR)",
    size="5,331 positive + 5,331 negative snippets, 1.2 MB (Windows-1252)",
    licence="free for research use",
    citation="Bo Pang and Lillian Lee. Seeing stars: Exploiting class relationships for sentiment "
    "categorization with respect to rating scales. ACL 2005.",
    homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
)

BOOK_SPLIT_SEED = 10
BOOK_DEV_SIZE = 1000


def read_lines(path: Path) -> list[str]:
    """The snippets of one file, decoded as Windows-1252 like the original release; ValueError if malformed."""
    try:
        text = Path(path).read_bytes().decode("cp1252")
    except UnicodeDecodeError as error:
        raise CorruptData(f"{path}: not a Windows-1252 text file ({error})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise CorruptData(f"{path}: line {number} is empty; expected one snippet per line")
    if not lines:
        raise CorruptData(f"{path}: no snippets")
    return [line.strip() for line in lines]


def load(data_dir: str | os.PathLike | None = None) -> tuple[list[str], np.ndarray]:
    """All snippets (positives first, then negatives) and their labels (1 = positive)."""
    paths = locate(RT_POLARITY, data_dir)
    if paths is None:
        raise DataNotFound(
            f"rt-polarity not found under {data_dir}/{RT_POLARITY.folder}: download {DOWNLOAD_URL}, "
            f"extract it and put rt-polarity.pos and rt-polarity.neg in that folder"
        )
    pos = read_lines(paths["rt-polarity.pos"])
    neg = read_lines(paths["rt-polarity.neg"])
    return pos + neg, np.array([1] * len(pos) + [0] * len(neg), dtype="int32")


def book_split(n: int, dev_size: int = BOOK_DEV_SIZE, seed: int = BOOK_SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Train and dev indices of the book: a seed-10 permutation, the last 1,000 examples as dev."""
    if not 0 < dev_size < n:
        raise UserError(f"dev size {dev_size} must be between 1 and {n - 1}")
    order = np.random.RandomState(seed).permutation(n)
    return order[:-dev_size], order[-dev_size:]


def cv_split(labels: np.ndarray, folds: int, fold: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices of fold `fold` of a stratified `folds`-fold cross-validation (Kim 2014).

    `folds >= 2` and `0 <= fold < folds` (the recipes check a user's values before any work).
    """
    if folds < 2 or not 0 <= fold < folds:
        raise ValueError(f"need folds >= 2 and 0 <= fold < folds, got folds={folds}, fold={fold}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))[fold]

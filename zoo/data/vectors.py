"""Pre-trained word vectors from word2vec/GloVe text files, aligned to a vocabulary (chapter 7 TextCNN, chapter 6
export)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.errors import CorruptData, DataNotFound


@dataclasses.dataclass(frozen=True)
class VectorCoverage:
    """How much of a vocabulary a pre-trained vectors file covers.

    Attributes:
        file: the vectors file.
        dim: its vector size.
        vocabulary: words of the vocabulary (padding and `[UNK]` excluded).
        found: how many of them have a vector (exact or lower-cased match).
        coverage: `found / vocabulary`.
        missing_examples: up to 20 words without a vector, in vocabulary order.
    """

    file: str
    dim: int
    vocabulary: int
    found: int
    coverage: float
    missing_examples: tuple[str, ...]


def _numbered_lines(f, path: Path):
    """`enumerate(f, 1)` that names the file and line when the bytes are not UTF-8 text (e.g. a binary .bin)."""
    number = 0
    try:
        for number, line in enumerate(f, 1):
            yield number, line
    except UnicodeDecodeError as error:
        raise CorruptData(
            f"not UTF-8 text after line {number} ({error.reason}); expected the word2vec/GloVe text "
            f"format, not a binary file",
            param="vectors",
            value=path,
        ) from None


def load_word_vectors(
    path: str | os.PathLike, vocabulary: Sequence[str], seed: int = 0, scale: float = 0.25
) -> tuple[np.ndarray, VectorCoverage]:
    """An embedding matrix for `vocabulary` (row i = word i) and a coverage report.

    Reads word2vec text format (optional `count dim` header) or GloVe (no header), one
    `word v1 ... vd` per line. Words absent from the file get U(-scale, scale) vectors as in
    Kim (2014); the padding token `""` gets zeros. A word is matched exactly, else lower-cased.
    The whole file is parsed and checked before anything is returned.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFound("no such file", param="vectors", value=path)
    wanted = {word: i for i, word in enumerate(vocabulary)}
    found: dict[int, np.ndarray] = {}
    lowered: dict[int, np.ndarray] = {}
    dim = None
    with open(path, encoding="utf-8", errors="strict") as f:
        for number, line in _numbered_lines(f, path):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec header: count dim
                continue
            if len(parts) < 2:
                raise CorruptData(f"{path}: line {number} is not `word v1 ... vd`")
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise CorruptData(f"{path}: line {number} has {len(parts) - 1} values, expected {dim}")
            word = parts[0]
            exact, lower = wanted.get(word), wanted.get(word.lower())
            if exact is None and (lower is None or lower in lowered):
                continue
            try:
                vector = np.asarray(parts[1:], dtype="float32")
            except ValueError:
                raise CorruptData(f"{path}: line {number} has a non-numeric value") from None
            if exact is not None:
                found.setdefault(exact, vector)
            else:
                lowered[lower] = vector
    if dim is None:
        raise CorruptData(f"{path}: no vectors")
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-scale, scale, (len(vocabulary), dim)).astype("float32")
    hits = {**lowered, **found}
    for i, vector in hits.items():
        matrix[i] = vector
    if "" in wanted:
        matrix[wanted[""]] = 0.0
    words = [w for w in vocabulary if w not in ("", "[UNK]")]
    covered = sum(1 for w in words if wanted[w] in hits)
    missing = [w for w in words if wanted[w] not in hits]
    report = VectorCoverage(
        file=str(path),
        dim=dim,
        vocabulary=len(words),
        found=covered,
        coverage=covered / max(len(words), 1),
        missing_examples=tuple(missing[:20]),
    )
    return matrix, report

"""Pre-trained word vectors from word2vec/GloVe text files, aligned to a vocabulary (chapter 7 TextCNN, chapter 6
export, chapter 14's averaged-vectors baseline)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
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


def _numbered_lines(f, path: Path, param: str):
    """`enumerate(f, 1)` that names the file and line when the bytes are not UTF-8 text (e.g. a binary .bin)."""
    number = 0
    try:
        for number, line in enumerate(f, 1):
            yield number, line
    except UnicodeDecodeError as error:
        raise CorruptData(
            f"not UTF-8 text after line {number} ({error.reason}); expected the word2vec/GloVe text "
            f"format, not a binary file",
            param=param,
            value=path,
        ) from None


def read_word_vectors(path: str | os.PathLike, param: str = "vectors") -> Iterator[tuple[int, str, list[str]]]:
    """`(line number, word, values as text)` of each vector of a word2vec or GloVe text file, lazily.

    word2vec's text format starts with a `count dim` header, GloVe's has none; every line is
    `word v1 ... vd`, all with the same `d`. Lines of the wrong shape raise `CorruptData` naming
    `param` (the argument that gave the file); the values are left as text, for `parse_vector`, so
    a reader skipping most words does not pay for converting them.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFound("no such file", param=param, value=path)
    dim = None
    with open(path, encoding="utf-8", errors="strict") as f:
        for number, line in _numbered_lines(f, path, param):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])  # word2vec header: count dim
                continue
            if len(parts) < 2:
                raise CorruptData(f"line {number} is not `word v1 ... vd`", param=param, value=path)
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise CorruptData(f"line {number} has {len(parts) - 1} values, expected {dim}", param=param, value=path)
            yield number, parts[0], parts[1:]


def parse_vector(values: list[str], number: int, path: str | os.PathLike, param: str = "vectors") -> np.ndarray:
    """The float32 vector of line `number`'s `values` (from `read_word_vectors`)."""
    try:
        return np.asarray(values, dtype="float32")
    except ValueError:
        raise CorruptData(f"line {number} has a non-numeric value", param=param, value=path) from None


def check_word_vectors(path: str | os.PathLike, param: str = "vectors") -> int:
    """The vector size of a word2vec/GloVe text file, read from its header and first vector only.

    A cheap look before a long run that will load the file after training: a missing file, a binary
    one, a malformed header or first line is refused here (`UserError` naming `param`).
    """
    with contextlib.closing(read_word_vectors(path, param)) as lines:
        for number, _, values in lines:
            return len(parse_vector(values, number, path, param))
    raise CorruptData("no vectors", param=param, value=path)


def load_word_vectors(
    path: str | os.PathLike, vocabulary: Sequence[str], seed: int = 0, scale: float = 0.25, param: str = "vectors"
) -> tuple[np.ndarray, VectorCoverage]:
    """An embedding matrix for `vocabulary` (row i = word i) and a coverage report.

    Reads word2vec text format (optional `count dim` header) or GloVe (no header), one
    `word v1 ... vd` per line (`read_word_vectors`). Words absent from the file get U(-scale, scale)
    vectors as in Kim (2014); the padding token `""` gets zeros. A word is matched exactly, else
    lower-cased. The whole file is parsed and checked before anything is returned; errors name
    `param`, the argument that gave the file.
    """
    path = Path(path)
    wanted = {word: i for i, word in enumerate(vocabulary)}
    found: dict[int, np.ndarray] = {}
    lowered: dict[int, np.ndarray] = {}
    dim = None
    for number, word, values in read_word_vectors(path, param):
        dim = len(values)
        exact, lower = wanted.get(word), wanted.get(word.lower())
        if exact is None and (lower is None or lower in lowered):
            continue
        vector = parse_vector(values, number, path, param)
        if exact is not None:
            found.setdefault(exact, vector)
        else:
            lowered[lower] = vector
    if dim is None:
        raise CorruptData("no vectors", param=param, value=path)
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

"""PAN 2013 author profiling (age group / gender from a person's texts) in the JSON-lines layout of the book.

The book's chapter 11 example (the author's `author-profile.py`) reads `data/author-profile.json`:
one author per line, a JSON object with the author's text and labels::

    {"conversation": "all of this author's posts ...", "gender": "female", "age_group": "20s"}

`conversation` may also be a list of strings (one per post); they are joined with newlines. Other
fields are ignored. PAN 2013's age groups are `10s`, `20s` and `30s`; gender is `male` / `female`.

The corpus is not redistributable: request it from the PAN organisers (the PAN 2013 author-profiling
page below), convert it to this layout (one line per author) and place it at
`DATA_DIR/pan13/author-profile.json`, or pass any path as the recipe's `corpus`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.data.fetch import Source, default_data_dir, locate
from zoo.errors import CorruptData, DataNotFound, UserError

TARGETS = ("age_group", "gender")
TEXT_FIELD = "conversation"
HOMEPAGE = "https://pan.webis.de/clef13/pan13-web/author-profiling.html"

PAN13_PROFILING = Source(
    name="pan13_profiling",
    folder="pan13",
    files=("author-profile.json",),
    title="PAN 2013 author profiling (age group and gender), the book's JSON-lines layout",
    size="one JSON object per author: conversation, gender, age_group",
    licence="not redistributable: request it from the PAN organisers, convert it to one JSON line per author",
    citation="Rangel, Rosso, Koppel, Stamatatos, Inches. Overview of the Author Profiling Task at PAN 2013. "
    "CLEF 2013 Evaluation Labs and Workshop, Working Notes.",
    homepage=HOMEPAGE,
)

BOOK_SPLIT_SEED = 10
BOOK_DEV_SIZE = 1000


def _text(value, path: Path, number: int) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "\n".join(value)
    else:
        raise CorruptData(
            f"{path}: line {number}: {TEXT_FIELD!r} must be a string or a list of strings, got {type(value).__name__}"
        )
    if not text.strip():
        raise CorruptData(f"{path}: line {number}: {TEXT_FIELD!r} is empty")
    return text


def read_jsonl(path: str | os.PathLike, target: str = "age_group") -> tuple[list[str], list[str]]:
    """Texts and `target` labels (strings) of every author in a JSON-lines file; blank lines are skipped.

    Raises:
        DataNotFound: `path` does not exist (or is a folder).
        CorruptData: not UTF-8, a line that is not a JSON object, a missing or mistyped field, an
            empty file. The message names the file and the line.
        UserError: `target` is not one of `age_group`, `gender`.
    """
    if target not in TARGETS:
        raise UserError(f"expected one of {', '.join(TARGETS)}", param="target", value=target)
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFound(
            f"{path}: no such file (expected the PAN 2013 profiling corpus as JSON lines; see {HOMEPAGE})"
        )
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise CorruptData(f"{path}: not a UTF-8 text file ({error})") from None
    texts, labels = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorruptData(
                f"{path}: line {number} is not valid JSON ({error.msg} at column {error.colno})"
            ) from None
        if not isinstance(record, dict):
            raise CorruptData(
                f"{path}: line {number} is a JSON {type(record).__name__}, expected an object "
                f"with {TEXT_FIELD!r} and {target!r}"
            )
        missing = [key for key in (TEXT_FIELD, target) if key not in record]
        if missing:
            raise CorruptData(
                f"{path}: line {number} has no {' or '.join(map(repr, missing))} field "
                f"(it has {', '.join(map(repr, record)) or 'none'})"
            )
        label = record[target]
        if not isinstance(label, str) or not label.strip():
            raise CorruptData(f"{path}: line {number}: {target!r} must be a non-empty string, got {label!r}")
        texts.append(_text(record[TEXT_FIELD], path, number))
        labels.append(label.strip())
    if not texts:
        raise CorruptData(f"{path}: no authors (the file is empty)")
    if len(set(labels)) < 2:
        raise CorruptData(f"{path}: every author has {target} {labels[0]!r}; a classifier needs two classes or more")
    return texts, labels


def load(
    data_dir: str | os.PathLike | None = None, path: str | os.PathLike = "", target: str = "age_group"
) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, integer labels and class names (sorted) of the corpus.

    Args:
        data_dir: the data directory holding `pan13/author-profile.json` (used when `path` is empty).
        path: an explicit JSON-lines file (the recipe's `corpus` hyper-parameter).
        target: `age_group` (the book's and Lin et al.'s task) or `gender`.

    Example:
        >>> texts, labels, names = load(path="author-profile.json")  # doctest: +SKIP
        >>> names
        ['10s', '20s', '30s']
    """
    if not path:
        found = locate(PAN13_PROFILING, data_dir)
        if found is None:
            folder = Path(data_dir or default_data_dir()) / PAN13_PROFILING.folder
            raise DataNotFound(
                f"PAN 2013 profiling corpus not found at {folder}/"
                f"author-profile.json; it is not redistributable: request it via {HOMEPAGE}, convert it to "
                f'one JSON line per author ({{"conversation": ..., "age_group": ...}}) and put it there, '
                f"or give its path as corpus",
                param="corpus",
            )
        path = found["author-profile.json"]
    texts, names = read_jsonl(path, target)
    classes = sorted(set(names))
    index = {name: i for i, name in enumerate(classes)}
    return texts, np.array([index[name] for name in names], "int32"), classes


def book_split(n: int, dev_size: int = BOOK_DEV_SIZE, seed: int = BOOK_SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Train and dev indices as in the author's code: a seed-10 permutation, the last `dev_size` as dev."""
    if not 0 < dev_size < n:
        raise UserError(
            f"the dev size must be between 1 and {n - 1} (the corpus has {n} authors)", param="dev_size", value=dev_size
        )
    order = np.random.RandomState(seed).permutation(n)
    return order[:-dev_size], order[-dev_size:]


def write_jsonl(
    path: str | os.PathLike, texts: Sequence[str], age_groups: Sequence[str], genders: Sequence[str] | None = None
) -> Path:
    """Write authors in the book's layout (for converting the PAN XML release, and for tests)."""
    path = Path(path)
    genders = genders if genders is not None else ["unknown"] * len(texts)
    with open(path, "w", encoding="utf-8") as f:
        for text, age, gender in zip(texts, age_groups, genders, strict=True):
            f.write(json.dumps({TEXT_FIELD: text, "gender": gender, "age_group": age}, ensure_ascii=False) + "\n")
    return path

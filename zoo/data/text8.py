"""text8 (Mahoney): the first 10^8 bytes of cleaned English Wikipedia, lower-case a-z and spaces; chapter 6's corpus."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from zoo.data.fetch import Archive, Source, fetch
from zoo.errors import CorruptData, DataNotFound

TEXT8 = Source(
    name="text8",
    folder="text8",
    files=("text8",),
    archives=(
        Archive(
            "text8.zip",
            "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232",
            "http://mattmahoney.net/dc/text8.zip",
        ),
    ),
    title="text8 (first 10^8 characters of an English Wikipedia dump, cleaned by Matt Mahoney)",
    size="17,005,207 words, one line; 31 MB zip, 100 MB text",
    licence="Wikipedia text: CC BY-SA (GFDL at the time of the dump)",
    citation="Matt Mahoney. Large Text Compression Benchmark, About the Test Data (2006).",
    homepage="https://mattmahoney.net/dc/textdata.html",
)

_BLOCK = 1 << 22
_TEXT8 = re.compile(rb"[a-z ]*")


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        yield from iter(lambda: f.read(_BLOCK), b"")


def read_documents(path: str | os.PathLike, words_per_document: int = 10_000) -> Iterator[list[str]]:
    """The file checked whole (only `a-z` and spaces, at least one word), then yielded as lists of words.

    Like gensim's `Text8Corpus`, the single line is cut into documents of `words_per_document` words,
    which only stops windows from spanning a cut.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFound(f"{path}: no such text8 file")
    found = False
    for number, block in enumerate(_blocks(path)):
        if not _TEXT8.fullmatch(block):
            bad = re.search(rb"[^a-z ]", block).start() + number * _BLOCK
            raise CorruptData(f"{path}: byte {bad} is not a-z or space; not the text8 format")
        found = found or bool(block.strip())
    if not found:
        raise CorruptData(f"{path}: no words")

    def documents():
        words: list[str] = []
        tail = b""
        for block in _blocks(path):
            parts = (tail + block).split(b" ")
            tail = parts.pop()
            words.extend(p.decode("ascii") for p in parts if p)
            while len(words) >= words_per_document:
                yield words[:words_per_document]
                words = words[words_per_document:]
        if tail:
            words.append(tail.decode("ascii"))
        if words:
            yield words

    return documents()


def load(data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the `text8` file under `DATA_DIR/text8/` (extracted from, or downloading, `text8.zip`)."""
    return fetch(TEXT8, data_dir)["text8"]

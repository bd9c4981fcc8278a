"""Any plain-text corpus for chapter 6 word vectors: a text file, a folder of files, or a tar/zip archive of them."""

from __future__ import annotations

import fnmatch
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from zoo.errors import CorruptData, DataNotFound

_TAG = re.compile(r"<[^>]{0,40}>")  # HTML such as IMDB's <br />
_WORD = re.compile(r"\w+(?:'\w+)*")
_LETTER = re.compile(r"[^\W\d_]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (letters, digits, inner apostrophes), HTML tags removed."""
    return _WORD.findall(_TAG.sub(" ", text.lower()))


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorruptData(f"{name}: not UTF-8 ({error})") from None


def read_texts(path: str | os.PathLike, pattern: str = "*.txt") -> tuple[list[str], str]:
    """Raw texts and what they are (`"lines"` or `"files"`), every file read and decoded before returning.

    A single text file gives one text per non-empty line; a folder, `.tar(.gz)` or `.zip` gives one
    text per member file whose path matches `pattern` (fnmatch, `*` crosses folders), e.g.
    `aclImdb/*/*/*.txt` for the IMDB reviews only; files without a single letter are skipped.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFound("no such file or folder", param="corpus", value=path)
    texts: list[str] = []
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path).as_posix()
            if fnmatch.fnmatch(rel, pattern):
                texts.append(_decode(file.read_bytes(), str(file)))
        kind = "files"
    elif zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                for name in sorted(archive.namelist()):
                    if not name.endswith("/") and fnmatch.fnmatch(name, pattern):
                        texts.append(_decode(archive.read(name), f"{path}:{name}"))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise CorruptData(f"{path}: not a readable zip archive ({error})") from None
        kind = "files"
    elif tarfile.is_tarfile(path) or path.name.lower().endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        try:
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    if member.isfile() and fnmatch.fnmatch(member.name, pattern):
                        texts.append(_decode(archive.extractfile(member).read(), f"{path}:{member.name}"))
        except (tarfile.TarError, EOFError, OSError) as error:
            raise CorruptData(f"{path}: not a readable tar archive ({error})") from None
        kind = "files"
    else:
        texts = [line for line in _decode(path.read_bytes(), str(path)).splitlines() if line.strip()]
        kind = "lines"
    if kind == "files":  # number tables such as aclImdb/imdbEr.txt are not text
        texts = [t for t in texts if _LETTER.search(t)]
    if not texts:
        raise CorruptData(
            f"{path}: no text found (files matching {pattern!r} in a folder or archive, "
            f"or non-empty lines in a text file)"
        )
    return texts, kind


def documents(texts: list[str]) -> Iterator[list[str]]:
    """Tokenised texts (windows never cross from one text to the next), empty ones skipped."""
    for text in texts:
        tokens = tokenize(text)
        if tokens:
            yield tokens

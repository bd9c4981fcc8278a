"""Reuters-21578 R8 (Cardoso-Cachopo's `label<TAB>text` files, stop words removed) for chapter 7."""

from __future__ import annotations

import os
from pathlib import Path

from zoo.data.fetch import Archive, Source, fetch
from zoo.errors import CorruptData

_BASE = "http://www.cs.umb.edu/~smimarog/textmining/datasets/"
_COMMON = dict(
    folder="r8",
    licence="Reuters-21578 research terms (free for research use)",
    citation="Ana Cardoso-Cachopo. Improving Methods for Single-label Text Categorization. PhD thesis, "
    "Instituto Superior Tecnico, 2007.",
    homepage="https://ana.cachopo.org/datasets-for-single-label-text-categorization",
)
_TRAIN_SHA = "5594f9675e971051270149601355b681af9e76373e91dc4b8394c61adcbbcee3"
_TEST_SHA = "56ed6ca479d9a53cf0786a27f17f467a3f2c482d222ab4637c3f6001ffc560d7"

# Two published files, so two sources: `fetch` downloads one archive per source.
R8_TRAIN = Source(
    name="r8_train",
    files=("r8-train-no-stop.txt",),
    archives=(Archive("r8-train-no-stop.txt", _TRAIN_SHA, _BASE + "r8-train-no-stop.txt"),),
    file_sha256={"r8-train-no-stop.txt": _TRAIN_SHA},
    title="Reuters-21578 R8, training part (no stop words)",
    size="5,485 documents, 8 classes, 2.5 MB",
    **_COMMON,
)
R8_TEST = Source(
    name="r8_test",
    files=("r8-test-no-stop.txt",),
    archives=(Archive("r8-test-no-stop.txt", _TEST_SHA, _BASE + "r8-test-no-stop.txt"),),
    file_sha256={"r8-test-no-stop.txt": _TEST_SHA},
    title="Reuters-21578 R8, test part (no stop words)",
    size="2,189 documents, 8 classes, 0.9 MB",
    **_COMMON,
)


def read_file(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels of one `label<TAB>text` file; ValueError naming the file and line if malformed."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            label, sep, text = line.partition("\t")
            if not sep or not label.strip() or "\t" in text or not text.strip():
                raise CorruptData(f"{path}: line {number} is not `label<TAB>text`: {line[:80]!r}")
            labels.append(label.strip())
            texts.append(text.strip())
    if not texts:
        raise CorruptData(f"{path}: no documents")
    return texts, labels


def load(data_dir: str | os.PathLike | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """`{"train": (texts, labels), "test": (texts, labels)}` with string labels."""
    train = fetch(R8_TRAIN, data_dir)["r8-train-no-stop.txt"]
    test = fetch(R8_TEST, data_dir)["r8-test-no-stop.txt"]
    return {"train": read_file(train), "test": read_file(test)}

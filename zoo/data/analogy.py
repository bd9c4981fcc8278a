"""Google analogy test set (questions-words.txt from the word2vec release) for chapter 6's 3CosAdd evaluation."""

from __future__ import annotations

import os
from pathlib import Path

from zoo.data.fetch import Archive, Source, fetch
from zoo.errors import CorruptData

QUESTIONS_WORDS = Source(
    name="questions_words",
    folder="word2vec",
    files=("questions-words.txt",),
    archives=(
        Archive(
            "questions-words.txt",
            "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            "https://raw.githubusercontent.com/tmikolov/word2vec/master/questions-words.txt",
        ),
    ),
    title="Google word analogy test set (questions-words.txt)",
    size="19,544 questions in 14 sections (5 semantic, 9 syntactic), 604 kB",
    licence="Apache-2.0",
    citation="Tomas Mikolov et al. Efficient Estimation of Word Representations in Vector Space. ICLR 2013 workshop.",
    homepage="https://code.google.com/archive/p/word2vec/",
)


def read_questions(path: str | os.PathLike) -> dict[str, list[tuple[str, str, str, str]]]:
    """`{section: [(a, b, c, d), ...]}` in file order ("a is to b as c is to d"); malformed lines raise ValueError."""
    path = Path(path)
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(":"):
                current = line[1:].strip()
                if not current or current in sections:
                    raise CorruptData(f"{path}: line {number}: empty or repeated section {current!r}")
                sections[current] = []
                continue
            words = line.split()
            if current is None or len(words) != 4:
                raise CorruptData(f"{path}: line {number} is not `a b c d` inside a `: section`")
            sections[current].append(tuple(words))
    if not sections or not any(sections.values()):
        raise CorruptData(f"{path}: no analogy questions")
    return sections


def load(data_dir: str | os.PathLike | None = None) -> dict[str, list[tuple[str, str, str, str]]]:
    """The questions of `DATA_DIR/word2vec/questions-words.txt` (downloaded and checked if absent)."""
    return read_questions(fetch(QUESTIONS_WORDS, data_dir)["questions-words.txt"])

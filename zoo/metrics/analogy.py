"""Chapter 6 word-analogy accuracy (3CosAdd, Mikolov et al. 2013): per section, semantic/syntactic and total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def analogy_accuracy(
    vocabulary: Sequence[str],
    matrix: np.ndarray,
    sections: Mapping[str, Sequence[tuple[str, str, str, str]]],
    *,
    restrict: int | None = None,
    lowercase: bool = True,
    skip_first: bool = True,
    batch: int = 512,
) -> dict:
    """Answer "a : b :: c : ?" with argmax_d cos(d, b - a + c) over unit vectors, excluding a, b and c.

    Questions with a word outside the first `restrict` rows of the vocabulary (out of vocabulary) are
    skipped and counted in `oov`; accuracy is over the answered questions. `skip_first` drops row 0
    (`[UNK]`) from the candidates. Sections named `gram*` are syntactic, the others semantic.
    Returns `{"accuracy", "answered", "oov", "semantic", "syntactic", "sections": {name: {...}}}`.
    """
    rows = len(vocabulary) if restrict is None else min(restrict + int(skip_first), len(vocabulary))
    index = {(w.lower() if lowercase else w): i for i, w in enumerate(vocabulary[:rows])}
    if skip_first:
        index.pop(vocabulary[0].lower() if lowercase else vocabulary[0], None)
    unit = np.asarray(matrix[:rows], "float32")
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    per_section, totals = {}, {"semantic": [0, 0], "syntactic": [0, 0]}
    for name, questions in sections.items():
        ids = [[index.get(w.lower() if lowercase else w) for w in q] for q in questions]
        known = np.array([q for q in ids if None not in q], "int64").reshape(-1, 4)
        correct = 0
        for start in range(0, len(known), batch):
            a, b, c, d = known[start : start + batch].T
            scores = (unit[b] - unit[a] + unit[c]) @ unit.T
            rows_ = np.arange(len(a))
            scores[rows_, a] = scores[rows_, b] = scores[rows_, c] = -np.inf
            if skip_first:
                scores[:, 0] = -np.inf
            correct += int((scores.argmax(axis=1) == d).sum())
        answered = len(known)
        per_section[name] = {
            "accuracy": correct / answered if answered else 0.0,
            "answered": answered,
            "correct": correct,
            "oov": len(questions) - answered,
        }
        kind = "syntactic" if name.startswith("gram") else "semantic"
        totals[kind][0] += correct
        totals[kind][1] += answered
    correct = sum(v["correct"] for v in per_section.values())
    answered = sum(v["answered"] for v in per_section.values())
    return {
        "accuracy": correct / answered if answered else 0.0,
        "answered": answered,
        "oov": sum(v["oov"] for v in per_section.values()),
        "semantic": totals["semantic"][0] / totals["semantic"][1] if totals["semantic"][1] else 0.0,
        "syntactic": totals["syntactic"][0] / totals["syntactic"][1] if totals["syntactic"][1] else 0.0,
        "sections": per_section,
    }

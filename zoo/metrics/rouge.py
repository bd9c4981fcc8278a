"""ROUGE-1, ROUGE-2 and ROUGE-L (longest common subsequence) F1 through Google's `rouge-score`, the reference
re-implementation of ROUGE-1.5.5 that summarisation and title-generation papers report.

`keras_hub.metrics.RougeL` wraps the same package as a streaming Keras metric on tensors; a report over
a list of decoded strings needs neither, and that metric cannot take a tokenizer, which Chinese needs:
`rouge-score`'s default tokenizer keeps only `[a-z0-9]` and would score any Chinese output 0. Chinese
(and Japanese) text is therefore scored character by character, as `rouge-chinese` and the LCSTS
papers do; other languages with the default tokenizer and Porter stemming, as ROUGE-1.5.5 with `-m`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rouge_score import rouge_scorer, tokenizers

from zoo.metrics.bleu import bleu_tokenizer

# one token per letter outside ASCII (a CJK character), whole runs of ASCII letters and digits
_CHARACTERS = re.compile(r"[^\W\d_a-z]|[a-z0-9]+")


class CharacterTokenizer(tokenizers.Tokenizer):
    """Every CJK character a token, ASCII words and numbers whole, punctuation dropped, lower-cased."""

    def tokenize(self, text: str) -> list[str]:
        return _CHARACTERS.findall(text.lower())


def rouge_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    *,
    language: str = "en",
    kinds: Sequence[str] = ("rouge1", "rouge2", "rougeL"),
) -> dict[str, float]:
    """Mean sentence-level ROUGE F1 (0-100) of `hypotheses` against one reference each, per kind.

    Args:
        hypotheses: decoded strings.
        references: one reference string per hypothesis.
        language: the target language code; `"zh"`/`"cmn"`/`"ja"`/`"jpn"` score characters.
        kinds: `rouge-score`'s names: `"rouge1"`, `"rouge2"` (n-gram overlap), `"rougeL"` (LCS).

    Example:

    >>> {k: round(v, 1) for k, v in rouge_scores(["the cat on the mat"], ["the cat sat on the mat"]).items()}
    {'rouge1': 90.9, 'rouge2': 66.7, 'rougeL': 90.9}
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"rouge: {len(hypotheses)} hypotheses but {len(references)} references")
    if len(hypotheses) == 0:
        raise ValueError("rouge needs at least one hypothesis")
    if bleu_tokenizer(language) == "zh":
        scorer = rouge_scorer.RougeScorer(list(kinds), tokenizer=CharacterTokenizer())
    else:
        scorer = rouge_scorer.RougeScorer(list(kinds), use_stemmer=True)
    scores = [scorer.score(ref, hyp) for hyp, ref in zip(hypotheses, references)]
    return {kind: 100.0 * sum(s[kind].fmeasure for s in scores) / len(scores) for kind in kinds}


def rouge_l(hypotheses: Sequence[str], references: Sequence[str], *, language: str = "en") -> float:
    """Mean sentence-level ROUGE-L F1 (0-100) of `hypotheses` against one reference each (`rouge_scores`).

    Example:

    >>> round(rouge_l(["the cat on the mat"], ["the cat sat on the mat"]), 1)  # LCS 5: P 1, R 5/6
    90.9
    """
    return rouge_scores(hypotheses, references, language=language, kinds=("rougeL",))["rougeL"]

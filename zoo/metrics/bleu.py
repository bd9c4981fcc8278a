"""Corpus BLEU and chrF through sacrebleu (chapters 10-11), the numbers MT papers report.

`keras_hub.metrics.Bleu` is not used: it runs eagerly only, and its tokenisation, smoothing and
handling of several references differ from sacrebleu, so its scores are not comparable with
published ones. Chinese (or Japanese) output is scored with sacrebleu's `zh` tokeniser, which splits
CJK characters; everything else with its default `13a` tokeniser.
"""

from __future__ import annotations

from collections.abc import Sequence

import sacrebleu


def bleu_tokenizer(language: str) -> str:
    """sacrebleu tokeniser name for a target language code (`"zh"` for Chinese, else `"13a"`)."""
    return "zh" if language in ("zh", "cmn", "ja", "jpn") else "13a"


def _references(references) -> list[list[str]]:
    """sacrebleu wants one list per reference *set*; accept one reference string per hypothesis too."""
    references = list(references)
    if references and isinstance(references[0], str):
        return [references]
    return [list(r) for r in zip(*references)]  # per-hypothesis lists -> per-set lists


def corpus_bleu(hypotheses: Sequence[str], references, *, language: str = "en") -> float:
    """Corpus BLEU (0-100) of `hypotheses` against one reference string per hypothesis, or a list of
    references per hypothesis (all the same length).

    Example:

    >>> round(corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]), 1)
    100.0
    """
    if len(hypotheses) == 0:
        raise ValueError("corpus_bleu needs at least one hypothesis")
    return float(
        sacrebleu.corpus_bleu(list(hypotheses), _references(references), tokenize=bleu_tokenizer(language)).score
    )


def corpus_chrf(hypotheses: Sequence[str], references) -> float:
    """Corpus chrF (0-100, character 6-grams, beta 2): no tokeniser needed, so it suits Chinese as is."""
    if len(hypotheses) == 0:
        raise ValueError("corpus_chrf needs at least one hypothesis")
    return float(sacrebleu.corpus_chrf(list(hypotheses), _references(references)).score)


def scores(
    hypotheses: Sequence[str], references, *, language: str = "en", prefix: str = "", lowercase: bool = False
) -> dict[str, float]:
    """`{prefix + "bleu": ..., prefix + "chrf": ...}` for metrics.json.

    `lowercase=True` scores case-insensitively (sacrebleu's `-lc`), for outputs of a tokeniser that
    lower-cases: against cased references they would lose every capital letter's n-grams.

    >>> round(scores(["the cat sat ."], ["The cat sat."], lowercase=True)["bleu"], 1)
    100.0
    """
    if lowercase:
        hypotheses = [h.lower() for h in hypotheses]
        references = [r.lower() if isinstance(r, str) else [x.lower() for x in r] for r in references]
    return {
        f"{prefix}bleu": corpus_bleu(hypotheses, references, language=language),
        f"{prefix}chrf": corpus_chrf(hypotheses, references),
    }

"""SQuAD exact match and F1 (chapter 12) with the official normalisation of `evaluate-v2.0.py`.

Answers are lower-cased, stripped of punctuation and of the articles a/an/the, and white space is
collapsed. For v1.1 every question has answers and the scores equal `evaluate-v1.1.py`; for v2.0 an
unanswerable question counts as right only for an empty prediction, `HasAns_*`/`NoAns_*` split
the scores, and `best_*` find the null-odds threshold that maximises each score.
"""

from __future__ import annotations

import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the official `normalize_answer`)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> int:
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 after normalisation; both empty is 1, one empty is 0."""
    pred, true = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not true:
        return float(pred == true)
    common = sum((collections.Counter(pred) & collections.Counter(true)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(true)
    return 2 * precision * recall / (precision + recall)


def _gold(answers: list[str]) -> list[str]:
    return [a for a in answers if normalize_answer(a)] or [""]


def raw_scores(gold: dict[str, list[str]], predictions: dict[str, str]) -> tuple[dict, dict]:
    """Per-question best EM and F1 over the gold answers (questions without a prediction score 0)."""
    em, f = {}, {}
    for qid, answers in gold.items():
        pred = predictions.get(qid, "")
        em[qid] = max(exact_match(pred, a) for a in _gold(answers))
        f[qid] = max(f1(pred, a) for a in _gold(answers))
    return em, f


def _best_threshold(preds: dict, scores: dict, null_odds: dict, has_answer: dict) -> tuple[float, float]:
    """The official `find_best_thresh`: sweep the null odds in increasing order."""
    current = best = sum(1 for q in scores if not has_answer[q])
    threshold = 0.0
    for qid in sorted(null_odds, key=lambda q: null_odds[q]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            current += scores[qid]
        else:
            current += -1 if preds[qid] else 0
        if current > best:
            best, threshold = current, null_odds[qid]
    return 100.0 * best / len(scores), threshold


def evaluate(
    gold: dict[str, list[str]],
    predictions: dict[str, str],
    null_odds: dict[str, float] | None = None,
    best_span: dict[str, str] | None = None,
) -> dict[str, float]:
    """EM/F1 (0-100) of `predictions` against `gold` (question id -> answer texts, empty if unanswerable).

    With `null_odds` (v2.0) also HasAns/NoAns scores and the best threshold; `best_span` gives the best
    non-null answer of each question for that sweep (default: `predictions`).
    """
    em, f = raw_scores(gold, predictions)
    n = len(gold)
    out = {"exact_match": 100.0 * sum(em.values()) / n, "f1": 100.0 * sum(f.values()) / n, "total": n}
    if null_odds is None:
        return out
    has_answer = {q: bool(_gold(a)[0]) for q, a in gold.items()}
    for name, wanted in (("HasAns", True), ("NoAns", False)):
        qids = [q for q in gold if has_answer[q] == wanted]
        if qids:
            out[f"{name}_exact"] = 100.0 * sum(em[q] for q in qids) / len(qids)
            out[f"{name}_f1"] = 100.0 * sum(f[q] for q in qids) / len(qids)
            out[f"{name}_total"] = len(qids)
    spans = best_span if best_span is not None else predictions
    span_em, span_f1 = raw_scores(gold, spans)
    out["best_exact"], out["best_exact_thresh"] = _best_threshold(spans, span_em, null_odds, has_answer)
    out["best_f1"], out["best_f1_thresh"] = _best_threshold(spans, span_f1, null_odds, has_answer)
    return out

"""Start/end logits of all windows -> answers (chapter 12), following `run_squad.py`'s `write_predictions`.

Per window the `n_best` highest start and end logits are paired (start must be a max-context token,
end >= start, at most `max_answer_length` tokens); candidates of all windows of a question are
ranked by start + end logit and de-duplicated by text. The answer text is cut from the original
context through the tokens' character offsets, which replaces `get_final_text`. For v2.0 the null
score is the smallest [CLS] start + end logit over the windows; `null_odds` = null score - best span
score, and the answer is "" when it exceeds `null_score_diff_threshold`.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np

from zoo.squad.features import Example, Features


def _softmax(scores: list[float]) -> list[float]:
    if not scores:
        return []
    z = np.exp(np.array(scores) - max(scores))
    return (z / z.sum()).tolist()


def predict_answers(
    examples: list[Example], features: Features, start_logits: np.ndarray, end_logits: np.ndarray,
    n_best: int = 20, max_answer_length: int = 30, version_2: bool = False, null_threshold: float = 0.0,
) -> tuple[dict[str, str], dict[str, list[dict]], dict[str, float]]:
    """(predictions, n-best lists, null odds) keyed by question id, for the examples that have windows."""
    windows = collections.defaultdict(list)
    for w, ex in enumerate(features.example_index):
        windows[int(ex)].append(w)
    predictions, nbest_out, null_odds = {}, {}, {}
    for index, ws in sorted(windows.items()):
        example = examples[index]
        candidates, null_score, null_parts = [], None, (0.0, 0.0)
        for w in ws:
            s, e = start_logits[w], end_logits[w]
            if version_2 and (null_score is None or s[0] + e[0] < null_score):
                null_score, null_parts = float(s[0] + e[0]), (float(s[0]), float(e[0]))
            is_context = features.char_start[w] >= 0
            for i in np.argsort(-s, kind="stable")[:n_best]:
                if not (is_context[i] and features.max_context[w, i]):
                    continue
                for j in np.argsort(-e, kind="stable")[:n_best]:
                    if is_context[j] and i <= j < i + max_answer_length:
                        candidates.append((float(s[i] + e[j]), float(s[i]), float(e[j]),
                                           int(features.char_start[w, i]), int(features.char_end[w, j])))
        candidates.sort(key=lambda c: -c[0])
        nbest, seen = [], set()
        for score, s_logit, e_logit, c0, c1 in candidates:
            text = example.context[c0:c1]
            if text in seen:
                continue
            seen.add(text)
            nbest.append({"text": text, "start_logit": s_logit, "end_logit": e_logit, "start": c0, "end": c1})
            if len(nbest) >= n_best:
                break
        best_span = nbest[0] if nbest else None
        if version_2 and null_score is not None:
            nbest.append({"text": "", "start_logit": null_parts[0], "end_logit": null_parts[1], "start": -1, "end": -1})
            nbest.sort(key=lambda c: -(c["start_logit"] + c["end_logit"]))
            nbest = nbest[:n_best]
        if not nbest:
            nbest = [{"text": "", "start_logit": 0.0, "end_logit": 0.0, "start": -1, "end": -1}]
        for entry, p in zip(nbest, _softmax([c["start_logit"] + c["end_logit"] for c in nbest])):
            entry["probability"] = p
        nbest_out[example.qid] = nbest
        if not version_2:
            predictions[example.qid] = best_span["text"] if best_span else ""
            continue
        best_score = best_span["start_logit"] + best_span["end_logit"] if best_span else -np.inf
        diff = null_score - best_score if null_score is not None else np.inf
        null_odds[example.qid] = float(min(diff, 1e9))
        predictions[example.qid] = "" if diff > null_threshold else best_span["text"]
    return predictions, nbest_out, null_odds


def write_predictions(run_dir: Path, predictions: dict, nbest: dict, null_odds: dict | None) -> None:
    """predictions.json, nbest_predictions.json and (v2.0) null_odds.json, in the official formats."""
    run_dir = Path(run_dir)
    (run_dir / "predictions.json").write_text(json.dumps(predictions, indent=2, ensure_ascii=False) + "\n")
    (run_dir / "nbest_predictions.json").write_text(json.dumps(nbest, indent=2, ensure_ascii=False) + "\n")
    if null_odds is not None:
        (run_dir / "null_odds.json").write_text(json.dumps(null_odds, indent=2) + "\n")

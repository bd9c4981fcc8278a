"""SQuAD metrics (official normalisation, v2.0 HasAns/NoAns and best threshold) and the span search."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from zoo.metrics.squad import evaluate, exact_match, f1, normalize_answer
from zoo.squad.spans import best_answers


def test_normalisation_is_the_official_one():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear; theory") == "apple pear theory"  # "the" only as a word
    assert normalize_answer("") == ""
    assert exact_match("the Broncos.", "Broncos") == 1


def test_f1_on_hand_cases():
    assert f1("Broncos", "Denver Broncos") == pytest.approx(2 / 3)
    assert f1("in the 1990s", "1990s") == pytest.approx(2 / 3)
    assert f1("x b b", "b b c") == pytest.approx(2 / 3)  # multiset overlap: 2 of 3 each way
    assert f1("a b b", "b b c") == pytest.approx(0.8)  # "a" is an article: precision 1, recall 2/3
    assert f1("cats", "dogs") == 0.0
    assert f1("", "") == 1.0 and f1("x", "") == 0.0


def test_v1_scores_take_the_best_gold_answer():
    gold = {"q1": ["Denver Broncos", "The Broncos"], "q2": ["1990s"]}
    scores = evaluate(gold, {"q1": "broncos", "q2": "in the 1990s"})
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert evaluate(gold, {"q1": "broncos"})["exact_match"] == pytest.approx(50.0)  # missing prediction scores 0


def test_v2_has_no_answer_split_and_best_threshold():
    gold = {"a": ["x y"], "b": []}
    scores = evaluate(gold, {"a": "x", "b": ""}, null_odds={"a": -1.0, "b": 2.0}, best_span={"a": "x", "b": "z"})
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert scores["HasAns_exact"] == 0.0 and scores["HasAns_f1"] == pytest.approx(200 / 3)
    assert scores["NoAns_exact"] == 100.0 and scores["NoAns_f1"] == 100.0
    # sweep: all-null scores 1 (b right); answering a (odds -1) adds F1 2/3; answering b too costs 1
    assert scores["best_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2) and scores["best_f1_thresh"] == -1.0
    assert scores["best_exact"] == pytest.approx(50.0) and scores["best_exact_thresh"] == 0.0


def _windows(context_offsets, start_logits, end_logits, max_context=None, example_index=None):
    """Windows of 8 positions: 0 = [CLS], 1 = question, 2 = [SEP], then context tokens from `context_offsets`."""
    n = len(start_logits)
    cs, ce = np.full((n, 8), -1), np.full((n, 8), -1)
    for w, offsets in enumerate(context_offsets):
        for i, (s, e) in enumerate(offsets):
            cs[w, 3 + i], ce[w, 3 + i] = s, e
    mc = cs >= 0 if max_context is None else np.array(max_context)
    example = np.array(example_index or [0] * n, np.int64)
    windows = {
        "token_ids": tf.zeros((n, 8), tf.int32),
        "char_start": tf.constant(cs, tf.int64),
        "char_end": tf.constant(ce, tf.int64),
        "max_context": tf.constant(mc),
        "example": tf.constant(example),
        "batch": tf.constant(int(example.max()) + 1, tf.int64),
    }
    return windows, tf.constant(start_logits, tf.float32), tf.constant(end_logits, tf.float32)


def _answers(contexts, windows, s, e, **search):
    out = best_answers(tf.constant(contexts), windows, s, e, **search)
    return [
        {
            k: (v[i].decode() if isinstance(v[i], bytes) else v[i].item())
            for k, v in ((k, v.numpy()) for k, v in out.items())
        }
        for i in range(len(contexts))
    ]


CONTEXT = "Paris is a big city"  # tokens: Paris(0,5) is(6,8) a(9,10) big(11,14) city(15,19)
OFFSETS = [(0, 5), (6, 8), (9, 10), (11, 14), (15, 19)]


def test_best_span_pairs_starts_and_ends_within_limits():
    s = [[0, 0, 0, 5, 1, 0, 4, 0]]
    e = [[0, 0, 0, 0, 1, 0, 4, 6]]  # best end "city" (pos 7) but "big city" may be too long
    windows, s, e = _windows([OFFSETS], s, e)
    (row,) = _answers([CONTEXT], windows, s, e, max_answer_length=5)
    assert (row["answer"], row["start"], row["end"], row["score"]) == ("Paris is a big city", 0, 19, 11.0)
    (row,) = _answers([CONTEXT], windows, s, e, max_answer_length=2)
    assert (row["answer"], row["score"]) == ("big city", 10.0)  # 4 + 6 from "big city" (positions 6-7)
    (row,) = _answers([CONTEXT], windows, s, e, max_answer_length=2, n_best=1)
    assert row["answer"] == ""  # the top start (Paris) and the top end (city) are 5 tokens apart


def test_max_context_rule_and_best_window_across_windows():
    # Two windows of one question; "city" scores highest in window 0 where it is not max-context.
    s = [[0, 0, 0, -10, -10, -10, 0, 9], [0, 0, 0, 0, 2, 0, 0, 0]]
    e = [[0, 0, 0, 0, 0, 0, 0, 9], [0, 0, 0, 0, 2, 0, 0, 0]]
    mc = np.zeros((2, 8), bool)
    mc[0, 3:6] = True  # Paris, is, a
    mc[1, 4:6] = True  # big, city (window 1 holds a, big, city)
    windows, s, e = _windows([OFFSETS, OFFSETS[2:]], s, e, max_context=mc)
    assert _answers([CONTEXT], windows, s, e)[0]["answer"] == "big"


def test_questions_of_a_batch_are_answered_from_their_own_windows():
    s = [[0, 0, 0, 5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 5]]
    windows, s, e = _windows([OFFSETS, OFFSETS], s, s, example_index=[0, 1])
    rows = _answers([CONTEXT, "Milan is a big town"], windows, s, e)
    assert [r["answer"] for r in rows] == ["Paris", "town"]


def test_a_question_without_any_possible_span_beside_others_in_its_batch():
    """No start/end pair is allowed in question 0's window: it answers "" (not another question's span)."""
    s = [[0, 0, 0, 5, 0, 0, 0, 0], [0, 0, 0, 5, 0, 0, 0, 0]]
    windows, s, e = _windows([[], OFFSETS], s, s, example_index=[0, 1])
    rows = _answers(["", CONTEXT], windows, s, e)
    assert [(r["answer"], r["start"], r["end"], r["span"]) for r in rows] == [
        ("", -1, -1, ""),
        ("Paris", 0, 5, "Paris"),
    ]
    assert rows[0]["score"] == -np.inf and rows[0]["null_odds"] == np.inf


def test_v2_null_answer_and_threshold():
    s = [[4, 0, 0, 3, 0, 0, 0, 0]]
    e = [[4, 0, 0, 3, 0, 0, 0, 0]]
    windows, s, e = _windows([OFFSETS], s, e)
    (row,) = _answers([CONTEXT], windows, s, e, version_2=True)
    assert (row["answer"], row["start"], row["end"]) == ("", -1, -1)  # null 8 vs "Paris" 6
    assert row["span"] == "Paris" and row["null_odds"] == pytest.approx(2.0) and row["score"] == 8.0
    (row,) = _answers([CONTEXT], windows, s, e, version_2=True, null_threshold=2.5)
    assert (row["answer"], row["score"]) == ("Paris", 6.0)

"""The answer of each question from the start/end logits of its windows (chapter 12), in the graph.

The one definition of the answer, used by the exported SavedModel and by the recipe's evaluation
alike (google-research/bert `run_squad.py`'s `write_predictions`): a span starts at a max-context
context token among its window's `n_best` highest start logits and ends at a context token among the
`n_best` highest end logits, at most `max_answer_length` tokens later; its score is start + end
logit; the best span over all windows of a question wins (ties to the earlier window). For v2.0 the
null score is the smallest [CLS] start + end logit over the windows, and the answer is "" when
null score - best span score exceeds `null_threshold`. The text is cut from the original context
through the tokens' character offsets, so `context[start:end] == answer`.
"""

from __future__ import annotations

import tensorflow as tf


def best_answers(
    context: tf.Tensor,
    windows: dict[str, tf.Tensor],
    start_logits: tf.Tensor,
    end_logits: tf.Tensor,
    *,
    max_answer_length: int = 30,
    n_best: int = 20,
    version_2: bool = False,
    null_threshold: float = 0.0,
) -> dict[str, tf.Tensor]:
    """One answer per context row.

    Args:
        context: `[B]` the original context strings.
        windows: what `zoo.squad.windows.SquadWindows` returned for them.
        start_logits, end_logits: `[windows, max_seq_length]` float32 logits of the span model.
        max_answer_length, n_best, version_2, null_threshold: as run_squad.py.

    Returns:
        `answer` `[B]` string, `start`/`end` `[B]` int64 character offsets (-1 when there is no
        answer), `score` `[B]` float32 (the null score when the answer is ""), `span` `[B]` string:
        the best non-null span even when v2.0 answers "", and `null_odds` `[B]` float32: null score -
        best span score (v2.0's official `na_prob` input; +inf without any span).
    """
    seq = windows["token_ids"].shape[1] or tf.shape(windows["token_ids"])[1]
    span = max_answer_length
    is_context = windows["char_start"] >= 0
    top = tf.minimum(n_best, tf.shape(start_logits)[1])
    in_top_start = start_logits >= tf.math.top_k(start_logits, top).values[:, -1:]
    in_top_end = end_logits >= tf.math.top_k(end_logits, top).values[:, -1:]
    ok_start = is_context & windows["max_context"] & in_top_start
    ok_end = is_context & in_top_end

    # score[w, i, d] = start[i] + end[i + d] for spans of 1..max_answer_length tokens.
    ends = tf.range(seq)[:, None] + tf.range(span)[None, :]  # [seq, span]
    inside = ends < seq
    ends = tf.minimum(ends, seq - 1)
    pair_ok = ok_start[:, :, None] & tf.gather(ok_end, ends, axis=1) & inside[None]
    scores = start_logits[:, :, None] + tf.gather(end_logits, ends, axis=1)
    scores = tf.reshape(tf.where(pair_ok, scores, -float("inf")), [-1, seq * span])
    window_best = tf.reduce_max(scores, axis=1)
    flat = tf.argmax(scores, axis=1, output_type=tf.int64)
    first_tok, last_tok = flat // span, flat // span + flat % span

    example, batch = windows["example"], windows["batch"]
    n_win = tf.shape(example, out_type=tf.int64)[0]
    # A question none of whose windows allows a span: unsorted_segment_max would give the lowest
    # float (not -inf) and the candidate search another question's window, so it is set apart.
    no_span = tf.math.unsorted_segment_max(tf.cast(tf.math.is_finite(window_best), tf.int32), example, batch) < 1
    best = tf.where(no_span, -float("inf"), tf.math.unsorted_segment_max(window_best, example, batch))
    candidates = tf.where(tf.equal(window_best, tf.gather(best, example)), tf.range(n_win), n_win)
    chosen = tf.math.unsorted_segment_min(candidates, example, batch)  # the earliest best window
    chosen = tf.where(no_span, tf.math.unsorted_segment_min(tf.range(n_win), example, batch), chosen)
    span_start = tf.gather_nd(windows["char_start"], tf.stack([chosen, tf.gather(first_tok, chosen)], 1))
    span_end = tf.gather_nd(windows["char_end"], tf.stack([chosen, tf.gather(last_tok, chosen)], 1))
    span_start = tf.where(no_span, tf.constant(-1, tf.int64), span_start)
    span_end = tf.where(no_span, tf.constant(-1, tf.int64), span_end)

    null = tf.math.unsorted_segment_min(start_logits[:, 0] + end_logits[:, 0], example, batch)
    null_odds = null - best
    no_answer = no_span | (null_odds > null_threshold) if version_2 else no_span
    start = tf.where(no_answer, tf.constant(-1, tf.int64), span_start)
    end = tf.where(no_answer, tf.constant(-1, tf.int64), span_end)

    def cut(s, e):
        return tf.strings.substr(
            context, tf.cast(tf.maximum(s, 0), tf.int32), tf.cast(tf.maximum(e - s, 0), tf.int32), unit="UTF8_CHAR"
        )

    return {
        "answer": cut(start, end),
        "start": start,
        "end": end,
        "score": tf.where(no_answer, null, best) if version_2 else best,
        "span": cut(span_start, span_end),
        "null_odds": null_odds,
    }

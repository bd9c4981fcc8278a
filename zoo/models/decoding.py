"""Greedy and beam-search decoding for encoder-decoder models, batched and inside the TF graph.

Both searches drive a *step function*

    step_fn(tokens, cache) -> (logits, cache)

where `tokens` is int32 `(N,)` (the previous output token of each sequence), `logits` is
`(N, vocab)` and `cache` is any nest of tensors whose leaves are batch-major `(N, ...)` (the
recurrent state, the previous attention vector, the encoder outputs and mask). This is the
contract of `keras_hub.samplers` (`next(prompt, cache, index) -> (logits, hidden, cache)`) minus
the prompt and index an RNN decoder does not need.

Why not `keras_hub.samplers.BeamSampler`: it was the first choice (same cache contract: it repeats
and re-gathers batch-major cache leaves per beam) but, as of keras-hub 0.32, (1) it has no length
penalty, so it prefers short outputs, (2) a beam that has emitted the end token keeps being
extended with the most likely tokens and keeps adding their log-probabilities, so finished and
unfinished hypotheses are compared on corrupted scores, and (3) the tokens after the end token are
left for the caller to mask. Fixing (2) needs access to the candidate scores inside its loop, so the
search below is a short `tf.while_loop` of our own: a finished beam can only be continued by the
padding token at zero cost (its score and length freeze), alive beams may not emit padding, and
candidates are ranked by the length-normalised score `log P(y) / T ** alpha` (T counts the
generated tokens including the end token; GNMT's `((5 + T) / 6) ** alpha` is not used). Greedy
search uses the same loop with one beam, so `beam_search(..., beam_width=1)` equals
`greedy_search`. Decoding stops when every sequence is finished or after `max_length` steps.

Outputs never contain the end token: it and everything after it are 0 (padding).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

PAD_ID = 0
StepFn = Callable[[tf.Tensor, object], tuple[tf.Tensor, object]]


def _mask_after_end(tokens: tf.Tensor, end_id: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Tokens with the end token and everything after it set to 0, and the lengths before the end."""
    is_end = tf.cast(tf.equal(tokens, end_id), tf.int32)
    seen_end = tf.cumsum(is_end, axis=-1) > 0
    tokens = tf.where(seen_end, tf.zeros_like(tokens), tokens)
    lengths = tf.reduce_sum(tf.cast(tf.logical_not(seen_end), tf.int32), axis=-1)
    return tokens, lengths


def greedy_search(step_fn: StepFn, cache, start_tokens, *, end_id: int, max_length: int) -> dict:
    """Pick the most likely token at every step.

    Args:
        step_fn: `(tokens (N,), cache) -> (logits (N, V), cache)`.
        cache: nest of batch-major tensors, the decoder state after encoding.
        start_tokens: int `(B,)`, the first input token of every sequence.
        end_id: the end-of-sequence token id.
        max_length: maximum number of generated tokens (including the end token).

    Returns:
        `{"tokens": int32 (B, max_length), "lengths": (B,), "log_probs": (B,)}`: tokens before the
        end token, 0-padded; summed log-probabilities of the tokens chosen (end token included).

    Example:

    >>> table = tf.math.log(tf.constant([[.1, .1, .1, .7], [.1, .7, .1, .1], [.1, .1, .1, .7],
    ...                                  [.1, .7, .1, .1]]))   # token 3, then end (1)
    >>> step = lambda tokens, cache: (tf.gather(table, tokens), cache)
    >>> greedy_search(step, {}, tf.constant([2]), end_id=1, max_length=4)["tokens"].numpy()
    array([[3, 0, 0, 0]], dtype=int32)
    """
    start_tokens = tf.cast(start_tokens, tf.int32)
    batch = tf.shape(start_tokens)[0]

    def cond(i, token, cache, finished, log_probs, out):
        return tf.logical_and(i < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(i, token, cache, finished, log_probs, out):
        logits, cache = step_fn(token, cache)
        lp = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        lp = _forbid_padding(lp)
        chosen = tf.argmax(lp, axis=-1, output_type=tf.int32)
        chosen = tf.where(finished, tf.zeros_like(chosen), chosen)
        gain = tf.gather(lp, chosen, batch_dims=1)
        log_probs = log_probs + tf.where(finished, tf.zeros_like(gain), gain)
        out = out.write(i, chosen)
        finished = tf.logical_or(finished, tf.equal(chosen, end_id))
        return i + 1, chosen, cache, finished, log_probs, out

    out = tf.TensorArray(tf.int32, size=max_length, element_shape=tf.TensorShape([None]))
    init = (tf.constant(0), start_tokens, cache, tf.zeros([batch], tf.bool), tf.zeros([batch]), out)
    steps, _, _, _, log_probs, out = tf.while_loop(cond, body, init, maximum_iterations=max_length)
    # Steps never written (every sequence finished early) are padding.
    written = tf.transpose(out.gather(tf.range(steps)))
    tokens = tf.pad(written, [[0, 0], [0, max_length - steps]])
    tokens, lengths = _mask_after_end(tokens, end_id)
    return {"tokens": tf.ensure_shape(tokens, [None, max_length]), "lengths": lengths, "log_probs": log_probs}


def _forbid_padding(log_probs):
    """Alive sequences may not emit the padding token."""
    depth = tf.shape(log_probs)[-1]
    return log_probs + tf.one_hot(PAD_ID, depth, on_value=-float("inf"), off_value=0.0)


def _best_extensions(lp, log_probs, finished, lengths, i, alpha: float):
    """The `k` best one-token extensions of `k` beams, ranked by `log P / T ** alpha`.

    `lp` is `(B, k, V)` next-token log-probabilities; a finished beam continues with padding only, at
    no cost, so its score and length freeze. Returns `(scores, parent beam, chosen token, log P,
    lengths)`, each `(B, k)`, best first.
    """
    batch, k, vocab = tf.shape(lp)[0], tf.shape(lp)[1], tf.shape(lp)[2]
    pad_only = tf.one_hot(PAD_ID, vocab, on_value=0.0, off_value=-float("inf"))
    total = log_probs[..., None] + tf.where(finished[..., None], pad_only, lp)  # (B, k, V)
    new_len = tf.where(finished, lengths, i + 1)  # (B, k)
    norm = total / tf.pow(tf.cast(new_len, tf.float32), alpha)[..., None]
    scores, index = tf.math.top_k(tf.reshape(norm, [batch, k * vocab]), k=log_probs.shape[1])
    parent, chosen = index // vocab, index % vocab
    log_probs = tf.gather(tf.reshape(total, [batch, k * vocab]), index, batch_dims=1)
    return scores, parent, chosen, log_probs, tf.gather(new_len, parent, batch_dims=1)


def beam_search(
    step_fn: StepFn,
    cache,
    start_tokens,
    *,
    end_id: int,
    max_length: int,
    beam_width: int = 5,
    alpha: float = 0.7,
    return_all_beams: bool = False,
) -> dict:
    """Beam search with length normalisation `log P / T ** alpha`, batched, in the graph.

    Args:
        step_fn: `(tokens (N,), cache) -> (logits (N, V), cache)`; called with `N = B * beam_width`.
        cache: nest of batch-major `(B, ...)` tensors; every leaf is repeated per beam and
            re-gathered after each step.
        start_tokens: int `(B,)`.
        end_id: the end-of-sequence id.
        max_length: maximum number of generated tokens (including the end token).
        beam_width: number of hypotheses kept per sequence (needs `vocab >= beam_width`).
        alpha: length-normalisation exponent (0 = raw log-probability, 1 = per-token average).
        return_all_beams: also return every beam, best first.

    Returns:
        `{"tokens": (B, max_length), "lengths": (B,), "scores": (B,) normalised, "log_probs": (B,)}`
        for the best hypothesis (plus `"all_tokens"`, `"all_scores"` `(B, beam_width, ...)`).

    Example:

    >>> table = tf.math.log(tf.constant([[.1, .1, .1, .7], [.1, .7, .1, .1], [.1, .1, .1, .7],
    ...                                  [.1, .7, .1, .1]]))
    >>> step = lambda tokens, cache: (tf.gather(table, tokens), cache)
    >>> beam_search(step, {}, tf.constant([2]), end_id=1, max_length=4, beam_width=2)["tokens"].numpy()
    array([[3, 0, 0, 0]], dtype=int32)
    """
    k = int(beam_width)
    if k < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    start_tokens = tf.cast(start_tokens, tf.int32)
    batch = tf.shape(start_tokens)[0]
    cache = tf.nest.map_structure(lambda t: tf.repeat(t, k, axis=0), cache)
    neg_inf = tf.constant(-float("inf"))
    log_probs = tf.concat([tf.zeros([batch, 1]), tf.fill([batch, k - 1], neg_inf)], axis=1)
    seqs = tf.zeros([batch, k, max_length], tf.int32)
    offsets = tf.range(batch)[:, None] * k

    def cond(i, token, cache, finished, lengths, log_probs, scores, seqs):
        return tf.logical_and(i < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(i, token, cache, finished, lengths, log_probs, scores, seqs):
        logits, cache = step_fn(token, cache)
        lp = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        lp = tf.reshape(_forbid_padding(lp), [batch, k, -1])
        scores, parent, chosen, log_probs, lengths = _best_extensions(lp, log_probs, finished, lengths, i, alpha)
        finished = tf.logical_or(tf.gather(finished, parent, batch_dims=1), tf.equal(chosen, end_id))
        seqs = tf.gather(seqs, parent, batch_dims=1)
        seqs = seqs + tf.one_hot(i, max_length, dtype=tf.int32)[None, None, :] * chosen[..., None]
        flat_parent = tf.reshape(parent + offsets, [-1])
        cache = tf.nest.map_structure(lambda t: tf.gather(t, flat_parent), cache)
        return i + 1, tf.reshape(chosen, [-1]), cache, finished, lengths, log_probs, scores, seqs

    init = (
        tf.constant(0),
        tf.repeat(start_tokens, k),
        cache,
        tf.zeros([batch, k], tf.bool),
        tf.zeros([batch, k], tf.int32),
        log_probs,
        tf.identity(log_probs),
        seqs,
    )
    _, _, _, _, _, log_probs, scores, seqs = tf.while_loop(cond, body, init, maximum_iterations=max_length)
    # top_k sorts, so beam 0 is the best hypothesis under the normalised score.
    tokens, lengths = _mask_after_end(seqs, end_id)
    result = {"tokens": tokens[:, 0], "lengths": lengths[:, 0], "scores": scores[:, 0], "log_probs": log_probs[:, 0]}
    if return_all_beams:
        result.update(all_tokens=tokens, all_scores=scores, all_log_probs=log_probs)
    return result

"""End-to-end SQuAD serving (chapter 12): question + context strings in, answer text and offsets out.

Everything `features.py` and `postprocess.py` do for one best answer happens inside the graph with
core TensorFlow ops (no tensorflow-text), so `tf.saved_model.load` or `keras.layers.TFSMLayer`
serve it in any process with TensorFlow: WordPiece with offsets, question truncation, windows every
`doc_stride` tokens over long contexts, max-context flags, the top-`n_best` start/end pairing with
`max_answer_length`, the best span over all windows and, for v2.0, the null-score threshold.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.squad.tokenizer import WordPieceOffsets

_TIE_BREAK = 1 << 20  # max-context ties go to the earlier window, as in run_squad.py


class SquadServer(keras.Model):
    """Serve a trained span model on raw text: `{"question": [B] str, "context": [B] str}` ->
    `{"answer": [B] str, "start": [B] int64, "end": [B] int64, "score": [B] float32}`.

    `start`/`end` are character offsets into the context (`context[start:end] == answer`); an
    unanswered question (v2.0 null answer, or a context without tokens) gives "" and -1/-1. `score`
    is the start + end logit of the answer (the null score when the answer is "").
    """

    def __init__(self, qa_model: keras.Model, vocabulary: list[str], lowercase: bool = True,
                 max_seq_length: int = 384, doc_stride: int = 128, max_query_length: int = 64,
                 max_answer_length: int = 30, n_best: int = 20, version_2: bool = False,
                 null_threshold: float = 0.0, **kwargs):
        super().__init__(name=kwargs.pop("name", "squad_server"), **kwargs)
        self.qa_model = qa_model
        self.tokenizer = WordPieceOffsets(vocabulary, lowercase)
        self.cls_id = vocabulary.index("[CLS]")
        self.sep_id = vocabulary.index("[SEP]")
        self.max_seq_length, self.doc_stride = max_seq_length, doc_stride
        self.max_query_length, self.max_answer_length = max_query_length, max_answer_length
        self.n_best, self.version_2, self.null_threshold = n_best, version_2, float(null_threshold)
        self.built = True

    @property
    def input_signature(self) -> list[dict[str, tf.TensorSpec]]:
        return [{"question": tf.TensorSpec([None], tf.string, name="question"),
                 "context": tf.TensorSpec([None], tf.string, name="context")}]

    def call(self, inputs):
        question = tf.reshape(inputs["question"], [-1])
        context = tf.reshape(inputs["context"], [-1])
        windows = self._windows(question, context)
        out = self.qa_model({k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")})
        return self._best_answers(context, windows, tf.cast(out["start_positions"], tf.float32),
                                  tf.cast(out["end_positions"], tf.float32))

    def _windows(self, question, context) -> dict[str, tf.Tensor]:
        seq = self.max_seq_length
        q_ids = self.tokenizer(question)[0][:, :self.max_query_length]
        c_ids, c_start, c_end = self.tokenizer(context)
        batch = tf.shape(question, out_type=tf.int64)[0]
        max_ctx = seq - q_ids.row_lengths() - 3
        n_ctx = c_ids.row_lengths()
        step = tf.minimum(max_ctx, self.doc_stride)
        n_windows = 1 + (tf.maximum(n_ctx - max_ctx, 0) + step - 1) // step
        example = tf.repeat(tf.range(batch), n_windows)
        k = tf.ragged.range(n_windows).flat_values
        start = k * tf.gather(step, example)
        length = tf.minimum(tf.gather(n_ctx, example) - start, tf.gather(max_ctx, example))
        base = tf.gather(c_ids.row_starts(), example) + start
        index = tf.ragged.range(base, base + length)  # flat context-token index of each window token
        n_win = tf.shape(example, out_type=tf.int64)[0]

        # Max-context flag: score min(left, right) * 100 + length, ties to the earlier window.
        row = index.value_rowids()
        j = index.flat_values - tf.gather(base, row)
        win_len = tf.gather(length, row)
        key = (tf.minimum(j, win_len - 1 - j) * 100 + win_len) * _TIE_BREAK - tf.gather(k, row)
        best_key = tf.math.unsorted_segment_max(key, index.flat_values, tf.size(c_ids.flat_values))
        is_max = index.with_flat_values(tf.equal(key, tf.gather(best_key, index.flat_values)))

        def column(value, dtype):
            return tf.RaggedTensor.from_tensor(tf.fill([n_win, 1], tf.constant(value, dtype)))

        q_win = tf.gather(q_ids, example)
        context_tokens = tf.gather(c_ids.flat_values, index)

        def q_fill(value, dtype):
            return q_win.with_flat_values(tf.fill(tf.shape(q_win.flat_values), tf.constant(value, dtype)))

        def per_token(ctx_part, default, dtype):
            """[CLS] q [SEP] ctx [SEP] layout of a per-context-token value; `default` elsewhere."""
            ragged = tf.concat([column(default, dtype), q_fill(default, dtype), column(default, dtype), ctx_part,
                                column(default, dtype)], axis=1)
            return ragged.to_tensor(default_value=tf.constant(default, dtype), shape=[None, seq])

        token_ids = tf.concat([column(self.cls_id, tf.int64), q_win, column(self.sep_id, tf.int64), context_tokens,
                               column(self.sep_id, tf.int64)], axis=1)
        segment = tf.concat([column(0, tf.int64), q_fill(0, tf.int64), column(0, tf.int64),
                             context_tokens.with_flat_values(tf.ones_like(context_tokens.flat_values)),
                             column(1, tf.int64)], axis=1)
        char_start = per_token(tf.gather(c_start.flat_values, index), -1, tf.int64)
        char_end = per_token(tf.gather(c_end.flat_values, index), -1, tf.int64)
        max_context = per_token(is_max, False, tf.bool)
        return {
            "token_ids": tf.cast(token_ids.to_tensor(0, shape=[None, seq]), tf.int32),
            "segment_ids": tf.cast(segment.to_tensor(0, shape=[None, seq]), tf.int32),
            "padding_mask": tf.cast(tf.ones_like(token_ids).to_tensor(0, shape=[None, seq]), tf.int32),
            "char_start": char_start, "char_end": char_end, "max_context": max_context,
            "example": example, "batch": batch,
        }

    def _best_answers(self, context, windows, start_logits, end_logits) -> dict[str, tf.Tensor]:
        seq, span = self.max_seq_length, self.max_answer_length
        is_context = windows["char_start"] >= 0
        top = min(self.n_best, seq)
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
        best = tf.math.unsorted_segment_max(window_best, example, batch)
        n_win = tf.shape(example, out_type=tf.int64)[0]
        candidates = tf.where(tf.equal(window_best, tf.gather(best, example)), tf.range(n_win), n_win)
        chosen = tf.minimum(tf.math.unsorted_segment_min(candidates, example, batch), n_win - 1)
        start = tf.gather_nd(windows["char_start"], tf.stack([chosen, tf.gather(first_tok, chosen)], 1))
        end = tf.gather_nd(windows["char_end"], tf.stack([chosen, tf.gather(last_tok, chosen)], 1))

        no_answer = tf.math.is_inf(best)
        score = best
        if self.version_2:
            null = tf.math.unsorted_segment_min(start_logits[:, 0] + end_logits[:, 0], example, batch)
            no_answer = no_answer | (null - best > self.null_threshold)
            score = tf.where(no_answer, null, best)
        start = tf.where(no_answer, tf.constant(-1, tf.int64), start)
        end = tf.where(no_answer, tf.constant(-1, tf.int64), end)
        text = tf.strings.substr(context, tf.cast(tf.maximum(start, 0), tf.int32),
                                 tf.cast(tf.maximum(end - start, 0), tf.int32), unit="UTF8_CHAR")
        return {"answer": text, "start": start, "end": end, "score": score}

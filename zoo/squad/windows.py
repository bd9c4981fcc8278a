"""SQuAD windows in the graph (chapter 12): `[CLS] question [SEP] context window [SEP]`, as run_squad.py cuts them.

The one definition of the windows: training features (`zoo.squad.features.convert`), evaluation and
the exported SavedModel all call `SquadWindows`. It runs on raw strings with core TensorFlow ops
only (the WordPiece of `zoo.squad.tokenizer`), so the SavedModel loads without tensorflow-text.

Why not `keras_hub.layers.MultiSegmentPacker`: its TensorFlow path trims with tensorflow-text's
`RoundRobinTrimmer`/`WaterfallTrimmer` (the exported graph would need `import tensorflow_text`), and
the windows carry three more per-token values in the same layout (character offsets and the
max-context flag), which a packer would have to be run for one value at a time.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from zoo.errors import UserError
from zoo.squad.tokenizer import WordPieceOffsets

_TIE_BREAK = 1 << 20  # max-context ties go to the earlier window, as in run_squad.py


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    """How long a window is, how far apart windows start, and how much of the question is kept."""

    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64

    def __post_init__(self):
        if self.max_seq_length - self.max_query_length - 3 < 1:
            raise UserError(
                f"max_seq_length={self.max_seq_length} leaves no room for the context after "
                f"max_query_length={self.max_query_length}; raise it or lower max_query_length"
            )
        if self.doc_stride < 1:
            raise UserError(f"doc_stride must be >= 1, got {self.doc_stride}")


class SquadWindows(tf.Module):
    """Windows of a batch of `(question, context)` strings; one row per window, `max_seq_length` wide.

    Windows start every `min(doc_stride, room)` context tokens, where `room` is what the truncated
    question leaves of `max_seq_length`; every context has at least one window (an empty context gives
    one window without context tokens).

    Args:
        vocabulary: the WordPiece vocabulary (with `[CLS]`, `[SEP]`, `[UNK]`).
        lowercase: whether the model is uncased.
        config: the `WindowConfig`.

    Returns (from a call) a dict of tensors:
        `token_ids`, `segment_ids`, `padding_mask`: `[windows, max_seq_length]` int32 model inputs;
        `char_start`, `char_end`: `[windows, max_seq_length]` int64 code-point offsets of each context
            token into its context, -1 elsewhere;
        `max_context`: `[windows, max_seq_length]` bool, the token's best-centred window is this one
            (score `min(left, right) + 0.01 * window length`, ties to the earlier window);
        `example`: `[windows]` int64, which input row the window belongs to; `batch`: the row count.

    Example:
        >>> windows = SquadWindows(vocabulary, lowercase=True, config=WindowConfig(64, 16, 16))
        >>> out = windows(tf.constant(["Who won?"]), tf.constant(["Denver beat Carolina 24-10."]))
        >>> out["token_ids"].shape
        TensorShape([1, 64])
    """

    def __init__(self, vocabulary: list[str], lowercase: bool = True, config: WindowConfig = WindowConfig()):
        super().__init__(name="squad_windows")
        self.tokenizer = WordPieceOffsets(vocabulary, lowercase)
        self.cls_id = vocabulary.index("[CLS]")
        self.sep_id = vocabulary.index("[SEP]")
        self.config = config
        self._traced = None

    def traced(self, question: tf.Tensor, context: tf.Tensor) -> dict[str, tf.Tensor]:
        """`self(question, context)` through one `tf.function` on 1-D string batches (traced once per instance)."""
        if self._traced is None:
            self._traced = tf.function(self.__call__, input_signature=[tf.TensorSpec([None], tf.string)] * 2)
        return self._traced(question, context)

    def __call__(self, question: tf.Tensor, context: tf.Tensor) -> dict[str, tf.Tensor]:
        seq = self.config.max_seq_length
        q_ids = self.tokenizer(question)[0][:, : self.config.max_query_length]
        c_ids, c_start, c_end = self.tokenizer(context)
        batch = tf.shape(question, out_type=tf.int64)[0]
        max_ctx = seq - q_ids.row_lengths() - 3
        n_ctx = c_ids.row_lengths()
        step = tf.minimum(max_ctx, self.config.doc_stride)
        n_windows = 1 + (tf.maximum(n_ctx - max_ctx, 0) + step - 1) // step
        example = tf.repeat(tf.range(batch), n_windows)
        k = tf.ragged.range(n_windows).flat_values
        start = k * tf.gather(step, example)
        length = tf.minimum(tf.gather(n_ctx, example) - start, tf.gather(max_ctx, example))
        base = tf.gather(c_ids.row_starts(), example) + start
        index = tf.ragged.range(base, base + length)  # flat context-token index of each window token
        n_win = tf.shape(example, out_type=tf.int64)[0]

        # Max-context flag: min(left, right) * 100 + length (run_squad.py's score times 100), ties to
        # the earlier window.
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
            ragged = tf.concat(
                [
                    column(default, dtype),
                    q_fill(default, dtype),
                    column(default, dtype),
                    ctx_part,
                    column(default, dtype),
                ],
                axis=1,
            )
            return ragged.to_tensor(default_value=tf.constant(default, dtype), shape=[None, seq])

        token_ids = tf.concat(
            [
                column(self.cls_id, tf.int64),
                q_win,
                column(self.sep_id, tf.int64),
                context_tokens,
                column(self.sep_id, tf.int64),
            ],
            axis=1,
        )
        segment = tf.concat(
            [
                column(0, tf.int64),
                q_fill(0, tf.int64),
                column(0, tf.int64),
                context_tokens.with_flat_values(tf.ones_like(context_tokens.flat_values)),
                column(1, tf.int64),
            ],
            axis=1,
        )
        return {
            "token_ids": tf.cast(token_ids.to_tensor(0, shape=[None, seq]), tf.int32),
            "segment_ids": tf.cast(segment.to_tensor(0, shape=[None, seq]), tf.int32),
            "padding_mask": tf.cast(tf.ones_like(token_ids).to_tensor(0, shape=[None, seq]), tf.int32),
            "char_start": per_token(tf.gather(c_start.flat_values, index), -1, tf.int64),
            "char_end": per_token(tf.gather(c_end.flat_values, index), -1, tf.int64),
            "max_context": per_token(is_max, False, tf.bool),
            "example": example,
            "batch": batch,
        }

"""SQuAD examples -> BERT windows (chapter 12), as google-research/bert `run_squad.py` builds them.

`[CLS] question [SEP] context window [SEP]`, windows every `doc_stride` tokens, the question cut to
`max_query_length`, answers mapped from characters to tokens through WordPiece offsets (no
whitespace pre-split and `_improve_answer_span` needed), windows without the whole answer labelled
at [CLS], and the max-context flag of every context token.
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np
import tensorflow as tf

from zoo.errors import UserError
from zoo.squad.tokenizer import WordPieceOffsets


@dataclasses.dataclass(frozen=True)
class Example:
    """One question on one context; `answers` are (text, character start); none for v2.0 unanswerable."""

    qid: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...] = ()

    @property
    def is_impossible(self) -> bool:
        return not self.answers


@dataclasses.dataclass
class Features:
    """Windows of many examples as arrays of shape [windows, max_seq_length] (plus per-window vectors)."""

    token_ids: np.ndarray
    segment_ids: np.ndarray
    padding_mask: np.ndarray
    start_positions: np.ndarray  # [windows]; 0 ([CLS]) when the window lacks the answer
    end_positions: np.ndarray
    example_index: np.ndarray  # [windows] index into the example list
    char_start: np.ndarray  # context character offsets of each token, -1 outside the context
    char_end: np.ndarray
    max_context: np.ndarray  # bool: this window is the token's best-centred one

    def inputs(self) -> dict[str, np.ndarray]:
        return {"token_ids": self.token_ids, "segment_ids": self.segment_ids, "padding_mask": self.padding_mask}

    def targets(self) -> dict[str, np.ndarray]:
        return {"start_positions": self.start_positions, "end_positions": self.end_positions}

    def __len__(self) -> int:
        return len(self.token_ids)

    def take(self, n: int) -> Features:
        return Features(**{f.name: getattr(self, f.name)[:n] for f in dataclasses.fields(self)})


@dataclasses.dataclass
class SquadInfo:
    """What the span model, its serving model and the SQuAD report need to know.

    Attributes:
        vocabulary: the WordPiece vocabulary of the preset (index = token id).
        lowercase: whether the preset's tokenizer lower-cases.
        dev_examples: the questions to score, in order.
        dev_features: their windows (`Features`).
        steps_per_epoch: training batches per epoch (for the learning-rate schedule).
        train_windows, train_questions, skipped_train_answers: sizes, for the record.
    """

    vocabulary: list[str]
    lowercase: bool
    dev_examples: list[Example]
    dev_features: Features
    steps_per_epoch: int
    train_windows: int = 0
    train_questions: int = 0
    skipped_train_answers: int = 0


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64


def window_starts(n_context: int, max_context: int, doc_stride: int) -> list[tuple[int, int]]:
    """(start, length) of each window over `n_context` tokens, as `run_squad.py` slides them."""
    if max_context < 1:
        raise UserError("max_seq_length leaves no room for the context; raise it or lower max_query_length")
    spans, start = [], 0
    while True:
        length = min(n_context - start, max_context)
        spans.append((start, length))
        if start + length >= n_context:
            return spans
        start += min(length, doc_stride)


def max_context_flags(spans: list[tuple[int, int]], n_context: int) -> list[np.ndarray]:
    """For each window, whether each of its tokens has its widest two-sided context there (first wins ties)."""
    best = np.full(n_context, -1.0)
    owner = np.full(n_context, -1)
    for k, (start, length) in enumerate(spans):
        pos = np.arange(start, start + length)
        score = np.minimum(pos - start, start + length - 1 - pos) + 0.01 * length
        better = score > best[pos]
        best[pos[better]], owner[pos[better]] = score[better], k
    return [owner[start:start + length] == k for k, (start, length) in enumerate(spans)]


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tokenize_all(tokenizer: WordPieceOffsets, texts: list[str], batch: int = 256) -> list[tuple[list, list, list]]:
    """(ids, starts, ends) of every text, tokenised in batches by one graph traced once per tokenizer."""
    if tokenizer not in _TRACED:
        _TRACED[tokenizer] = tf.function(tokenizer.__call__, input_signature=[tf.TensorSpec([None], tf.string)])
    fn = _TRACED[tokenizer]
    out = []
    for i in range(0, len(texts), batch):
        ids, starts, ends = fn(tf.constant(texts[i:i + batch]))
        out += list(zip(ids.to_list(), starts.to_list(), ends.to_list()))
    return out


def convert(
    examples: list[Example], tokenizer: WordPieceOffsets, vocabulary: list[str],
    config: WindowConfig = WindowConfig(), training: bool = False,
) -> tuple[Features, int]:
    """All windows of `examples`; returns them and how many answers could not be located in the context.

    With `training`, an answer whose text is not at its character offset is skipped (its question is
    dropped, as `run_squad.py` does); otherwise every example keeps at least one window.
    """
    cls_id, sep_id = vocabulary.index("[CLS]"), vocabulary.index("[SEP]")
    contexts = sorted({e.context for e in examples})
    by_context = dict(zip(contexts, tokenize_all(tokenizer, contexts)))
    questions = tokenize_all(tokenizer, [e.question for e in examples])
    seq = config.max_seq_length
    rows: dict[str, list] = {k: [] for k in ("ids", "mask", "seg", "start", "end", "ex", "cs", "ce", "mc")}
    unmatched = 0
    for index, (example, (q_ids, _, _)) in enumerate(zip(examples, questions)):
        c_ids, c_start, c_end = by_context[example.context]
        q_ids = q_ids[:config.max_query_length]
        answer = None
        if example.answers:
            text, start = example.answers[0]
            if example.context[start:start + len(text)] != text or not text.strip():
                unmatched += 1
                if training:
                    continue
            else:
                answer = _token_span(c_start, c_end, start, start + len(text))
        spans = window_starts(len(c_ids), seq - len(q_ids) - 3, config.doc_stride)
        for (start, length), flags in zip(spans, max_context_flags(spans, len(c_ids))):
            offset = len(q_ids) + 2
            ids = [cls_id, *q_ids, sep_id, *c_ids[start:start + length], sep_id]
            cs, ce, mc = (np.full(seq, -1), np.full(seq, -1), np.zeros(seq, bool))
            cs[offset:offset + length] = c_start[start:start + length]
            ce[offset:offset + length] = c_end[start:start + length]
            mc[offset:offset + length] = flags
            s_pos = e_pos = 0
            if answer is not None and start <= answer[0] and answer[1] < start + length:
                s_pos, e_pos = answer[0] - start + offset, answer[1] - start + offset
            rows["ids"].append(ids + [0] * (seq - len(ids)))
            rows["mask"].append([1] * len(ids) + [0] * (seq - len(ids)))
            rows["seg"].append([0] * offset + [1] * (length + 1) + [0] * (seq - len(ids)))
            rows["start"].append(s_pos)
            rows["end"].append(e_pos)
            rows["ex"].append(index)
            rows["cs"].append(cs)
            rows["ce"].append(ce)
            rows["mc"].append(mc)
    ids = np.array(rows["ids"], np.int32).reshape(-1, seq)
    features = Features(
        token_ids=ids, segment_ids=np.array(rows["seg"], np.int32).reshape(-1, seq),
        padding_mask=np.array(rows["mask"], np.int32).reshape(-1, seq),
        start_positions=np.array(rows["start"], np.int32), end_positions=np.array(rows["end"], np.int32),
        example_index=np.array(rows["ex"], np.int64),
        char_start=np.array(rows["cs"], np.int64).reshape(-1, seq), char_end=np.array(rows["ce"], np.int64).reshape(-1, seq),
        max_context=np.array(rows["mc"], bool).reshape(-1, seq),
    )
    return features, unmatched


def _token_span(starts: list[int], ends: list[int], char_start: int, char_end: int) -> tuple[int, int] | None:
    """First and last token overlapping the answer characters [char_start, char_end)."""
    inside = [i for i, (s, e) in enumerate(zip(starts, ends)) if s < char_end and e > char_start]
    return (inside[0], inside[-1]) if inside else None

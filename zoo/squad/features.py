"""SQuAD examples -> labelled BERT windows for training (chapter 12), as google-research/bert `run_squad.py`.

The windows themselves come from `zoo.squad.windows.SquadWindows`, the graph the SavedModel serves;
this module adds the labels: answers are mapped from characters to tokens through the WordPiece
offsets (no whitespace pre-split and `_improve_answer_span` needed), and windows without the whole
answer are labelled at [CLS].
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from zoo.squad.windows import SquadWindows


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
        steps_per_epoch: training batches per epoch (for the learning-rate schedule).
        train_windows, train_questions, skipped_train_answers: sizes, for the record.
    """

    vocabulary: list[str]
    lowercase: bool
    dev_examples: list[Example]
    steps_per_epoch: int
    train_windows: int = 0
    train_questions: int = 0
    skipped_train_answers: int = 0


def convert(
    examples: list[Example], windows: SquadWindows, training: bool = False, batch: int = 64
) -> tuple[Features, int]:
    """All windows of `examples` with their answer labels; also how many answers were not at their offset.

    The windows are `windows`' (the same graph the SavedModel serves). A window holds the answer when
    it holds both the first and the last context token that overlap the answer's characters; its
    labels are then their positions, else [CLS] (0). With `training`, an answer whose text is not at
    its character offset drops its question (as `run_squad.py` does); otherwise every example keeps
    its windows.
    """
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("token_ids", "segment_ids", "padding_mask", "start", "end", "example")
    }
    unmatched = 0
    for first in range(0, len(examples), batch):
        chunk = examples[first : first + batch]
        out = {
            k: v.numpy()
            for k, v in windows.traced(
                tf.constant([e.question for e in chunk]), tf.constant([e.context for e in chunk])
            ).items()
        }
        keep = np.ones(len(out["example"]), bool)
        start = np.zeros(len(out["example"]), np.int32)
        end = np.zeros(len(out["example"]), np.int32)
        for i, example in enumerate(chunk):
            rows = np.flatnonzero(out["example"] == i)
            if not example.answers:
                continue
            text, char_start = example.answers[0]
            if example.context[char_start : char_start + len(text)] != text or not text.strip():
                unmatched += 1
                keep[rows] = not training
                continue
            cs, ce = out["char_start"][rows], out["char_end"][rows]
            overlap = (cs >= 0) & (cs < char_start + len(text)) & (ce > char_start)
            if not overlap.any():
                continue
            first_char, last_char = cs[overlap].min(), ce[overlap].max()
            for row, w_cs, w_ce in zip(rows, cs, ce):
                if (w_cs == first_char).any() and (w_ce == last_char).any():
                    start[row], end[row] = np.argmax(w_cs == first_char), np.argmax(w_ce == last_char)
        for key in ("token_ids", "segment_ids", "padding_mask"):
            parts[key].append(out[key][keep])
        parts["start"].append(start[keep])
        parts["end"].append(end[keep])
        parts["example"].append(out["example"][keep] + first)
    seq = windows.config.max_seq_length

    def stack(key, dtype, shape):
        return np.concatenate(parts[key]).astype(dtype) if parts[key] else np.zeros(shape, dtype)

    features = Features(
        token_ids=stack("token_ids", np.int32, (0, seq)),
        segment_ids=stack("segment_ids", np.int32, (0, seq)),
        padding_mask=stack("padding_mask", np.int32, (0, seq)),
        start_positions=stack("start", np.int32, (0,)),
        end_positions=stack("end", np.int32, (0,)),
        example_index=stack("example", np.int64, (0,)),
    )
    return features, unmatched

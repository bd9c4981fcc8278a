"""BERT pre-training data (chapter 12): a WordPiece vocabulary, sentence pairs with next-sentence labels, masking.

What the course teaches, built from keras-hub's pieces:

- a WordPiece vocabulary learned on the training corpus (`keras_hub.tokenizers.compute_word_piece_vocabulary`,
  lower-cased, accents stripped), with the special tokens first: `[PAD] [CLS] [SEP] [UNK] [MASK]`;
- sentence pairs as in google-research/bert `create_pretraining_data.py`: sentences of one document are
  gathered until they fill a sequence, split at a random sentence into A and B; half the time B is
  replaced by sentences of another document (next-sentence label 0, else 1). Unlike the reference, the
  sentences of the current chunk that a random B leaves unused are not put back (a few sentences fewer);
- masking of 15% of the real tokens of each sequence (never `[CLS]`, `[SEP]`, `[PAD]`), of which 80%
  become `[MASK]`, 10% a random token and 10% stay (`keras_hub.layers.MaskedLMMaskGenerator`), drawn anew
  for every batch (dynamic masking, RoBERTa) on the training data and once on the held-out data.

Without next-sentence prediction each example is one contiguous chunk of a document filling the sequence
(RoBERTa's FULL-SENTENCES without crossing documents).

Classifiers read text through `TextPacker`: the same tokenizer, and head, tail or head+tail truncation of
long texts (Sun et al. 2019, "How to fine-tune BERT for text classification?").
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from pathlib import Path

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from zoo import disk
from zoo.errors import CorruptData, UserError

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")
"""The reserved tokens, first in every vocabulary this module learns (keras-hub's order: `[PAD]` is 0)."""

VOCABULARY_FILE = "vocab.txt"
TRUNCATIONS = ("head", "tail", "head+tail")

_TAG = re.compile(r"<[^>]{0,40}>")  # IMDB's <br />
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: HTML tags become spaces, a sentence ends at `.`, `!` or `?` before a space.

    Example:
        >>> split_sentences("A fine film.<br /><br />I liked it! Did you?")
        ['A fine film.', 'I liked it!', 'Did you?']
    """
    text = _TAG.sub(" ", text)
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def check_vocabulary_size(vocab_size: int) -> None:
    """A learned vocabulary holds the special tokens and at least one more: refused before any data is read."""
    if vocab_size <= len(SPECIAL_TOKENS):
        raise UserError(
            f"the vocabulary needs more than the {len(SPECIAL_TOKENS)} special tokens ({' '.join(SPECIAL_TOKENS)})",
            param="vocab_size",
            value=vocab_size,
        )


def learn_vocabulary(texts: Sequence[str], vocab_size: int, *, sample: int = 0, seed: int = 0) -> list[str]:
    """A lower-cased WordPiece vocabulary of at most `vocab_size` entries, special tokens first, learned on
    `texts` or a seeded sample of `sample` of them (0 = all): keras-hub's learner is pure Python (2,000 IMDB
    reviews took it 95 s on the shared 2-core CPU; all 25,000 would take a quarter of an hour or more)."""
    check_vocabulary_size(vocab_size)
    if sample and sample < len(texts):
        pick = np.random.default_rng(seed).choice(len(texts), sample, replace=False)
        texts = [texts[i] for i in sorted(pick)]
    data = tf.data.Dataset.from_tensor_slices(list(texts)).batch(256)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        data, vocab_size, lowercase=True, strip_accents=True, reserved_tokens=list(SPECIAL_TOKENS)
    )


def write_vocabulary(path: str | Path, vocabulary: Sequence[str]) -> None:
    """`vocab.txt`: one token per line in id order (BERT's format), written atomically."""
    text = "".join(f"{token}\n" for token in vocabulary)
    disk.write_with(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_vocabulary(path: str | Path) -> list[str]:
    """The tokens of a `vocab.txt`, in id order."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def make_tokenizer(vocabulary: Sequence[str], lowercase: bool = True) -> keras_hub.tokenizers.WordPieceTokenizer:
    """The WordPiece tokenizer of `vocabulary`; `[MASK]` written in a string is the mask token."""
    vocabulary = list(vocabulary)
    missing = [t for t in SPECIAL_TOKENS if t not in vocabulary]
    if missing:
        raise CorruptData(f"the vocabulary lacks the special tokens {' '.join(missing)}")
    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary,
        lowercase=lowercase,
        strip_accents=lowercase,
        special_tokens=list(SPECIAL_TOKENS),
        special_tokens_in_strings=True,
        name="tokenizer",
    )


@dataclasses.dataclass(frozen=True)
class SpecialIds:
    """The ids of the special tokens in one vocabulary (ours: 0-4; Hugging Face BERT's: 0, 101, 102, 100, 103)."""

    pad: int
    cls: int
    sep: int
    unk: int
    mask: int

    @classmethod
    def of(cls, vocabulary: Sequence[str]) -> SpecialIds:
        index = {token: i for i, token in enumerate(vocabulary)}
        return cls(*(index[token] for token in SPECIAL_TOKENS))


def tokenize(tokenizer, texts: Sequence[str], batch_size: int = 1024) -> list[np.ndarray]:
    """Token ids (int32 arrays) of `texts`, through `tf.data` in batches."""
    out: list[np.ndarray] = []
    data = tf.data.Dataset.from_tensor_slices(list(texts) or [""]).batch(batch_size).map(tokenizer)
    for ids in data:
        out.extend(np.asarray(row, "int32") for row in ids.numpy())
    return out[: len(texts)]


def tokenize_documents(tokenizer, documents: Sequence[Sequence[str]]) -> list[list[np.ndarray]]:
    """Each document's sentences as token id arrays (sentences without tokens dropped)."""
    flat = tokenize(tokenizer, [s for doc in documents for s in doc])
    out, start = [], 0
    for doc in documents:
        out.append([ids for ids in flat[start : start + len(doc)] if len(ids)])
        start += len(doc)
    return out


@dataclasses.dataclass(frozen=True)
class PretrainingExamples:
    """Packed pre-training sequences: `[CLS] A [SEP] B [SEP] [PAD]...` with segment ids 0 for A, 1 for B.

    `next_sentence` is 1 where B follows A in the document, 0 where B comes from another document
    (all 1 without next-sentence pairs, where there is no B).
    """

    token_ids: np.ndarray  # (examples, sequence_length) int32
    segment_ids: np.ndarray
    next_sentence: np.ndarray  # (examples,) int32

    def __len__(self) -> int:
        return len(self.token_ids)

    def save(self, path: str | Path) -> None:
        disk.write_with(path, lambda tmp: np.savez(tmp, **dataclasses.asdict(self)), suffix=".npz")

    @classmethod
    def load(cls, path: str | Path) -> PretrainingExamples:
        with np.load(path) as arrays:
            return cls(**{field.name: arrays[field.name] for field in dataclasses.fields(cls)})


def _trim(a: np.ndarray, b: np.ndarray, target: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shorten the longer of A and B by one token, at its front or back at random, until both fit (BERT's)."""
    while len(a) + len(b) > target:
        if len(a) >= len(b):
            a = a[1:] if rng.random() < 0.5 else a[:-1]
        else:
            b = b[1:] if rng.random() < 0.5 else b[:-1]
    return a, b


def make_examples(
    documents: Sequence[Sequence[np.ndarray]],
    *,
    sequence_length: int,
    special: SpecialIds,
    next_sentence: bool = True,
    seed: int = 0,
) -> PretrainingExamples:
    """Sentence pairs with next-sentence labels (or single chunks), packed to `sequence_length`.

    Args:
        documents: each document's sentences as token ids (`tokenize_documents`).
        sequence_length: tokens per example, special tokens included.
        special: the special token ids.
        next_sentence: pairs A/B with labels; False gives one chunk per example.
        seed: seeds the split points, the random B and the trimming.
    """
    rng = np.random.default_rng(seed)
    target = sequence_length - (3 if next_sentence else 2)
    firsts, seconds, labels = [], [], []
    documents = [doc for doc in documents if doc]
    for d, doc in enumerate(documents):
        chunk: list[np.ndarray] = []
        for i, sentence in enumerate(doc):
            chunk.append(sentence)
            if sum(map(len, chunk)) < target and i < len(doc) - 1:
                continue
            tokens = np.concatenate(chunk)
            # A ends at a random sentence boundary inside the chunk (mid-way through a lone sentence)
            bounds = np.cumsum([len(s) for s in chunk])[:-1]
            cut = int(rng.choice(bounds)) if len(bounds) else len(tokens) // 2
            chunk = []
            if not next_sentence:
                firsts.append(tokens[:target])
                seconds.append(tokens[:0])
                labels.append(1)
                continue
            a, b, label = tokens[:cut], tokens[cut:], 1
            if len(documents) > 1 and rng.random() < 0.5:
                other = documents[(d + int(rng.integers(1, len(documents)))) % len(documents)]
                start = int(rng.integers(len(other)))
                b, label = np.concatenate(other[start:])[: max(target - len(a), 1)], 0
            a, b = _trim(a, b, target, rng)
            if len(a) and len(b):
                firsts.append(a)
                seconds.append(b)
                labels.append(label)
    return _pack(firsts, seconds, labels, sequence_length, special)


def _pack(firsts, seconds, labels, sequence_length: int, special: SpecialIds) -> PretrainingExamples:
    packer = keras_hub.layers.MultiSegmentPacker(
        sequence_length=sequence_length, start_value=special.cls, end_value=special.sep, pad_value=special.pad
    )
    # from flat ids and row lengths: tf.ragged.constant on Python lists is quadratic (8,000 rows: 20 s)
    ragged = lambda parts: tf.RaggedTensor.from_row_lengths(  # noqa: E731
        np.concatenate([np.asarray(p, "int32") for p in parts]), np.array([len(p) for p in parts], "int64")
    )
    if not firsts:
        empty = np.zeros((0, sequence_length), "int32")
        return PretrainingExamples(empty, empty, np.zeros((0,), "int32"))
    segments = (ragged(firsts), ragged(seconds)) if any(len(b) for b in seconds) else (ragged(firsts),)
    token_ids, segment_ids = tf.function(packer)(segments)  # in a graph keras-hub returns tensors, not lists
    return PretrainingExamples(
        np.asarray(token_ids, "int32"), np.asarray(segment_ids, "int32"), np.asarray(labels, "int32")
    )


def max_predictions(sequence_length: int, mask_rate: float) -> int:
    """Masked positions kept per sequence: `ceil(rate x length)` (BERT's 20 for 15% of 128)."""
    return max(1, math.ceil(mask_rate * sequence_length))


def mask_generator(
    vocab_size: int, special: SpecialIds, *, sequence_length: int, mask_rate: float = 0.15
) -> keras_hub.layers.MaskedLMMaskGenerator:
    """keras-hub's masker: `mask_rate` of the real tokens, 80% -> `[MASK]`, 10% -> random, 10% unchanged."""
    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=vocab_size,
        mask_selection_rate=mask_rate,
        mask_token_id=special.mask,
        mask_selection_length=max_predictions(sequence_length, mask_rate),
        unselectable_token_ids=[special.pad, special.cls, special.sep],
        mask_token_rate=0.8,
        random_token_rate=0.1,
    )


def _features(masker, special: SpecialIds, next_sentence: bool):
    def features(token_ids, segment_ids, label):
        masked = masker(token_ids)
        x = {
            "token_ids": masked["token_ids"],
            "segment_ids": segment_ids,
            "padding_mask": tf.not_equal(token_ids, special.pad),
            "mask_positions": masked["mask_positions"],
        }
        y = {"mlm": masked["mask_ids"]}
        weights = {"mlm": masked["mask_weights"]}
        if next_sentence:
            y["nsp"] = label
            weights["nsp"] = tf.ones_like(label, tf.float32)
        return x, y, weights

    return features


def pretraining_dataset(
    examples: PretrainingExamples,
    masker,
    special: SpecialIds,
    *,
    batch_size: int,
    next_sentence: bool,
    steps: int | None = None,
    seed: int = 0,
) -> tf.data.Dataset:
    """Training batches `(x, y, sample_weight)` with masks drawn anew for each batch.

    `x`: `token_ids` (masked), `segment_ids`, `padding_mask`, `mask_positions`; `y`: `mlm` (the original
    ids at the masked positions) and `nsp`; `sample_weight["mlm"]` is 0 on padded mask slots. With
    `steps`, an epoch is `steps` batches drawn from the shuffled, repeated examples; else one pass.
    """
    data = tf.data.Dataset.from_tensor_slices((examples.token_ids, examples.segment_ids, examples.next_sentence))
    data = data.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    if steps:
        data = data.repeat()
    data = data.batch(batch_size, drop_remainder=True)
    if steps:
        data = data.take(steps)
    return data.map(_features(masker, special, next_sentence), num_parallel_calls=tf.data.AUTOTUNE)


def masked_once(
    examples: PretrainingExamples, masker, special: SpecialIds, *, batch_size: int, next_sentence: bool
) -> tf.data.Dataset:
    """Held-out batches like `pretraining_dataset`'s, masked once (every evaluation scores the same masks)."""
    data = tf.data.Dataset.from_tensor_slices((examples.token_ids, examples.segment_ids, examples.next_sentence))
    batches = list(data.batch(batch_size).map(_features(masker, special, next_sentence)))
    fixed = tf.nest.map_structure(lambda *parts: tf.concat(parts, 0), *batches)
    return tf.data.Dataset.from_tensor_slices(fixed).batch(batch_size)


@keras.saving.register_keras_serializable(package="zoo")
class TextPacker(keras.layers.Layer):
    """Raw strings -> `{token_ids, segment_ids, padding_mask}` for a BERT, long texts truncated.

    Args:
        vocabulary: the WordPiece vocabulary (with `[PAD] [CLS] [SEP] [UNK] [MASK]` somewhere).
        sequence_length: tokens per text, `[CLS]` and `[SEP]` included.
        truncation: which tokens a longer text keeps: `"head"` (the first), `"tail"` (the last) or
            `"head+tail"` (the first quarter and the last three quarters of the room, Sun et al. 2019's
            128 + 382 of 512 in proportion).
        lowercase: lower-case and strip accents (uncased models).

    Example:
        >>> packer = TextPacker(["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]", "a", "b"], sequence_length=5)
        >>> packer(tf.constant(["a b a b"]))["token_ids"]  # [[1, 5, 6, 5, 2]]
    """

    def __init__(
        self, vocabulary, sequence_length: int, truncation: str = "head", lowercase: bool = True, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {', '.join(TRUNCATIONS)}, got {truncation!r}")
        self.vocabulary = list(vocabulary)
        self.sequence_length, self.truncation, self.lowercase = int(sequence_length), truncation, lowercase
        self.special = SpecialIds.of(self.vocabulary)
        self.tokenizer = make_tokenizer(self.vocabulary, lowercase)
        self.packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length=self.sequence_length,
            start_value=self.special.cls,
            end_value=self.special.sep,
            pad_value=self.special.pad,
        )

    def truncate(self, ids: tf.RaggedTensor) -> tf.RaggedTensor:
        """Keep `sequence_length - 2` tokens of each row: its head, its tail, or both."""
        room = self.sequence_length - 2
        lengths = ids.row_lengths()
        keep = tf.minimum(lengths, room)
        positions = tf.ragged.range(keep)
        skipped = tf.expand_dims(lengths - keep, 1)  # tokens dropped from a row (0 if it fits)
        if self.truncation == "tail":
            positions = positions + skipped
        elif self.truncation == "head+tail":
            head = room // 4
            positions = tf.where(positions < head, positions, positions + skipped)
        flat = positions + tf.expand_dims(ids.row_starts(), 1)
        return tf.RaggedTensor.from_row_lengths(tf.gather(ids.flat_values, flat.flat_values), keep)

    def call(self, texts):
        if tf.executing_eagerly():  # keras-hub's layers answer eager calls with Python lists
            return self._graph(texts)
        return self._pack(texts)

    @tf.function(reduce_retracing=True)
    def _graph(self, texts):
        return self._pack(texts)

    def _pack(self, texts):
        ids = self.tokenizer(tf.reshape(texts, [-1]))
        token_ids, segment_ids = self.packer(self.truncate(tf.cast(ids, tf.int32)))
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": tf.not_equal(token_ids, self.special.pad),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary=self.vocabulary,
            sequence_length=self.sequence_length,
            truncation=self.truncation,
            lowercase=self.lowercase,
        )
        return config

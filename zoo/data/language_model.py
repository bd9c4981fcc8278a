"""Language-modelling streams for chapter 8: PTB word ids (Zaremba's layout) and characters from any text.

A language model reads one long stream of token ids. For truncated back-propagation through time
the stream is cut into `batch_size` contiguous rows, and each row into windows of `num_steps`
tokens, so that row `r` of batch `k + 1` continues row `r` of batch `k` (Zaremba et al. 2014,
TensorFlow's old `ptb_word_lm.py` reader):

    stream   t0 t1 t2 ... t(N-1)
    rows     row 0 = t0 .. t(L-1) | row 1 = tL .. t(2L-1) | ...        (L = N // batch_size)
    batch k  inputs  rows[:, k*num_steps : (k+1)*num_steps]
             targets rows[:, k*num_steps + 1 : (k+1)*num_steps + 1]     (the next token)

Training drops the tail that does not fill a whole batch (a stateful Keras 3 RNN has a fixed batch
shape and fails on a partial last batch). Evaluation must count every token exactly once, so its
stream is padded to whole batches instead and each window carries a weight (1 for a real target,
0 for padding); `keras_hub.metrics.Perplexity` with these weights is then exactly
`exp(mean cross-entropy over the split)`.

Vocabularies put the out-of-vocabulary token at id 0 (so `keras.layers.StringLookup(vocabulary[1:],
num_oov_indices=1)` reproduces the ids in a SavedModel): for PTB that is the files' own `<unk>`,
followed by the other 9,999 words of the training file (`<eos>` included, one at every newline,
as Zaremba) by decreasing count, ties alphabetically; for characters it is `[UNK]` followed by
every character of the training text by decreasing count.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from zoo.data import corpus, ptb
from zoo.errors import CorruptData, UserError

SPLITS = ("train", "validation", "test")
EOS = "<eos>"
UNK = "<unk>"
CHAR_UNK = "[UNK]"
NEWLINE = "\n"


@dataclasses.dataclass(frozen=True)
class LanguageModelInfo:
    """What a language-model recipe needs beside the datasets.

    Attributes:
        level: `"word"` (tokens split on whitespace) or `"char"` (Unicode characters).
        vocabulary: id -> token; `vocabulary[0]` is the out-of-vocabulary token.
        boundary: the token that separates sentences/lines (`<eos>` or `"\\n"`); the SavedModel
            reads a sentence as following one and scores the one that ends it.
        batch_size: parallel streams per batch.
        num_steps: tokens per window (the truncated-BPTT length).
        steps: batches per epoch for each split (`"train"`, `"validation"`, `"test"`).
        tokens: predicted tokens per split (evaluation splits: all of them, each once).
        source: where the text came from (a path or `"ptb"`).
    """

    level: str
    vocabulary: tuple[str, ...]
    boundary: str
    batch_size: int
    num_steps: int
    steps: Mapping[str, int]
    tokens: Mapping[str, int]
    source: str = ""

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def oov_token(self) -> str:
        return self.vocabulary[0]


@dataclasses.dataclass(frozen=True)
class Streams:
    """Id streams of the three splits and their vocabulary (before windowing)."""

    level: str
    vocabulary: tuple[str, ...]
    boundary: str
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    source: str = ""


# ----------------------------------------------------------------------------- vocabularies


def build_vocabulary(tokens: Iterable[str], oov_token: str) -> tuple[str, ...]:
    """`(oov_token, then every other token by decreasing count, ties in sorted order)`."""
    counts = collections.Counter(tokens)
    counts.pop(oov_token, None)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return (oov_token, *(token for token, _ in ordered))


def encode(tokens: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """Token ids (int32); tokens outside `vocabulary` get id 0, its out-of-vocabulary token."""
    index = {token: i for i, token in enumerate(vocabulary)}
    return np.fromiter((index.get(t, 0) for t in tokens), dtype=np.int32, count=len(tokens))


# ----------------------------------------------------------------------------- sources


def ptb_words(sentences: Iterable[Sequence[str]]) -> list[str]:
    """Zaremba's reading of a PTB file: its words with `<eos>` after every line."""
    words: list[str] = []
    for sentence in sentences:
        words.extend(sentence)
        words.append(EOS)
    return words


def ptb_word_streams(data_dir: str | os.PathLike | None = None) -> Streams:
    """PTB train/validation/test as word ids with the training file's 10,000-word vocabulary."""
    splits = ptb.load(data_dir)
    return word_streams(splits["train"], splits["validation"], splits["test"], source="ptb")


def word_streams(
    train: Iterable[Sequence[str]],
    validation: Iterable[Sequence[str]],
    test: Iterable[Sequence[str]],
    *,
    source: str = "",
) -> Streams:
    """Word ids of three splits of tokenised sentences (`<eos>` after each), vocabulary from `train`."""
    splits = [ptb_words(sentences) for sentences in (train, validation, test)]
    vocabulary = build_vocabulary(splits[0], UNK)
    return Streams("word", vocabulary, EOS, *(encode(words, vocabulary) for words in splits), source=source)


def char_text(path: str | os.PathLike, pattern: str = "*.txt") -> str:
    """The text of a corpus (file, folder or archive; chapter 6's reader) as one string.

    A text file keeps its non-empty lines, each ended by a newline; a folder or archive gives its
    files' texts, each ended by a newline.
    """
    texts, _ = corpus.read_texts(path, pattern)
    return "".join(t if t.endswith(NEWLINE) else t + NEWLINE for t in texts)


def char_streams(
    text: str | None = None,
    *,
    path: str | os.PathLike | None = None,
    validation_text: str | None = None,
    test_text: str | None = None,
    holdout: float = 0.05,
    source: str = "",
) -> Streams:
    """Character ids; without `validation_text`/`test_text` the last `2 * holdout` of the text is held out.

    The held-out parts are contiguous (the last `holdout` fraction is the test split, the one
    before it validation), so no window is shared between splits; the vocabulary comes from the
    training part only and unseen characters get id 0 (`[UNK]`).
    """
    if text is None:
        if path is None:
            raise ValueError("char_streams needs a text or a path")
        text = char_text(path)
        source = source or str(path)
    if validation_text is None or test_text is None:
        n = len(text)
        cut = int(round(n * holdout))
        train_text, validation_text, test_text = text[: n - 2 * cut], text[n - 2 * cut : n - cut], text[n - cut :]
    else:
        train_text = text
    vocabulary = build_vocabulary(train_text, CHAR_UNK)
    return Streams(
        "char",
        vocabulary,
        NEWLINE,
        encode(train_text, vocabulary),
        encode(validation_text, vocabulary),
        encode(test_text, vocabulary),
        source=source,
    )


# ----------------------------------------------------------------------------- windows


def train_windows(ids: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Zaremba's layout: `(inputs, targets)`, each `[steps * batch_size, num_steps]`, batch k = rows k*B..k*B+B-1.

    The stream is cut into `batch_size` rows of `L = len(ids) // batch_size` tokens and each row
    into `(L - 1) // num_steps` windows; the tail that fills no whole batch is dropped.
    """
    ids = np.asarray(ids, dtype=np.int32)
    length = len(ids) // batch_size
    steps = (length - 1) // num_steps
    if steps < 1:
        raise UserError(
            f"a stream of {len(ids)} tokens gives no batch of {batch_size} x {num_steps + 1} "
            f"tokens; use a longer text or smaller batch_size/num_steps"
        )
    rows = ids[: batch_size * length].reshape(batch_size, length)
    used = steps * num_steps
    inputs = rows[:, :used].reshape(batch_size, steps, num_steps)
    targets = rows[:, 1 : used + 1].reshape(batch_size, steps, num_steps)
    # [B, steps, T] -> [steps, B, T] -> [steps * B, T]: consecutive batches continue each row.
    return (inputs.transpose(1, 0, 2).reshape(-1, num_steps), targets.transpose(1, 0, 2).reshape(-1, num_steps))


def eval_windows(ids: np.ndarray, batch_size: int, num_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(inputs, targets, weights)` in the same row layout, every target of the stream exactly once.

    The `len(ids) - 1` (input, target) pairs are padded with weight-0 pairs to `batch_size` rows of
    a whole number of windows, so nothing is dropped; padding only ever sits at the end of the
    stream, after every real pair of its row. A real pair weighs `padded slots / real pairs`, not 1:
    Keras divides a batch's weighted loss by its slots and averages the batches, so `val_loss` is
    then the mean over the real tokens (with 0/1 weights it was diluted by the padding); weighted
    means such as the perplexity are unchanged by the common factor.
    """
    ids = np.asarray(ids, dtype=np.int32)
    pairs = len(ids) - 1
    if pairs < 1:
        raise UserError(f"a stream of {len(ids)} tokens has nothing to predict")
    steps = -(-pairs // (batch_size * num_steps))  # ceil
    total = steps * batch_size * num_steps
    inputs = np.zeros(total, np.int32)
    targets = np.zeros(total, np.int32)
    weights = np.zeros(total, np.float32)
    inputs[:pairs], targets[:pairs], weights[:pairs] = ids[:-1], ids[1:], total / pairs

    def layout(a):
        return a.reshape(batch_size, steps, num_steps).transpose(1, 0, 2).reshape(-1, num_steps)

    return layout(inputs), layout(targets), layout(weights)


def context_windows(
    ids: np.ndarray, num_steps: int, context: int, pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows for a feed-forward (n-gram window) LM: `(inputs, targets, weights)`, each `[rows, context + num_steps]`.

    Row `r` predicts the targets `ids[r*num_steps + 1 ..][:num_steps]` and its inputs start `context`
    tokens earlier, so every target is predicted from a full window of real tokens (the stream's first
    tokens from `pad_id`, the boundary it starts after). Those leading `context` positions, and the
    padding after the last real pair, weigh 0; every real pair weighs `slots / real pairs` (as in
    `eval_windows`, so Keras' per-slot loss averages to the mean over the real tokens). Every one of
    the `len(ids) - 1` (input, target) pairs of the stream is in exactly one row.

        ids 10 11 12 13 14 15 16 17, num_steps 3, context 2, pad 0:
        inputs  [0 0 10 11 12]  [11 12 13 14 15]  [14 15 16 0 0]
        targets [. . 11 12 13]  [.  .  14 15 16]  [.  .  17 . .]    (. = weight 0)
    """
    ids = np.asarray(ids, dtype=np.int32)
    pairs = len(ids) - 1
    if pairs < 1:
        raise UserError(f"a stream of {len(ids)} tokens has nothing to predict")
    rows = -(-pairs // num_steps)  # ceil
    tail = rows * num_steps - pairs
    inputs_stream = np.concatenate([np.full(context, pad_id, np.int32), ids[:-1], np.zeros(tail, np.int32)])
    targets_stream = np.concatenate([np.zeros(context, np.int32), ids[1:], np.zeros(tail, np.int32)])
    real = np.concatenate([np.zeros(context), np.ones(pairs), np.zeros(tail)]).astype(bool)
    index = np.arange(rows)[:, None] * num_steps + np.arange(context + num_steps)[None, :]
    mask = real[index] & (np.arange(context + num_steps) >= context)[None, :]
    weights = np.where(mask, index.size / pairs, 0.0).astype(np.float32)
    return inputs_stream[index], targets_stream[index], weights


def context_datasets(
    streams: Streams,
    batch_size: int,
    num_steps: int,
    context: int,
    *,
    seed: int = 0,
    max_steps: int | None = None,
) -> tuple[dict[str, tf.data.Dataset], LanguageModelInfo]:
    """`({"train", "validation", "test"}: dataset, info)` of `context_windows` rows for a feed-forward LM.

    Batches are `(inputs, targets, weights)`; training rows are reshuffled every epoch (seeded) and
    cut to whole batches, evaluation rows keep the stream's order and cover every token once. The
    context before a stream's first token is its boundary token (`streams.boundary`).
    """
    if batch_size < 1 or num_steps < 1 or context < 0:
        raise UserError(
            "need batch_size >= 1, num_steps >= 1 and a context >= 0",
            params={"batch_size": batch_size, "num_steps": num_steps, "context": context},
        )
    pad_id = streams.vocabulary.index(streams.boundary) if streams.boundary in streams.vocabulary else 0
    train_rows = -(-(len(streams.train) - 1) // num_steps)
    if train_rows < batch_size:
        unit = "characters" if streams.level == "char" else "tokens"
        raise CorruptData(
            f"{streams.source or 'corpus'}: {len(streams.train)} training {unit} give {max(train_rows, 0)} rows of "
            f"{num_steps}, fewer than batch_size = {batch_size}; use a longer text or smaller batch_size/num_steps"
        )
    for split in ("validation", "test"):
        if len(getattr(streams, split)) < 2:
            raise CorruptData(f"{streams.source or 'corpus'}: the {split} split has fewer than 2 tokens")
    rows = {split: context_windows(getattr(streams, split), num_steps, context, pad_id) for split in SPLITS}
    train = tf.data.Dataset.from_tensor_slices(rows["train"]).shuffle(
        len(rows["train"][0]), seed=seed, reshuffle_each_iteration=True
    )
    out = {"train": train.batch(batch_size, drop_remainder=True)}
    for split in ("validation", "test"):
        out[split] = tf.data.Dataset.from_tensor_slices(rows[split]).batch(batch_size)
    steps = {split: -(-len(rows[split][0]) // batch_size) for split in ("validation", "test")}
    return out, _info(
        streams, batch_size, num_steps, {"train": len(rows["train"][0]) // batch_size, **steps}, max_steps
    )


def _info(
    streams: Streams, batch_size: int, num_steps: int, steps: dict[str, int], max_steps: int | None
) -> LanguageModelInfo:
    """The info of datasets with `steps` batches per split: tokens trained per epoch, every evaluation token."""
    tokens = {"train": steps["train"] * batch_size * num_steps}
    tokens.update({split: len(getattr(streams, split)) - 1 for split in ("validation", "test")})
    if max_steps:
        steps = {k: min(v, max_steps) for k, v in steps.items()}
    return LanguageModelInfo(
        level=streams.level,
        vocabulary=streams.vocabulary,
        boundary=streams.boundary,
        batch_size=batch_size,
        num_steps=num_steps,
        steps=steps,
        tokens=tokens,
        source=streams.source,
    )


def train_dataset(
    ids: np.ndarray, batch_size: int, num_steps: int, *, shuffle: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """Batches `(inputs, targets)` of shape `[batch_size, num_steps]` in stream order.

    `shuffle=True` (stateless training on independent windows) reshuffles the windows each epoch,
    seeded; a stateful model must keep the order (the default).
    """
    inputs, targets = train_windows(ids, batch_size, num_steps)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True)


def eval_dataset(ids: np.ndarray, batch_size: int, num_steps: int) -> tf.data.Dataset:
    """Batches `(inputs, targets, weights)` covering every token of the stream once, in stream order."""
    return tf.data.Dataset.from_tensor_slices(eval_windows(ids, batch_size, num_steps)).batch(
        batch_size, drop_remainder=True
    )


def datasets(
    streams: Streams,
    batch_size: int,
    num_steps: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    max_steps: int | None = None,
) -> tuple[dict[str, tf.data.Dataset], LanguageModelInfo]:
    """`({"train", "validation", "test"}: dataset, info)` for one set of streams."""
    if batch_size < 1 or num_steps < 1:
        raise UserError(
            "need batch_size >= 1 and num_steps >= 1", params={"batch_size": batch_size, "num_steps": num_steps}
        )
    minimum = batch_size * (num_steps + 1)
    if len(streams.train) < minimum:
        unit = "characters" if streams.level == "char" else "tokens"
        raise CorruptData(
            f"{streams.source or 'corpus'}: {len(streams.train)} training {unit}, fewer than "
            f"batch_size x (num_steps + 1) = {minimum}; use a longer text or smaller "
            f"batch_size/num_steps"
        )
    for split in ("validation", "test"):
        if len(getattr(streams, split)) < 2:
            raise CorruptData(f"{streams.source or 'corpus'}: the {split} split has fewer than 2 tokens")
    out = {
        "train": train_dataset(streams.train, batch_size, num_steps, shuffle=shuffle, seed=seed),
        "validation": eval_dataset(streams.validation, batch_size, num_steps),
        "test": eval_dataset(streams.test, batch_size, num_steps),
    }
    steps = {"train": (len(streams.train) // batch_size - 1) // num_steps}
    for split in ("validation", "test"):
        steps[split] = -(-(len(getattr(streams, split)) - 1) // (batch_size * num_steps))
    return out, _info(streams, batch_size, num_steps, steps, max_steps)

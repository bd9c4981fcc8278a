"""Chapter 6 skip-gram data: vocabulary (UNK at 0), sub-sampling, dynamic windows, unigram^0.75 negatives, in tf.data.

Replaces the book's `keras.preprocessing.sequence.skipgrams`/`make_sampling_table` (removed in Keras 3),
which built every pair in a Python loop once and reused it each epoch. Here pairs are drawn afresh
every epoch, vectorised per chunk of the corpus with TF ops.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from zoo.errors import CorruptData

UNK = "[UNK]"  # index 0, the same convention as keras.layers.StringLookup


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """Words by decreasing training frequency; `words[0]` is `[UNK]` and `counts[0]` the out-of-vocabulary tokens."""

    words: tuple[str, ...]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    def encode(self, documents: Iterable[Sequence[str]], unk_token: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and document ids (one per token) of `documents`; unknown words (and `unk_token`) map to 0."""
        index = self.index
        if unk_token is not None:
            index[unk_token] = 0
        ids, segments = [], []
        for number, tokens in enumerate(documents):
            ids.append(np.fromiter(map(index.get, tokens, itertools.repeat(0)), "int32", len(tokens)))
            segments.append(np.full(len(tokens), number, "int32"))
        if not ids:
            return np.zeros(0, "int32"), np.zeros(0, "int32")
        return np.concatenate(ids), np.concatenate(segments)


@dataclasses.dataclass(frozen=True)
class SkipgramInfo:
    """What a skip-gram model and its report need to know about the corpus.

    Attributes:
        vocabulary: the words, `[UNK]` at 0, by decreasing frequency (index = row of the embeddings).
        counts: training-corpus count of each word (`counts[0]`: out-of-vocabulary tokens).
        tokens: tokens in the training corpus.
        steps_per_epoch: batches per epoch (the expected number of examples / batch size, at most --max-steps).
        source: what the corpus is, for titles ("text8", "PTB", a file name).
        full_steps_per_epoch: batches in a whole pass over the corpus (0: as `steps_per_epoch`).
    """

    vocabulary: tuple[str, ...]
    counts: np.ndarray
    tokens: int
    steps_per_epoch: int
    source: str = ""
    full_steps_per_epoch: int = 0

    @property
    def oov_tokens(self) -> int:
        return int(self.counts[0])


def encode_corpus(
    documents: Iterable[Sequence[str]], max_vocab: int = 50_000, min_count: int = 5, unk_token: str | None = None
) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
    """Build the vocabulary on `documents` (the training split) and encode them in one pass.

    Keeps the `max_vocab - 1` most frequent words seen at least `min_count` times (ties broken by first
    occurrence); `unk_token` (PTB's `<unk>`) counts as out of vocabulary.
    Returns the vocabulary, token ids and document ids (so windows never cross documents).
    """
    # A new word gets the next id, through C calls only (no Python frame per token: 2.5x faster than setdefault).
    provisional: collections.defaultdict[str, int] = collections.defaultdict()
    provisional.default_factory = provisional.__len__
    lookup = provisional.__getitem__
    ids, lengths = [], []
    for tokens in documents:
        ids.append(np.fromiter(map(lookup, tokens), "int64", len(tokens)))
        lengths.append(len(tokens))
    if not provisional:
        raise CorruptData("the training corpus has no tokens")
    raw_ids = np.concatenate(ids)
    segments = np.repeat(np.arange(len(lengths), dtype="int32"), lengths)
    words = np.array(list(provisional), dtype=object)
    counts = np.bincount(raw_ids, minlength=len(words))
    order = np.argsort(-counts, kind="stable")
    keep = order[counts[order] >= min_count]
    if unk_token is not None:
        keep = keep[words[keep] != unk_token]
    keep = keep[: max_vocab - 1]
    remap = np.zeros(len(words), "int32")
    remap[keep] = np.arange(1, len(keep) + 1, dtype="int32")
    final = remap[raw_ids]
    vocab_counts = np.bincount(final, minlength=len(keep) + 1).astype("int64")
    return Vocabulary((UNK, *words[keep].tolist()), vocab_counts), final, segments


def keep_probabilities(counts: np.ndarray, threshold: float) -> np.ndarray:
    """Probability of keeping each word in sub-sampling, from Mikolov's formula as word2vec.c and gensim apply it.

    The paper discards with 1 - sqrt(t/f); the released C code (and gensim, our benchmark) keeps with
    sqrt(t/f) + t/f, capped at 1. `threshold <= 0` keeps everything.
    """
    if threshold <= 0:
        return np.ones(len(counts), "float32")
    freq = counts / max(counts.sum(), 1)
    with np.errstate(divide="ignore"):
        ratio = np.where(freq > 0, threshold / np.maximum(freq, 1e-30), np.inf)
    return np.minimum(np.sqrt(ratio) + ratio, 1.0).astype("float32")


def negative_cdf(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Cumulative unigram^power distribution over the vocabulary ([UNK] gets no mass), for `tf.searchsorted`."""
    weights = counts.astype("float64") ** power
    weights[0] = 0.0
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return cdf.astype("float32")


def window_contexts(
    ids: tf.Tensor,
    segments: tf.Tensor,
    keep_prob: tf.Tensor,
    window: int,
    drop_unk: bool = True,
    seed: int | None = None,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Each kept word of one chunk with its window: `(centres (n,), contexts (n, 2 window), valid (n, 2 window))`.

    Sub-sample, then each centre draws its window b in [1, window] (word2vec.c's dynamic window);
    `valid` marks the context slots inside b, inside the chunk and inside the centre's document.
    Sub-sampling happens before windowing (as in word2vec.c), so the effective window widens over
    dropped words.
    """
    keep = tf.random.uniform(tf.shape(ids), seed=seed) < tf.gather(keep_prob, ids)
    if drop_unk:
        keep &= ids > 0
    ids, segments = tf.boolean_mask(ids, keep), tf.boolean_mask(segments, keep)
    n = tf.shape(ids)[0]
    offsets = tf.constant([d for d in range(-window, window + 1) if d != 0], tf.int32)
    reach = tf.random.uniform([n, 1], 1, window + 1, dtype=tf.int32, seed=None if seed is None else seed + 1)
    position = tf.range(n)[:, None] + offsets[None, :]
    inside = (position >= 0) & (position < n)
    clipped = tf.clip_by_value(position, 0, tf.maximum(n - 1, 0))
    valid = inside & (tf.abs(offsets)[None, :] <= reach) & (tf.gather(segments, clipped) == segments[:, None])
    return ids, tf.gather(ids, clipped), valid


def skipgram_pairs(
    ids: tf.Tensor,
    segments: tf.Tensor,
    keep_prob: tf.Tensor,
    window: int,
    drop_unk: bool = True,
    seed: int | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """(target, context) pairs of one chunk (`window_contexts` flattened). Pairs never cross a document boundary."""
    centres, contexts, valid = window_contexts(ids, segments, keep_prob, window, drop_unk, seed)
    targets = tf.boolean_mask(tf.broadcast_to(centres[:, None], tf.shape(contexts)), valid)
    return targets, tf.boolean_mask(contexts, valid)


def expected_pairs(counts: np.ndarray, keep_prob: np.ndarray, window: int, drop_unk: bool = True) -> float:
    """Expected number of pairs per epoch (each kept word draws a mean window (window + 1) / 2 on each side)."""
    kept = counts * keep_prob
    if drop_unk:
        kept = kept[1:]
    return float(kept.sum() * (window + 1))


def expected_centres(counts: np.ndarray, keep_prob: np.ndarray, drop_unk: bool = True) -> float:
    """Expected number of CBOW examples (kept words) per epoch."""
    kept = counts * keep_prob
    return float((kept[1:] if drop_unk else kept).sum())


def _chunks(ids: np.ndarray, segments: np.ndarray, chunk_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    if len(ids) == 0:
        raise CorruptData("cannot build skip-gram pairs from an empty corpus")
    pad = (-len(ids)) % chunk_size
    # Padding is UNK in a document of its own: it is always dropped or never paired with real words.
    ids = np.concatenate([ids, np.zeros(pad, "int32")]).reshape(-1, chunk_size)
    segments = np.concatenate([segments, np.full(pad, -1, "int32")]).reshape(-1, chunk_size)
    ds = tf.data.Dataset.from_tensor_slices((ids, segments))
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    return ds


def draw_negatives(cdf: tf.Tensor, vocab_size: int, shape, seed=None) -> tf.Tensor:
    """Negative word ids of `shape` from the unigram^0.75 `cdf` (`negative_cdf`).

    `seed`: a stateless seed (shape (2,) int), for draws that must repeat (inference); `None`: stateful.
    """
    size = [tf.reduce_prod(shape)]
    draws = tf.random.uniform(size) if seed is None else tf.random.stateless_uniform(size, seed)
    sampled = tf.searchsorted(cdf, draws, side="right", out_type=tf.int32)
    return tf.reshape(tf.minimum(sampled, vocab_size - 1), shape)


def _shuffled(shuffle: bool, *tensors: tf.Tensor) -> tuple[tf.Tensor, ...]:
    if not shuffle:
        return tensors
    order = tf.random.shuffle(tf.range(tf.shape(tensors[0])[0]))
    return tuple(tf.gather(t, order) for t in tensors)


def skipgram_dataset(
    ids: np.ndarray,
    segments: np.ndarray,
    vocabulary: Vocabulary,
    *,
    window: int,
    negatives: int,
    subsample: float,
    batch_size: int,
    group_size: int | None = None,
    chunk_size: int = 10_000,
    shuffle: bool = True,
    drop_unk: bool = True,
    power: float = 0.75,
    seed: int = 0,
) -> tf.data.Dataset:
    """Skip-gram batches of `batch_size` (target, context) pairs, negatives from unigram^`power`.

    With `group_size=None` (the per-pair model, `build_skipgram`): `({"target": (B,), "contexts": (B, 1 +
    negatives)}, labels (B, 1 + negatives))`, column 0 the true context (label 1), the others its own
    negatives (label 0). With `group_size=G` (`SharedNegatives`; B must be a multiple of G):
    `{"inputs": (B/G, G), "positives": (B/G, G), "negatives": (B/G, negatives)}`, G pairs sharing
    each row of negatives. Pairs are regenerated, shuffled within chunks, and chunks reshuffled every
    epoch; batches are exactly `batch_size` (the last partial batch is dropped).
    """
    keep_prob = tf.constant(keep_probabilities(vocabulary.counts, subsample))
    cdf = tf.constant(negative_cdf(vocabulary.counts, power))
    vocab_size = len(vocabulary)

    def pairs(chunk_ids, chunk_segments):
        return _shuffled(shuffle, *skipgram_pairs(chunk_ids, chunk_segments, keep_prob, window, drop_unk))

    def add_negatives(targets, contexts):
        sampled = draw_negatives(cdf, vocab_size, [tf.shape(targets)[0], negatives])
        columns = tf.concat([contexts[:, None], sampled], axis=1)
        labels = tf.concat([tf.ones_like(contexts[:, None], tf.float32), tf.zeros_like(sampled, tf.float32)], axis=1)
        return {"target": targets, "contexts": columns}, labels

    def group(targets, contexts):
        shape = [batch_size // group_size, group_size]
        return {
            "inputs": tf.reshape(targets, shape),
            "positives": tf.reshape(contexts, shape),
            "negatives": draw_negatives(cdf, vocab_size, [shape[0], negatives]),
        }

    ds = _chunks(ids, segments, chunk_size, shuffle, seed)
    ds = ds.map(pairs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    ds = ds.rebatch(batch_size, drop_remainder=True)
    return ds.map(add_negatives if group_size is None else group, num_parallel_calls=tf.data.AUTOTUNE)


def cbow_dataset(
    ids: np.ndarray,
    segments: np.ndarray,
    vocabulary: Vocabulary,
    *,
    window: int,
    negatives: int,
    subsample: float,
    batch_size: int,
    group_size: int,
    chunk_size: int = 10_000,
    shuffle: bool = True,
    drop_unk: bool = True,
    power: float = 0.75,
    seed: int = 0,
) -> tf.data.Dataset:
    """CBOW batches of `batch_size` centres for `SharedNegatives`: each centre's window predicts it.

    `{"inputs": (N, G, 2 window) context ids, "input_mask": (N, G, 2 window) 1.0 where a context
    word is inside the centre's dynamic window, "positives": (N, G) the centres, "negatives": (N,
    negatives)}` with N = batch_size / G groups sharing their negatives. Centres whose window holds no
    word (a one-word document) are dropped, as word2vec.c skips them.
    """
    keep_prob = tf.constant(keep_probabilities(vocabulary.counts, subsample))
    cdf = tf.constant(negative_cdf(vocabulary.counts, power))
    vocab_size, width = len(vocabulary), 2 * window

    def windows(chunk_ids, chunk_segments):
        centres, contexts, valid = window_contexts(chunk_ids, chunk_segments, keep_prob, window, drop_unk)
        some = tf.reduce_any(valid, axis=1)
        centres, contexts, valid = (tf.boolean_mask(t, some) for t in (centres, contexts, valid))
        return _shuffled(shuffle, centres, contexts * tf.cast(valid, tf.int32), tf.cast(valid, tf.float32))

    def group(centres, contexts, mask):
        groups = batch_size // group_size
        return {
            "inputs": tf.reshape(contexts, [groups, group_size, width]),
            "input_mask": tf.reshape(mask, [groups, group_size, width]),
            "positives": tf.reshape(centres, [groups, group_size]),
            "negatives": draw_negatives(cdf, vocab_size, [groups, negatives]),
        }

    ds = _chunks(ids, segments, chunk_size, shuffle, seed)
    ds = ds.map(windows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    ds = ds.rebatch(batch_size, drop_remainder=True)
    return ds.map(group, num_parallel_calls=tf.data.AUTOTUNE)

"""Chapter 14 data: documents as word ids for paragraph vectors (PV-DBOW, PV-DM), and a graph tokenizer for serving.

Training reads tokenised documents (`zoo.data.corpus.tokenize`), keeps words seen `min_count` times
(gensim's Doc2Vec drops the others before training, so they are removed here too, not mapped to
`[UNK]`), and streams, every epoch, each remaining word of each document as one example:

- PV-DBOW: `{"docs": (N,), "words": (N, G), "weights": (N, G), "negatives": (N, K)}`: each group is G
  words of one document (the last group of a document padded, weight 0), which its document vector
  predicts; the group shares its input vector and K negatives (`shared_input_gradients`);
- PV-DM: `{"docs": (N, G), "words": (N, G), "contexts": (N, G, 2 window), "mask", "negatives"}`: G
  words of any documents share K negatives; each word's document vector and window (word2vec's
  dynamic window, from `zoo.data.skipgrams.window_contexts`) predict it;
- both: the PV-DM batch, and PV-DBOW on the same words laid out as PV-DM's (`docs` (N, G)).

See `zoo.models.shared_negatives`. `tokenize_strings` is
`corpus.tokenize` in TensorFlow ops, so a SavedModel tokenises raw strings as training did.

Skip-thought and the sequence autoencoder read sentences instead: `zoo.data.sentence_decoders`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from zoo.data.skipgrams import (
    Vocabulary,
    draw_negatives,
    encode_corpus,
    keep_probabilities,
    negative_cdf,
    window_contexts,
)
from zoo.errors import UserError

MODES = ("dbow", "dm", "both")


def tokenize_strings(texts) -> tf.RaggedTensor:
    """Raw strings `(batch,)` -> their words `(batch, None)`, as `zoo.data.corpus.tokenize` splits them.

    Lower-case, HTML tags removed, runs of letters/digits/marks/underscores with inner apostrophes
    ("don't" stays one word, quotes around a word go). TensorFlow string ops only, so it runs inside
    a SavedModel.

    Example:
        >>> tokenize_strings(tf.constant(["Don't <br />GO 'there'!"])).to_list()
        [[b"don't", b'go', b'there']]
    """
    text = tf.strings.lower(tf.convert_to_tensor(texts, tf.string), encoding="utf-8")
    text = tf.strings.regex_replace(text, r"<[^>]{0,40}>", " ")
    text = tf.strings.regex_replace(text, r"[^\pL\pN\pM_']+", " ")
    text = tf.strings.regex_replace(text, r"''+", " ")
    for _ in range(2):  # RE2 cannot look around: a space shared by two quotes needs a second pass
        text = tf.strings.regex_replace(text, r"(^|\s)'|'(\s|$)", " ")
    return tf.strings.split(text)


@dataclasses.dataclass(frozen=True)
class DocumentInfo:
    """What a paragraph-vector model and its report need to know about the documents.

    Attributes:
        vocabulary: words by decreasing count, `[UNK]` at 0 (never trained on: dropped words).
        counts: training count of each word (`counts[0]` = 0).
        documents: number of documents (rows of the document table; row i = document i).
        tokens: words trained on per epoch (after dropping the rare ones).
        dropped: rare word occurrences dropped.
        steps_per_epoch: batches per epoch (each mode streams every word once).
        source: what the corpus is, for titles.
        texts: the raw text of each document (row i = document i), for reports and inference.
        labels: class of each document (IMDB: 1 = positive), or None; never used in training.
        train_size: documents `[0, train_size)` form the evaluation's training half (0: no evaluation).
    """

    vocabulary: tuple[str, ...]
    counts: np.ndarray
    documents: int
    tokens: int
    dropped: int
    steps_per_epoch: int
    source: str = ""
    texts: Sequence[str] = ()
    labels: np.ndarray | None = None
    train_size: int = 0


def check_mode(mode: str) -> None:
    """Refuse an unknown paragraph-vector mode in one line."""
    if mode not in MODES:
        raise UserError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", param="mode", value=mode)


def encode_documents(
    documents: Sequence[Sequence[str]], *, min_count: int, max_vocab: int
) -> tuple[Vocabulary, np.ndarray, np.ndarray, int]:
    """Vocabulary of `documents`, and their word ids and document ids with rare words removed.

    Returns `(vocabulary, ids, doc_ids, dropped)`; a document of rare words only keeps its row (its
    vector stays as initialised). An empty corpus, or one without a word seen `min_count` times, is
    refused with a `UserError`.
    """
    if not any(len(d) for d in documents):
        raise UserError("the corpus has no words: give documents with text", param="corpus")
    vocabulary, ids, segments = encode_corpus(documents, max_vocab=max_vocab, min_count=min_count)
    if len(vocabulary) < 2:
        raise UserError(
            f"no word occurs min_count={min_count} times; lower min_count or use a larger corpus",
            param="min_count",
            value=min_count,
        )
    known = ids > 0
    counts = vocabulary.counts.copy()
    counts[0] = 0
    return Vocabulary(vocabulary.words, counts), ids[known], segments[known], int((~known).sum())


def document_dataset(
    ids: np.ndarray,
    doc_ids: np.ndarray,
    vocabulary: Vocabulary,
    *,
    mode: str,
    window: int,
    negatives: int,
    subsample: float,
    batch_size: int,
    group_size: int,
    chunk_size: int = 4_000,
    mix: int = 256,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of `batch_size` words for `ParagraphVectors`: `{"dbow": {...}}`, `{"dm": {...}}` or both.

    The corpus is cut into chunks of `chunk_size` words; every epoch, `mix` chunks drawn at random
    are pooled, their words (and windows, which never leave a document) shuffled together and cut
    into batches. The pooling matters: the gradients of a batch are summed, so a document whose
    words crowd one batch (hundreds of them, when batches come from one stretch of text) takes one
    huge step and training diverges to NaN; from ~1M pooled words a document has about one word per
    batch, as with a global shuffle. Each word is sub-sampled (`subsample` = gensim's `sample`, 0 =
    off) and drawn again every epoch; the last partial batch is dropped. PV-DBOW's batches are
    `batch_size // group_size` groups of one document's words (`document_groups`), so `batch_size`
    counts their padding slots too; `batches_per_epoch` says how many batches an epoch has.
    """
    check_mode(mode)
    if len(ids) == 0:
        raise UserError("the corpus has no word seen min_count times", param="min_count")
    keep_prob = tf.constant(keep_probabilities(vocabulary.counts, subsample))
    cdf = tf.constant(negative_cdf(vocabulary.counts))
    vocab_size, groups = len(vocabulary), batch_size // group_size
    ones = tf.ones([vocab_size], tf.float32)
    chunks = _chunks(ids, doc_ids, chunk_size)
    ds = tf.data.Dataset.from_tensor_slices(chunks).shuffle(len(chunks[0]), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(mix).map(lambda i, d: (tf.reshape(i, [-1]), tf.reshape(d, [-1])))

    def examples(chunk_ids, chunk_docs):
        # Sub-sample here (not in window_contexts) so the kept words' document ids are known.
        keep = (chunk_ids > 0) & (tf.random.uniform(tf.shape(chunk_ids)) < tf.gather(keep_prob, chunk_ids))
        words, docs = tf.boolean_mask(chunk_ids, keep), tf.boolean_mask(chunk_docs, keep)
        if mode == "dbow":
            out = document_groups(words, docs, group_size)
        else:
            _, contexts, valid = window_contexts(words, docs, ones, window, drop_unk=False)
            out = {
                "docs": docs,
                "words": words,
                "contexts": contexts * tf.cast(valid, tf.int32),  # outside the window: row 0, the null word
                "mask": tf.cast(valid, tf.float32),
            }
        order = tf.random.shuffle(tf.range(tf.shape(out["words"])[0]))  # words (dm, both) or groups (dbow)
        return {k: tf.gather(v, order) for k, v in out.items()}

    def group(batch):
        if mode == "dbow":
            return {"dbow": {**batch, "negatives": draw_negatives(cdf, vocab_size, [groups, negatives])}}
        shaped = {k: tf.reshape(v, [groups, group_size, *v.shape[1:]]) for k, v in batch.items()}
        out = {"dm": {**shaped, "negatives": draw_negatives(cdf, vocab_size, [groups, negatives])}}
        if mode == "both":  # the same words, with negatives of their own
            dbow = {"docs": shaped["docs"], "words": shaped["words"]}
            out["dbow"] = {**dbow, "negatives": draw_negatives(cdf, vocab_size, [groups, negatives])}
        return out

    ds = ds.map(examples, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.rebatch(groups if mode == "dbow" else batch_size, drop_remainder=True)
    return ds.map(group, num_parallel_calls=tf.data.AUTOTUNE)


def document_groups(words: tf.Tensor, docs: tf.Tensor, group_size: int) -> dict[str, tf.Tensor]:
    """Cut each run of one document's words into groups of `group_size`, the run's last group padded.

    Args:
        words: (n,) word ids, a document's words next to each other (runs may repeat a document).
        docs: (n,) the document id of each word.
        group_size: words per group (G).

    Returns:
        `{"docs": (groups,), "words": (groups, G), "weights": (groups, G)}`, weight 0 (and word 0) in
        padding slots.

    Example:
        >>> g = document_groups(tf.constant([5, 6, 7, 8]), tf.constant([0, 0, 0, 1]), group_size=2)
        >>> g["docs"].numpy().tolist(), g["words"].numpy().tolist()
        ([0, 0, 1], [[5, 6], [7, 0], [8, 0]])
    """
    n = tf.shape(words)[0]
    starts = tf.not_equal(docs, tf.concat([[-2], docs], 0)[:-1])  # a run begins where the document changes
    run = tf.cumsum(tf.cast(starts, tf.int32)) - 1
    position = tf.range(n) - tf.gather(tf.boolean_mask(tf.range(n), starts), run)
    lengths = tf.math.bincount(run, minlength=tf.reduce_sum(tf.cast(starts, tf.int32)), dtype=tf.int32)
    per_run = (lengths + group_size - 1) // group_size
    group = tf.gather(tf.cumsum(per_run, exclusive=True), run) + position // group_size
    total = tf.reduce_sum(per_run)
    index = tf.stack([group, position % group_size], axis=1)
    shape = tf.stack([total, group_size])
    return {
        "docs": tf.math.unsorted_segment_max(docs, group, total),
        "words": tf.scatter_nd(index, words, shape),
        "weights": tf.scatter_nd(index, tf.ones([n], tf.float32), shape),
    }


def batches_per_epoch(
    ids: np.ndarray,
    doc_ids: np.ndarray,
    vocabulary: Vocabulary,
    *,
    mode: str,
    subsample: float,
    batch_size: int,
    group_size: int,
    chunk_size: int = 4_000,
) -> int:
    """Batches `document_dataset` yields per epoch (expected, with sub-sampling): its words, plus
    PV-DBOW's padding slots, over `batch_size`."""
    keep = keep_probabilities(vocabulary.counts, subsample)[ids]
    if mode != "dbow":
        return int(keep.sum()) // batch_size
    words, docs = _chunks(ids, doc_ids, chunk_size)
    kept = _chunks(keep, doc_ids, chunk_size)[0]
    starts = np.ones(docs.shape, bool)
    starts[:, 1:] = docs[:, 1:] != docs[:, :-1]  # a run of one document's words inside a chunk
    runs = np.cumsum(starts.ravel()) - 1
    expected = np.bincount(runs, weights=kept.ravel() * (words.ravel() > 0))
    groups = np.ceil(expected / group_size - 1e-6).sum()
    return int(groups) // (batch_size // group_size)


def _chunks(ids: np.ndarray, doc_ids: np.ndarray, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`ids` and `doc_ids` cut into rows of `chunk_size`, the last padded (id 0, document -1)."""
    pad = (-len(ids)) % chunk_size
    return (
        np.concatenate([ids, np.zeros(pad, ids.dtype)]).reshape(-1, chunk_size),
        np.concatenate([doc_ids, np.full(pad, -1, "int32")]).reshape(-1, chunk_size),
    )

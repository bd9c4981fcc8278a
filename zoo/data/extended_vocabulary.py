"""The per-sentence extended vocabulary of a copying (pointer-generator) decoder, in the TF graph.

Used by the training pipelines (`zoo.data.translation.make_dataset(copy=True)`) and inside the
served model (`zoo.serving.translator.Translator`), so both number a sentence's unknown words alike.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def vocabulary_lookup(vocabulary) -> keras.layers.StringLookup:
    """A `StringLookup` giving a token its id in `vocabulary` (a `make_vectorizer` vocabulary): "" 0, unknown 1."""
    return keras.layers.StringLookup(vocabulary=list(vocabulary)[2:], mask_token="", oov_token="[UNK]")


def extended_ids(source_tokens, lookup, vocab_size: int, target_tokens=None):
    """Ids over a per-sentence *extended vocabulary* (See et al. 2017's pointer-generator).

    A source word outside the target vocabulary gets the id `vocab_size + k`, where `k` counts the
    distinct out-of-vocabulary words before its first occurrence in its sentence (so the same word
    gets the same id wherever it occurs, and ids stay below `vocab_size + source length`); every
    other word keeps its vocabulary id. A target word outside the vocabulary that the source has
    gets the source word's extended id, so a model that copies it is rewarded; other unknown words
    stay 1 (`[UNK]`).

    Args:
        source_tokens: `(B, Ts)` token strings, `""` for padding (dense or ragged).
        lookup: token string -> target vocabulary id, 0 for `""` and 1 for unknown words
            (`vocabulary_lookup`).
        vocab_size: the target vocabulary size.
        target_tokens: optional `(B, Tt)` target token strings, `""` for padding.

    Returns:
        `source_ext (B, Ts)` int32, and `target_ext (B, Tt)` when `target_tokens` is given.

    Example:

    >>> lookup = vocabulary_lookup(["", "[UNK]", "<s>", "</s>", "the", "model"])
    >>> extended_ids(tf.constant([["the", "bert", "model", "bert", "elmo"]]), lookup, 6,
    ...              tf.constant([["bert", "elmo", "gpt", ""]]))[1].numpy()
    array([[6, 7, 1, 0]], dtype=int32)
    """
    if isinstance(source_tokens, tf.RaggedTensor):
        source_tokens = source_tokens.to_tensor("")
    ids = tf.cast(lookup(source_tokens), tf.int32)
    unknown = tf.equal(ids, 1)
    same = tf.equal(source_tokens[:, :, None], source_tokens[:, None, :])  # (B, Ts, Ts)
    first = tf.argmax(tf.cast(same, tf.int32), axis=2, output_type=tf.int32)  # first position of the same word
    new = tf.logical_and(unknown, tf.equal(first, tf.range(tf.shape(source_tokens)[1])[None, :]))
    rank = tf.cumsum(tf.cast(new, tf.int32), axis=1) - 1
    source_ext = tf.where(unknown, int(vocab_size) + tf.gather(rank, first, batch_dims=1), ids)
    if target_tokens is None:
        return source_ext
    if isinstance(target_tokens, tf.RaggedTensor):
        target_tokens = target_tokens.to_tensor("")
    target_ids = tf.cast(lookup(target_tokens), tf.int32)
    match = tf.logical_and(tf.equal(target_tokens[:, :, None], source_tokens[:, None, :]), unknown[:, None, :])
    at = tf.argmax(tf.cast(match, tf.int32), axis=2, output_type=tf.int32)
    copied = tf.logical_and(tf.equal(target_ids, 1), tf.reduce_any(match, axis=2))
    return source_ext, tf.where(copied, tf.gather(source_ext, at, batch_dims=1), target_ids)

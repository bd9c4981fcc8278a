"""The pointer-generator encoder-decoder (See et al. 2017; issue 26): `build_attention_seq2seq`'s encoder
and a `PointerDecoder` that can copy source words, and its `encode`/`step` view for the searches of
`zoo.models.decoding` (`PointerInference`). Its inputs add `source_ext`, the source over a
per-sentence extended vocabulary (`zoo.data.extended_vocabulary`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.pointer_decoder import PointerDecoder, copy_distribution
from zoo.models.seq2seq import END_ID, START_ID, Seq2SeqInference, word_encoder


def build_pointer_seq2seq(
    *,
    source_vocab_size: int,
    target_vocab_size: int,
    max_source_length: int,
    embedding_dim: int = 128,
    units: int = 256,
    encoder_units: int | None = None,
    cell: str = "gru",
    attention: str = "additive",
    input_feeding: bool = True,
    combine_activation: str = "linear",
    shared_embedding: bool = False,
    dropout: float = 0.0,
    coverage: bool = True,
    coverage_weight: float = 1.0,
) -> keras.Model:
    """`build_attention_seq2seq` with a pointer-generator decoder (See et al. 2017): it can copy source words.

    The encoder is `build_attention_seq2seq`'s; the decoder is a `PointerDecoder`, which mixes
    generating from the target vocabulary with copying a source word (by its attention weight),
    over an extended vocabulary that gives each out-of-vocabulary source word of a sentence an id of
    its own (`zoo.data.extended_vocabulary.extended_ids` makes the `source_ext` input and the targets). The
    model returns `log P` over `target_vocab_size + max_source_length` ids, so
    `compile_seq2seq` (cross-entropy "from logits") and `Seq2SeqInference`'s searches work as for the
    other models; with `coverage`, a coverage loss is added (`model.losses`).

    Args:
        source_vocab_size: source vocabulary incl. padding (0) and OOV (1).
        target_vocab_size: target vocabulary incl. padding, OOV, start (2) and end (3).
        max_source_length: source positions (the extended vocabulary adds as many ids).
        embedding_dim, units, encoder_units, cell, input_feeding, combine_activation,
            shared_embedding, dropout: as in `build_attention_seq2seq`.
        attention: the attention score (`"additive"` with coverage; copying works with any but `"none"`).
        coverage: coverage in the attention scores and the coverage loss.
        coverage_weight: the coverage loss' weight (See et al.: 1).

    Returns:
        An uncompiled `keras.Model` `{"source", "target_in", "source_ext"} -> log P (B, Tt,
        target_vocab_size + max_source_length)`.

    Example:

    >>> model = build_pointer_seq2seq(source_vocab_size=50, target_vocab_size=50, max_source_length=7,
    ...                               embedding_dim=8, units=16, shared_embedding=True)
    >>> ids = np.array([[5, 1, 6, 0, 0, 0, 0]], "int32")
    >>> model({"source": ids, "target_in": np.array([[2, 5]], "int32"),
    ...        "source_ext": np.array([[5, 50, 6, 0, 0, 0, 0]], "int32")}).shape
    TensorShape([1, 2, 57])
    """
    source, target_in, target, outputs, states = word_encoder(
        source_vocab_size, target_vocab_size, embedding_dim, units, encoder_units, cell, shared_embedding, dropout
    )
    source_ext = keras.Input((None,), dtype="int32", name="source_ext")
    decoder = PointerDecoder(
        units,
        target_vocab_size,
        max_source_length,
        coverage=coverage,
        coverage_weight=coverage_weight,
        cell=cell,
        attention=attention,
        input_feeding=input_feeding,
        combine_activation=combine_activation,
        bridge=True,
        bidirectional_encoder=True,
        name="decoder",
    )
    log_probs = decoder([target, outputs, source, source_ext, *states])
    inputs = {"source": source, "target_in": target_in, "source_ext": source_ext}
    return keras.Model(inputs, log_probs, name="pointer_seq2seq")


class PointerInference(Seq2SeqInference):
    """`Seq2SeqInference` of a `build_pointer_seq2seq` model: the searches run over the extended vocabulary.

    `encode(source_ids, source_ext)` adds `source_ext` and the coverage to the cache; `step` returns
    `log P` over the extended vocabulary (copied words included) and feeds a copied word back as
    `[UNK]`; `decode(source_ids, source_ext=..., max_length=...)` searches. `details` gives the
    attention weights, `p_gen` and how much of each output word's probability came from copying.
    """

    def encode(self, source_ids, source_ext) -> dict:
        cache = super().encode(source_ids)
        cache["source_ext"] = ops.cast(source_ext, "int32")
        cache["coverage"] = self.decoder.initial_coverage(cache["encoder_outputs"])
        return cache

    def _embed(self, tokens):
        tokens = ops.cast(tokens, "int32")
        tokens = ops.where(tokens >= self.decoder.vocab_size, 1, tokens)  # a copied word is read back as [UNK]
        return ops.take(self.target_embedding.embeddings, tokens, axis=0)

    def step(self, tokens, cache: dict):
        attentional, states, feed, coverage, weights, p_gen = self.decoder.pointer_step(
            self._embed(tokens),
            cache["states"],
            cache["feed"],
            cache["coverage"],
            cache["encoder_outputs"],
            cache["encoder_mask"],
            cache["keys"],
        )
        log_probs = self.decoder.mixture(attentional[:, None], weights[:, None], p_gen[:, None], cache["source_ext"])
        return log_probs[:, 0], {**cache, "states": states, "feed": feed, "coverage": coverage}

    def details(self, source_ids, source_ext, tokens) -> dict:
        """While producing `tokens` (0-padded, extended ids) and then the end token: `weights (B, L + 1, Ts)`,
        `p_gen (B, L + 1)` and `copy_share (B, L + 1)`, the share of each output word's probability that
        came from copying, `(1 - p_gen) sum_{j: x_j = w} a_j / P(w)`."""
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, 0)
        tokens = tf.cast(tokens, tf.int32)
        start = tf.fill([tf.shape(tokens)[0], 1], START_ID)
        target_in = tf.concat([start, tokens], axis=1)
        outputs, *states = self.encoder(self.source_embedding(source_ids), mask=mask)
        log_probs, weights, p_gen = self.decoder(
            [self._embed(target_in), outputs, source_ids, source_ext, *states], return_attention=True
        )
        produced = tf.concat([tokens, tf.zeros_like(start)], axis=1)
        produced = produced + END_ID * tf.one_hot(
            tf.reduce_sum(tf.cast(tokens > 0, tf.int32), axis=1), tf.shape(produced)[1], dtype=tf.int32
        )
        copy = copy_distribution(tf.cast(weights, tf.float32), source_ext, self.decoder.extended_size)
        chosen_copy = tf.gather(copy, produced, batch_dims=2)
        chosen = tf.exp(tf.gather(log_probs, produced, batch_dims=2))
        p_gen = tf.cast(p_gen, tf.float32)
        return {"weights": weights, "p_gen": p_gen, "copy_share": (1.0 - p_gen) * chosen_copy / chosen}

    def attention_weights(self, source_ids, tokens, source_ext=None):
        return self.details(source_ids, source_ext, tokens)["weights"]

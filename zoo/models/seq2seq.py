"""Sequence-to-sequence models of chapters 10-11: the book's character encoder-decoder and a word-level
encoder-decoder with attention and input feeding, and their encode/step view for decoding loops.

Training uses teacher forcing: the model takes `{"source": ids (B, Ts), "target_in": ids (B, Tt)}`
(target_in = start token + target) and returns logits `(B, Tt, vocab)` for target + end token. Id 0
is padding everywhere (masked in the encoder, in the attention and, through sample weights, in the
loss); the token ids 2 and 3 are the start and end tokens (see `zoo.data.translation`).

Inference splits the same layers into `encode(source_ids) -> cache` and
`step(tokens, cache) -> (logits, cache)` (`Seq2SeqInference`), the contract of
`zoo.models.decoding` (and of `keras_hub.samplers`): every cache leaf is batch-major. The decoder
layer is `zoo.layers.seq2seq_decoder.Seq2SeqDecoder`; the string-to-string serving model is
`zoo.serving.translator.Translator`; heat maps are drawn by `zoo.visualize.seq2seq_attention`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.pointer_decoder import PointerDecoder, copy_distribution
from zoo.layers.seq2seq_decoder import Seq2SeqDecoder
from zoo.models.decoding import beam_search, greedy_search

START_ID, END_ID = 2, 3


def _recurrent(cell: str, units: int, **kwargs):
    layer = keras.layers.GRU if cell == "gru" else keras.layers.LSTM
    return layer(units, return_sequences=True, return_state=True, **kwargs)


def _one_hot_embedding(vocab_size: int, name: str):
    """One-hot vectors as a frozen identity `Embedding` (the book feeds one-hot characters), masking id 0."""
    return keras.layers.Embedding(
        vocab_size, vocab_size, embeddings_initializer="identity", trainable=False, mask_zero=True, name=name
    )


def _inputs():
    return (keras.Input((None,), dtype="int32", name="source"), keras.Input((None,), dtype="int32", name="target_in"))


def _word_embeddings(source_vocab_size: int, target_vocab_size: int, dim: int, *, shared: bool):
    """Source and target `Embedding(mask_zero=True)` layers, or one layer twice when `shared`."""
    if shared:
        layer = keras.layers.Embedding(source_vocab_size, dim, mask_zero=True, name="shared_embedding")
        return layer, layer
    return (
        keras.layers.Embedding(source_vocab_size, dim, mask_zero=True, name="source_embedding"),
        keras.layers.Embedding(target_vocab_size, dim, mask_zero=True, name="target_embedding"),
    )


def build_char_seq2seq(*, source_vocab_size: int, target_vocab_size: int, units: int = 256) -> keras.Model:
    """The book's character-level encoder-decoder (chapter 10; keras.io `lstm_seq2seq`).

    One-hot characters -> `LSTM(units)` encoder whose final `[h, c]` start an `LSTM(units)` decoder
    (teacher forcing) -> `Dense(target_vocab_size)` logits. The decoder is the same `LSTMCell`
    stepped by `Seq2SeqDecoder` (attention `"none"`, no bridge), so training and step-by-step decoding
    share one implementation; the equations are those of `keras.layers.LSTM`.

    Args:
        source_vocab_size: source characters incl. padding (0) and OOV (1).
        target_vocab_size: target characters incl. padding, OOV, start (2) and end (3).
        units: LSTM size (the book: 256).

    Returns:
        An uncompiled `keras.Model` `{"source", "target_in"} -> logits (B, Tt, target_vocab_size)`.

    Example:

    >>> model = build_char_seq2seq(source_vocab_size=30, target_vocab_size=40, units=8)
    >>> model({"source": np.ones((2, 5), "int32"), "target_in": np.ones((2, 4), "int32")}).shape
    TensorShape([2, 4, 40])
    """
    source, target_in = _inputs()
    encoded = _one_hot_embedding(source_vocab_size, "source_embedding")(source)
    outputs, h, c = keras.layers.LSTM(units, return_sequences=True, return_state=True, name="encoder")(encoded)
    target = _one_hot_embedding(target_vocab_size, "target_embedding")(target_in)
    decoder = Seq2SeqDecoder(
        units,
        target_vocab_size,
        cell="lstm",
        attention="none",
        bridge=False,
        bidirectional_encoder=False,
        name="decoder",
    )
    logits = decoder([target, outputs, source, h, c])
    return keras.Model({"source": source, "target_in": target_in}, logits, name="char_seq2seq")


def _word_encoder(source_vocab_size, target_vocab_size, embedding_dim, units, encoder_units, cell, shared, dropout):
    """Inputs, embedded target, and the BiRNN encoder's outputs and final states of the word-level models."""
    if shared and source_vocab_size != target_vocab_size:
        raise ValueError(
            f"shared_embedding needs one vocabulary; got sizes {source_vocab_size} and {target_vocab_size}"
        )
    if encoder_units is None and units % 2:
        raise ValueError(f"units must be even (the bidirectional encoder has units // 2 per direction); got {units}")
    encoder_units = units // 2 if encoder_units is None else encoder_units
    source, target_in = _inputs()
    source_embedding, target_embedding = _word_embeddings(
        source_vocab_size, target_vocab_size, embedding_dim, shared=shared
    )
    embedded = source_embedding(source)
    target = target_embedding(target_in)
    if dropout:
        embedded = keras.layers.Dropout(dropout, name="source_dropout")(embedded)
        target = keras.layers.Dropout(dropout, name="target_dropout")(target)
    outputs, *states = keras.layers.Bidirectional(_recurrent(cell, encoder_units), name="encoder")(embedded)
    return source, target_in, target, outputs, states


def build_attention_seq2seq(
    *,
    source_vocab_size: int,
    target_vocab_size: int,
    embedding_dim: int = 128,
    units: int = 256,
    encoder_units: int | None = None,
    cell: str = "gru",
    attention: str = "additive",
    input_feeding: bool = True,
    combine_activation: str = "linear",
    shared_embedding: bool = False,
    dropout: float = 0.0,
) -> keras.Model:
    """Word-level encoder-decoder with attention (chapter 10; chapter 11's title generator).

    `Embedding(mask_zero)` -> `Bidirectional(GRU|LSTM(encoder_units))` encoder (by default
    `units // 2` per direction: outputs of size `units`, so the `dot` scores need no projection) ->
    `Seq2SeqDecoder` (a GRU/LSTM of `units` whose initial
    state is a Dense+tanh bridge from both directions' final states, attention over the encoder
    outputs with padding masked, input feeding).

    Args:
        source_vocab_size: source vocabulary incl. padding (0) and OOV (1).
        target_vocab_size: target vocabulary incl. padding, OOV, start (2) and end (3).
        embedding_dim: embedding size (the title model: 100).
        units: decoder units (the title model: 500).
        encoder_units: encoder units per direction; default `units // 2` (then `units` must be
            even). The `dot` score needs `2 * encoder_units == units`.
        cell: `"gru"` or `"lstm"`, for encoder and decoder.
        attention: `"additive"` (Bahdanau; the default), `"general"`, `"dot"` (Luong), `"scaled_dot"`
            or `"none"` (the same model without attention). On cmn-eng, Luong's unscaled `"general"`
            score collapsed onto the last source token (RESULTS.md).
        input_feeding: feed the attentional vector into the next decoder step.
        combine_activation: `"linear"` or `"tanh"` (Luong et al.'s attentional layer, which stalls
            under Adam: see `Seq2SeqDecoder`).
        shared_embedding: one embedding for source and target (needs equal vocabularies; the
            title model, whose abstracts and titles share one vocabulary).
        dropout: dropout on the embeddings (training only).

    Returns:
        An uncompiled `keras.Model` `{"source", "target_in"} -> logits (B, Tt, target_vocab_size)`.

    Example:

    >>> model = build_attention_seq2seq(source_vocab_size=50, target_vocab_size=60, embedding_dim=8,
    ...                                 units=16, attention="additive")
    >>> model({"source": np.ones((2, 7), "int32"), "target_in": np.ones((2, 4), "int32")}).shape
    TensorShape([2, 4, 60])
    """
    source, target_in, target, outputs, states = _word_encoder(
        source_vocab_size, target_vocab_size, embedding_dim, units, encoder_units, cell, shared_embedding, dropout
    )
    decoder = Seq2SeqDecoder(
        units,
        target_vocab_size,
        cell=cell,
        attention=attention,
        input_feeding=input_feeding,
        combine_activation=combine_activation,
        bridge=True,
        bidirectional_encoder=True,
        name="decoder",
    )
    logits = decoder([target, outputs, source, *states])
    return keras.Model({"source": source, "target_in": target_in}, logits, name=f"seq2seq_{attention}")


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
    its own (`zoo.data.translation.extended_ids` makes the `source_ext` input and the targets). The
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
    source, target_in, target, outputs, states = _word_encoder(
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


def compile_seq2seq(
    model: keras.Model, optimizer="adam", learning_rate: float | None = None, clipnorm: float | None = None
) -> keras.Model:
    """Cross-entropy on logits, the mean over the real target tokens; accuracy weighted the same way.

    Padding (id 0) is ignored (`ignore_class=0`), so a batch's loss is its mean per-token
    cross-entropy whatever its padded length (Keras' default would divide by every position,
    padding included). The datasets' sample weights (0 on padding) weight the accuracy.
    `clipnorm` clips the gradient's global norm (`global_clipnorm`).
    """
    if learning_rate is not None or clipnorm:
        config = {} if learning_rate is None else {"learning_rate": learning_rate}
        if clipnorm:
            config["global_clipnorm"] = clipnorm
        optimizer = keras.optimizers.get({"class_name": optimizer, "config": config})
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


class Seq2SeqInference:
    """`encode` / `step` views of a trained seq2seq model (built by either builder), for samplers.

    `encode(source_ids) -> cache` runs the embedding and the encoder once; `step(tokens, cache) ->
    (logits, cache)` runs one decoder step. The cache holds `encoder_outputs (B, Ts, D)`,
    `encoder_mask (B, Ts)`, the attention `keys` (with attention), the decoder `states` and the
    attentional `feed`, all batch-major.
    """

    def __init__(self, model: keras.Model):
        names = {layer.name for layer in model.layers}
        shared = "shared_embedding" in names
        self.source_embedding = model.get_layer("shared_embedding" if shared else "source_embedding")
        self.target_embedding = model.get_layer("shared_embedding" if shared else "target_embedding")
        self.encoder = model.get_layer("encoder")
        self.decoder = model.get_layer("decoder")

    def encode(self, source_ids) -> dict:
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, 0)
        outputs, *states = self.encoder(self.source_embedding(source_ids), mask=mask)
        cache = {
            "encoder_outputs": outputs,
            "encoder_mask": mask,
            "states": self.decoder.initial_state(states),
            "feed": self.decoder.initial_feed(outputs),
        }
        if self.decoder.attention is not None:
            cache["keys"] = self.decoder.keys(outputs)  # projected once, not at every step
        return cache

    def step(self, tokens, cache: dict):
        # A plain lookup: the Embedding layer would attach a padding mask the cell does not use.
        embedded = ops.take(self.target_embedding.embeddings, ops.cast(tokens, "int32"), axis=0)
        output, states, feed, _ = self.decoder.step(
            embedded, cache["states"], cache["feed"], cache["encoder_outputs"], cache["encoder_mask"], cache.get("keys")
        )
        return self.decoder.output_dense(output), {**cache, "states": states, "feed": feed}

    def decode(self, source_ids, *, max_length: int, beam_width: int = 1, alpha: float = 0.7) -> dict:
        """Greedy (`beam_width=1`) or beam search from source ids; see `zoo.models.decoding`."""
        cache = self.encode(source_ids)
        start = tf.fill(tf.shape(source_ids)[:1], START_ID)
        if beam_width == 1:
            return greedy_search(self.step, cache, start, end_id=END_ID, max_length=max_length)
        return beam_search(
            self.step, cache, start, end_id=END_ID, max_length=max_length, beam_width=beam_width, alpha=alpha
        )

    def attention_weights(self, source_ids, tokens):
        """Attention weights `(B, L + 1, Ts)` while producing `tokens` (0-padded) and then the end token."""
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, 0)
        start = tf.fill([tf.shape(tokens)[0], 1], START_ID)
        target_in = tf.concat([start, tf.cast(tokens, tf.int32)], axis=1)
        outputs, *states = self.encoder(self.source_embedding(source_ids), mask=mask)
        _, weights = self.decoder(
            [self.target_embedding(target_in), outputs, source_ids, *states], return_attention=True
        )
        return weights


class PointerInference(Seq2SeqInference):
    """`Seq2SeqInference` of a `build_pointer_seq2seq` model: the searches run over the extended vocabulary.

    `encode(source_ids, source_ext)` adds `source_ext` and the coverage to the cache; `step` returns
    `log P` over the extended vocabulary (copied words included) and feeds a copied word back as
    `[UNK]`. `details` gives the attention weights, `p_gen` and how much of each output word's
    probability came from copying.
    """

    def encode(self, source_ids, source_ext=None) -> dict:
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

    def decode(self, source_ids, *, source_ext=None, max_length: int, beam_width: int = 1, alpha: float = 0.7) -> dict:
        cache = self.encode(source_ids, source_ext)
        start = tf.fill(tf.shape(source_ids)[:1], START_ID)
        if beam_width == 1:
            return greedy_search(self.step, cache, start, end_id=END_ID, max_length=max_length)
        return beam_search(
            self.step, cache, start, end_id=END_ID, max_length=max_length, beam_width=beam_width, alpha=alpha
        )

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

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


def word_encoder(source_vocab_size, target_vocab_size, embedding_dim, units, encoder_units, cell, shared, dropout):
    """Inputs, embedded target, and the BiRNN encoder's outputs and final states of the word-level models.

    `(source, target_in, embedded target, encoder outputs, encoder states)`, Keras tensors; the
    arguments are `build_attention_seq2seq`'s (`shared` = `shared_embedding`).
    """
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
        attention: `"additive"` (Bahdanau; the default), `"general"`, `"dot"` (Luong), `"scaled_dot"`,
            `"projected_dot"`, `"multi_head"` (one whole Transformer head: the translation recipes'
            default, with `input_feeding=False, combine_activation="none"`) or `"none"` (the same
            model without attention). On cmn-eng, Luong's unscaled `"general"` score collapsed onto
            the last source token (RESULTS.md).
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
    source, target_in, target, outputs, states = word_encoder(
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

    def decode(self, source_ids, *, max_length: int, beam_width: int = 1, alpha: float = 0.7, **inputs) -> dict:
        """Greedy (`beam_width=1`) or beam search from source ids; see `zoo.models.decoding`.

        `inputs`: further inputs of `encode` (a pointer-generator's `source_ext`).
        """
        cache = self.encode(source_ids, **inputs)
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

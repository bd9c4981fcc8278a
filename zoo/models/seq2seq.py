"""Sequence-to-sequence models of chapters 10-11: the book's character encoder-decoder and a word-level
encoder-decoder with attention and input feeding, their decoder step for samplers, and a string-to-string
serving model with beam search inside.

Training uses teacher forcing: the model takes `{"source": ids (B, Ts), "target_in": ids (B, Tt)}`
(target_in = start token + target) and returns logits `(B, Tt, vocab)` for target + end token. Id 0
is padding everywhere (masked in the encoder, in the attention and, through sample weights, in the
loss); the token ids 2 and 3 are the start and end tokens (see `zoo.data.translation`).

Inference splits the same layers into `encode(source_ids) -> cache` and
`step(tokens, cache) -> (logits, cache)` (`Seq2SeqInference`), the contract of
`zoo.models.decoding` (and of `keras_hub.samplers`): every cache leaf is batch-major.
"""

from __future__ import annotations

import re
import warnings

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.attention import EncoderDecoderAttention
from zoo.models.decoding import beam_search, greedy_search

START_ID, END_ID = 2, 3
ATTENTIONS = ("additive", "general", "dot", "scaled_dot", "none")
CELLS = ("gru", "lstm")


@keras.saving.register_keras_serializable(package="zoo")
class Seq2SeqDecoder(keras.layers.Layer):
    """An RNN decoder that attends over the encoder outputs, with input feeding (Luong et al. 2015).

    One step, for an embedded input token `e_t`:

        x_t = [e_t; a_{t-1}]                       (input feeding; x_t = e_t without attention)
        s_t = cell(x_t, s_{t-1})                   (GRUCell or LSTMCell)
        c_t, w_t = attention(s_t, encoder outputs, padding mask)
        a_t = tanh(W_c [c_t; s_t])                 (the attentional vector, fed into step t+1)
        logits_t = W_o a_t                         (W_o s_t without attention)

    Feeding `a_{t-1}` into the next step is what the book's title-generation model leaves out (its
    decoder never sees the previous context during training); here it is part of the step, so
    training (teacher forcing) and decoding run exactly the same computation. The initial state
    comes from the encoder's final states: concatenated forward/backward states through a
    `Dense(units, tanh)` bridge (`bridge=True`), or used as they are (`bridge=False`, the book's
    character model, whose encoder and decoder have the same size).

    Args:
        units: decoder state size.
        vocab_size: output vocabulary size (logits).
        cell: `"gru"` or `"lstm"`.
        attention: `"additive"`, `"general"`, `"dot"`, `"scaled_dot"` or `"none"`.
        input_feeding: feed the attentional vector into the next step (ignored without attention).
        bridge: map the encoder's final states to the decoder's initial state with Dense+tanh.
        bidirectional_encoder: the encoder states come as forward states then backward states.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `[target_embedded (B, T, E), encoder_outputs (B, Ts, D), source_ids (B, Ts),
            *encoder_states]` (padding id 0 in `source_ids` is never attended to).
        return_attention: also return the attention weights `(B, T, Ts)`.
    """

    def __init__(
        self,
        units: int,
        vocab_size: int,
        cell: str = "gru",
        attention: str = "additive",
        input_feeding: bool = True,
        bridge: bool = True,
        bidirectional_encoder: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}; got {attention!r}")
        self.units, self.vocab_size, self.cell_type = int(units), int(vocab_size), cell
        self.attention_score, self.bridge, self.bidirectional_encoder = attention, bridge, bidirectional_encoder
        self.input_feeding = bool(input_feeding) and attention != "none"
        make = keras.layers.GRUCell if cell == "gru" else keras.layers.LSTMCell
        self.cell = make(self.units, name="cell")
        self.n_states = 1 if cell == "gru" else 2
        self.attention = None if attention == "none" else EncoderDecoderAttention(score=attention, name="attention")
        self.combine = (
            None
            if attention == "none"
            else keras.layers.Dense(self.units, activation="tanh", use_bias=False, name="combine")
        )
        self.bridges = (
            [keras.layers.Dense(self.units, activation="tanh", name=f"bridge_{i}") for i in range(self.n_states)]
            if bridge
            else []
        )
        self.output_dense = keras.layers.Dense(self.vocab_size, name="logits")
        # The padding masks are recomputed from the ids (source) and the sample weights (target);
        # accepting Keras masks only silences the warning about dropping them.
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def build(self, input_shape):
        embedded, encoder_outputs = input_shape[0], input_shape[1]
        state_shapes = input_shape[3:]
        if len(state_shapes) != self.n_states * (2 if self.bidirectional_encoder else 1):
            raise ValueError(f"{self.cell_type} decoder got {len(state_shapes)} encoder states")
        embed_dim, enc_dim = int(embedded[-1]), int(encoder_outputs[-1])
        self.cell.build((None, embed_dim + (self.units if self.input_feeding else 0)))
        state_dim = sum(int(s[-1]) for s in state_shapes[: (2 if self.bidirectional_encoder else 1)])
        for b in self.bridges:
            b.build((None, state_dim))
        if self.attention is not None:
            self.attention.build((None, self.units), (None, None, enc_dim))
            self.combine.build((None, enc_dim + self.units))
        self.output_dense.build((None, self.units))
        self.built = True

    # --- pieces shared by training and decoding -------------------------------------------------
    def initial_state(self, encoder_states) -> tuple:
        """Decoder states (a tuple) from the encoder's final states."""
        encoder_states = list(encoder_states)
        if self.bidirectional_encoder:
            half = len(encoder_states) // 2
            encoder_states = [
                ops.concatenate([f, b], axis=-1) for f, b in zip(encoder_states[:half], encoder_states[half:])
            ]
        if self.bridge:
            encoder_states = [dense(s) for dense, s in zip(self.bridges, encoder_states)]
        return tuple(encoder_states)

    def initial_feed(self, encoder_outputs):
        batch = ops.shape(encoder_outputs)[0]
        return ops.zeros((batch, self.units), dtype=self.compute_dtype)

    def step(self, embedded, states, feed, encoder_outputs, encoder_mask):
        """One decoder step: `(e_t (B, E), states, a_{t-1}, H, mask) -> (logits, states, a_t, weights)`."""
        x = ops.concatenate([embedded, feed], axis=-1) if self.input_feeding else embedded
        h, new_states = self.cell(x, list(states))
        new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        if self.attention is None:
            weights = ops.zeros(ops.shape(encoder_mask), dtype=h.dtype)
            return self.output_dense(h), new_states, feed, weights
        context, weights = self.attention(h, encoder_outputs, value_mask=encoder_mask)
        attentional = self.combine(ops.concatenate([context, h], axis=-1))
        return self.output_dense(attentional), new_states, attentional, weights

    def call(self, inputs, return_attention: bool = False):
        embedded, encoder_outputs, source_ids = inputs[0], inputs[1], inputs[2]
        mask = ops.not_equal(source_ids, 0)
        states = self.initial_state(inputs[3:])
        feed = self.initial_feed(encoder_outputs)

        # A tf.while_loop over time (keras.ops.scan needs outputs shaped like the carry; Keras 3's
        # RNN layer has no `constants` to hand the encoder outputs to a cell).
        inputs_ta = tf.TensorArray(embedded.dtype, size=tf.shape(embedded)[1]).unstack(
            tf.transpose(embedded, (1, 0, 2))
        )
        steps = tf.shape(embedded)[1]
        logits_ta = tf.TensorArray(self.compute_dtype, size=steps)
        weights_ta = tf.TensorArray(self.compute_dtype, size=steps)

        def body(t, states, feed, logits_ta, weights_ta):
            logits, states, feed, weights = self.step(inputs_ta.read(t), states, feed, encoder_outputs, mask)
            return t + 1, states, feed, logits_ta.write(t, logits), weights_ta.write(t, weights)

        _, _, _, logits_ta, weights_ta = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), states, feed, logits_ta, weights_ta)
        )
        logits = tf.transpose(logits_ta.stack(), (1, 0, 2))
        if return_attention:
            return logits, tf.transpose(weights_ta.stack(), (1, 0, 2))
        return logits

    def compute_output_spec(self, inputs, return_attention: bool = False):
        batch, steps = inputs[0].shape[0], inputs[0].shape[1]
        logits = keras.KerasTensor((batch, steps, self.vocab_size), dtype=self.compute_dtype)
        if return_attention:
            return logits, keras.KerasTensor((batch, steps, inputs[2].shape[1]), dtype=self.compute_dtype)
        return logits

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "vocab_size": self.vocab_size,
            "cell": self.cell_type,
            "attention": self.attention_score,
            "input_feeding": self.input_feeding,
            "bridge": self.bridge,
            "bidirectional_encoder": self.bidirectional_encoder,
        }


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


def build_attention_seq2seq(
    *,
    source_vocab_size: int,
    target_vocab_size: int,
    embedding_dim: int = 128,
    units: int = 256,
    cell: str = "gru",
    attention: str = "additive",
    input_feeding: bool = True,
    shared_embedding: bool = False,
    dropout: float = 0.0,
) -> keras.Model:
    """Word-level encoder-decoder with attention (chapter 10; chapter 11's title generator).

    `Embedding(mask_zero)` -> `Bidirectional(GRU|LSTM(units // 2))` encoder (outputs of size `units`,
    so the `dot` scores need no projection) -> `Seq2SeqDecoder` (a GRU/LSTM of `units` whose initial
    state is a Dense+tanh bridge from both directions' final states, attention over the encoder
    outputs with padding masked, input feeding).

    Args:
        source_vocab_size: source vocabulary incl. padding (0) and OOV (1).
        target_vocab_size: target vocabulary incl. padding, OOV, start (2) and end (3).
        embedding_dim: embedding size (the title model: 100).
        units: decoder units and encoder output size, i.e. `units // 2` per direction (even;
            the title model: 500).
        cell: `"gru"` or `"lstm"`, for encoder and decoder.
        attention: `"additive"` (Bahdanau; the default), `"general"`, `"dot"` (Luong), `"scaled_dot"`
            or `"none"` (the same model without attention, for comparisons). On cmn-eng, Luong's
            unscaled `"general"` score saturated onto the last source token and scored 5.8 BLEU
            below `"additive"` after 30 epochs (RESULTS.md).
        input_feeding: feed the attentional vector into the next decoder step.
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
    if shared_embedding and source_vocab_size != target_vocab_size:
        raise ValueError(
            f"shared_embedding needs one vocabulary; got sizes {source_vocab_size} and {target_vocab_size}"
        )
    if units % 2:
        raise ValueError(f"units must be even (the bidirectional encoder has units // 2 per direction); got {units}")
    source, target_in = _inputs()
    if shared_embedding:
        source_embedding = target_embedding = keras.layers.Embedding(
            source_vocab_size, embedding_dim, mask_zero=True, name="shared_embedding"
        )
    else:
        source_embedding = keras.layers.Embedding(
            source_vocab_size, embedding_dim, mask_zero=True, name="source_embedding"
        )
        target_embedding = keras.layers.Embedding(
            target_vocab_size, embedding_dim, mask_zero=True, name="target_embedding"
        )
    embedded = source_embedding(source)
    target = target_embedding(target_in)
    if dropout:
        embedded = keras.layers.Dropout(dropout, name="source_dropout")(embedded)
        target = keras.layers.Dropout(dropout, name="target_dropout")(target)
    outputs, *states = keras.layers.Bidirectional(_recurrent(cell, units // 2), name="encoder")(embedded)
    decoder = Seq2SeqDecoder(
        units,
        target_vocab_size,
        cell=cell,
        attention=attention,
        input_feeding=input_feeding,
        bridge=True,
        bidirectional_encoder=True,
        name="decoder",
    )
    logits = decoder([target, outputs, source, *states])
    return keras.Model({"source": source, "target_in": target_in}, logits, name=f"seq2seq_{attention}")


def compile_seq2seq(model: keras.Model, optimizer="adam", learning_rate: float | None = None) -> keras.Model:
    """Sparse cross-entropy on logits; padding is excluded through the datasets' sample weights."""
    if learning_rate is not None:
        optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


class Seq2SeqInference:
    """`encode` / `step` views of a trained seq2seq model (built by either builder), for samplers.

    `encode(source_ids) -> cache` runs the embedding and the encoder once; `step(tokens, cache) ->
    (logits, cache)` runs one decoder step. The cache holds `encoder_outputs (B, Ts, D)`,
    `encoder_mask (B, Ts)`, the decoder `states` and the attentional `feed`, all batch-major.
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
        return {
            "encoder_outputs": outputs,
            "encoder_mask": mask,
            "states": self.decoder.initial_state(states),
            "feed": self.decoder.initial_feed(outputs),
        }

    def step(self, tokens, cache: dict):
        # A plain lookup: the Embedding layer would attach a padding mask the cell does not use.
        embedded = ops.take(self.target_embedding.embeddings, ops.cast(tokens, "int32"), axis=0)
        logits, states, feed, _ = self.decoder.step(
            embedded, cache["states"], cache["feed"], cache["encoder_outputs"], cache["encoder_mask"]
        )
        return logits, {**cache, "states": states, "feed": feed}

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


class Translator(keras.Model):
    """Strings in, strings out: tokenisation, encoder, in-graph beam search, detokenisation.

    `serve` (this model's call): `[B] string -> [B] string`. The `attention` method returns
    `{"source_tokens": [B, Ts] string, "output_tokens": [B, L+1] string (ends with "</s>"),
    "weights": [B, L+1, Ts] float32}` for heat maps. Both become SavedModel endpoints (`serve` and
    `attention`) so `keras.layers.TFSMLayer(path, call_endpoint=...)` reaches either: through
    `zoo.export.save_serving` (which adds `endpoints`).

    Args:
        model: a trained model from `build_char_seq2seq` / `build_attention_seq2seq`.
        source_vectorizer: a layer turning `[B]` strings into ragged int ids (e.g. a
            `TextVectorization(ragged=True)` from `zoo.data.translation`).
        target_vocabulary: id -> token strings (0 = "", 1 = OOV, 2 = start, 3 = end).
        separator: joins output tokens ("" for characters and Chinese, " " for words).
        max_source_length: source tokens kept (longer inputs are truncated).
        max_output_length: maximum generated tokens.
        beam_width: 1 = greedy; fixed at export (default 5).
        alpha: length-normalisation exponent of the beam search.
    """

    def __init__(
        self,
        model: keras.Model,
        source_vectorizer,
        target_vocabulary,
        *,
        separator: str = " ",
        max_source_length: int = 32,
        max_output_length: int = 32,
        beam_width: int = 5,
        alpha: float = 0.7,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "translator"), **kwargs)
        self.seq2seq = model
        self.source_vectorizer = source_vectorizer
        self.inference = Seq2SeqInference(model)
        self.target_vocabulary = list(target_vocabulary)
        self.source_vocabulary = list(source_vectorizer.get_vocabulary())
        self.separator = separator
        self.max_source_length, self.max_output_length = int(max_source_length), int(max_output_length)
        self.beam_width, self.alpha = int(beam_width), float(alpha)
        self.built = True

    @property
    def input_signature(self):
        return [tf.TensorSpec([None], tf.string, name="text")]

    @property
    def endpoints(self) -> dict:
        """Endpoints besides `serve`, `{name: (function, input_signature)}`, for `zoo.export.save_serving`."""
        return {"attention": (self.attention, self.input_signature)}

    def source_ids(self, strings):
        """`(ids (B, max_source_length) int32, token counts (B,))` of a batch of source strings."""
        ragged = self.source_vectorizer(tf.reshape(strings, [-1]))
        if not isinstance(ragged, tf.RaggedTensor):
            ragged = tf.RaggedTensor.from_tensor(ragged, padding=0)
        ragged = ragged[:, : self.max_source_length]
        ids = tf.cast(ragged.to_tensor(0, shape=[None, self.max_source_length]), tf.int32)
        return ids, ragged.row_lengths()

    def _words(self, ids, vocabulary):
        table = tf.constant([t if i > 1 else ("" if i == 0 else "[UNK]") for i, t in enumerate(vocabulary)])
        return tf.gather(table, ids)

    def detokenize(self, tokens, lengths):
        """`[B]` strings from output ids `(B, L)` and the number of tokens to keep per row."""
        words = tf.RaggedTensor.from_tensor(self._words(tokens, self.target_vocabulary), lengths=lengths)
        text = tf.strings.reduce_join(words, axis=-1, separator=self.separator)
        if self.separator == " ":  # "i ' m well - known ( 2 ) ." -> "i'm well-known (2)."
            # Punctuation joins the word before it, except opening brackets and quotes (Ps, Pi), which
            # join the word after: "[UNK] : [UNK]" stays "[UNK]: [UNK]", not "[UNK]:[UNK]".
            text = tf.strings.regex_replace(text, r" ([^\p{L}\p{M}\p{N}\s\p{Ps}\p{Pi}])", r"\1")
            text = tf.strings.regex_replace(text, r"([\p{Ps}\p{Pi}]) ", r"\1")
            text = tf.strings.regex_replace(text, r"' ", "'")
            text = tf.strings.regex_replace(text, r"([\p{L}\p{M}\p{N}])- ", r"\1-")
        return text

    def decode_ids(self, strings):
        ids, n_source = self.source_ids(strings)
        out = self.inference.decode(
            ids, max_length=self.max_output_length, beam_width=self.beam_width, alpha=self.alpha
        )
        lengths = tf.where(n_source > 0, tf.cast(out["lengths"], tf.int64), 0)
        return ids, out["tokens"], lengths

    def call(self, strings):
        _, tokens, lengths = self.decode_ids(strings)
        return self.detokenize(tokens, lengths)  # an empty source gives "" (length forced to 0)

    def attention(self, strings):
        ids, tokens, lengths = self.decode_ids(strings)
        tokens = tf.where(tf.range(tf.shape(tokens, out_type=tf.int64)[1])[None, :] < lengths[:, None], tokens, 0)
        weights = self.inference.attention_weights(ids, tokens)
        # The end token goes right after the last output token.
        end_at = tf.one_hot(lengths, self.max_output_length + 1, on_value=END_ID, off_value=0, dtype=tf.int32)
        with_end = tf.pad(tokens, [[0, 0], [0, 1]]) + end_at
        return {
            "source_tokens": self._words(ids, self.source_vocabulary),
            "output_tokens": self._words(with_end, self.target_vocabulary),
            "weights": tf.cast(weights, tf.float32),
        }

    def translate(self, sentences, *, batch_size: int = 256) -> list[str]:
        """Python strings in, Python strings out, through one traced `tf.function` (batched)."""
        if getattr(self, "_traced_call", None) is None:
            # Set past Keras' and TF's attribute tracking: a helper, not part of the exported model.
            object.__setattr__(self, "_traced_call", tf.function(self.call, input_signature=self.input_signature))
        sentences = list(sentences)
        out: list[str] = []
        for i in range(0, len(sentences), batch_size):
            batch = tf.constant(sentences[i : i + batch_size], tf.string)
            out.extend(t.decode("utf-8") for t in self._traced_call(batch).numpy())
        return out


_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Arial Unicode MS",
)


def _cjk_font():
    """An installed font that has Chinese glyphs, or None (labels then fall back to matplotlib's default)."""
    from matplotlib import font_manager

    for family in _CJK_FONTS:
        try:
            return font_manager.FontProperties(fname=font_manager.findfont(family, fallback_to_default=False))
        except ValueError:
            continue
    return None


def attention_figure(source_tokens, output_tokens, weights, *, title: str = "", font_path: str | None = None):
    """A heat map of attention weights: output tokens (rows) x source tokens (columns).

    Args:
        source_tokens: source token strings (padding `""` is dropped with its columns).
        output_tokens: output token strings (trailing `""` dropped with their rows).
        weights: `(len(output_tokens), len(source_tokens))` array (padding rows/columns allowed).
        title: figure title.
        font_path: a font file with the glyphs of the labels (e.g. a Noto CJK font for Chinese);
            by default an installed CJK font is used if one is found.

    Returns:
        A `matplotlib.figure.Figure` (no pyplot state); save it with `fig.savefig(path)`.
    """
    import numpy as np
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    def text(tokens):
        return [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in tokens]

    source, output = text(source_tokens), text(output_tokens)
    cols = [j for j, t in enumerate(source) if t]
    rows = [i for i, t in enumerate(output) if t]
    matrix = np.asarray(weights, dtype="float32")[np.ix_(rows, cols)] if rows and cols else np.zeros((1, 1))
    font = font_manager.FontProperties(fname=font_path) if font_path else _cjk_font()
    fig = Figure(figsize=(1.0 + 0.45 * max(len(cols), 4), 1.0 + 0.4 * max(len(rows), 4)))
    with warnings.catch_warnings():  # without a CJK font, Chinese labels are boxes: said once below
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        _draw(fig, matrix, [source[j] for j in cols], [output[i] for i in rows], title, font)
    if font is None and any(_HAN.search(t) for t in source + output):
        # short enough for the narrowest map (a 3-token sentence): a longer line was cut off
        fig.text(0.01, 0.01, "no CJK font: pass font_path= for Chinese", fontsize=7)
    return fig


_HAN = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\u3000-\u303f\uff00-\uffef]")


def _draw(fig, matrix, columns, rows, title, font):
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontproperties=font)
    ax.set_yticks(range(len(rows)), rows, fontproperties=font)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontproperties=font)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()


def plot_attention(translator, sentence: str, path=None, **kwargs):
    """The attention heat map of one sentence, from a `Translator` or an exported SavedModel folder.

    Args:
        translator: a `Translator`, or the path of its SavedModel (`attention` endpoint, loaded
            with `keras.layers.TFSMLayer`; no zoo code needed at the other end).
        sentence: the source sentence.
        path: if given, the PNG is written there.
        **kwargs: passed to `attention_figure` (`font_path`, `title`).

    Returns:
        The `matplotlib.figure.Figure`.
    """
    if isinstance(translator, Translator):
        out = translator.attention(tf.constant([sentence]))
    else:
        out = keras.layers.TFSMLayer(str(translator), call_endpoint="attention")(tf.constant([sentence]))
    out = {k: v.numpy()[0] for k, v in out.items()}
    kwargs.setdefault("title", sentence)
    fig = attention_figure(out["source_tokens"], out["output_tokens"], out["weights"], **kwargs)
    if path is not None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            fig.savefig(path, dpi=100)
    return fig

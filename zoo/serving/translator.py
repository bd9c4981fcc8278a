"""Chapters 10-12's serving model: strings in, strings out, with the tokeniser and beam search inside."""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.data import extended_vocabulary, translation
from zoo.models.pointer import PointerInference
from zoo.models.seq2seq import END_ID, Seq2SeqInference
from zoo.models.transformer import TransformerInference


def inference_for(model: keras.Model):
    """The `encode`/`step` view of a trained encoder-decoder, for the decoding loops.

    A `zoo.models.transformer` model (named `"transformer"`) gets a `TransformerInference`, a
    pointer-generator (`build_pointer_seq2seq`, named `"pointer_seq2seq"`) a `PointerInference`,
    every other (`zoo.models.seq2seq`) a `Seq2SeqInference`.
    """
    if model.name == "transformer":
        return TransformerInference(model)
    return PointerInference(model) if model.name == "pointer_seq2seq" else Seq2SeqInference(model)


class Translator(keras.Model):
    """Strings in, strings out: tokenisation, encoder, in-graph beam search, detokenisation.

    `serve` (this model's call): `[B] string -> [B] string`. The `attention` method returns
    `{"source_tokens": [B, Ts] string, "output_tokens": [B, L+1] string (ends with "</s>"),
    "weights": [B, L+1, Ts] float32}` for heat maps (a Transformer's: `[B, layers, heads, L+1, Ts]`,
    the cross-attention of every layer and head). Both become SavedModel endpoints (`serve` and
    `attention`) so `keras.layers.TFSMLayer(path, call_endpoint=...)` reaches either: through
    `zoo.export.save_serving` (which adds `endpoints`).

    A pointer-generator (`build_pointer_seq2seq`) copies: the source words outside the target
    vocabulary get per-sentence extended ids in the graph (`extended_vocabulary.extended_ids`), the beam
    search runs over them, and a copied word is written as the source token's string (lower-cased
    by the word tokeniser). Its `attention` endpoint also returns `"p_gen": [B, L+1]` (the
    probability of generating rather than copying at each step) and `"copy_share": [B, L+1]` (how
    much of each output word's probability came from copying).

    Args:
        model: a trained model from `build_char_seq2seq` / `build_attention_seq2seq`
            (`zoo.models.seq2seq`) or `build_transformer_seq2seq` (`zoo.models.transformer`).
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
        self.inference = inference_for(model)
        self.target_vocabulary = list(target_vocabulary)
        self.source_vocabulary = list(source_vectorizer.get_vocabulary())
        self.separator = separator
        self.max_source_length, self.max_output_length = int(max_source_length), int(max_output_length)
        self.beam_width, self.alpha = int(beam_width), float(alpha)
        self.copy = isinstance(self.inference, PointerInference)
        # Source tokens -> target ids, for the extended vocabulary of a copying model.
        self.copy_lookup = extended_vocabulary.vocabulary_lookup(self.target_vocabulary) if self.copy else None
        self.built = True

    @classmethod
    def from_info(
        cls, model: keras.Model, info: translation.Seq2SeqInfo, *, beam_width: int = 5, alpha: float = 0.7
    ) -> Translator:
        """The translator of a model trained on `info`'s vocabularies, up to one token past its longest target."""
        return cls(
            model,
            info.source_vectorizer,
            info.target_vocabulary,
            separator=info.separator,
            max_source_length=info.max_source_length,
            max_output_length=info.max_target_length + 1,
            beam_width=beam_width,
            alpha=alpha,
        )

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

    def _output_words(self, ids, source):
        """Output token strings; a copying model's extended ids are the words of `source` they stand for."""
        if not self.copy:
            return self._words(ids, self.target_vocabulary)
        vocab_size = len(self.target_vocabulary)
        words = self._words(tf.where(ids >= vocab_size, tf.ones_like(ids), ids), self.target_vocabulary)
        at = tf.argmax(tf.cast(tf.equal(ids[:, :, None], source["ext"][:, None, :]), tf.int32), axis=2)
        return tf.where(ids >= vocab_size, tf.gather(source["tokens"], at, batch_dims=1), words)

    def detokenize(self, tokens, lengths, source=None):
        """`[B]` strings from output ids `(B, L)` and the number of tokens to keep per row.

        `source` (`encode_sources`) is needed for a copying model's extended ids.
        """
        words = tf.RaggedTensor.from_tensor(self._output_words(tokens, source), lengths=lengths)
        text = tf.strings.reduce_join(words, axis=-1, separator=self.separator)
        return translation.detokenize_words(text) if self.separator == " " else text

    def encode_sources(self, strings) -> dict:
        """`{"ids", "counts"}` of `[B]` source strings, plus `"tokens"` (strings) and `"ext"` (extended
        ids), all `(B, max_source_length)`, for a copying model."""
        ids, counts = self.source_ids(strings)
        source = {"ids": ids, "counts": counts}
        if self.copy:
            tokens = translation.word_tokens(strings, self.max_source_length)
            source["tokens"] = tokens.to_tensor("", shape=[None, self.max_source_length])
            vocab_size = len(self.target_vocabulary)
            source["ext"] = extended_vocabulary.extended_ids(source["tokens"], self.copy_lookup, vocab_size)
        return source

    def decode_ids(self, strings):
        source = self.encode_sources(strings)
        extra = {"source_ext": source["ext"]} if self.copy else {}
        out = self.inference.decode(
            source["ids"], max_length=self.max_output_length, beam_width=self.beam_width, alpha=self.alpha, **extra
        )
        lengths = tf.where(source["counts"] > 0, tf.cast(out["lengths"], tf.int64), 0)
        return source, out["tokens"], lengths

    def call(self, strings):
        source, tokens, lengths = self.decode_ids(strings)
        return self.detokenize(tokens, lengths, source)  # an empty source gives "" (length forced to 0)

    def attention(self, strings):
        source, tokens, lengths = self.decode_ids(strings)
        ids = source["ids"]
        tokens = tf.where(tf.range(tf.shape(tokens, out_type=tf.int64)[1])[None, :] < lengths[:, None], tokens, 0)
        details = self.inference.details(ids, source["ext"], tokens) if self.copy else {}
        weights = details["weights"] if self.copy else self.inference.attention_weights(ids, tokens)
        # The end token goes right after the last output token.
        end_at = tf.one_hot(lengths, self.max_output_length + 1, on_value=END_ID, off_value=0, dtype=tf.int32)
        with_end = tf.pad(tokens, [[0, 0], [0, 1]]) + end_at
        # Static trailing sizes: the SavedModel's empty-batch answer is built from them (see
        # `zoo.export.empty_batch_guard`), so an empty batch gets the same trailing shape as any other.
        steps, sources = self.max_output_length + 1, self.max_source_length
        weights = tf.cast(weights, tf.float32)
        weights.set_shape(weights.shape[:-2].concatenate([steps, sources]))  # a Transformer's layers, heads: static
        source_tokens = tf.ensure_shape(self._words(ids, self.source_vocabulary), [None, sources])
        output_tokens = tf.ensure_shape(self._output_words(with_end, source), [None, steps])
        out = {"source_tokens": source_tokens, "output_tokens": output_tokens, "weights": weights}
        if self.copy:  # the source as the model can copy it: its own words, not [UNK]
            out["source_tokens"] = tf.ensure_shape(source["tokens"], [None, sources])
            for name in ("p_gen", "copy_share"):
                out[name] = tf.ensure_shape(tf.cast(details[name], tf.float32), [None, steps])
        return out

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

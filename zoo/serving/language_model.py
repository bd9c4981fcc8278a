"""Serving model of chapter 8's language models: raw strings in, one SavedModel with three endpoints.

`LanguageModelServing` wraps a model from `zoo.models.language_model` (`serve`: sentence ->
log-probability, tokens, perplexity; `generate` and `generate_with_options`: prompts ->
continuations); `make_sampler` names the `keras_hub.samplers` its generation loop runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import keras_hub
import tensorflow as tf
from keras import ops

from zoo.models.language_model import initial_states, stateless_copy, step, token_log_probs


def make_sampler(
    name: str, *, temperature: float = 1.0, k: int = 10, p: float = 0.9, seed: int | None = None
) -> keras_hub.samplers.Sampler:
    """A `keras_hub.samplers` sampler by name: greedy, random (temperature only), top_k or top_p."""
    if name == "greedy":
        return keras_hub.samplers.GreedySampler()
    if name == "random":
        return keras_hub.samplers.RandomSampler(temperature=temperature, seed=seed)
    if name == "top_k":
        return keras_hub.samplers.TopKSampler(k=k, temperature=temperature, seed=seed)
    if name == "top_p":
        return keras_hub.samplers.TopPSampler(p=p, temperature=temperature, seed=seed)
    raise ValueError(f"sampler must be greedy, random, top_k or top_p, got {name!r}")


class LanguageModelServing(keras.Model):
    """A trained LM on raw strings, exported with two endpoints (`serve` and `generate`).

    `serve(sentences)` -> `{"log_prob", "tokens", "perplexity"}`: each sentence is read after the
    boundary token (`<eos>` for words, a newline for characters) and scored up to and including the
    boundary that ends it, so `tokens` = words (or characters) + 1 and `perplexity` =
    `exp(-log_prob / tokens)`. Words are PTB-normalised when `normalize="ptb"` (lower case, numbers
    -> `N`); unknown tokens score as the vocabulary's id 0 (`<unk>`).

    `generate(prompts)` -> continuation strings: the prompts (of any lengths, empty allowed) are
    right-padded and fed through one `keras_hub.samplers` loop whose `next(prompt, cache, index)`
    is one RNN step with the states as the cache: positions inside a prompt keep the prompt's
    token, later ones are sampled. Word continuations stop before the first `<eos>`. The sampler,
    temperature, length and seed are fixed at construction (export); the `generate_with_options`
    endpoint takes `{"prompts", "temperature", "tokens"}` (same sampler and seed stream, `tokens`
    to add), and `generate_with` (Python) any `keras_hub` sampler.

    `zoo.export.save_serving` writes `serve` (this model's call) and the `endpoints` attribute's
    `generate` and `generate_with_options` into one SavedModel.

    What one string may cost is capped: `serve` scores the first `max_tokens` tokens of a sentence
    and drops the rest (`tokens` says how many were scored, the end boundary included), and a prompt
    keeps its last `max_tokens` tokens. `generate_with_options` refuses (an `InvalidArgumentError`
    naming the option) a temperature that is not a finite number > 0 and a `tokens` outside
    `[0, max_new_tokens]`. A row whose log-probability is not a number (a ReLU recurrence that
    overflowed) scores `-inf` (perplexity `inf`), never NaN, and never changes the other rows.

    Args:
        model: a trained LM from `build_char_rnn`/`build_word_lstm_lm` (stateful or not, any cell) or
            `build_nnlm` (feed-forward: its generation cache is the window of the last ids).
        vocabulary: id -> token, `vocabulary[0]` the out-of-vocabulary token.
        level: `"word"` or `"char"`.
        boundary: the sentence boundary token.
        normalize: `"ptb"` or `"none"` (word level only).
        sampler, temperature, k, p, seed: the default sampler of `generate`.
        length: tokens generated per prompt by `generate`.
        max_tokens: tokens of one sentence scored, or of one prompt kept (see above).
        max_new_tokens: the largest `tokens` `generate_with_options` accepts.
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        vocabulary: Sequence[str],
        level: str,
        boundary: str,
        normalize: str = "none",
        sampler: str = "top_p",
        temperature: float = 1.0,
        k: int = 10,
        p: float = 0.9,
        seed: int = 1337,
        length: int = 20,
        max_tokens: int = 1000,
        max_new_tokens: int = 1000,
        **kwargs,
    ):
        super().__init__(name=kwargs.pop("name", "language_model_serving"), **kwargs)
        if level not in ("word", "char"):
            raise ValueError(f"level must be 'word' or 'char', got {level!r}")
        self.lm = stateless_copy(model)
        self.level, self.normalize, self.length = level, normalize, int(length)
        self.max_tokens, self.max_new_tokens = int(max_tokens), int(max_new_tokens)
        self.vocabulary = list(vocabulary)
        self.lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary[1:],
            num_oov_indices=1,
            oov_token=self.vocabulary[0],
            mask_token=None,
            name="lookup",
        )
        self.boundary_id = self.vocabulary.index(boundary) if boundary in self.vocabulary else 0
        self.default_sampler = make_sampler(sampler, temperature=temperature, k=k, p=p, seed=seed)
        self.sampler_seed = getattr(self.default_sampler, "seed_generator", None)  # tracked: exported with it
        self.input_signature = [tf.TensorSpec([None], tf.string, name="sentences")]
        # Extra endpoints for `zoo.export.save_serving` ({name: (function, input_signature)}).
        self.endpoints = {
            "generate": (self.generate, [tf.TensorSpec([None], tf.string, name="prompts")]),
            "generate_with_options": (
                self.generate_with_options,
                [
                    {
                        "prompts": tf.TensorSpec([None], tf.string, name="prompts"),
                        "temperature": tf.TensorSpec([], tf.float32, name="temperature"),
                        "tokens": tf.TensorSpec([], tf.int32, name="tokens"),
                    }
                ],
            ),
        }
        self.built = True  # every sub-layer is built (the copied LM, the adapted lookup)

    # -- strings <-> ids
    def _tokens(self, strings):
        strings = tf.convert_to_tensor(strings, tf.string)
        if self.level == "char":
            return tf.strings.unicode_split(strings, "UTF-8")
        if self.normalize == "ptb":
            strings = tf.strings.lower(strings)
            strings = tf.strings.regex_replace(strings, r"[0-9]+([.,][0-9]+)*", "N")
        return tf.strings.split(strings)

    def _ids(self, strings, keep_last: bool = False) -> tf.RaggedTensor:
        tokens = self._tokens(strings)
        tokens = tokens[:, -self.max_tokens :] if keep_last else tokens[:, : self.max_tokens]
        ids = tf.cast(self.lookup(tokens), tf.int32)
        boundary = tf.fill([ids.nrows(), 1], tf.constant(self.boundary_id, tf.int32))
        return tf.concat([tf.RaggedTensor.from_tensor(boundary), ids], axis=1)

    # -- scoring
    def score(self, sentences):
        ids = self._ids(sentences)
        end = tf.fill([ids.nrows(), 1], tf.constant(self.boundary_id, tf.int32))
        ids = tf.concat([ids, tf.RaggedTensor.from_tensor(end)], axis=1)
        lengths = ids.row_lengths() - 1
        dense = ids.to_tensor(default_value=0)
        log_probs = token_log_probs(self.lm, dense[:, :-1], dense[:, 1:])
        # Padding runs through the model too and may overflow (NaN): NaN * 0 is NaN, so select, not multiply.
        mask = tf.sequence_mask(lengths, tf.shape(log_probs)[1])
        total = tf.reduce_sum(tf.where(mask, log_probs, tf.zeros_like(log_probs)), axis=1)
        total = tf.where(tf.math.is_nan(total), tf.constant(-float("inf"), total.dtype), total)
        tokens = tf.cast(lengths, tf.int32)
        return {"log_prob": total, "tokens": tokens, "perplexity": tf.exp(-total / tf.cast(tokens, total.dtype))}

    def call(self, sentences):
        return self.score(sentences)

    # -- generation
    def generate_with(self, prompts, sampler: keras_hub.samplers.Sampler, length: int):
        ids = self._ids(prompts, keep_last=True)
        prompt_lengths = tf.cast(ids.row_lengths(), tf.int32)
        batch = tf.shape(prompt_lengths)[0]
        total = tf.reduce_max(prompt_lengths) + length
        prompt = ids.to_tensor(default_value=0, shape=[None, None])
        prompt = tf.pad(prompt, [[0, 0], [0, total - tf.shape(prompt)[1]]])
        mask = tf.sequence_mask(prompt_lengths, total)

        # A character model never writes "[UNK]" (id 0); a word model may write PTB's own <unk>.
        banned = tf.one_hot(0, len(self.vocabulary), on_value=-1e9, off_value=0.0) if self.level == "char" else None

        def next_fn(prompt, cache, index):
            logits, cache = step(self.lm, prompt[:, index - 1], cache)
            logits = ops.cast(logits, "float32")
            # A recurrence that overflowed gives inf/NaN logits, and a sampler then draws an id past the
            # vocabulary: keep them finite (NaN the least likely) so every row still samples a real token.
            logits = tf.clip_by_value(tf.where(tf.math.is_nan(logits), -1e9, logits), -1e9, 1e9)
            if banned is not None:
                logits = logits + banned
            return logits, None, cache

        stop = [self.boundary_id] if self.level == "word" else None
        out = sampler(next_fn, prompt, cache=initial_states(self.lm, batch), index=1, mask=mask, stop_token_ids=stop)
        positions = prompt_lengths[:, None] + tf.range(length)[None, :]
        generated = tf.gather(out, positions, batch_dims=1)
        if self.level == "word":
            keep = tf.equal(tf.cumsum(tf.cast(tf.equal(generated, self.boundary_id), tf.int32), axis=1), 0)
            generated = tf.ragged.boolean_mask(generated, keep)
        generated = tf.clip_by_value(generated, 0, len(self.vocabulary) - 1)  # the gather below can never fail
        strings = tf.gather(tf.constant(self.vocabulary), generated)
        return tf.strings.reduce_join(strings, axis=1, separator=" " if self.level == "word" else "")

    def generate(self, prompts):
        return self.generate_with(prompts, self.default_sampler, self.length)

    def generate_with_options(self, inputs):
        """`generate` with `{"prompts", "temperature", "tokens"}`: the sampler at another temperature/length."""
        temperature = tf.cast(inputs["temperature"], tf.float32)
        tokens = tf.cast(inputs["tokens"], tf.int32)
        checks = [
            tf.debugging.Assert(
                tf.math.is_finite(temperature) & (temperature > 0),
                ["generate_with_options: temperature must be a finite number > 0, got", temperature],
            ),
            tf.debugging.Assert(
                (tokens >= 0) & (tokens <= self.max_new_tokens),
                [f"generate_with_options: tokens must be in [0, {self.max_new_tokens}], got", tokens],
            ),
        ]
        with tf.control_dependencies(checks):
            temperature, tokens = tf.identity(temperature), tf.identity(tokens)
        sampler = self.default_sampler
        exported = sampler.temperature
        sampler.temperature = temperature  # read while tracing, then restored
        try:
            return self.generate_with(inputs["prompts"], sampler, tokens)
        finally:
            sampler.temperature = exported

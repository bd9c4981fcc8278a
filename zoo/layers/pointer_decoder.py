"""The pointer-generator decoder (See et al. 2017): attention that can copy source words, with coverage."""

from __future__ import annotations

import keras
from keras import ops

from zoo.layers.seq2seq_decoder import Seq2SeqDecoder

EPSILON = 1e-9  # keeps log P finite for words neither generated nor copied (extended ids of no source word)


def copy_distribution(weights, source_ext, size: int):
    """Attention weights summed per extended-vocabulary id: `(B, T, Ts), (B, Ts) -> (B, T, size)`.

    A word that occurs at several source positions gets the sum of their weights (See et al.'s
    `sum_{i: w_i = w} a_i`). A segment sum, not a one-hot matrix product: the one-hot tensor of a
    5,000-word vocabulary times 150 source positions per sentence and beam would not fit a batch.
    """
    batch, steps = ops.shape(weights)[0], ops.shape(weights)[1]
    rows = ops.reshape(ops.arange(batch * steps, dtype="int32"), (batch, steps, 1)) * size
    ids = rows + ops.cast(source_ext, "int32")[:, None, :]
    flat = ops.segment_sum(ops.reshape(weights, (-1,)), ops.reshape(ids, (-1,)), num_segments=batch * steps * size)
    return ops.reshape(flat, (batch, steps, size))


@keras.saving.register_keras_serializable(package="zoo")
class PointerDecoder(Seq2SeqDecoder):
    """`Seq2SeqDecoder` that can also copy source words: a pointer-generator with coverage (See et al. 2017).

    One step, after the attention decoder's (`Seq2SeqDecoder`: `s_t`, context `c_t`, weights `a_t`,
    attentional vector `h~_t`):

        p_gen = sigmoid(w [c_t; s_t; e_t] + b)                (e_t: the input token's embedding)
        P(w)  = p_gen P_vocab(w) + (1 - p_gen) sum_{j: x_j = w} a_t,j
        cov_t = sum_{t' < t} a_t'                             (coverage)
        score(s_t, h_j) = v^T tanh(W_q s_t + W_k h_j + w_c cov_t,j)   (with `coverage=True`)
        coverage loss_t = sum_j min(a_t,j, cov_t,j)

    `P` is over an *extended vocabulary*: the `vocab_size` words and then one id per distinct source
    word outside the vocabulary (`vocab_size + k`, at most `max_source_length` of them per
    sentence; `zoo.data.extended_vocabulary.extended_ids`), so a word the vocabulary maps to `[UNK]` can
    still be written by copying it. The layer returns `log P` over the `vocab_size +
    max_source_length` ids as its "logits": `log_softmax` leaves a log-distribution unchanged, so
    the usual `SparseCategoricalCrossentropy(from_logits=True)` and the greedy and beam searches of
    `zoo.models.decoding` work as they are. A copied word read back as the next input goes in as
    `[UNK]` (id 1), as in See et al.

    See et al. compute `p_gen` from the decoder input `x_t`; with input feeding `x_t` holds the
    previous attentional vector too, so here only the token's embedding `e_t` is used beside `c_t`
    and `s_t`. Coverage enters the additive score only (the one the paper uses; the other scores
    have no sum inside a nonlinearity to put it in). The coverage loss, weighted by
    `coverage_weight`, is added with `add_loss` as the mean over real target steps (the target
    embedding's Keras mask); See et al. weight it 1.

    Args:
        units: decoder state size.
        vocab_size: the generation vocabulary (the extended one adds `max_source_length` ids).
        max_source_length: source positions, hence the most out-of-vocabulary words a sentence adds.
        coverage: feed coverage into the attention scores and add the coverage loss (needs
            `attention="additive"`).
        coverage_weight: weight of the coverage loss (See et al.: 1).
        **kwargs: `Seq2SeqDecoder` arguments (cell, attention, input_feeding, bridge, ...).

    Call arguments:
        inputs: `[target_embedded (B, T, E), encoder_outputs (B, Ts, D), source_ids (B, Ts),
            source_ext (B, Ts), *encoder_states]`.
        mask: Keras masks (the target embedding's marks the real target steps for the coverage loss).
        return_attention: also return the attention weights `(B, T, Ts)` and `p_gen (B, T)`.

    Example:

    >>> decoder = PointerDecoder(units=8, vocab_size=20, max_source_length=6, coverage=True)
    >>> embedded, outputs = np.ones((2, 4, 5), "float32"), np.ones((2, 6, 8), "float32")
    >>> ids, ext = np.array([[4, 1, 5, 0, 0, 0]] * 2, "int32"), np.array([[4, 20, 5, 0, 0, 0]] * 2, "int32")
    >>> decoder([embedded, outputs, ids, ext, np.ones((2, 4), "float32"), np.ones((2, 4), "float32")]).shape
    TensorShape([2, 4, 26])
    """

    def __init__(
        self,
        units: int,
        vocab_size: int,
        max_source_length: int,
        coverage: bool = False,
        coverage_weight: float = 1.0,
        **kwargs,
    ):
        super().__init__(units, vocab_size, **kwargs)
        if self.attention is None:
            raise ValueError("a pointer decoder copies through its attention: attention cannot be 'none'")
        if coverage and self.attention_score != "additive":
            raise ValueError(f"coverage needs the additive attention score; got {self.attention_score!r}")
        self.max_source_length = int(max_source_length)
        self.extended_size = self.vocab_size + self.max_source_length
        self.coverage, self.coverage_weight = bool(coverage), float(coverage_weight)
        self.p_gen_dense = keras.layers.Dense(1, activation="sigmoid", name="p_gen")
        self.coverage_dense = keras.layers.Dense(self.units, use_bias=False, name="coverage") if coverage else None

    def build(self, input_shape):
        embedded, encoder_outputs = input_shape[0], input_shape[1]
        super().build([embedded, encoder_outputs, input_shape[2], *input_shape[4:]])
        context_dim = self.attention.context_size(self.units, int(encoder_outputs[-1]))
        self.p_gen_dense.build((None, context_dim + self.units + int(embedded[-1])))
        if self.coverage_dense is not None:
            self.coverage_dense.build((None, None, 1))  # w_c, added to the additive score's W_k h_j

    def initial_coverage(self, encoder_outputs):
        return ops.zeros(ops.shape(encoder_outputs)[:2], dtype=self.compute_dtype)

    def pointer_step(self, embedded, states, feed, coverage, encoder_outputs, encoder_mask, keys):
        """One step: `-> (attentional vector, states, feed, coverage after, weights (B, Ts), p_gen (B,))`."""
        x = ops.concatenate([embedded, feed], axis=-1) if self.input_feeding else embedded
        h, new_states = self.cell(x, list(states))
        new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        if self.coverage_dense is not None:
            keys = keys + self.coverage_dense(coverage[..., None])
        context, weights = self.attention(h, encoder_outputs, value_mask=encoder_mask, keys=keys)
        features = ops.concatenate([context, h], axis=-1)
        attentional = features if self.combine is None else self.combine(features)
        p_gen = self.p_gen_dense(ops.concatenate([context, h, embedded], axis=-1))[..., 0]
        feed = attentional if self.input_feeding else feed
        return attentional, new_states, feed, coverage + weights, weights, p_gen

    def mixture(self, attentional, weights, p_gen, source_ext):
        """`log P(w)` over the extended vocabulary from `(B, T, F)`, `(B, T, Ts)`, `(B, T)` and `(B, Ts)`."""
        vocab = ops.softmax(ops.cast(self.output_dense(attentional), "float32"), axis=-1)
        vocab = ops.pad(vocab, [[0, 0], [0, 0], [0, self.max_source_length]])
        copy = copy_distribution(ops.cast(weights, "float32"), source_ext, self.extended_size)
        p_gen = ops.cast(p_gen, "float32")[..., None]
        return ops.log(p_gen * vocab + (1.0 - p_gen) * copy + EPSILON)

    def coverage_loss(self, weights, steps_mask=None):
        """`sum_j min(a_t,j, cov_t,j)`, the mean over real target steps (all steps without a mask)."""
        before = ops.cumsum(weights, axis=1) - weights
        per_step = ops.sum(ops.minimum(weights, before), axis=-1)
        if steps_mask is None:
            return ops.mean(per_step)
        steps_mask = ops.cast(steps_mask, per_step.dtype)
        return ops.sum(per_step * steps_mask) / ops.maximum(ops.sum(steps_mask), 1.0)

    def call(self, inputs, mask=None, return_attention: bool = False):
        embedded, encoder_outputs, source_ids, source_ext = inputs[:4]
        encoder_mask = ops.not_equal(source_ids, 0)
        states = self.initial_state(inputs[4:])
        keys = self.keys(encoder_outputs)

        def body(e_t, carry):
            states, feed, coverage = carry
            attentional, states, feed, coverage, weights, p_gen = self.pointer_step(
                e_t, states, feed, coverage, encoder_outputs, encoder_mask, keys
            )
            return (states, feed, coverage), (attentional, weights, p_gen[:, None])

        carry = (states, self.initial_feed(encoder_outputs), self.initial_coverage(encoder_outputs))
        attentional, weights, p_gen = self._time_loop(embedded, body, carry, 3)
        p_gen = p_gen[..., 0]
        log_probs = self.mixture(attentional, weights, p_gen, source_ext)
        if self.coverage and self.coverage_weight:
            steps_mask = mask[0] if isinstance(mask, (list, tuple)) else None
            self.add_loss(self.coverage_weight * self.coverage_loss(weights, steps_mask))
        return (log_probs, weights, p_gen) if return_attention else log_probs

    def compute_output_spec(self, inputs, mask=None, return_attention: bool = False):
        batch, steps = inputs[0].shape[0], inputs[0].shape[1]
        log_probs = keras.KerasTensor((batch, steps, self.extended_size), dtype="float32")
        if return_attention:
            weights = keras.KerasTensor((batch, steps, inputs[2].shape[1]), dtype=self.compute_dtype)
            return log_probs, weights, keras.KerasTensor((batch, steps), dtype=self.compute_dtype)
        return log_probs

    def get_config(self):
        return {
            **super().get_config(),
            "max_source_length": self.max_source_length,
            "coverage": self.coverage,
            "coverage_weight": self.coverage_weight,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)  # no files from before `combine_activation` (the parent's default for those)

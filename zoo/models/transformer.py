"""Chapter 12's Transformer (Vaswani et al. 2017): an encoder-decoder for translation and an encoder classifier.

`build_transformer_seq2seq` has the contract of `zoo.models.seq2seq.build_attention_seq2seq`:
`{"source": ids (B, Ts), "target_in": ids (B, Tt)}` -> logits `(B, Tt, target_vocab_size)`, id 0 =
padding, `START_ID`/`END_ID` the start and end tokens, so the translation data, `Translator`, BLEU
and the heat maps serve both. `TransformerInference` is its `encode`/`step` view for
`zoo.models.decoding`, like `Seq2SeqInference`. `build_transformer_classifier` has the contract of
the zoo's other text classifiers (ids -> `classifier_head` probabilities; `compile_classifier`).

Masks are explicit: the models compute `source != 0` and `target_in != 0` and hand them to every block
(`zoo.layers.transformer`); the embeddings attach no Keras mask, so the logits carry none and the loss
ignores padding through `ignore_class=0` (as `compile_seq2seq`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from zoo.layers.pooling import SequencePooling
from zoo.layers.transformer import (
    PositionalEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from zoo.losses import SmoothedSparseCrossentropy
from zoo.models.classifier import classifier_head
from zoo.models.decoding import beam_search, greedy_search
from zoo.models.seq2seq import END_ID, START_ID


def _check_sizes(*, num_layers: int, model_dim: int, num_heads: int, **vocab_sizes: int) -> None:
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1; got {num_layers}")
    if num_heads < 1 or model_dim % num_heads:
        raise ValueError(f"model_dim must be a multiple of num_heads ({num_heads}); got {model_dim}")
    for name, size in vocab_sizes.items():
        if size < 5:
            raise ValueError(f"{name} must be >= 5 (padding, OOV, start, end and one token); got {size}")


def _encoder_stack(x, padding_mask, *, num_layers: int, model_dim: int, num_heads: int, ff_dim: int, dropout: float):
    for i in range(num_layers):
        x = TransformerEncoderBlock(model_dim, num_heads, ff_dim, dropout, name=f"encoder_{i}")(x, padding_mask)
    return x


def build_transformer_seq2seq(
    *,
    source_vocab_size: int,
    target_vocab_size: int,
    num_layers: int = 2,
    model_dim: int = 256,
    num_heads: int = 4,
    ff_dim: int = 1024,
    dropout: float = 0.1,
    shared_embedding: bool = False,
    tie_output: bool = False,
) -> keras.Model:
    """The Transformer encoder-decoder (post-norm, sinusoidal positions, ReLU feed-forward).

    Layers are named for `TransformerInference`: `source_embedding` and `target_embedding` (or one
    `shared_embedding`), `encoder_0..`, `decoder_0..` and `output` (absent with `tie_output`).

    Args:
        source_vocab_size: source vocabulary incl. padding (0) and OOV (1).
        target_vocab_size: target vocabulary incl. padding, OOV, start (2) and end (3).
        num_layers: encoder and decoder blocks each (the paper: 6).
        model_dim: d_model (the paper: 512), a multiple of `num_heads`.
        num_heads: attention heads (the paper: 8).
        ff_dim: the feed-forward inner size (the paper: 2048).
        dropout: on the embeddings and every sublayer's output (the paper: 0.1).
        shared_embedding: one embedding matrix for source and target (needs equal vocabularies).
        tie_output: the output layer is the target embedding matrix transposed (no `output` Dense).

    Returns:
        An uncompiled `keras.Model` named `"transformer"`, `{"source", "target_in"} -> logits
        (B, Tt, target_vocab_size)`; `compile_transformer` compiles it.

    Example:
        >>> model = build_transformer_seq2seq(source_vocab_size=50, target_vocab_size=60, model_dim=8,
        ...                                   num_heads=2, ff_dim=16)
        >>> model({"source": np.ones((2, 7), "int32"), "target_in": np.ones((2, 4), "int32")}).shape
        TensorShape([2, 4, 60])
    """
    _check_sizes(
        num_layers=num_layers,
        model_dim=model_dim,
        num_heads=num_heads,
        source_vocab_size=source_vocab_size,
        target_vocab_size=target_vocab_size,
    )
    if shared_embedding and source_vocab_size != target_vocab_size:
        raise ValueError(
            f"shared_embedding needs one vocabulary; got sizes {source_vocab_size} and {target_vocab_size}"
        )
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    if shared_embedding:
        source_embedding = target_embedding = PositionalEmbedding(
            source_vocab_size, model_dim, mask_zero=False, name="shared_embedding"
        )
    else:
        source_embedding = PositionalEmbedding(source_vocab_size, model_dim, mask_zero=False, name="source_embedding")
        target_embedding = PositionalEmbedding(target_vocab_size, model_dim, mask_zero=False, name="target_embedding")
    source_mask, target_mask = ops.not_equal(source, 0), ops.not_equal(target_in, 0)

    sizes = dict(num_layers=num_layers, model_dim=model_dim, num_heads=num_heads, ff_dim=ff_dim, dropout=dropout)
    x = keras.layers.Dropout(dropout, name="source_dropout")(source_embedding(source))
    encoded = _encoder_stack(x, source_mask, **sizes)
    y = keras.layers.Dropout(dropout, name="target_dropout")(target_embedding(target_in))
    for i in range(num_layers):
        block = TransformerDecoderBlock(model_dim, num_heads, ff_dim, dropout, name=f"decoder_{i}")
        y = block(y, encoded, target_mask=target_mask, source_mask=source_mask)
    if tie_output:
        logits = target_embedding(y, reverse=True)
    else:
        logits = keras.layers.Dense(target_vocab_size, name="output")(y)
    return keras.Model({"source": source, "target_in": target_in}, logits, name="transformer")


def build_transformer_classifier(
    *,
    vocab_size: int,
    num_classes: int,
    num_layers: int = 2,
    model_dim: int = 128,
    num_heads: int = 4,
    ff_dim: int = 256,
    dropout: float = 0.1,
    pooling: str = "mean",
) -> keras.Model:
    """Transformer encoder blocks over the token ids, pooled over the real tokens, then `classifier_head`.

    Args:
        vocab_size: vocabulary incl. padding (0) and OOV (1).
        num_classes: 2 gives one sigmoid unit, more a softmax (`zoo.models.classifier`).
        num_layers, model_dim, num_heads, ff_dim, dropout: as `build_transformer_seq2seq`.
        pooling: `"mean"` over the real tokens, `"max"` over them, or `"first"` (position 0).

    Returns:
        An uncompiled `keras.Model` `ids (B, T) -> probabilities`; compile it with
        `zoo.models.classifier.compile_classifier`.

    Example:
        >>> model = build_transformer_classifier(vocab_size=100, num_classes=3, model_dim=8, num_heads=2, ff_dim=16)
        >>> model.output.shape
        (None, 3)
    """
    _check_sizes(num_layers=num_layers, model_dim=model_dim, num_heads=num_heads, vocab_size=vocab_size)
    pool = SequencePooling(pooling, name="pooling")  # validates `pooling` before anything is built
    ids = keras.Input((None,), dtype="int32", name="ids")
    mask = ops.not_equal(ids, 0)
    x = PositionalEmbedding(vocab_size, model_dim, mask_zero=False, name="embedding")(ids)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    sizes = dict(num_layers=num_layers, model_dim=model_dim, num_heads=num_heads, ff_dim=ff_dim, dropout=dropout)
    x = pool(_encoder_stack(x, mask, **sizes), padding_mask=mask)
    x = keras.layers.Dropout(dropout, name="pooled_dropout")(x)
    return keras.Model(ids, classifier_head(x, num_classes), name="transformer_classifier")


@keras.saving.register_keras_serializable(package="zoo")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The paper's learning rate: d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5).

    Linear warm-up to its peak (d_model * warmup_steps)^-0.5 at `step == warmup_steps`, then decay
    as step^-0.5. `step` counts from 1 (the optimiser's `iterations` + 1).

    Example:
        >>> schedule = TransformerSchedule(256, warmup_steps=4000)
        >>> round(float(schedule(3999)), 6)  # the 4000th step: the peak
        0.000988
    """

    def __init__(self, model_dim: int, warmup_steps: int = 4000):
        if model_dim < 1 or warmup_steps < 1:
            raise ValueError(f"model_dim and warmup_steps must be >= 1; got {model_dim} and {warmup_steps}")
        self.model_dim, self.warmup_steps = int(model_dim), int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        return self.model_dim**-0.5 * ops.minimum(ops.rsqrt(step), step * self.warmup_steps**-1.5)

    def get_config(self):
        return {"model_dim": self.model_dim, "warmup_steps": self.warmup_steps}


def compile_transformer(
    model: keras.Model, *, warmup_steps: int = 4000, label_smoothing: float = 0.1, learning_rate: float | None = None
) -> keras.Model:
    """Adam(0.9, 0.98, 1e-9) on `TransformerSchedule` (or a constant `learning_rate`), label-smoothed loss.

    The loss is `SmoothedSparseCrossentropy(label_smoothing, from_logits=True, ignore_class=0)`: the
    mean over the real target tokens, so extra padding leaves it unchanged. Accuracy is weighted by
    the datasets' sample weights (0 on padding), as in `zoo.models.seq2seq.compile_seq2seq`.

    Args:
        model: a `build_transformer_seq2seq` model (its embedding's `model_dim` sets the schedule).
        warmup_steps: the schedule's warm-up (the paper: 4000).
        label_smoothing: the paper's 0.1; 0 is plain cross-entropy.
        learning_rate: a constant rate instead of the schedule.

    Returns:
        `model`, compiled.
    """
    if learning_rate is None:
        dims = [layer.model_dim for layer in model.layers if isinstance(layer, PositionalEmbedding)]
        if not dims:
            raise ValueError(f"model {model.name!r} has no PositionalEmbedding: pass learning_rate")
        learning_rate = TransformerSchedule(dims[0], warmup_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.98, epsilon=1e-9),
        loss=SmoothedSparseCrossentropy(label_smoothing, from_logits=True, ignore_class=0),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


class TransformerInference:
    """`encode` / `step` views of a trained `build_transformer_seq2seq` model, for `zoo.models.decoding`.

    The cache (every leaf batch-major, as `greedy_search`/`beam_search` repeat and gather it per beam):

        encoder_outputs  (N, Ts, model_dim)  the encoder stack's outputs, computed once
        source_mask      (N, Ts) bool        True for real source tokens
        tokens           (N, max_length) int32  the decoder inputs so far (start token first), 0 after
        index            (N,) int32          where the next input token goes

    `step(tokens, cache)` writes the token at `index`, runs the decoder stack over the prefix
    `tokens[:, :index + 1]` (causal mask) and returns the last position's logits: no key/value cache,
    so decoding a sentence of length T costs O(T^2) decoder positions, which is fine for the short
    sentences of the course. `step` may be called at most `max_length` times after `encode`.
    """

    def __init__(self, model: keras.Model):
        names = {layer.name for layer in model.layers}
        shared = "shared_embedding" in names
        self.source_embedding = model.get_layer("shared_embedding" if shared else "source_embedding")
        self.target_embedding = model.get_layer("shared_embedding" if shared else "target_embedding")
        count = sum(isinstance(layer, TransformerEncoderBlock) for layer in model.layers)
        self.encoders = [model.get_layer(f"encoder_{i}") for i in range(count)]
        self.decoders = [model.get_layer(f"decoder_{i}") for i in range(count)]
        self.output = model.get_layer("output") if "output" in names else None

    def logits(self, outputs):
        """The output layer (or the tied target embedding) on decoder outputs."""
        return self.target_embedding(outputs, reverse=True) if self.output is None else self.output(outputs)

    def encoder_outputs(self, source_ids, source_mask):
        """The encoder stack's outputs `(B, Ts, model_dim)`."""
        x = self.source_embedding(source_ids)
        for block in self.encoders:
            x = block(x, padding_mask=source_mask)
        return x

    def encode(self, source_ids, *, max_length: int = 64) -> dict:
        """The cache for decoding up to `max_length` steps (the size of its `tokens` buffer)."""
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, 0)
        batch = ops.shape(source_ids)[0]
        return {
            "encoder_outputs": self.encoder_outputs(source_ids, mask),
            "source_mask": mask,
            "tokens": ops.zeros((batch, max_length), "int32"),
            "index": ops.zeros((batch,), "int32"),
        }

    def decoder_outputs(self, target_in, encoder_outputs, source_mask, *, return_attention: bool = False):
        """The decoder stack on `target_in` `(B, T)` (and its cross-attention weights, one per block)."""
        y, target_mask, weights = self.target_embedding(target_in), ops.not_equal(target_in, 0), []
        for block in self.decoders:
            y = block(y, encoder_outputs, target_mask, source_mask, return_attention=return_attention)
            if return_attention:
                y, w = y
                weights.append(w)
        return y, weights

    def step(self, tokens, cache: dict):
        """`(logits (N, V), cache)` after feeding `tokens` `(N,)`, the previous output of each sequence."""
        index = cache["index"]
        size = cache["tokens"].shape[1] or tf.shape(cache["tokens"])[1]
        tf.debugging.assert_less(index, size, message="TransformerInference.step: the tokens buffer is full")
        slot = tf.one_hot(index, size, on_value=True, off_value=False)
        written = tf.where(slot, tf.cast(tokens, tf.int32)[:, None], cache["tokens"])
        prefix = written[:, : tf.reduce_max(index) + 1]
        y, _ = self.decoder_outputs(prefix, cache["encoder_outputs"], cache["source_mask"])
        last = tf.gather(y, index, batch_dims=1)  # (N, model_dim)
        return self.logits(last), {**cache, "tokens": written, "index": index + 1}

    def decode(self, source_ids, *, max_length: int, beam_width: int = 1, alpha: float = 0.7) -> dict:
        """Greedy (`beam_width=1`) or beam search from source ids; see `zoo.models.decoding`."""
        cache = self.encode(source_ids, max_length=max_length)
        start = tf.fill(tf.shape(source_ids)[:1], START_ID)
        if beam_width == 1:
            return greedy_search(self.step, cache, start, end_id=END_ID, max_length=max_length)
        return beam_search(
            self.step, cache, start, end_id=END_ID, max_length=max_length, beam_width=beam_width, alpha=alpha
        )

    def attention_weights(self, source_ids, tokens):
        """Cross-attention weights `(B, num_layers, num_heads, L + 1, Ts)` while producing `tokens`
        `(B, L)` (0-padded) and then the end token (teacher-forced, the start token first)."""
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, 0)
        start = tf.fill([tf.shape(tokens)[0], 1], START_ID)
        target_in = tf.concat([start, tf.cast(tokens, tf.int32)], axis=1)
        encoded = self.encoder_outputs(source_ids, mask)
        _, weights = self.decoder_outputs(target_in, encoded, mask, return_attention=True)
        return ops.stack(weights, axis=1)

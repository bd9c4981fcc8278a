"""Chapter 12 Transformer: attention by hand vs Keras, masks (padding, look-ahead, Keras masks), the
encode/step view against teacher forcing, the label-smoothed loss with padding, the schedule, `.keras`
round trips, argument errors, and a toy copy task that learns."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers.pooling import SequencePooling
from zoo.layers.transformer import (
    PositionalEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    attention_mask,
    merge_heads,
    multi_head_attention_by_hand,
    scaled_dot_product_attention,
    split_heads,
)
from zoo.losses import SmoothedSparseCrossentropy
from zoo.models.seq2seq import END_ID, START_ID
from zoo.models.transformer import (
    TransformerInference,
    TransformerSchedule,
    build_transformer_classifier,
    build_transformer_seq2seq,
    compile_transformer,
)

TINY = dict(num_layers=2, model_dim=8, num_heads=2, ff_dim=16)
SOURCE = np.array([[5, 6, 7, 8, 0, 0], [9, 4, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9]], "int32")
TARGET_IN = np.array([[START_ID, 5, 6, 0], [START_ID, 7, 8, 9], [START_ID, 0, 0, 0]], "int32")


def seq2seq(**overrides) -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_transformer_seq2seq(**{"source_vocab_size": 12, "target_vocab_size": 13, **TINY, **overrides})


def logits(model, source, target_in):
    return np.asarray(model({"source": source, "target_in": target_in}, training=False))


def pad(ids, extra: int):
    return np.pad(ids, [(0, 0), (0, extra)])


# --- attention written out --------------------------------------------------------------------------
def test_multi_head_attention_by_hand_equals_keras_with_padding():
    rng = np.random.default_rng(0)
    query, value = rng.normal(size=(2, 3, 6)).astype("float32"), rng.normal(size=(2, 5, 6)).astype("float32")
    layer = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    layer(query, value)
    for w in layer.weights:  # non-zero biases too
        w.assign(rng.normal(size=w.shape).astype("float32"))
    mask = attention_mask(query, np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool))
    want, want_weights = layer(query, value, attention_mask=mask, return_attention_scores=True)
    got, got_weights = multi_head_attention_by_hand(layer, query, value, mask)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(got_weights, want_weights, atol=1e-6)
    assert np.all(np.asarray(got_weights)[0, :, :, 3:] == 0)
    # The fused kernel Keras uses when no weights are asked for gives the same outputs.
    np.testing.assert_allclose(layer(query, value, attention_mask=mask), want, atol=1e-5)


def test_scaled_dot_product_attention_matches_numpy_and_heads_split_back():
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(size=(2, 4, n, 3)).astype("float32") for n in (2, 5, 5))
    mask = np.arange(5) < np.array([3, 5])[:, None, None, None]  # (2, 1, 1, 5)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = np.where(mask, q @ k.swapaxes(-1, -2) / np.sqrt(3), -np.inf)
    expected = np.exp(scores - scores.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    np.testing.assert_allclose(out, expected @ v, atol=1e-5)
    x = rng.normal(size=(2, 5, 12)).astype("float32")
    assert tuple(split_heads(x, 4).shape) == (2, 4, 5, 3)
    np.testing.assert_array_equal(split_heads(x, 4)[:, 1], x[:, :, 3:6])  # head 1 = features 3..5
    np.testing.assert_array_equal(merge_heads(split_heads(x, 4)), x)


def test_blocks_ignore_keras_masks_on_their_inputs():
    """`Embedding(mask_zero=True)` attaches a Keras mask; the blocks' outputs are those of the bare values."""
    keras.utils.set_random_seed(2)
    ids = np.array([[3, 4, 0, 0], [5, 6, 7, 0]])
    embedded = keras.layers.Embedding(10, 8, mask_zero=True)(ids)
    bare = tf.constant(np.asarray(embedded))
    encoder, decoder = TransformerEncoderBlock(8, 2, 16), TransformerDecoderBlock(8, 2, 16, normalize_first=True)
    padding = ids != 0
    for block, args in ((encoder, (padding,)), (decoder, (embedded, padding, padding))):
        with_mask, with_mask_weights = block(embedded, *args, return_attention=True)
        without, without_weights = block(bare, *args, return_attention=True)
        np.testing.assert_allclose(with_mask, without, atol=1e-6)
        np.testing.assert_allclose(with_mask_weights, without_weights, atol=1e-6)
        # Padding queries attend to the real keys only (Keras' query mask would spread them uniformly).
        np.testing.assert_allclose(np.asarray(without_weights)[0, :, 3, 2:], 0.0)


# --- masks in the models ----------------------------------------------------------------------------
@pytest.mark.parametrize("variant", [{}, {"shared_embedding": True, "tie_output": True}])
def test_extra_padding_changes_no_seq2seq_logit(variant):
    keras.utils.set_random_seed(7)
    model = build_transformer_seq2seq(source_vocab_size=13, target_vocab_size=13, **TINY, **variant)
    base = logits(model, SOURCE, TARGET_IN)
    padded = logits(model, pad(SOURCE, 3), pad(TARGET_IN, 2))
    real = TARGET_IN != 0
    np.testing.assert_allclose(padded[:, :4][real], base[real], atol=1e-5)


@pytest.mark.parametrize("pooling", ["mean", "max", "first"])
def test_extra_padding_changes_no_classifier_output(pooling):
    keras.utils.set_random_seed(3)
    model = build_transformer_classifier(vocab_size=12, num_classes=3, pooling=pooling, **TINY)
    base = np.asarray(model(SOURCE, training=False))
    np.testing.assert_allclose(model(pad(SOURCE, 4), training=False), base, atol=1e-6)
    assert base.shape == (3, 3)
    np.testing.assert_allclose(base.sum(-1), 1.0, atol=1e-6)  # softmax over 3 classes (classifier_head)


def test_the_decoder_cannot_look_ahead():
    model = seq2seq()
    target_in = np.array([[START_ID, 5, 6, 7, 8, 9]] * 2, "int32")
    base = logits(model, SOURCE[:2], target_in)
    for t in range(1, 6):
        changed = target_in.copy()
        changed[:, t] = 11
        out = logits(model, SOURCE[:2], changed)
        np.testing.assert_allclose(out[:, :t], base[:, :t], atol=1e-5)
        assert not np.allclose(out[:, t], base[:, t], atol=1e-3)


def test_cross_attention_rows_sum_to_one_over_the_real_source_tokens():
    inference = TransformerInference(seq2seq())
    tokens = np.array([[5, 6, 0], [7, 0, 0], [8, 9, 10]])
    weights = np.asarray(inference.attention_weights(SOURCE, tokens))
    assert weights.shape == (3, TINY["num_layers"], TINY["num_heads"], 4, 6)
    real = (SOURCE != 0)[:, None, None, None, :]
    np.testing.assert_allclose(np.where(real, weights, 0).sum(-1), 1.0, atol=1e-5)
    assert np.all(np.where(real, 0, weights) == 0)


# --- decoding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", [{}, {"tie_output": True}])
def test_steps_reproduce_teacher_forcing(variant):
    model = seq2seq(**variant)
    inference = TransformerInference(model)
    target_in = np.array([[START_ID, 5, 6, 7], [START_ID, 8, 0, 0], [START_ID, 9, 10, 11]], "int32")
    want = logits(model, SOURCE, target_in)
    cache = inference.encode(SOURCE, max_length=4)
    assert {k: tuple(v.shape) for k, v in cache.items()} == {
        "encoder_outputs": (3, 6, 8),
        "source_mask": (3, 6),
        "tokens": (3, 4),
        "index": (3,),
    }
    for t in range(4):
        step_logits, cache = inference.step(target_in[:, t], cache)
        real = target_in[:, t] != 0
        np.testing.assert_allclose(np.asarray(step_logits)[real], want[real, t], atol=1e-4)


def sequence_log_prob(model, source, tokens, length, max_length):
    """log P(tokens[:length] (+ the end token if it came before max_length) | source), teacher-forced."""
    generated = [*tokens[:length], END_ID][:max_length]
    target_in = np.array([[START_ID, *generated[:-1]]], "int32")
    log_p = tf.nn.log_softmax(logits(model, source[None], target_in)[0]).numpy()
    return log_p[np.arange(len(generated)), generated].sum()


def test_greedy_equals_beam_of_one_and_beam_scores_are_the_models():
    model = seq2seq()
    inference = TransformerInference(model)
    greedy = inference.decode(SOURCE, max_length=5)
    beam1 = inference.decode(SOURCE, max_length=5, beam_width=1)
    np.testing.assert_array_equal(greedy["tokens"], beam1["tokens"])
    np.testing.assert_allclose(greedy["log_probs"], beam1["log_probs"], rtol=1e-6)
    # Every leaf of the cache is repeated and re-gathered per beam: the scores are the model's own.
    for out in (greedy, inference.decode(SOURCE, max_length=5, beam_width=3)):
        tokens, lengths = np.asarray(out["tokens"]), np.asarray(out["lengths"])
        assert tokens.shape == (3, 5) and not np.any(tokens == END_ID)
        for row in range(3):
            want = sequence_log_prob(model, SOURCE[row], tokens[row], lengths[row], max_length=5)
            np.testing.assert_allclose(float(out["log_probs"][row]), want, rtol=1e-4, atol=1e-4)


# --- loss, schedule, compile ------------------------------------------------------------------------
def test_smoothed_loss_ignores_padding_and_equals_keras_without_smoothing():
    rng = np.random.default_rng(4)
    y_true = np.array([[4, 5, 3, 0], [6, 3, 0, 0]])
    y_pred = rng.normal(size=(2, 4, 7)).astype("float32")
    padded_true, padded_pred = pad(y_true, 3), np.concatenate([y_pred, rng.normal(size=(2, 3, 7))], 1)
    smoothed = SmoothedSparseCrossentropy(0.1, from_logits=True, ignore_class=0)
    np.testing.assert_allclose(float(smoothed(padded_true, padded_pred)), float(smoothed(y_true, y_pred)), rtol=1e-6)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    ours = SmoothedSparseCrossentropy(0.0, from_logits=True, ignore_class=0)
    np.testing.assert_allclose(float(ours(y_true, y_pred)), float(plain(y_true, y_pred)), rtol=1e-6)
    weights = np.array([[1.0, 0.5, 2.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_allclose(float(ours(y_true, y_pred, weights)), float(plain(y_true, y_pred, weights)), rtol=1e-6)
    # The mean is over the 5 real tokens, by hand.
    log_p = tf.nn.log_softmax(y_pred).numpy()
    real = y_true != 0
    q = 0.9 * np.eye(7)[y_true] + 0.1 / 7
    np.testing.assert_allclose(float(smoothed(y_true, y_pred)), -(q * log_p).sum(-1)[real].mean(), rtol=1e-5)
    clone = keras.losses.deserialize(keras.losses.serialize(smoothed))
    assert (clone.smoothing, clone.from_logits, clone.ignore_class) == (0.1, True, 0)


def test_schedule_warms_up_to_its_peak_then_decays():
    schedule = TransformerSchedule(256, warmup_steps=100)
    values = np.array([float(schedule(i)) for i in range(400)])
    assert values.argmax() == 99  # iterations 99 = step 100 = warmup_steps
    np.testing.assert_allclose(values[99], (256 * 100) ** -0.5, rtol=1e-6)
    np.testing.assert_allclose(values[0], 256**-0.5 * 100**-1.5, rtol=1e-6)  # step 1
    np.testing.assert_allclose(values[399], 256**-0.5 * 400**-0.5, rtol=1e-6)
    np.testing.assert_allclose(values[:99], values[99] * np.arange(1, 100) / 100, rtol=1e-5)  # linear warm-up
    clone = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert float(clone(7)) == float(schedule(7))


@pytest.mark.parametrize("variant", [{}, {"source_vocab_size": 13, "shared_embedding": True, "tie_output": True}])
def test_seq2seq_round_trips_through_a_keras_file(tmp_path, variant):
    model = compile_transformer(seq2seq(**variant), warmup_steps=10)
    model.optimizer.build(model.trainable_variables)  # its slots are saved too (else Keras warns on loading)
    model.save(tmp_path / "t.keras")
    loaded = keras.models.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(logits(loaded, SOURCE, TARGET_IN), logits(model, SOURCE, TARGET_IN), atol=1e-6)
    assert isinstance(loaded.loss, SmoothedSparseCrossentropy) and loaded.loss.ignore_class == 0
    schedule = loaded.optimizer.get_config()["learning_rate"]
    assert schedule["registered_name"] == "zoo>TransformerSchedule"
    assert schedule["config"] == {"model_dim": 8, "warmup_steps": 10}


def test_classifier_round_trips_through_a_keras_file(tmp_path):
    keras.utils.set_random_seed(5)
    model = build_transformer_classifier(vocab_size=12, num_classes=2, pooling="max", **TINY)
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras")
    np.testing.assert_allclose(loaded(SOURCE, training=False), model(SOURCE, training=False), atol=1e-6)
    assert loaded.output.shape == (None, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model_dim": 10, "num_heads": 4}, "model_dim"),
        ({"num_layers": 0}, "num_layers"),
        ({"source_vocab_size": 4}, "source_vocab_size"),
        ({"target_vocab_size": 4}, "target_vocab_size"),
        ({"shared_embedding": True}, "shared_embedding"),
    ],
)
def test_seq2seq_builder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_transformer_seq2seq(**{"source_vocab_size": 12, "target_vocab_size": 13, **TINY, **kwargs})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model_dim": 10, "num_heads": 4}, "model_dim"),
        ({"num_layers": 0}, "num_layers"),
        ({"vocab_size": 4}, "vocab_size"),
        ({"pooling": "sum"}, "pooling"),
    ],
)
def test_classifier_builder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_transformer_classifier(**{"vocab_size": 12, "num_classes": 2, **TINY, **kwargs})


def test_layers_round_trip_through_their_configs():
    for layer in (
        PositionalEmbedding(10, 8, mask_zero=False),
        TransformerEncoderBlock(8, 2, 16, 0.2, normalize_first=True),
        TransformerDecoderBlock(8, 4, 32, 0.0),
        SequencePooling("max"),
    ):
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


# --- training ---------------------------------------------------------------------------------------
def test_a_tiny_transformer_learns_to_copy():
    rng = np.random.default_rng(6)
    keras.utils.set_random_seed(6)
    lengths = rng.integers(2, 6, size=64)
    source = np.where(np.arange(6) < lengths[:, None], rng.integers(4, 12, size=(64, 6)), 0).astype("int32")
    target_in = np.pad(source, [(0, 0), (1, 0)], constant_values=START_ID)
    target_out = np.pad(source, [(0, 0), (0, 1)])
    target_out[np.arange(64), lengths] = END_ID
    sizes = dict(num_layers=1, model_dim=16, num_heads=2, ff_dim=32, dropout=0.0)
    model = build_transformer_seq2seq(source_vocab_size=12, target_vocab_size=12, **sizes)
    compile_transformer(model, learning_rate=3e-3)
    inputs = {"source": source, "target_in": target_in}
    weights = (target_out != 0).astype("float32")
    losses = np.array([model.train_on_batch(inputs, target_out, sample_weight=weights)[0] for _ in range(30)])
    assert losses[-3:].mean() < 0.7 * losses[:3].mean(), losses

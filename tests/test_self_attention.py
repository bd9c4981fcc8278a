"""Chapter 11: the self-attention layer against NumPy, its penalty, the classifier, serving, the PAN loader,
the attention maps, and chapter 11.3's custom regularizers, losses and metric."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data import pan_profiling
from zoo.data.text import strip_html_lower_punct, vectorizer
from zoo.errors import CorruptData, DataNotFound, UserError
from zoo.layers.self_attention import SelfAttention
from zoo.layers.token_strings import TokenStrings
from zoo.losses import SmoothedSparseCrossentropy, smoothed_sparse_crossentropy
from zoo.metrics.classification import MacroF1
from zoo.models.self_attentive import (
    ATTENTION_LAYER,
    attend,
    attention_model,
    build_self_attentive_classifier,
    compile_self_attentive,
    mean_pairwise_overlap,
)
from zoo.regularizers import L1_ACTIVITY_RATE, Orthogonality, l1_activity
from zoo.serving.self_attentive import SelfAttentiveServing, explain, explain_model, string_classifier
from zoo.visualize.attention_maps import sentence_figure, write_attention_maps

ROOT = Path(__file__).resolve().parents[1]
BATCH, STEPS, FEATURES, HOPS, UNITS = 3, 6, 4, 2, 5


# --------------------------------------------------------------------------- the layer against NumPy


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_self_attention(h, w_s1, w_s2, mask):
    """Lin et al.'s equations one text at a time: A = softmax_tokens(W_s2 tanh(W_s1 H^T)), M = A H."""
    a_all, m_all, p_all = [], [], []
    for b in range(h.shape[0]):
        real = h[b][mask[b]]  # the unpadded tokens only: padding simply is not there
        a_real = softmax(w_s2 @ np.tanh(w_s1 @ real.T), axis=1)  # (r, n_real)
        a = np.zeros((w_s2.shape[0], h.shape[1]))
        a[:, mask[b]] = a_real
        a_all.append(a)
        m_all.append(a_real @ real)
        p_all.append(np.sum((a @ a.T - np.eye(a.shape[0])) ** 2))
    return np.stack(a_all), np.stack(m_all), float(np.mean(p_all))


def fixed_layer(rng, penalty=1.0):
    layer = SelfAttention(hops=HOPS, attention_units=UNITS, penalty=penalty)
    layer.build((None, STEPS, FEATURES))
    w_s1, w_s2 = rng.normal(size=(UNITS, FEATURES)), rng.normal(size=(HOPS, UNITS))
    layer.set_weights([w_s1, w_s2])
    return layer, w_s1, w_s2


def test_attention_and_embedding_match_numpy_with_a_mask():
    rng = np.random.default_rng(0)
    layer, w_s1, w_s2 = fixed_layer(rng)
    h = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], bool)
    m, a = (np.asarray(t) for t in layer(h, mask=mask))
    want_a, want_m, _ = numpy_self_attention(h.astype("float64"), w_s1, w_s2, mask)
    np.testing.assert_allclose(a, want_a, atol=1e-5)
    np.testing.assert_allclose(m, want_m, atol=1e-5)
    assert np.all(a[~np.broadcast_to(mask[:, None, :], a.shape)] == 0.0)  # padding: exactly zero weight
    np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-6)  # every hop a distribution over the real tokens
    np.testing.assert_allclose(a[2, :, 0], 1.0, atol=1e-6)  # one real token takes all the weight


def test_softmax_runs_over_tokens_not_hops():
    """The book's bug: a softmax over the hops makes each token's column sum to 1 instead of each hop's row."""
    rng = np.random.default_rng(1)
    layer, _, _ = fixed_layer(rng)
    a = np.asarray(layer(rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32"))[1])
    np.testing.assert_allclose(a.sum(axis=2), 1.0, atol=1e-6)
    assert not np.allclose(a.sum(axis=1), 1.0, atol=1e-3)


def test_a_text_with_no_real_token_gets_zero_attention_not_nan():
    rng = np.random.default_rng(2)
    layer, _, _ = fixed_layer(rng)
    mask = np.zeros((1, STEPS), bool)
    m, a = layer(rng.normal(size=(1, STEPS, FEATURES)).astype("float32"), mask=mask)
    assert np.all(np.asarray(a) == 0.0) and np.all(np.asarray(m) == 0.0)


def test_penalty_matches_numpy_and_is_added_with_its_coefficient():
    rng = np.random.default_rng(3)
    layer, w_s1, w_s2 = fixed_layer(rng, penalty=0.3)
    h = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], bool)
    layer(h, mask=mask)
    _, _, want = numpy_self_attention(h.astype("float64"), w_s1, w_s2, mask)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.3 * want, rtol=1e-5)
    np.testing.assert_allclose(float(layer.penalty_tracker.result()), want, rtol=1e-5)  # reported unweighted

    off, _, _ = fixed_layer(np.random.default_rng(3), penalty=0.0)
    off(h, mask=mask)
    assert off.losses == []  # coefficient 0: nothing added to the loss ...
    np.testing.assert_allclose(float(off.penalty_tracker.result()), want, rtol=1e-5)  # ... still measured


def test_penalty_is_zero_when_hops_attend_to_disjoint_single_tokens():
    # One-hot hidden states and saturating weights make hop i put (almost) all its weight on token i.
    n = 3
    layer = SelfAttention(hops=n, attention_units=n, penalty=1.0)
    layer.build((None, n, n))
    layer.set_weights([20.0 * np.eye(n), 40.0 * np.eye(n)])
    h = np.eye(n, dtype="float32")[None]
    _, a = layer(h)
    np.testing.assert_allclose(np.asarray(a)[0], np.eye(n), atol=1e-6)
    assert float(layer.losses[0]) < 1e-8
    # ... and exactly zero on exact one-hot rows, but r - 1 per text when all hops share one token.
    disjoint = np.eye(4, 6, dtype="float32")[None]
    assert float(SelfAttention.frobenius_penalty(disjoint)) == 0.0
    same = np.zeros((1, 4, 6), "float32")
    same[..., 2] = 1.0
    np.testing.assert_allclose(float(SelfAttention.frobenius_penalty(same)), 4 * 4 - 4)


def test_penalty_cannot_reach_zero_with_more_hops_than_tokens_hence_few_hops_by_default():
    # A A^T has rank <= n, so P >= r - n whatever the attention: why the public-data recipes use r = 10.
    rng = np.random.default_rng(0)
    r, n = 50, 22
    for sharpness in (0.1, 1.0, 10.0, 100.0):
        a = keras.ops.softmax(sharpness * rng.normal(size=(8, r, n)).astype("float32"), axis=-1)
        assert float(SelfAttention.frobenius_penalty(a)) >= r - n
    uniform = np.full((1, r, n), 1.0 / n, "float32")  # where training starts: about r, not about 0
    np.testing.assert_allclose(
        float(SelfAttention.frobenius_penalty(uniform)), r * (1 - 1 / n) ** 2 + r * (r - 1) / n**2, rtol=1e-5
    )
    from zoo.recipes import get, resolve_hparams

    hops = {
        name: resolve_hparams(get(name), {}).hops
        for name in ("self_attentive_mr", "self_attentive_r8", "self_attentive_imdb", "self_attentive_profiling")
    }
    assert hops == {
        "self_attentive_mr": 10,
        "self_attentive_r8": 10,
        "self_attentive_imdb": 10,
        "self_attentive_profiling": 50,
    }


def test_gradients_of_the_penalty_and_of_m_reach_both_weight_matrices():
    rng = np.random.default_rng(4)
    layer, _, _ = fixed_layer(rng)
    h = tf.constant(rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32"))
    for objective in ("penalty", "embedding"):
        with tf.GradientTape() as tape:
            m, _ = layer(h)
            value = layer.losses[-1] if objective == "penalty" else tf.reduce_sum(m * m)
        grads = tape.gradient(value, [layer.w_s1.value, layer.w_s2.value])
        for grad in grads:
            assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0.0, objective


def test_penalty_gradient_attention_trains_only_the_attention_weights_with_the_same_penalty():
    rng = np.random.default_rng(6)
    h = tf.constant(rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32"))
    penalties, input_grads = {}, {}
    for scope in SelfAttention.PENALTY_GRADIENTS:
        layer, _, _ = fixed_layer(np.random.default_rng(6))
        layer.penalty_gradient = scope
        with tf.GradientTape() as tape:
            tape.watch(h)
            layer(h, training=True)
            penalty = layer.losses[-1]
        grads = tape.gradient(penalty, [h, layer.w_s1.value, layer.w_s2.value])
        penalties[scope], input_grads[scope] = float(penalty), grads[0]
        assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0.0 for g in grads[1:]), scope
    assert penalties["attention"] == pytest.approx(penalties["all"], rel=1e-6)
    assert float(tf.reduce_max(tf.abs(input_grads["all"]))) > 0.0
    assert input_grads["attention"] is None  # nothing flows back into H, i.e. into the encoder
    from zoo.recipes import get, resolve_hparams

    defaults = {
        name: resolve_hparams(get(name), {}).penalty_gradient
        for name in ("self_attentive_mr", "self_attentive_r8", "self_attentive_imdb", "self_attentive_profiling")
    }
    assert defaults == {
        "self_attentive_mr": "attention",
        "self_attentive_r8": "attention",
        "self_attentive_imdb": "attention",
        "self_attentive_profiling": "all",
    }
    model = build_self_attentive_classifier(
        vocab_size=30,
        sequence_length=STEPS,
        num_classes=2,
        embedding_dim=4,
        units=3,
        hops=2,
        attention_units=3,
        penalty_gradient="attention",
    )
    assert model.get_layer(ATTENTION_LAYER).penalty_gradient == "attention"
    # Through the whole model in training mode (as in fit): the penalty reaches no BiLSTM weight.
    ids = np.random.default_rng(7).integers(1, 30, size=(3, STEPS)).astype("int32")
    for scope, reaches_encoder in (("attention", False), ("all", True)):
        model = build_self_attentive_classifier(
            vocab_size=30,
            sequence_length=STEPS,
            num_classes=2,
            embedding_dim=4,
            units=3,
            hops=2,
            attention_units=3,
            penalty_gradient=scope,
        )
        encoder = [w.value for w in model.get_layer("bilstm").trainable_weights]
        with tf.GradientTape() as tape:
            model(ids, training=True)
            penalty = tf.add_n(model.losses)
        grads = tape.gradient(penalty, encoder)
        assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads) is reaches_encoder, scope


def test_layer_rejects_bad_arguments_and_round_trips_its_config():
    with pytest.raises(ValueError, match="hops"):
        SelfAttention(hops=0)
    with pytest.raises(ValueError, match="penalty"):
        SelfAttention(penalty=-1.0)
    with pytest.raises(ValueError, match="penalty_gradient"):
        SelfAttention(penalty_gradient="encoder")
    layer = SelfAttention(
        hops=7,
        attention_units=3,
        penalty=0.5,
        penalty_gradient="attention",
        kernel_regularizer=Orthogonality(0.1, "rows"),
    )
    clone = SelfAttention.from_config(layer.get_config())
    assert (clone.hops, clone.attention_units, clone.penalty, clone.penalty_gradient) == (7, 3, 0.5, "attention")
    assert clone.kernel_regularizer.get_config() == {"factor": 0.1, "mode": "rows"}


# --------------------------------------------------------------------------- chapter 11.3 extensions


def test_l1_activity_function_and_orthogonality_subclass_match_numpy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(float(l1_activity(x)), L1_ACTIVITY_RATE * np.abs(x).sum(), rtol=1e-5)
    np.testing.assert_allclose(float(Orthogonality(0.2)(x)), 0.2 * np.sum((x.T @ x - np.eye(3)) ** 2), rtol=1e-5)
    np.testing.assert_allclose(
        float(Orthogonality(0.2, "rows")(x)), 0.2 * np.sum((x @ x.T - np.eye(4)) ** 2), rtol=1e-5
    )
    q, _ = np.linalg.qr(rng.normal(size=(5, 3)))
    assert float(Orthogonality(1.0)(q.astype("float32"))) < 1e-10  # orthonormal columns: no penalty
    clone = keras.regularizers.deserialize(keras.regularizers.serialize(Orthogonality(0.2, "rows")))
    assert isinstance(clone, Orthogonality) and clone.get_config() == {"factor": 0.2, "mode": "rows"}
    with pytest.raises(ValueError, match="mode"):
        Orthogonality(mode="diagonal")


def numpy_smoothed_ce(labels, probs, s):
    k = probs.shape[1]
    target = np.eye(k)[labels] * (1 - s) + s / k
    return -(target * np.log(probs)).sum(1)


def test_loss_factory_and_subclass_agree_with_numpy_and_keras():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(5, 4)).astype("float32")
    probs = softmax(logits.astype("float64")).astype("float32")
    labels = np.array([0, 3, 1, 1, 2])
    want = numpy_smoothed_ce(labels, probs.astype("float64"), 0.2).mean()
    np.testing.assert_allclose(float(SmoothedSparseCrossentropy(0.2)(labels, probs)), want, rtol=1e-4)
    np.testing.assert_allclose(
        float(SmoothedSparseCrossentropy(0.2, from_logits=True)(labels, logits)), want, rtol=1e-4
    )
    np.testing.assert_allclose(
        np.asarray(smoothed_sparse_crossentropy(0.2)(labels, probs)),
        numpy_smoothed_ce(labels, probs.astype("float64"), 0.2),
        rtol=1e-4,
    )
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probs)
    np.testing.assert_allclose(float(SmoothedSparseCrossentropy(0.0)(labels[:, None], probs)), float(plain), rtol=1e-5)
    clone = keras.losses.deserialize(keras.losses.serialize(SmoothedSparseCrossentropy(0.2, name="ls")))
    assert isinstance(clone, SmoothedSparseCrossentropy) and (clone.smoothing, clone.name) == (0.2, "ls")
    with pytest.raises(ValueError, match="smoothing"):
        smoothed_sparse_crossentropy(1.0)


def test_macro_f1_matches_scikit_learn_over_several_batches():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 4, size=40)
    labels[labels == 3] = 2  # class 3 never occurs in the labels ...
    probs = rng.dirichlet(np.ones(4), size=40).astype("float32")
    metric = MacroF1(4)
    for start in range(0, 40, 16):
        metric.update_state(labels[start : start + 16], probs[start : start + 16])
    want = f1_score(labels, probs.argmax(1), average="macro")  # ... but may be predicted: sklearn's rule
    np.testing.assert_allclose(float(metric.result()), want, rtol=1e-5)
    metric.reset_state()
    sigmoid = rng.random(size=(30, 1)).astype("float32")
    binary = rng.integers(0, 2, size=30)
    metric2 = MacroF1(2)
    metric2.update_state(binary[:, None], sigmoid)
    np.testing.assert_allclose(
        float(metric2.result()), f1_score(binary, sigmoid[:, 0] > 0.5, average="macro"), rtol=1e-5
    )
    assert MacroF1.from_config(metric2.get_config()).num_classes == 2


# --------------------------------------------------------------------------- the classifier


def tiny_classifier(num_classes=3, **kwargs):
    settings = dict(
        vocab_size=30,
        sequence_length=STEPS,
        num_classes=num_classes,
        embedding_dim=4,
        units=3,
        hops=HOPS,
        attention_units=UNITS,
        dense_units=6,
    )
    return build_self_attentive_classifier(**{**settings, **kwargs})


def test_classifier_uses_pretrained_vectors_and_exposes_the_attention():
    vectors = np.random.default_rng(8).normal(size=(30, 7)).astype("float32")
    model = tiny_classifier(vectors=vectors, freeze_vectors=True)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], vectors)
    assert not model.get_layer("embedding").trainable
    ids = np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 12]], "int32")
    out = attention_model(model)(ids)
    assert out["probabilities"].shape == (2, 3) and out["attention"].shape == (2, HOPS, STEPS)
    np.testing.assert_allclose(np.asarray(out["attention"])[0, :, 3:], 0.0)  # the embedding's mask reaches A
    with pytest.raises(ValueError, match="rows"):
        tiny_classifier(vectors=vectors[:5])
    with pytest.raises(ValueError, match="regularizer"):
        tiny_classifier(regularizer="l3")


@pytest.mark.slow
def test_fit_logs_the_penalty_and_macro_f1_as_metrics():
    rng = np.random.default_rng(9)
    model = compile_self_attentive(tiny_classifier(), num_classes=3, label_smoothing=0.1)
    ids = rng.integers(1, 30, size=(12, STEPS)).astype("int32")
    ids[:6, 4:] = 0
    labels = rng.integers(0, 3, size=12)
    history = model.fit(ids, labels, validation_data=(ids, labels), epochs=1, batch_size=6, verbose=0).history
    for key in ("attention_penalty", "val_attention_penalty", "macro_f1", "val_macro_f1", "accuracy"):
        assert key in history, key
    assert 0.0 < history["attention_penalty"][0] <= HOPS * HOPS + HOPS  # ||AA^T - I||_F^2 of rows summing to 1


def test_lin_et_al_sgd_with_clipping_or_the_authors_adam():
    sgd = compile_self_attentive(tiny_classifier(), num_classes=2, optimizer="sgd", learning_rate=0.06, clipnorm=0.5)
    assert isinstance(sgd.optimizer, keras.optimizers.SGD) and sgd.optimizer.global_clipnorm == 0.5
    assert float(sgd.optimizer.learning_rate) == pytest.approx(0.06)
    adam = compile_self_attentive(tiny_classifier(), num_classes=2)
    assert isinstance(adam.optimizer, keras.optimizers.Adam) and adam.optimizer.global_clipnorm is None
    with pytest.raises(ValueError, match="optimizer"):
        compile_self_attentive(tiny_classifier(), num_classes=2, optimizer="rmsprop")


@pytest.mark.slow
def test_keras_round_trip_in_a_fresh_process_with_safe_mode(tmp_path):
    """The custom layer, the Regularizer subclass, the Loss subclass and the metric reload from `.keras`.

    (The regulariser *function* `l1_activity` reloads in the profiling recipe test below.)
    """
    ids = np.random.default_rng(10).integers(0, 30, size=(4, STEPS)).astype("int32")
    labels = np.array([0, 1, 2, 1])
    model = compile_self_attentive(
        tiny_classifier(regularizer="orthogonal", penalty=0.5), num_classes=3, label_smoothing=0.1
    )
    scores = model.evaluate(ids, labels, verbose=0, return_dict=True)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "ids.npy", ids)
    script = textwrap.dedent(f"""
        import json, os, sys
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import numpy as np, keras
        import zoo.models.self_attentive  # registers its custom objects (zoo.export.load imports all of zoo.models)
        model = keras.saving.load_model({str(tmp_path / "model.keras")!r}, safe_mode=True)
        ids = np.load({str(tmp_path / "ids.npy")!r})
        layer = model.get_layer("self_attention")
        print(json.dumps({{
            "pred": model.predict(ids, verbose=0).tolist(),
            "eval": model.evaluate(ids, np.array([0, 1, 2, 1]), verbose=0, return_dict=True),
            "layer": [type(layer).__name__, layer.hops, layer.attention_units, layer.penalty],
            "loss": [type(model.loss).__name__, model.loss.smoothing],
            "kernel_regularizer": model.get_layer("hidden").kernel_regularizer.get_config(),
        }}))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(got["pred"], model.predict(ids, verbose=0), atol=1e-6)
    for key in ("loss", "accuracy", "macro_f1", "attention_penalty"):
        np.testing.assert_allclose(got["eval"][key], scores[key], rtol=1e-5)
    assert got["layer"] == ["SelfAttention", HOPS, UNITS, 0.5]
    assert got["loss"] == ["SmoothedSparseCrossentropy", 0.1]
    assert got["kernel_regularizer"] == {"factor": 1e-4, "mode": "columns"}


# --------------------------------------------------------------------------- serving on raw strings

TEXTS = ["A good film, really!", "bad bad movie", "zebra quux: unseen words here and more more more"]


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", strip_html_lower_punct])
def test_token_strings_line_up_with_the_vectorizer_ids(standardize):
    vec = vectorizer(TEXTS[:2] + ["<br />HTML<br/>tags, too"], 20, 7, standardize)
    tokens = np.asarray(TokenStrings.like(vec)(tf.constant(TEXTS + ["<br />HTML tags"]))).astype(str)
    ids = np.asarray(vec(tf.constant(TEXTS + ["<br />HTML tags"])))
    vocabulary = vec.get_vocabulary()
    lookup = {word: i for i, word in enumerate(vocabulary)}
    want = np.vectorize(lambda t: 0 if t == "" else lookup.get(t, 1))(tokens)
    np.testing.assert_array_equal(want, ids)
    assert tokens[2, 0] == "zebra" and ids[2, 0] == 1  # out-of-vocabulary words keep their own string


def trained_text_model(num_classes=3):
    vec = vectorizer(TEXTS, 30, 8)
    model = build_self_attentive_classifier(
        vocab_size=len(vec.get_vocabulary()),
        sequence_length=8,
        num_classes=num_classes,
        embedding_dim=4,
        units=3,
        hops=HOPS,
        attention_units=UNITS,
        dense_units=6,
    )
    return vec, model


def test_explain_model_gives_probabilities_tokens_and_hop_summed_weights():
    vec, model = trained_text_model()
    rows = explain(explain_model(vec, model), TEXTS)
    probs = np.asarray(string_classifier(vec, model)(tf.constant(TEXTS)))
    attention = np.asarray(attention_model(model)(vec(tf.constant(TEXTS)))["attention"])
    for k, row in enumerate(rows):
        np.testing.assert_allclose(row["probabilities"], probs[k], atol=1e-6)
        assert len(row["tokens"]) == len(row["weights"])
        np.testing.assert_allclose(row["weights"], attention[k].mean(0)[: len(row["tokens"])], atol=1e-6)
        np.testing.assert_allclose(sum(row["weights"]), 1.0, atol=1e-5)
    assert rows[1]["tokens"] == ["bad", "bad", "movie"]


@pytest.mark.slow
def test_both_endpoints_serve_raw_strings_from_a_fresh_process(tmp_path):
    from zoo.export import save_serving

    vec, model = trained_text_model()
    serving = SelfAttentiveServing(vec, model)
    save_serving(serving, tmp_path / "saved_model")  # what the driver does with a recipe's serving model
    serve, explainer = serving.classifier, serving.explainer
    script = textwrap.dedent(f"""
        import json, os, sys
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import numpy as np, tensorflow as tf, keras
        assert "zoo" not in sys.modules
        texts = tf.constant({TEXTS!r})
        probs = keras.layers.TFSMLayer({str(tmp_path / "saved_model")!r}, call_endpoint="serve")(texts)
        out = keras.layers.TFSMLayer({str(tmp_path / "saved_model")!r}, call_endpoint="attention")(texts)
        print(json.dumps({{"serve": np.asarray(probs).tolist(),
                           "tokens": np.asarray(out["tokens"]).astype(str).tolist(),
                           "weights": np.asarray(out["weights"]).tolist(),
                           "probabilities": np.asarray(out["probabilities"]).tolist()}}))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    rows = explain(explainer, TEXTS)
    np.testing.assert_allclose(got["serve"], np.asarray(serve(tf.constant(TEXTS))), atol=1e-6)
    np.testing.assert_allclose(got["probabilities"], got["serve"], atol=1e-6)
    for k, row in enumerate(rows):
        assert [t for t in got["tokens"][k] if t] == row["tokens"]
        np.testing.assert_allclose(got["weights"][k][: len(row["tokens"])], row["weights"], atol=1e-6)


# --------------------------------------------------------------------------- attention maps


def test_attention_maps_write_a_png_per_sentence_and_one_html_page(tmp_path):
    vec, model = trained_text_model(num_classes=2)
    texts = ["bad bad movie", "<b>A good</b> film & fun"]
    result = attend(model, vec, texts)
    assert result["attention"].shape == (2, HOPS, 8) and result["tokens"].shape == (2, 8)
    maps = write_attention_maps(
        tmp_path,
        texts,
        result["tokens"],
        result["attention"],
        result["probabilities"],
        [0, 1],
        ["negative", "positive"],
    )
    assert len(maps["pngs"]) == 2
    for png in maps["pngs"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = maps["html"].read_text()
    assert page.count('class="s"') == 2 and "label <b>positive</b>" in page
    assert "<b>A" not in page.split("<h1>")[1].replace("<b>negative", "").replace("<b>positive", "")  # escaped
    assert ">bad</span>" in page
    with pytest.raises(ValueError, match="attention must be"):
        sentence_figure(["a", "b"], np.ones((3, 4)))


def test_mean_pairwise_overlap_is_one_for_identical_hops_and_zero_for_disjoint_ones():
    same = np.tile(np.array([0.5, 0.5, 0.0]), (1, 4, 1))
    assert mean_pairwise_overlap(same) == pytest.approx(1.0)
    assert mean_pairwise_overlap(np.eye(3)[None]) == pytest.approx(0.0)
    half = np.array([[[1.0, 0.0], [0.5, 0.5]]])
    assert mean_pairwise_overlap(half) == pytest.approx(0.5)


# --------------------------------------------------------------------------- PAN 2013 loader


def test_pan_loader_reads_the_books_layout(tmp_path):
    path = pan_profiling.write_jsonl(
        tmp_path / "author-profile.json",
        ["hi there", "lol ok", "dear sir"],
        ["20s", "10s", "30s"],
        ["female", "male", "male"],
    )
    with open(path, "a", encoding="utf-8") as f:
        f.write(
            "\n"
            + json.dumps(
                {"conversation": ["first post", "second post"], "age_group": "20s", "gender": "female", "extra": 1}
            )
            + "\n"
        )
    texts, labels, names = pan_profiling.load(path=path)
    assert names == ["10s", "20s", "30s"]
    assert labels.tolist() == [1, 0, 2, 1]
    assert texts[3] == "first post\nsecond post"
    (tmp_path / "pan13").mkdir()
    os.replace(path, tmp_path / "pan13" / "author-profile.json")
    _, genders, gender_names = pan_profiling.load(tmp_path, target="gender")
    assert gender_names == ["female", "male"] and genders.tolist() == [0, 1, 1, 0]
    train, dev = pan_profiling.book_split(4, dev_size=1)
    assert sorted(np.concatenate([train, dev]).tolist()) == [0, 1, 2, 3] and len(dev) == 1


BAD_FILES = {
    "not_json": (b'{"conversation": "a", "age_group": "20s"}\n{oops}\n', CorruptData, "line 2 is not valid JSON"),
    "array": (b'["a", "20s"]\n', CorruptData, "line 1 is a JSON list"),
    "missing_field": (b'{"conversation": "a", "gender": "male"}\n', CorruptData, "no 'age_group' field"),
    "bad_text": (b'{"conversation": 3, "age_group": "20s"}\n', CorruptData, "must be a string or a list"),
    "empty_text": (b'{"conversation": "  ", "age_group": "20s"}\n', CorruptData, "'conversation' is empty"),
    "bad_label": (b'{"conversation": "a", "age_group": null}\n', CorruptData, "non-empty string"),
    "not_utf8": ('{"conversation": "caf\xe9", "age_group": "20s"}\n'.encode("latin-1"), CorruptData, "not a UTF-8"),
    "empty": (b"\n\n", CorruptData, "no authors"),
    "one_class": (
        b'{"conversation": "a", "age_group": "20s"}\n{"conversation": "b", "age_group": "20s"}\n',
        CorruptData,
        "two classes",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_pan_loader_refuses_bad_files_in_one_line(tmp_path, case):
    content, error, message = BAD_FILES[case]
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(error, match=message) as caught:
        pan_profiling.load(path=path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_pan_loader_missing_corpus_and_bad_target(tmp_path):
    with pytest.raises(DataNotFound, match="not redistributable"):
        pan_profiling.load(tmp_path)
    with pytest.raises(DataNotFound, match="no such file"):
        pan_profiling.load(path=tmp_path / "nope.json")
    with pytest.raises(UserError, match="target"):
        pan_profiling.load(path=tmp_path / "nope.json", target="income")
    with pytest.raises(UserError, match="dev_size=5: the dev size"):
        pan_profiling.book_split(5, dev_size=5)


# --------------------------------------------------------------------------- recipes (zoo.fit)

TINY = dict(
    max_steps=2,
    epochs=1,
    vocab_size=300,
    embedding_dim=8,
    units=4,
    hops=3,
    attention_units=4,
    dense_units=8,
    batch_size=16,
    maps=2,
)


def generated_profiling_corpus(path: Path, authors: int = 60) -> Path:
    rng = np.random.default_rng(11)
    words = {
        "10s": "lol omg school homework mum",
        "20s": "college job rent party beer",
        "30s": "kids mortgage office wife husband",
    }
    groups = list(words)
    ages = [groups[i % 3] for i in range(authors)]
    texts = [" ".join(rng.choice(words[a].split(), size=12)) + " and some shared words" for a in ages]
    return pan_profiling.write_jsonl(path, texts, ages, ["male" if i % 2 else "female" for i in range(authors)])


@pytest.mark.slow
def test_self_attentive_mr_runs_through_the_driver_and_serves_both_endpoints(shared_data, tmp_path):
    import pandas as pd

    import zoo

    result = zoo.fit(
        "self_attentive_mr",
        data_dir=shared_data,
        out=tmp_path / "run",
        sequence_length=20,
        regularizer="orthogonal",
        label_smoothing=0.1,
        **TINY,
    )
    m = result.metrics
    assert 0.0 <= m["val_accuracy"] <= 1.0 and 0.0 <= m["attention_overlap"] <= 1.0
    assert len(m["attention_penalty_per_epoch"]) == 1 and m["val_attention_penalty"] > 0
    history = pd.read_csv(result.run_dir / "history.csv")
    assert {"attention_penalty", "val_attention_penalty"} <= set(history.columns)
    assert len(list((result.run_dir / "attention").glob("*.png"))) == 2
    assert (result.run_dir / "attention" / "attention.html").exists()
    # Both endpoints on raw strings (a fresh process without the zoo: see the endpoint test above).
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    texts = tf.constant(TEXTS)
    out = loaded.attention(texts)
    got = {
        "serve": np.asarray(loaded.serve(texts)),
        "probabilities": np.asarray(out["probabilities"]),
        "tokens": np.asarray(out["tokens"]).astype(str).tolist(),
        "weights": np.asarray(out["weights"]),
    }
    assert np.asarray(got["serve"]).shape == (3, 2)
    np.testing.assert_allclose(np.asarray(got["serve"]).sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got["probabilities"], got["serve"], atol=1e-6)
    assert [t for t in got["tokens"][1] if t] == ["bad", "bad", "movie"]
    np.testing.assert_allclose(np.asarray(got["weights"]).sum(1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_self_attentive_profiling_on_a_generated_corpus(tmp_path):
    import zoo
    from zoo import export

    corpus = generated_profiling_corpus(tmp_path / "author-profile.json")
    vectors = tmp_path / "vectors.txt"  # word2vec text format, as --set vectors= reads (6-d, two known words)
    vectors.write_text("2 6\nschool 1 2 3 4 5 6\nkids 6 5 4 3 2 1\n")
    result = zoo.fit(
        "self_attentive_profiling",
        data_dir=tmp_path,
        out=tmp_path / "run",
        corpus=str(corpus),
        dev_size=12,
        sequence_length=16,
        regularizer="l1_activity",
        vectors=str(vectors),
        **TINY,
    )
    m = result.metrics
    assert 0.0 <= m["val_macro_f1"] <= 1.0 and "val_accuracy" in m
    assert m["attention_overlap_texts"] == 12
    assert m["vectors_found"] == 2 and m["vectors_dim"] == 6
    reloaded = export.load(result.run_dir)
    assert reloaded.get_layer("hidden").activity_regularizer.__name__ == "l1_activity"
    assert reloaded.get_layer("embedding").output_dim == 6  # the vectors' size, not embedding_dim=8
    assert "10s" in (result.run_dir / "attention" / "attention.html").read_text()


def test_a_bad_corpus_stops_the_recipe_with_a_user_error_and_leaves_no_run_folder(tmp_path):
    import zoo

    bad = tmp_path / "bad.json"
    bad.write_text('{"conversation": "a", "age_group": "20s"}\n{oops}\n')
    with pytest.raises(CorruptData, match="line 2 is not valid JSON") as caught:
        zoo.fit("self_attentive_profiling", data_dir=tmp_path, out=tmp_path / "run", corpus=str(bad), **TINY)
    assert "\n" not in str(caught.value)  # the CLI prints a UserError as this one line (exit 2)
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()
    good = generated_profiling_corpus(tmp_path / "good.json", authors=30)
    with pytest.raises(UserError, match="label_smoothing"):
        zoo.fit(
            "self_attentive_profiling",
            data_dir=tmp_path,
            out=tmp_path / "run",
            corpus=str(good),
            dev_size=6,
            label_smoothing=1.5,
            **TINY,
        )
    assert not (tmp_path / "run.partial").exists()

"""Chapter 11's hierarchical attention network (Yang et al. 2016): sentences split in the graph, both
attention levels against NumPy, masking, `.keras` round trip, both SavedModel endpoints, the pictures,
and the recipe (one-line errors before any data; end to end on a generated IMDB folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from zoo.data.sentences import SentenceIds, hierarchical_data, sentence_ids, split_sentences
from zoo.data.text import strip_html_lower_punct, vectorizer
from zoo.errors import UserError
from zoo.export import save_serving
from zoo.layers.hierarchical_attention import HierarchicalAttention
from zoo.models.classifier import compile_classifier
from zoo.models.han import HAN_LAYER, attention_model, build_han_classifier
from zoo.serving.han import HanServing, explain
from zoo.visualize.hierarchical_attention import review_figure, save_review_png, write_html

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = [
    "A great film! I loved every minute.<br /><br />The cast is superb. See it.",
    "Dull and slow... The plot? A mess.",
    "bad",
]
LABELS = np.array([1, 0, 0])


def decoded(array) -> list:
    return np.vectorize(lambda b: b.decode("utf-8"))(np.asarray(array)).tolist()


# --------------------------------------------------------------------------- sentences in the graph


def test_split_sentences_on_punctuation_and_line_breaks_drops_empties_and_pads():
    got = decoded(split_sentences(tf.constant(REVIEWS), 5))
    assert got[0] == ["A great film!", "I loved every minute.", "The cast is superb.", "See it.", ""]
    assert got[1] == ["Dull and slow...", "The plot?", "A mess.", "", ""]
    assert got[2] == ["bad", "", "", "", ""]
    assert decoded(split_sentences(tf.constant(REVIEWS), 2))[0] == ["A great film!", "I loved every minute."]
    quoted = decoded(split_sentences(tf.constant(['He said "no." Then he left.   ']), 3))
    assert quoted == [['He said "no."', "Then he left.", ""]]


def test_sentence_ids_are_each_sentence_through_the_vectorizer_and_zero_for_padding():
    layer = vectorizer(REVIEWS, 50, 4, strip_html_lower_punct)
    ids = np.asarray(sentence_ids(layer, tf.constant(REVIEWS), 5))
    assert ids.shape == (3, 5, 4) and ids.dtype == np.int32
    expected = np.asarray(layer(tf.constant(["I loved every minute.", "The plot?"])))
    np.testing.assert_array_equal(ids[0, 1], expected[0])
    np.testing.assert_array_equal(ids[1, 1], expected[1])
    assert not ids[1, 3:].any() and not ids[2, 1:].any()  # padding sentences
    np.testing.assert_array_equal(np.asarray(SentenceIds(layer, 5)(tf.constant(REVIEWS))), ids)


def test_hierarchical_data_adapts_on_train_only_and_batches_documents():
    data = hierarchical_data(
        (REVIEWS[:2], LABELS[:2]), test=(["zebra film."], np.array([1])), vocab_size=50, max_sentences=3,
        max_words=4, batch_size=2, seed=0,
    )  # fmt: skip
    assert "zebra" not in data.info.vocabulary and "film" in data.info.vocabulary
    x, y = next(iter(data.train))
    assert tuple(x.shape) == (2, 3, 4) and sorted(np.asarray(y).tolist()) == [0, 1]
    assert data.info.texts["test"] == ["zebra film."] and data.validation is None


# --------------------------------------------------------------------------- the layer


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_each_level_is_yangs_attention_against_numpy_with_padding_masked():
    layer = HierarchicalAttention(units=3, attention_units=4)
    layer.build((None, 2, 5, 6))
    rng = np.random.default_rng(0)
    h = rng.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], bool)
    for level in ("word", "sentence"):
        weights, pooled = (np.asarray(t) for t in layer.attend(level, h, mask))
        w, b = (np.asarray(v) for v in getattr(layer, f"{level}_projection").weights)
        u = np.asarray(getattr(layer, f"{level}_attention").scale)
        a = softmax(np.tanh(h[0, :3] @ w + b) @ u)  # u^T tanh(W h_t + b) over the real positions only
        np.testing.assert_allclose(weights[0], np.r_[a, 0, 0], atol=1e-5)
        np.testing.assert_allclose(pooled[0], a @ h[0, :3], atol=1e-5)
        np.testing.assert_array_equal(weights[1], np.zeros(5))  # no real position: no weight, not uniform
    with pytest.raises(ValueError, match="level"):
        layer.attend("paragraph", h, mask)


def test_weights_sum_to_one_and_padding_changes_nothing():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    mask = np.zeros((2, 3, 4), bool)
    mask[0, 0, :4], mask[0, 1, :2], mask[1, 0, :3] = True, True, True
    layer = HierarchicalAttention(units=3, attention_units=4)
    document, words, sentences = (np.asarray(t) for t in layer(x, mask=mask))
    np.testing.assert_allclose(words.sum(-1), mask.any(-1).astype(float), atol=1e-5)
    assert not words[~mask].any() and not sentences[~mask.any(-1)].any()
    np.testing.assert_allclose(sentences.sum(-1), 1.0, atol=1e-5)
    # The same documents with two more padding sentences and two more padding words in each.
    wider = np.zeros((2, 5, 6, 5), "float32")
    wider[:, :3, :4] = np.where(mask[..., None], x, 0.0)
    wider_mask = np.zeros((2, 5, 6), bool)
    wider_mask[:, :3, :4] = mask
    document2, words2, sentences2 = (np.asarray(t) for t in layer(wider, mask=wider_mask))
    np.testing.assert_allclose(document2, document, atol=1e-5)
    np.testing.assert_allclose(words2[:, :3, :4], words, atol=1e-5)
    np.testing.assert_allclose(sentences2[:, :3], sentences, atol=1e-5)


def tiny_han(num_classes=2):
    model = build_han_classifier(
        vocab_size=60, max_sentences=5, max_words=4, num_classes=num_classes, embedding_dim=6, units=3,
        attention_units=4,
    )  # fmt: skip
    return compile_classifier(model, num_classes=num_classes)


@pytest.fixture(scope="module")
def trained():
    """One tiny HAN trained on `REVIEWS` (tracing is what costs here: shared by the tests below)."""
    layer = vectorizer(REVIEWS, 60, 4, strip_html_lower_punct)
    model = tiny_han()
    ids = np.asarray(sentence_ids(layer, tf.constant(REVIEWS), 5))
    history = model.fit(ids, LABELS, epochs=2, verbose=0)
    return {"serving": HanServing(layer, 5, model), "model": model, "ids": ids, "history": history.history}


def test_model_trains_and_exposes_both_levels_of_weights(trained):
    assert np.isfinite(trained["history"]["loss"]).all() and "attention_penalty" not in trained["history"]
    out = attention_model(trained["model"])(trained["ids"])
    assert tuple(out["probabilities"].shape) == (3, 1)
    assert tuple(out["word_weights"].shape) == (3, 5, 4) and tuple(out["sentence_weights"].shape) == (3, 5)
    assert not np.asarray(out["sentence_weights"])[2, 1:].any()  # "bad" is one sentence
    assert tiny_han(num_classes=3).output_shape == (None, 3)
    with pytest.raises(ValueError, match="num_classes"):
        build_han_classifier(vocab_size=10, max_sentences=2, max_words=2, num_classes=1)


def test_keras_round_trip_in_a_fresh_process_with_safe_mode(trained, tmp_path):
    ids, model = trained["ids"], trained["model"]
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "ids.npy", ids)
    script = textwrap.dedent(f"""
        import json, os
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import numpy as np, keras
        import zoo.models.han  # registers the layer
        model = keras.saving.load_model({str(tmp_path / "model.keras")!r}, safe_mode=True)
        layer = model.get_layer({HAN_LAYER!r})
        ids = np.load({str(tmp_path / "ids.npy")!r})
        print(json.dumps({{"pred": model.predict(ids, verbose=0).tolist(),
                           "layer": [type(layer).__name__, layer.units, layer.attention_units]}}))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(got["pred"], model.predict(ids, verbose=0), atol=1e-6)
    assert got["layer"] == ["HierarchicalAttention", 3, 4]


# --------------------------------------------------------------------------- serving and pictures


def test_both_endpoints_take_raw_strings_from_the_saved_model(trained, tmp_path):
    serving, model, ids = trained["serving"], trained["model"], trained["ids"]
    loaded = tf.saved_model.load(str(save_serving(serving, tmp_path / "saved_model")))
    texts = tf.constant(REVIEWS)
    np.testing.assert_allclose(np.asarray(loaded.serve(texts)), model.predict(ids, verbose=0), atol=1e-5)
    out = loaded.attention(texts)
    assert decoded(out["sentences"])[1][:3] == ["Dull and slow...", "The plot?", "A mess."]
    tokens, words = decoded(out["tokens"]), np.asarray(out["word_weights"])
    assert tokens[0][1] == ["i", "loved", "every", "minute"]  # 4 words kept of each sentence
    real = np.array(tokens) != ""
    assert (words[real] > 0).all() and not words[~real].any()  # a weight exactly where a word is
    np.testing.assert_allclose(np.asarray(out["sentence_weights"]).sum(-1), 1.0, atol=1e-5)
    assert tuple(loaded.serve(tf.constant([], tf.string)).shape) == (0, 1)


def test_explain_rows_and_the_pictures(trained, tmp_path):
    serving = trained["serving"]
    rows = explain(serving.attention, REVIEWS)
    assert [s["text"] for s in rows[1]["sentences"]] == ["Dull and slow...", "The plot?", "A mess."]
    assert rows[2]["sentences"][0]["tokens"] == ["bad"] and rows[2]["sentences"][0]["weight"] == pytest.approx(1.0)
    np.testing.assert_allclose(sum(rows[0]["probabilities"]), 1.0, atol=1e-6)
    assert len(review_figure(rows[0]).axes) == 2
    png = save_review_png(tmp_path / "r.png", rows[0], "a review")
    assert png.read_bytes()[:4] == b"\x89PNG"
    page = write_html(tmp_path / "a.html", rows, ["positive", "negative", "negative"], ["p", "n", "n"]).read_text()
    assert page.count('class="bar"') == 4 + 3 + 1 and "superb" in page
    assert not list(tmp_path.glob("*.tmp*"))


# --------------------------------------------------------------------------- the recipe


@pytest.mark.parametrize("setting, value", [("max_sentences", 0), ("max_words", 0), ("dropout", 1.0), ("units", 0)])
def test_bad_values_are_one_line_user_errors_before_any_data(tmp_path, setting, value):
    import zoo

    with pytest.raises(UserError, match=setting) as caught:
        zoo.fit("han_imdb", data_dir=tmp_path / "nothing", out=tmp_path / "run", **{setting: value})
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.iterdir())  # no data read, no run folder


def generated_imdb(root: Path, per_class: int = 6) -> Path:
    """An extracted aclImdb layout (`train|test/pos|neg/ID_RATING.txt`) with a few short reviews."""
    good = "A great film! The cast is superb.<br />I loved it."
    bad = "A dull film. The plot is a mess!<br />Avoid it."
    for split in ("train", "test"):
        for label, text, rating in (("pos", good, 9), ("neg", bad, 2)):
            folder = root / "imdb" / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                (folder / f"{i}_{rating}.txt").write_text(f"{text} Review {i}.", encoding="utf-8")
    return root


@pytest.mark.slow
def test_han_imdb_end_to_end_on_a_generated_imdb(tmp_path):
    import zoo

    data_dir = generated_imdb(tmp_path / "data")
    result = zoo.fit(
        "han_imdb", data_dir=data_dir, out=tmp_path / "run", epochs=1, batch_size=4, vocab_size=40,
        max_sentences=4, max_words=6, embedding_dim=8, units=3, attention_units=4, maps=2,
    )  # fmt: skip
    m = result.metrics
    assert 0.0 <= m["test_accuracy"] <= 1.0
    assert sorted(m["attention_maps"]) == ["attention/00.png", "attention/01.png", "attention/attention.html"]
    page = (result.run_dir / "attention" / "attention.html").read_text()
    assert "label <b>positive</b>" in page and "label <b>negative</b>" in page  # both ends of the sorted test split
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    out = loaded.attention(tf.constant(["Superb! Loved it."]))
    assert decoded(out["sentences"])[0][:2] == ["Superb!", "Loved it."]
    assert tuple(loaded.serve(tf.constant(["Superb! Loved it."])).shape) == (1, 1)

"""Chapter 14 sequence autoencoder (Dai & Le 2015): sentences as their own targets, padding out of the loss,
learning to copy, the encode endpoint, the classifier it starts (`sa_lstm_mr`), end to end through the driver."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.sentence_decoders import sequence_autoencoder_data
from zoo.errors import UserError
from zoo.models.sentence_encoder import SentenceEncoder
from zoo.models.sequence_autoencoder import (
    build_sentence_classifier,
    build_sequence_autoencoder,
    compile_sequence_autoencoder,
)

# Every sentence is a permutation of the same three words, so the first word decoded can only come
# from the encoder's state: the decoder must read it, not just continue a language model.
WORDS = ("cat", "dog", "bird")
PERMUTATIONS = [f"{a} {b} {c}." for a in WORDS for b in WORDS for c in WORDS if len({a, b, c}) == 3]


def _copy_data(repeat: int = 8, batch_size: int = 12):
    texts = [" ".join(PERMUTATIONS)] * repeat  # one text of six sentences, repeated
    return sequence_autoencoder_data(
        texts, vocab_size=10, sequence_length=4, batch_size=batch_size, max_sentences=0, validation_fraction=0
    )


def test_every_sentence_is_its_own_target_after_the_start_id():
    texts = ["The cat sat. ... The dog ran!", "Alone"]
    data = sequence_autoencoder_data(
        texts, vocab_size=20, sequence_length=4, batch_size=8, max_sentences=0, validation_fraction=0
    )
    x, y = next(iter(data.train))
    assert data.info.examples == 3  # first and last sentences count (no triples); "..." has no word
    np.testing.assert_array_equal(x["sentence"], y["reconstruction"])
    assert (x["reconstruction_in"][:, 0].numpy() == 20).all()
    np.testing.assert_array_equal(x["reconstruction_in"][:, 1:], y["reconstruction"][:, :-1])


def test_a_corpus_without_sentences_is_refused_in_one_line():
    with pytest.raises(UserError, match="no sentences") as caught:
        sequence_autoencoder_data(["", "?!"], vocab_size=10, sequence_length=4, batch_size=2, max_sentences=0)
    assert "\n" not in str(caught.value)


def test_padding_is_ignored_in_the_loss():
    """The loss is the mean cross-entropy over real words only: padded positions add nothing and are
    not counted (it would differ either way if they were)."""
    model = compile_sequence_autoencoder(
        build_sequence_autoencoder(vocab_size=12, embedding_dim=4, units=6, sequence_length=6)
    )
    bias = np.zeros(12, "float32")
    bias[0] = 6.0  # the padding id is the likely word: its cross-entropy is far from the real words'
    model.get_layer("vocabulary").bias.assign(bias)
    ids = np.array([[4, 5, 6, 0, 0, 0], [7, 8, 9, 10, 11, 0]], "int32")
    x = {"sentence": ids, "reconstruction_in": np.concatenate([np.full((2, 1), 12, "int32"), ids[:, :-1]], 1)}
    logits = np.asarray(model(x)["reconstruction"], "float64")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_word = -np.take_along_axis(log_p, ids[..., None], -1)[..., 0]
    real = ids > 0
    loss = model.evaluate(x, {"reconstruction": ids}, verbose=0)
    assert loss == pytest.approx(per_word[real].mean(), rel=1e-4)
    # what counting the padding (its words, or only its positions) would give instead
    assert per_word.mean() < 0.7 * per_word[real].mean()
    assert per_word[real].sum() / ids.size < 0.7 * per_word[real].mean()


def test_the_autoencoder_learns_to_copy_short_sentences():
    keras.utils.set_random_seed(0)
    data = _copy_data()
    model = compile_sequence_autoencoder(
        build_sequence_autoencoder(vocab_size=10, embedding_dim=8, units=16, sequence_length=4), learning_rate=0.03
    )
    history = model.fit(data.train, epochs=40, verbose=0).history["loss"]
    assert history[-1] < 0.1 * history[0]
    x, y = next(iter(data.train))
    predicted = np.argmax(model.predict(x, verbose=0)["reconstruction"], -1)
    real = y["reconstruction"].numpy() > 0
    assert (predicted[real] == y["reconstruction"].numpy()[real]).all()  # every word of every sentence


def test_the_encoder_serves_raw_strings_empty_and_unknown_ones_included():
    data = _copy_data(repeat=1)
    model = build_sequence_autoencoder(vocab_size=10, embedding_dim=4, units=5, sequence_length=4)
    encoder = SentenceEncoder(data.info.vectorizer, model)
    out = np.asarray(encoder(tf.constant(["cat dog bird.", "", "zzz qqq", "yyy xxx!", "cat dog bird."])))
    assert out.shape == (5, 5) and np.isfinite(out).all()
    assert not out[1].any()  # an empty sentence: the encoder's zero start state
    np.testing.assert_allclose(out[2], out[3], rtol=1e-5)  # unknown words are all the OOV id: the same vector
    assert out[2].any() and not np.allclose(out[0], out[2])
    np.testing.assert_allclose(out[0], out[4], rtol=1e-5)


def test_the_classifier_starts_from_the_autoencoder_or_from_random_weights():
    sizes = {"vocab_size": 10, "embedding_dim": 4, "units": 5, "sequence_length": 4}
    autoencoder = build_sequence_autoencoder(**sizes)
    warm = build_sentence_classifier(**sizes, pretrained=autoencoder)
    cold = build_sentence_classifier(**sizes)
    for name in ("embedding", "encoder"):
        for a, w, c in zip(*(m.get_layer(name).get_weights() for m in (autoencoder, warm, cold))):
            np.testing.assert_array_equal(a, w)
            assert a.ndim == 1 or not np.array_equal(a, c)  # the LSTM's bias starts the same anyway
    assert warm(np.array([[2, 3, 0, 0]], "int32")).shape == (1, 1)


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory, shared_data):
    """A tiny finished `sequence_autoencoder` run (2 steps), shared by the tests below."""
    import zoo

    tmp = tmp_path_factory.mktemp("sequence_autoencoder")
    corpus = tmp / "stories.txt"
    corpus.write_text("\n".join(["The film was long. The cast was good. The end was sad. I cried."] * 30))
    return zoo.fit(
        "sequence_autoencoder", data_dir=shared_data, out=tmp / "run", max_steps=2, corpus=str(corpus),
        epochs=1, batch_size=8, vocab_size=40, sequence_length=6, embedding_dim=4, units=6, folds=2,
    )  # fmt: skip


@pytest.mark.slow
def test_sequence_autoencoder_end_to_end_with_encode_endpoint_and_vocabulary(autoencoder_run):
    result = autoencoder_run
    metrics = result.metrics
    assert metrics["sentences"] > 0
    errors = metrics["rt_polarity_cv_error"]
    assert set(errors) == {"sequence autoencoder", "averaged sequence autoencoder word embeddings"}
    assert all(0.0 <= e <= 1.0 for e in errors.values())
    assert metrics["rt_polarity_cv_accuracy_sequence_autoencoder"] == pytest.approx(1 - errors["sequence autoencoder"])
    assert not any(k.startswith("finetune") for k in metrics)  # fine-tuning is sa_lstm_mr's, through the driver
    assert (result.run_dir / "rt_polarity.png").exists()
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    vectors = loaded.encode(tf.constant(["The cast was good.", "", "qwerty zxcvb"])).numpy()
    assert vectors.shape == (3, 6) and np.isfinite(vectors).all() and not vectors[1].any()
    # what sa_lstm_mr rebuilds its vectoriser from: the vocabulary in id order, beside model.keras
    vocabulary = (result.run_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert vocabulary[:2] == ["", "[UNK]"] and {"the", "cast", "cried"} <= set(vocabulary) and len(vocabulary) <= 40
    assert (result.run_dir / "model.keras").exists()


@pytest.mark.slow
def test_sa_lstm_starts_from_the_autoencoders_weights_and_vocabulary(autoencoder_run, shared_data, tmp_path):
    import zoo

    # a learning rate of 1e-9: two Adam steps move no weight by more than ~2e-9, so the trained
    # classifier still holds its starting weights, which must be the autoencoder's
    result = zoo.fit(
        "sa_lstm_mr", data_dir=shared_data, out=tmp_path / "sa", max_steps=2, epochs=1, batch_size=8,
        sequence_length=12, learning_rate=1e-9, autoencoder=str(autoencoder_run.run_dir),
    )  # fmt: skip
    autoencoder = keras.saving.load_model(autoencoder_run.run_dir / "model.keras", compile=False)
    for name in ("embedding", "encoder"):
        for a, c in zip(autoencoder.get_layer(name).get_weights(), result.model.get_layer(name).get_weights()):
            np.testing.assert_allclose(c, a, atol=1e-6)
    metrics = result.metrics
    assert metrics["autoencoder"] == str(autoencoder_run.run_dir)
    assert (metrics["embedding_dim"], metrics["units"]) == (4, 6)  # the run's sizes, not the recipe's defaults
    assert metrics["vocabulary_size"] <= 40 and 0.5 < metrics["unknown_word_rate"] < 1.0  # a 40-word vocabulary
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    serve = tf.saved_model.load(str(result.run_dir / "saved_model")).signatures["serve"]
    probabilities = next(iter(serve(tf.constant(["The cast was good.", "", "qwerty"])).values())).numpy()
    assert probabilities.shape == (3, 1) and ((0 <= probabilities) & (probabilities <= 1)).all()


@pytest.mark.slow
def test_sa_lstm_from_random_weights_learns_its_vocabulary_on_the_snippets(shared_data, tmp_path):
    import zoo

    result = zoo.fit(
        "sa_lstm_mr", data_dir=shared_data, out=tmp_path / "lstm", max_steps=2, epochs=1, batch_size=8,
        vocab_size=500, embedding_dim=4, units=6, autoencoder="none",
    )  # fmt: skip
    metrics = result.metrics
    assert metrics["autoencoder"] == "none" and metrics["vocabulary_size"] == 500
    assert (metrics["embedding_dim"], metrics["units"]) == (4, 6)
    assert result.model.get_layer("embedding").input_dim == 501  # 500 words and the autoencoder's unused start id
    serve = tf.saved_model.load(str(result.run_dir / "saved_model")).signatures["serve"]
    assert next(iter(serve(tf.constant(["A fine film."])).values())).shape == (1, 1)


def test_a_folder_that_is_not_a_sequence_autoencoder_run_is_refused_in_one_line(tmp_path):
    import zoo

    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"recipe": "skip_thought", "hparams": {}}))
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text(json.dumps({"recipe": "sequence_autoencoder", "hparams": {}}))
    for folder, message in (
        (tmp_path / "missing", "no such folder"),
        (tmp_path, "no config.json"),
        (other, "recipe skip_thought"),
        (unfinished, "no vocab.txt and model.keras"),
    ):
        with pytest.raises(UserError, match=message) as caught:
            zoo.fit("sa_lstm_mr", out=tmp_path / "out", autoencoder=str(folder))
        assert "\n" not in str(caught.value) and caught.value.param == "autoencoder"
        assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


@pytest.mark.slow
def test_a_run_whose_files_disagree_is_refused_in_one_line(autoencoder_run, tmp_path):
    from zoo.models.sequence_autoencoder import load_autoencoder_run

    copy = tmp_path / "copy"
    shutil.copytree(autoencoder_run.run_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["hparams"]["units"] = 7
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="model.keras has units 6, its config.json 7") as caught:
        load_autoencoder_run(copy)
    assert "\n" not in str(caught.value)
    config["hparams"]["units"] = 6
    (copy / "config.json").write_text(json.dumps(config))
    vocabulary = (copy / "vocab.txt").read_text()
    (copy / "vocab.txt").write_text("the\ncat\n")
    with pytest.raises(UserError, match="is not the vocabulary of its model"):
        load_autoencoder_run(copy)
    (copy / "vocab.txt").write_text(vocabulary)
    (copy / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="model.keras is not a readable sequence autoencoder") as caught:
        load_autoencoder_run(copy)
    assert "\n" not in str(caught.value)


def test_bad_values_are_refused_in_one_line():
    import zoo

    for recipe, key, value in (
        ("sequence_autoencoder", "max_sentences", -5),
        ("sequence_autoencoder", "units", 0),
        ("sa_lstm_mr", "dropout", 1.0),
        ("sa_lstm_mr", "batch_size", 0),
    ):
        with pytest.raises(UserError, match=f"{key}") as caught:
            zoo.fit(recipe, **{key: value})
        assert "\n" not in str(caught.value)
    for removed in ("finetune_epochs", "finetune_batch_size", "dropout"):  # fine-tuning is sa_lstm_mr's now
        with pytest.raises(UserError, match=removed):
            zoo.fit("sequence_autoencoder", **{removed: 1})

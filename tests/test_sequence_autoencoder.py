"""Chapter 14 sequence autoencoder (Dai & Le 2015): sentences as their own targets, padding out of the loss,
learning to copy, the encode endpoint, the classifier it starts, end to end through the driver."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.documents import sequence_autoencoder_data
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


@pytest.mark.slow
def test_sequence_autoencoder_end_to_end_with_encode_endpoint(tmp_path, shared_data):
    import zoo

    corpus = tmp_path / "stories.txt"
    corpus.write_text("\n".join(["The film was long. The cast was good. The end was sad. I cried."] * 30))
    result = zoo.fit(
        "sequence_autoencoder", data_dir=shared_data, out=tmp_path / "run", max_steps=2, corpus=str(corpus),
        epochs=1, batch_size=8, vocab_size=40, sequence_length=6, embedding_dim=4, units=6, folds=2,
        finetune_epochs=1, finetune_batch_size=16,
    )  # fmt: skip
    metrics = result.metrics
    assert metrics["sentences"] > 0
    errors = metrics["rt_polarity_cv_error"]
    assert set(errors) == {"sequence autoencoder", "averaged sequence autoencoder word embeddings"}
    assert all(0.0 <= e <= 1.0 for e in errors.values())
    assert metrics["rt_polarity_cv_accuracy_sequence_autoencoder"] == pytest.approx(1 - errors["sequence autoencoder"])
    assert set(metrics["finetune_accuracy"]) == {"sequence autoencoder (SA-LSTM)", "random (LSTM)"}
    assert all(0.0 <= a <= 1.0 for a in metrics["finetune_accuracy"].values())
    assert (result.run_dir / "rt_polarity.png").exists()
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    vectors = loaded.encode(tf.constant(["The cast was good.", "", "qwerty zxcvb"])).numpy()
    assert vectors.shape == (3, 6) and np.isfinite(vectors).all() and not vectors[1].any()


def test_bad_values_are_refused_in_one_line():
    import zoo

    for key, value in (("finetune_epochs", -1), ("max_sentences", -5), ("dropout", 1.0), ("units", 0)):
        with pytest.raises(UserError, match=f"{key}") as caught:
            zoo.fit("sequence_autoencoder", **{key: value})
        assert "\n" not in str(caught.value)

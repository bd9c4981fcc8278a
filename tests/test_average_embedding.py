"""The averaged-embedding sentiment model (sequence-models notes): the mean over real words, frozen vectors,
the recipe's refusal of a frozen embedding without vectors, its TF-IDF baseline, strings in."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import zoo
from zoo.errors import UserError
from zoo.models.average_embedding import build_average_embedding
from zoo.recipes.text_classification import tfidf_baseline


def test_output_is_a_softmax_of_the_mean_of_the_real_words_vectors():
    vectors = np.random.default_rng(0).normal(size=(12, 4)).astype("float32")
    model = build_average_embedding(vocab_size=12, sequence_length=6, num_classes=3, vectors=vectors, freeze=True)
    ids = np.array([[3, 5, 7, 0, 0, 0], [2, 0, 0, 0, 0, 0]], "int32")
    w, b = model.get_layer("output").get_weights()
    means = np.stack([vectors[[3, 5, 7]].mean(0), vectors[[2]].mean(0)])  # padding not averaged
    logits = means @ w + b
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(ids)), expected, rtol=1e-5, atol=1e-6)
    # frozen: only the softmax layer trains (the notes' model)
    assert [v.name for v in model.trainable_weights] == ["kernel", "bias"]
    assert build_average_embedding(vocab_size=12, sequence_length=6).get_layer("embedding").trainable
    with pytest.raises(UserError, match="^freeze: a frozen embedding needs pre-trained vectors"):
        build_average_embedding(vocab_size=12, sequence_length=6, freeze=True)


def test_recipe_refuses_freeze_without_vectors_before_reading_data(tmp_path):
    with pytest.raises(UserError, match=r"^freeze=True: a frozen embedding needs pre-trained vectors: give") as caught:
        zoo.fit("avg_embedding_mr", data_dir=tmp_path / "no-data", out=tmp_path / "run", freeze=True)
    assert "\n" not in str(caught.value) and not any(tmp_path.iterdir())


def test_tfidf_baseline_learns_a_separable_toy_split():
    good, bad = ["a good fine film", "good and fine"], ["a bad dull film", "dull and bad"]
    train = (good * 5 + bad * 5, np.array([1] * 10 + [0] * 10))
    held = (["fine good", "bad dull"], np.array([1, 0]))
    assert tfidf_baseline(train, held, seed=0) == 1.0
    assert tfidf_baseline(train, (held[0], 1 - held[1]), seed=0) == 0.0


@pytest.mark.slow
def test_avg_embedding_mr_with_frozen_vectors_end_to_end(shared_data, tmp_path):
    from tests.test_text_classification import fit_and_serve

    vectors = tmp_path / "vectors.txt"
    words = ["the", "film", "a", "good", "bad", "qzxv"]
    vectors.write_text("".join(f"{w} {i} {i * 0.5} {1 - i}\n" for i, w in enumerate(words)))
    result, served = fit_and_serve(
        "avg_embedding_mr", shared_data, tmp_path / "run", vectors=str(vectors), freeze=True, embedding_dim=8
    )
    assert served.shape == (2, 1) and ((served > 0) & (served < 1)).all()
    assert result.metrics["vectors_dim"] == 3 and result.metrics["vectors_found"] == 5
    assert 0.6 < result.metrics["baseline_tfidf_logreg_accuracy"] < 0.9  # the whole dev set, not the 2 batches
    embedding = result.model.get_layer("embedding")
    assert not embedding.trainable
    vocab = result.model.get_layer("embedding").get_weights()[0]
    assert isinstance(embedding, keras.layers.Embedding) and vocab.shape[1] == 3

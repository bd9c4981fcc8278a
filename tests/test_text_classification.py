"""Chapters 7 and 9: text loaders, word vectors, TextCNN / 1D CNN / LSTM builders, recipes served from raw strings."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import zoo
from tests.conftest import serve_in_fresh_process
from zoo import export
from zoo.data import imdb, r8, rt_polarity
from zoo.data.fetch import Archive, sha256sum
from zoo.data.vectors import load_word_vectors
from zoo.models.rnn import build_lstm_classifier
from zoo.models.textcnn import build_textcnn
from zoo.recipes.base import RunContext

TINY = dict(max_steps=2, epochs=1, vocab_size=200, sequence_length=12, embedding_dim=8, batch_size=16)


# ---------------------------------------------------------------- loaders
def test_rt_polarity_real_files_book_split_and_folds(shared_data):
    texts, labels = rt_polarity.load(shared_data)
    assert len(texts) == 10662 and labels.sum() == 5331 and labels[:5331].all()
    assert any("ladrón de orquídeas" in t for t in texts)  # Windows-1252 decoded, not mojibake
    train, dev = rt_polarity.book_split(len(texts))
    assert (len(train), len(dev)) == (9662, 1000) and not set(train) & set(dev)
    np.testing.assert_array_equal(dev, rt_polarity.book_split(len(texts))[1])
    held_out = [rt_polarity.cv_split(labels, 10, k, seed=1)[1] for k in range(10)]
    assert sorted(np.concatenate(held_out)) == list(range(len(texts)))


def test_rt_polarity_rejects_malformed_files(tmp_path):
    bad = tmp_path / "rt-polarity.pos"
    bad.write_bytes(b"fine line\n\x81 undefined in cp1252\n")
    with pytest.raises(ValueError, match="rt-polarity.pos"):
        rt_polarity.read_lines(bad)
    bad.write_bytes(b"one\n\nthree\n")
    with pytest.raises(ValueError, match="line 2"):
        rt_polarity.read_lines(bad)
    with pytest.raises(FileNotFoundError, match="rt-polaritydata.tar.gz"):
        rt_polarity.load(tmp_path)


def test_r8_real_files_and_malformed_line(shared_data, tmp_path):
    splits = r8.load(shared_data)
    assert (len(splits["train"][0]), len(splits["test"][0])) == (5485, 2189)
    assert len(set(splits["train"][1])) == 8
    bad = tmp_path / "r8-train-no-stop.txt"
    bad.write_text("earn\tprofit up\nno tab here\n")
    with pytest.raises(ValueError, match="r8-train-no-stop.txt: line 2"):
        r8.read_file(bad)


def write_imdb_tar(path: Path, per_class: int = 20, bad_rating: bool = False) -> None:
    words = {"pos": "great wonderful film loved it", "neg": "dull boring film hated it"}
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for label in ("pos", "neg"):
                for i in range(per_class):
                    rating = 9 if label == "pos" else 2
                    if bad_rating and i == 0 and label == "neg":
                        rating = 8
                    data = f"{words[label]} number {i}<br /><br />the end".encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{label}/{i}_{rating}.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))


def test_imdb_archive_and_folders(tmp_path):
    write_imdb_tar(tmp_path / "small.tar.gz")
    splits = imdb.read_archive(tmp_path / "small.tar.gz")
    assert {k: (len(v[0]), int(v[1].sum())) for k, v in splits.items()} == {"train": (40, 20), "test": (40, 20)}
    with tarfile.open(tmp_path / "small.tar.gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    folders = imdb.read_folders(tmp_path / "x")
    assert folders["test"][0] == splits["test"][0]
    write_imdb_tar(tmp_path / "bad.tar.gz", bad_rating=True)
    with pytest.raises(ValueError, match="rating 8"):
        imdb.read_archive(tmp_path / "bad.tar.gz")


# ---------------------------------------------------------------- word vectors
def test_load_word_vectors_word2vec_and_glove(tmp_path):
    vocab = ["", "[UNK]", "film", "great", "zzz"]
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("3 2\nfilm 1 2\nGreat 3 4\nother 5 6\n")  # header; "Great" matched lower-cased
    matrix, report = load_word_vectors(w2v, vocab)
    assert matrix.shape == (5, 2) and report.found == 2 and report.coverage == pytest.approx(2 / 3)
    np.testing.assert_array_equal(matrix[[0, 2, 3]], [[0, 0], [1, 2], [3, 4]])
    assert report.missing_examples == ("zzz",) and np.abs(matrix[4]).max() <= 0.25
    glove = tmp_path / "glove.txt"
    glove.write_text("film 1 2 3\ngreat 4 5 6\n")
    assert load_word_vectors(glove, vocab)[1].dim == 3
    glove.write_text("film 1 2 3\ngreat 4 5\n")
    with pytest.raises(ValueError, match="glove.txt: line 2"):
        load_word_vectors(glove, vocab)


# ---------------------------------------------------------------- models
def test_textcnn_variants_use_the_vectors():
    vectors = np.random.default_rng(0).normal(size=(30, 6)).astype("float32")
    for variant in ("static", "non-static", "multichannel"):
        model = build_textcnn(vocab_size=30, sequence_length=10, variant=variant, vectors=vectors, filters=2)
        embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
        assert [e.trainable for e in embeddings] == {
            "static": [False],
            "non-static": [True],
            "multichannel": [False, True],
        }[variant]
        for e in embeddings:
            np.testing.assert_allclose(e.get_weights()[0], vectors)
    assert build_textcnn(vocab_size=30, sequence_length=10, num_classes=8, filters=2).output_shape == (None, 8)
    with pytest.raises(ValueError, match="vectors"):
        build_textcnn(vocab_size=30, sequence_length=10, variant="static")


def test_book_multichannel_stacks_a_random_trainable_and_a_frozen_channel_with_their_own_kernels():
    vectors = np.random.default_rng(0).normal(size=(30, 6)).astype("float32")
    model = build_textcnn(vocab_size=30, sequence_length=10, variant="book-multichannel", vectors=vectors, filters=2)
    random, frozen = model.get_layer("embedding_random"), model.get_layer("embedding_static")
    assert random.trainable and not frozen.trainable
    np.testing.assert_allclose(frozen.get_weights()[0], vectors)
    assert not np.allclose(random.get_weights()[0], vectors)  # random, not a copy of the vectors (Kim's)
    kernel = model.get_layer("conv_3").get_weights()[0]
    assert kernel.shape == (3, 12, 2)  # one kernel slice per channel: 2 x 6 input features
    # = each channel convolved with its own slice, the two results summed (a Conv2D over stacked channels)
    ids = np.random.default_rng(1).integers(1, 30, size=(2, 10))
    both = np.concatenate([random.get_weights()[0][ids], vectors[ids]], axis=-1)
    conv = keras.Model(model.input, model.get_layer("conv_3").output)(ids)
    split = sum(
        np.stack([np.einsum("bwd,wdf->bf", part[:, t : t + 3], kernel[:, sl]) for t in range(8)], axis=1)
        for part, sl in ((both[..., :6], slice(0, 6)), (both[..., 6:], slice(6, 12)))
    )
    np.testing.assert_allclose(np.asarray(conv), split + model.get_layer("conv_3").get_weights()[1], atol=1e-4)
    kim = build_textcnn(vocab_size=30, sequence_length=10, variant="multichannel", vectors=vectors, filters=2)
    assert kim.get_layer("conv_3").get_weights()[0].shape == (3, 6, 2)  # Kim's: one kernel shared by both
    with pytest.raises(ValueError, match="vectors"):
        build_textcnn(vocab_size=30, sequence_length=10, variant="book-multichannel")


def test_keras_average_pooling_honours_the_mask():
    x = np.array([[1.0, 3.0, 100.0]])[..., None]
    mask = np.array([[True, True, False]])
    assert float(keras.layers.GlobalAveragePooling1D()(x, mask=mask)[0, 0]) == pytest.approx(2.0)


@pytest.mark.parametrize("cell", ["lstm", "peephole"])
def test_lstm_classifier_ignores_padding(cell):
    short = build_lstm_classifier(
        vocab_size=20, sequence_length=5, units=3, dense_units=2, cell=cell, bidirectional=True
    )
    long = build_lstm_classifier(
        vocab_size=20, sequence_length=9, units=3, dense_units=2, cell=cell, bidirectional=True
    )
    long.set_weights(short.get_weights())
    a = np.asarray(short(np.array([[4, 5, 6, 0, 0]])))
    b = np.asarray(long(np.array([[4, 5, 6, 0, 0, 0, 0, 0, 0]])))
    np.testing.assert_allclose(a, b, atol=1e-6)


# ---------------------------------------------------------------- recipes end to end
def fit_and_serve(name: str, data_dir: Path, out: Path, texts=("a great film", "dull"), **overrides):
    """Fit tiny, then check the fresh-process TFSMLayer on a 1-D batch of strings equals the in-process model."""
    result = zoo.fit(name, data_dir=data_dir, out=out, verbose=0, **{**TINY, **overrides})
    served = serve_in_fresh_process(result.run_dir / "saved_model", list(texts))
    recipe = zoo.recipes.get(name)
    # Re-adapting on the same training split must give the same vocabulary (deterministic preprocessing).
    data = recipe.data(result.hparams, RunContext(data_dir=data_dir, run_dir=out.parent))
    local = recipe.serving(result.hparams, data, result.model)(tf.constant(list(texts)))
    np.testing.assert_allclose(served, np.asarray(local), atol=1e-5)
    return result, served


@pytest.mark.slow
def test_textcnn_mr_fit_and_serve_raw_strings(shared_data, tmp_path):
    result, served = fit_and_serve("textcnn_mr", shared_data, tmp_path / "run", filters=2)
    assert served.shape == (2, 1) and ((served > 0) & (served < 1)).all()
    history = pd.read_csv(result.run_dir / "history.csv")  # early stopping on val_accuracy keeps the best epoch
    assert result.metrics["val_accuracy"] == pytest.approx(history["val_accuracy"].max(), abs=1e-6)


@pytest.mark.slow
def test_textcnn_multichannel_with_vectors_and_cv_fold(shared_data, tmp_path):
    vectors = tmp_path / "vectors.txt"
    rows = [
        f"{w} " + " ".join(f"{v:.3f}" for v in np.random.default_rng(i).normal(size=8))
        for i, w in enumerate(["the", "film", "a", "is", "and", "of", "qzxv"])
    ]
    vectors.write_text("\n".join(rows) + "\n")
    result, _ = fit_and_serve(
        "textcnn_mr",
        shared_data,
        tmp_path / "run",
        variant="multichannel",
        vectors=str(vectors),
        folds=10,
        fold=3,
        filters=2,
    )
    assert result.metrics["vectors_found"] == 6 and 0 < result.metrics["vectors_coverage"] < 1


@pytest.mark.slow
def test_peephole_mr_full_peepholes_fit_serve_and_reload(shared_data, tmp_path):
    result, _ = fit_and_serve("peephole_mr", shared_data, tmp_path / "run", units=4, dense_units=4, peephole="full")
    layer = next(x for x in result.model.layers if isinstance(x, keras.layers.Bidirectional))
    assert layer.forward_layer.cell.peephole == "full"
    ids = np.zeros((2, TINY["sequence_length"]), "int32")
    ids[:, :3] = [[5, 6, 7], [8, 9, 10]]
    reloaded = export.load(result.run_dir)
    np.testing.assert_allclose(np.asarray(reloaded(ids)), np.asarray(result.model(ids)), atol=1e-6)


@pytest.mark.slow
def test_cnn1d_imdb_on_a_small_archive(tmp_path, monkeypatch):
    archive = tmp_path / "data" / "imdb" / "aclImdb_v1.tar.gz"
    archive.parent.mkdir(parents=True)
    write_imdb_tar(archive)
    with pytest.raises(ValueError, match="sha256"):  # not the published archive: refused
        zoo.fit("cnn1d_imdb", data_dir=tmp_path / "data", out=tmp_path / "bad", verbose=0, **TINY)
    monkeypatch.setattr(
        imdb, "IMDB", dataclasses.replace(imdb.IMDB, archives=(Archive(archive.name, sha256sum(archive)),))
    )
    result, served = fit_and_serve(
        "cnn1d_imdb",
        tmp_path / "data",
        tmp_path / "run",
        texts=("a great film<br />loved it", "dull"),
        filters=4,
        hidden_dims=4,
        max_steps=None,
    )
    assert served.shape == (2, 1)
    # test_accuracy is the exported model's accuracy on every test review, served as raw strings.
    texts, labels = imdb.read_archive(archive)["test"]
    probabilities = serve_in_fresh_process(result.run_dir / "saved_model", list(texts))[:, 0]
    assert result.metrics["test_accuracy"] == pytest.approx(float(np.mean((probabilities > 0.5) == labels)), abs=1e-6)


@pytest.mark.slow
def test_textcnn_r8_eight_class_probabilities(shared_data, tmp_path):
    result, served = fit_and_serve(
        "textcnn_r8",
        shared_data,
        tmp_path / "run",
        texts=("oil prices crude opec", "profit dividend shares"),
        filters=2,
    )
    assert "test_accuracy" in result.metrics and served.shape == (2, 8)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_embedding_toy_learns_the_ten_documents(tmp_path):
    result, served = fit_and_serve(
        "embedding_toy",
        tmp_path,
        tmp_path / "run",
        texts=("Well done!", "poor work"),
        max_steps=None,
        epochs=12,
        learning_rate=0.05,
        vocab_size=50,
        sequence_length=4,
        embedding_dim=8,
        batch_size=10,
    )
    assert result.metrics["train_accuracy"] >= 0.9
    assert served[0, 0] > 0.5 > served[1, 0]

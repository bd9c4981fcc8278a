"""Chapter 6 word2vec: skip-gram pipeline properties, analogy metric, loaders, training through zoo.fit, exports,
serving."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.conftest import serve_in_fresh_process
from zoo.data import analogy, corpus, ptb, text8
from zoo.data.skipgrams import (
    encode_corpus,
    keep_probabilities,
    negative_cdf,
    skipgram_dataset,
    skipgram_pairs,
)
from zoo.export import save_serving
from zoo.metrics.analogy import analogy_accuracy
from zoo.models import word2vec
from zoo.serving.word2vec import serving_model

ANIMALS = "the cat sat on the mat while the dog ate the bone and a bird sang in the tree".split()


def _toy(repeat=200, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.permutation(ANIMALS)) for _ in range(repeat)]


def test_vocabulary_frequency_order_unk_and_min_count():
    docs = [["a", "b", "a", "c", "a", "b", "rare"]]
    vocab, ids, segments = encode_corpus(docs, max_vocab=10, min_count=2)
    assert vocab.words == ("[UNK]", "a", "b")
    assert vocab.counts.tolist() == [2, 3, 2]  # "c" and "rare" are UNK
    assert ids.tolist() == [1, 2, 1, 0, 1, 2, 0]
    assert segments.tolist() == [0] * 7
    capped, _, _ = encode_corpus(docs, max_vocab=2, min_count=1)
    assert capped.words == ("[UNK]", "a")
    ptb_like, ids, _ = encode_corpus([["x", "<unk>", "x", "<unk>"]], min_count=1, unk_token="<unk>")
    assert ptb_like.words == ("[UNK]", "x") and ids.tolist() == [1, 0, 1, 0]


def test_documents_keep_their_numbers_and_ties_go_to_the_first_seen():
    docs = iter([["y", "x"], [], ["x", "y", "z"], ["w"]])  # a generator, read once; an empty document
    vocab, ids, segments = encode_corpus(docs, min_count=1)
    assert vocab.words == ("[UNK]", "y", "x", "z", "w")  # y and x tie at 2: y came first
    assert ids.tolist() == [1, 2, 2, 1, 3, 4]
    assert segments.tolist() == [0, 0, 2, 2, 2, 3]
    ids, segments = vocab.encode([["z", "new"], ["y"]], unk_token="z")
    assert ids.tolist() == [0, 0, 1] and segments.tolist() == [0, 0, 1]


def test_pairs_stay_in_window_and_document_and_skip_unk():
    ids = tf.constant([1, 2, 0, 3, 4, 5, 6, 7, 8, 9], tf.int32)
    segments = tf.constant([0, 0, 0, 0, 0, 0, 1, 1, 1, 1], tf.int32)
    keep = tf.ones([10], tf.float32)
    position = {int(w): i for i, w in enumerate(ids.numpy()) if w}
    seen = set()
    for seed in range(20):
        targets, contexts = skipgram_pairs(ids, segments, keep, window=2, seed=seed)
        for t, c in zip(targets.numpy(), contexts.numpy()):
            assert t != 0 and c != 0  # UNK excluded
            kept = [w for w in ids.numpy() if w]
            # distance counted after UNK removal, as word2vec.c does
            assert 1 <= abs(kept.index(t) - kept.index(c)) <= 2
            assert segments.numpy()[position[t]] == segments.numpy()[position[c]]
            seen.add((int(t), int(c)))
    assert (4, 2) in seen  # 4 reaches 2 over the dropped UNK
    assert (5, 6) not in seen and (6, 5) not in seen  # never across documents


def test_dynamic_window_prefers_near_contexts():
    ids = tf.range(1, 2001, dtype=tf.int32)
    targets, contexts = skipgram_pairs(ids, tf.zeros([2000], tf.int32), tf.ones([2001]), window=5, seed=3)
    distance = np.abs(targets.numpy() - contexts.numpy())
    counts = np.bincount(distance, minlength=6)[1:]
    assert distance.max() == 5
    assert all(counts[i] > counts[i + 1] for i in range(4))  # P(d) ~ (window - d + 1) / window


def test_subsampling_drops_frequent_words():
    counts = np.array([0, 10_000, 100, 10])
    keep = keep_probabilities(counts, 1e-3)
    assert keep[1] < 0.05 and keep[3] == 1.0 and keep[2] > keep[1]
    ids = tf.constant(np.repeat([1, 2, 3], [10_000, 100, 10]).astype("int32"))
    targets, _ = skipgram_pairs(ids, tf.zeros_like(ids), tf.constant(keep), window=1, seed=0)
    # raw shares 98.9% / 0.1%; kept with p = 0.033 / 1: about 86% / 2.6%
    assert np.mean(targets.numpy() == 1) < 0.92
    assert np.mean(targets.numpy() == 3) > 10 * 10 / 10_110
    assert np.all(keep_probabilities(counts, 0) == 1)


def test_negatives_follow_unigram_075_and_batches_are_exact():
    docs = [["a"] * 800 + ["b"] * 150 + ["c"] * 50]
    vocab, ids, segments = encode_corpus(docs, min_count=1)
    ds = skipgram_dataset(
        ids, segments, vocab, window=2, negatives=20, subsample=0, batch_size=500, chunk_size=100, seed=0
    )
    x, y = next(iter(ds))
    assert x["target"].shape == (500,) and x["contexts"].shape == (500, 21) and y.shape == (500, 21)
    assert np.all(y.numpy()[:, 0] == 1) and np.all(y.numpy()[:, 1:] == 0)
    sampled = np.concatenate([b[0]["contexts"].numpy()[:, 1:].ravel() for b in ds.take(20)])
    observed = np.bincount(sampled, minlength=4)[1:] / sampled.size
    expected = np.diff(np.concatenate([[0], negative_cdf(vocab.counts)]))[1:]
    assert not np.any(sampled == 0)
    np.testing.assert_allclose(observed, expected, atol=0.01)
    assert expected[0] < 0.8  # flatter than the raw unigram distribution


def test_analogy_metric_on_hand_made_vectors():
    vocabulary = ["[UNK]", "king", "queen", "man", "woman", "paris", "france", "rome", "italy", "apple"]
    m = np.zeros((10, 4), "float32")
    m[1], m[2], m[3], m[4] = [1, 1, 0, 0], [1, -1, 0, 0], [0, 1, 0, 0.1], [0, -1, 0, 0.1]
    m[5], m[6], m[7], m[8] = [0, 0, 1, 1], [0, 0, 1, 2], [0, 0.1, 2, 1], [0, 0.1, 2, 2]
    m[9] = [5, 5, 5, 5]
    sections = {
        "family": [
            ("man", "woman", "king", "queen"),
            ("Man", "King", "woman", "queen"),
            ("man", "woman", "king", "zebra"),
        ],
        "capital-world": [("paris", "france", "rome", "italy")],
        "gram8-plural": [("apple", "apples", "king", "kings")],
    }
    scores = analogy_accuracy(vocabulary, m, sections)
    assert scores["sections"]["family"] == {"accuracy": 1.0, "answered": 2, "correct": 2, "oov": 1}
    assert scores["sections"]["capital-world"]["accuracy"] == 1.0
    assert scores["sections"]["gram8-plural"] == {"accuracy": 0.0, "answered": 0, "correct": 0, "oov": 1}
    assert scores["accuracy"] == 1.0 and scores["answered"] == 3 and scores["oov"] == 2
    assert scores["semantic"] == 1.0 and scores["syntactic"] == 0.0
    # restricting to the 4 most frequent words makes the capital question out of vocabulary
    assert analogy_accuracy(vocabulary, m, sections, restrict=4)["oov"] == 3


def test_questions_words_loader(tmp_path, shared_data):
    sections = analogy.load(shared_data)
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544
    bad = tmp_path / "q.txt"
    bad.write_text(": family\nboy girl brother\n")
    with pytest.raises(ValueError, match="q.txt"):
        analogy.read_questions(bad)


def test_text8_format_is_checked(tmp_path):
    good = tmp_path / "text8"
    good.write_bytes(b" anarchism originated as a term of abuse" * 3)
    docs = list(text8.read_documents(good, words_per_document=5))
    assert [len(d) for d in docs] == [5, 5, 5, 5, 1] and docs[0][0] == "anarchism"
    bad = tmp_path / "bad"
    bad.write_bytes(b" hello World")
    with pytest.raises(ValueError, match="not the text8 format"):
        text8.read_documents(bad)


def test_corpus_reads_files_folders_and_archives(tmp_path):
    folder = tmp_path / "texts" / "pos"
    folder.mkdir(parents=True)
    (folder / "1_9.txt").write_text("A <br />great film. Don't miss it!")
    (tmp_path / "texts" / "scores.txt").write_text("0.1\n0.2\n")
    assert corpus.read_texts(tmp_path / "texts")[0] == ["A <br />great film. Don't miss it!"]
    assert list(corpus.documents(["A <br />great film. Don't miss it!"])) == [
        ["a", "great", "film", "don't", "miss", "it"]
    ]
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "texts", arcname="texts")
    texts, kind = corpus.read_texts(tmp_path / "t.tar.gz", "texts/*/*.txt")
    assert kind == "files" and len(texts) == 1
    (tmp_path / "lines.txt").write_text("one line\n\nanother line\n")
    assert corpus.read_texts(tmp_path / "lines.txt") == (["one line", "another line"], "lines")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt"):
        corpus.read_texts(tmp_path / "latin1.txt")


def test_ptb_loader_verifies_files(shared_data):
    splits = ptb.load(shared_data)
    assert sum(map(len, splits["train"])) == 887_521
    assert splits["validation"][0][:3] == ["consumers", "may", "want"]


def test_serving_layer_and_exports_round_trip(tmp_path):
    vocabulary = ("[UNK]", "king", "queen")
    matrix = np.arange(6, dtype="float32").reshape(3, 2)
    model = serving_model(vocabulary, matrix)
    words = tf.constant(["King", "zebra", "queen"])
    np.testing.assert_array_equal(model(words), matrix[[1, 0, 2]])
    layer = keras.layers.TFSMLayer(str(save_serving(model, tmp_path / "saved_model")), call_endpoint="serve")
    np.testing.assert_array_equal(layer(words), matrix[[1, 0, 2]])
    word2vec.write_word2vec(tmp_path / "vectors.txt", vocabulary, matrix)
    assert (tmp_path / "vectors.txt").read_text().splitlines()[:2] == ["2 2", "king 2.000000 3.000000"]
    word2vec.write_projector(tmp_path, vocabulary, matrix)
    assert (tmp_path / "metadata.tsv").read_text() == "king\nqueen\n"
    assert np.loadtxt(tmp_path / "vectors.tsv").shape == (2, 2)


TINY_WORDS = sorted(set(ANIMALS)) + ["king", "queen", "man", "woman", "boy", "girl", "brother", "sister", "one"]


def _tiny_text8(folder):
    rng = np.random.default_rng(0)
    words = rng.choice(TINY_WORDS, 30_000)
    (folder / "text8").mkdir(parents=True)
    (folder / "text8" / "text8").write_bytes((" " + " ".join(words)).encode())


@pytest.mark.slow
def test_fit_text8_format_exports_gensim_vectors_and_serves(tmp_path, shared_data):
    gensim = pytest.importorskip("gensim")
    _tiny_text8(tmp_path / "data")
    (tmp_path / "data" / "word2vec").symlink_to(shared_data / "word2vec")
    result = zoo.fit(
        "skipgram_text8",
        data_dir=tmp_path / "data",
        out=tmp_path / "run",
        max_steps=5,
        epochs=2,
        batch_size=256,
        dim=16,
        min_count=1,
        verbose=0,
    )
    run = result.run_dir
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["vocabulary_size"] == len(TINY_WORDS) + 1 and metrics["analogy_answered"] > 0
    assert "family" in metrics["analogy_sections"] and np.isfinite(metrics["final_loss"])
    vectors = gensim.models.KeyedVectors.load_word2vec_format(str(run / "vectors.txt"))
    assert vectors.vector_size == 16 and "king" in vectors and "[UNK]" not in vectors
    assert (run / "metadata.tsv").read_text().count("\n") == len(TINY_WORDS) and (run / "pca.png").stat().st_size > 0
    from zoo.data.vectors import load_word_vectors

    matrix, coverage = load_word_vectors(run / "vectors.txt", ["", "[UNK]", "king", "zebra"])
    assert coverage.found == 1 and np.allclose(matrix[2], vectors["king"], atol=1e-5)
    served = serve_in_fresh_process(run / "saved_model", ["king", "KING", "zebra"])
    trained = word2vec.word_vectors(result.model)
    np.testing.assert_allclose(served[0], served[1])
    np.testing.assert_allclose(served[0], vectors["king"], atol=1e-5)
    np.testing.assert_allclose(served[2], trained[0], atol=1e-6)  # unknown word -> [UNK] row


@pytest.mark.slow
def test_fit_ptb_with_validation_and_neighbour_callback(tmp_path, shared_data, capsys):
    result = zoo.fit(
        "skipgram_ptb",
        data_dir=shared_data,
        out=tmp_path / "run",
        max_steps=3,
        epochs=1,
        batch_size=512,
        dim=8,
        verbose=0,
    )
    assert "val_loss" in result.metrics and result.metrics["vocabulary_size"] == 9_858
    assert "epoch 1 nearest neighbours" in capsys.readouterr().out
    assert json.loads((result.run_dir / "neighbours.json").read_text())["company"]


@pytest.mark.slow
def test_skipgram_trains_under_mirrored_cpu_replicas_with_xla_turned_off(tmp_path, shared_data):
    """XLA cannot read variables across logical CPU devices; the recipe must still train there."""
    _tiny_text8(tmp_path / "data")
    (tmp_path / "data" / "word2vec").symlink_to(shared_data / "word2vec")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoo.run",
            "skipgram_text8",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "run"),
            "--strategy",
            "mirrored",
            "--cpu-replicas",
            "2",
            "--epochs",
            "1",
            "--max-steps",
            "3",
            "--batch-size",
            "256",
            "--set",
            "dim=16",
            "--set",
            "min_count=1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "XLA is turned off" in proc.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["run"]["replicas"] == 2
    assert np.isfinite(json.loads((tmp_path / "run" / "metrics.json").read_text())["final_loss"])


@pytest.mark.slow
@pytest.mark.parametrize(("recipe", "overrides"), [("cbow_text8", {}), ("skipgram_text8", {"step": "per_pair"})])
def test_fit_cbow_and_the_per_pair_step(tmp_path, shared_data, recipe, overrides):
    _tiny_text8(tmp_path / "data")
    (tmp_path / "data" / "word2vec").symlink_to(shared_data / "word2vec")
    result = zoo.fit(
        recipe,
        data_dir=tmp_path / "data",
        out=tmp_path / "run",
        max_steps=4,
        epochs=2,
        batch_size=256,
        dim=16,
        min_count=1,
        verbose=0,
        **overrides,
    )
    metrics = result.metrics
    assert np.isfinite(metrics["final_loss"]) and metrics["analogy_answered"] > 0
    assert metrics["train_seconds"] > 0 and metrics["train_words_per_second"] > 0
    # 2 epochs of 4 batches: the words/s counts the part of the corpus trained, not 2 whole passes
    steps_full = metrics["corpus_tokens"] * 2 / metrics["train_words_per_second"] / metrics["train_seconds"]
    assert steps_full > 1
    loaded = keras.saving.load_model(result.run_dir / "model.keras")
    np.testing.assert_array_equal(word2vec.word_vectors(loaded), word2vec.word_vectors(result.model))
    served = serve_in_fresh_process(result.run_dir / "saved_model", ["king"])
    index = (result.run_dir / "metadata.tsv").read_text().splitlines().index("king") + 1
    np.testing.assert_allclose(served[0], word2vec.word_vectors(result.model)[index], atol=1e-6)

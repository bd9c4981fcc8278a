"""Issue 28: the shared-negatives word2vec step (skip-gram, CBOW): gradients, learning, data, recipe settings."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.data.skipgrams import cbow_dataset, encode_corpus, skipgram_dataset
from zoo.errors import UserError
from zoo.models import word2vec
from zoo.models.shared_negatives import (
    SharedNegatives,
    cap_repeated_rows,
    shared_input_gradients,
    shared_negatives_gradients,
)
from zoo.recipes import get, resolve_hparams
from zoo.recipes.ch06 import check_settings
from zoo.training.loop import TrainingDiverged

RNG = np.random.default_rng(0)
V, D = 12, 4


def _tables():
    return (
        tf.constant(RNG.normal(size=(V, D)).astype("float32")),
        tf.constant(RNG.normal(size=(V, D)).astype("float32")),
    )


def _per_pair_loss(input_table, output_table, h_of, positives, negatives):
    """word2vec's loss written pair by pair: each example scored against its group's negatives (one skipped if
    it is the example's own positive)."""
    loss = 0.0
    for n in range(positives.shape[0]):
        for g in range(positives.shape[1]):
            h = h_of(input_table, n, g)
            if h is None:
                continue
            loss += -tf.math.log_sigmoid(tf.reduce_sum(h * output_table[positives[n, g]]))
            for k in negatives[n]:
                if k != positives[n, g]:
                    loss += -tf.math.log_sigmoid(-tf.reduce_sum(h * output_table[k]))
    return loss


def _autodiff(input_table, output_table, h_of, positives, negatives):
    with tf.GradientTape() as tape:
        tape.watch([input_table, output_table])
        loss = _per_pair_loss(input_table, output_table, h_of, positives, negatives)
    return loss, *tape.gradient(loss, [input_table, output_table])


def test_skipgram_gradients_equal_autodiff_of_the_per_pair_loss():
    input_table, output_table = _tables()
    inputs = np.array([[1, 2, 2], [3, 4, 5]])  # a repeated input row sums its gradients
    positives = np.array([[6, 7, 8], [9, 6, 10]])
    negatives = np.array([[6, 11, 3, 11], [2, 5, 1, 7]])  # 6 is also the first example's positive: skipped there
    loss, examples, g_in, g_out = shared_negatives_gradients(
        input_table, output_table, tf.constant(inputs), tf.constant(positives), tf.constant(negatives)
    )
    want_loss, want_in, want_out = _autodiff(
        input_table, output_table, lambda t, n, g: t[inputs[n, g]], positives, negatives
    )
    assert examples == 6
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    np.testing.assert_allclose(tf.convert_to_tensor(g_in), want_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(g_out), want_out, rtol=1e-4, atol=1e-6)


def test_groups_sharing_their_input_equal_autodiff_of_the_per_pair_loss():
    input_table, output_table = _tables()
    inputs = np.array([1, 3, 1])  # one input row per group; group 3 repeats group 1's
    positives = np.array([[6, 7, 8], [9, 6, 0], [2, 2, 0]])
    weights = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]], "float32")  # 0: a padding slot, not an example
    negatives = np.array([[6, 11, 3, 11], [2, 5, 9, 7], [0, 4, 2, 1]])  # 6, 9, 2: an example's positive, skipped there
    loss, examples, g_in, g_out = shared_input_gradients(
        input_table, output_table, tf.constant(inputs), tf.constant(positives), tf.constant(negatives), weights
    )
    want_loss, want_in, want_out = _autodiff(
        input_table,
        output_table,
        lambda t, n, g: t[inputs[n]] if weights[n, g] else None,
        positives,
        negatives,
    )
    assert examples == 6 and g_in.values.shape == (3, D)  # the input row is updated once per group
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    np.testing.assert_allclose(tf.convert_to_tensor(g_in), want_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(g_out), want_out, rtol=1e-4, atol=1e-6)


def test_cbow_gradients_true_mean_and_word2vec_convention():
    input_table, output_table = _tables()
    inputs = np.array([[[1, 2, 0], [3, 3, 4]], [[5, 0, 0], [0, 0, 0]]])
    mask = np.array([[[1, 1, 0], [1, 1, 1]], [[1, 0, 0], [0, 0, 0]]], "float32")  # the last bag is empty: ignored
    positives, negatives = np.array([[6, 7], [8, 9]]), np.array([[10, 11], [7, 1]])

    def mean(table, n, g):
        rows = [table[i] for i, m in zip(inputs[n, g], mask[n, g]) if m]
        return tf.add_n(rows) / len(rows) if rows else None

    def word2vec_mean(table, n, g):  # the mean's value, but each member receives the mean's whole gradient
        rows = [table[i] for i, m in zip(inputs[n, g], mask[n, g]) if m]
        return tf.add_n(rows) + tf.stop_gradient(tf.add_n(rows) / len(rows) - tf.add_n(rows)) if rows else None

    for bag_update, h_of in (("mean", mean), ("word2vec", word2vec_mean)):
        loss, examples, g_in, g_out = shared_negatives_gradients(
            input_table,
            output_table,
            tf.constant(inputs),
            tf.constant(positives),
            tf.constant(negatives),
            input_mask=tf.constant(mask),
            bag_update=bag_update,
        )
        want_loss, want_in, want_out = _autodiff(input_table, output_table, h_of, positives, negatives)
        assert examples == 3
        np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
        np.testing.assert_allclose(tf.convert_to_tensor(g_in), want_in, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(tf.convert_to_tensor(g_out), want_out, rtol=1e-4, atol=1e-6)


def test_train_step_applies_sgd_and_round_trips(tmp_path):
    model = word2vec.compile_word2vec(word2vec.build_word2vec(vocab_size=V, dim=D), learning_rate=0.5)
    model.output_embedding.embeddings.assign(RNG.normal(size=(V, D)).astype("float32"))
    before_in, before_out = (np.asarray(w) for w in model.get_weights())
    batch = {"inputs": [[1, 2]], "positives": [[3, 4]], "negatives": [[5, 6, 3]]}
    _, _, g_in, g_out = shared_negatives_gradients(
        tf.constant(before_in), tf.constant(before_out), *(tf.constant(batch[k]) for k in batch)
    )
    logs = model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0).history
    after_in, after_out = model.get_weights()
    np.testing.assert_allclose(after_in, before_in - 0.5 * tf.convert_to_tensor(g_in), atol=1e-6)
    np.testing.assert_allclose(after_out, before_out - 0.5 * tf.convert_to_tensor(g_out), atol=1e-6)
    assert 0 < logs["loss"][0] < 1
    assert model({k: tf.constant(v) for k, v in batch.items()}).shape == (1, 2, 4)
    model.save(tmp_path / "w2v.keras")
    loaded = keras.saving.load_model(tmp_path / "w2v.keras")
    assert isinstance(loaded, SharedNegatives) and loaded.bag_update == "word2vec"
    np.testing.assert_array_equal(word2vec.word_vectors(loaded), after_in)


def _planted_synonyms(concepts=40, tokens=40_000, seed=0):
    """Sentences from a random walk over concepts, each concept written as one of two synonyms at random."""
    rng = np.random.default_rng(seed)
    successors = rng.integers(0, concepts, (concepts, 3))
    walk, state = [], 0
    for _ in range(tokens):
        state = successors[state, rng.integers(3)] if rng.random() < 0.9 else rng.integers(concepts)
        walk.append(f"{'ab'[rng.integers(2)]}{state}")
    return [walk[i : i + 30] for i in range(0, tokens, 30)], concepts


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_shared_negatives_learn_planted_synonyms(architecture):
    docs, concepts = _planted_synonyms()
    vocabulary, ids, segments = encode_corpus(docs, min_count=1)
    make = cbow_dataset if architecture == "cbow" else skipgram_dataset
    ds = make(ids, segments, vocabulary, window=2, negatives=5, subsample=0, batch_size=256, group_size=16, seed=1)
    keras.utils.set_random_seed(1)
    model = word2vec.compile_word2vec(
        word2vec.build_word2vec(vocab_size=len(vocabulary), dim=16),
        learning_rate=0.05 if architecture == "cbow" else 0.025,
    )

    def synonyms_found():
        index, matrix = vocabulary.index, word2vec.word_vectors(model)
        queries = [index[f"a{c}"] for c in range(concepts)]
        top, _ = word2vec.nearest(matrix, np.array(queries), k=1)
        return np.mean([vocabulary.words[t] == f"b{c}" for c, t in zip(range(concepts), top[:, 0])])

    assert synonyms_found() < 0.2
    model.fit(ds.prefetch(-1), epochs=4, verbose=0)
    assert synonyms_found() >= 0.9


def test_datasets_group_pairs_and_windows():
    docs = [[f"w{i % 7}" for i in range(300)]]  # w0 w1 ... w6 w0 w1 ...: the word at offset d is known
    vocabulary, ids, segments = encode_corpus(docs, min_count=1)
    settings = dict(subsample=0, negatives=3, group_size=8, batch_size=64)
    grouped = next(iter(skipgram_dataset(ids, segments, vocabulary, window=2, **settings)))
    assert {k: v.shape for k, v in grouped.items()} == {"inputs": (8, 8), "positives": (8, 8), "negatives": (8, 3)}
    assert np.all(grouped["negatives"].numpy() > 0)
    batch = next(iter(cbow_dataset(ids, segments, vocabulary, window=3, **settings)))
    assert batch["inputs"].shape == (8, 8, 6) and batch["input_mask"].shape == (8, 8, 6)
    mask, inputs, centres = (batch[k].numpy() for k in ("input_mask", "inputs", "positives"))
    assert np.all(mask.sum(-1) >= 1) and np.all(inputs[mask == 0] == 0)
    number = np.array([0] + [int(w[1:]) for w in vocabulary.words[1:]])
    offsets = np.array([-3, -2, -1, 1, 2, 3])
    for n, g, slot in zip(*np.nonzero(mask)):
        assert number[inputs[n, g, slot]] == (number[centres[n, g]] + offsets[slot]) % 7
    reach = np.abs(offsets)[None, None, :] * mask  # a dynamic window: contiguous slots around the centre
    assert np.all(mask[..., 2] >= mask[..., 1]) and np.all(mask[..., 1] >= mask[..., 0]) and reach.max() == 3


def test_recipe_settings_refused_before_data(tmp_path):
    with pytest.raises(UserError, match="multiple of group_size"):
        zoo.fit("skipgram_ptb", data_dir=tmp_path / "nothing", out=tmp_path / "r1", batch_size=100, group_size=16)
    with pytest.raises(UserError, match="CBOW trains with step=shared"):
        zoo.fit("cbow_ptb", data_dir=tmp_path / "nothing", out=tmp_path / "r2", step="per_pair")
    with pytest.raises(UserError, match="^step=per_pair, group_size=64: .*group_size applies to step=shared only"):
        zoo.fit("skipgram_ptb", data_dir=tmp_path / "nothing", out=tmp_path / "r3", step="per_pair", group_size=64)
    with pytest.raises(UserError, match="^step=per_pair, row_cap=8.0: .*row_cap applies to step=shared only"):
        zoo.fit("skipgram_ptb", data_dir=tmp_path / "nothing", out=tmp_path / "r4", step="per_pair", row_cap=8)
    assert not any((tmp_path / run).exists() for run in ("r1", "r2", "r3", "r4"))


def test_per_pair_step_with_the_default_group_size_is_not_refused():
    recipe = get("skipgram_ptb")
    check_settings(resolve_hparams(recipe, {"step": "per_pair"}), "skipgram")
    check_settings(resolve_hparams(recipe, {"step": "per_pair", "batch_size": 100}), "skipgram")  # no group to fill


def test_input_table_of_another_size_serves_paragraph_vectors():
    """PV-DBOW's use of the seam: paragraph ids index the input table, words the output table."""
    model = SharedNegatives(input_rows=3, output_rows=V, dim=D)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.output_embedding.embeddings.assign(RNG.normal(size=(V, D)).astype("float32"))
    before = np.asarray(model.input_embedding.embeddings)
    batch = {"inputs": [[2, 2, 2]], "positives": [[5, 6, 7]], "negatives": [[8, 9]]}  # paragraph 2's words
    model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    after = np.asarray(model.input_embedding.embeddings)
    assert after.shape == (3, D)
    np.testing.assert_array_equal(after[:2], before[:2])  # only paragraph 2 moved
    assert not np.allclose(after[2], before[2])


@pytest.mark.parametrize("architecture", ["shared", "per_pair"])
def test_several_steps_per_call_train_every_batch_of_a_stream_of_unknown_length(architecture):
    """The recipes' datasets have no known length (pairs are filtered), and 35 batches are not a multiple of
    the 16 per compiled call: every batch is still trained on, once."""
    if architecture == "shared":
        batch = {"inputs": [[1, 2]], "positives": [[3, 4]], "negatives": [[5, 6, 7]]}
        model = word2vec.compile_word2vec(word2vec.build_word2vec(vocab_size=V, dim=D))
    else:
        batch = ({"target": [1], "contexts": [[3, 5, 6, 7]]}, [[1.0, 0.0, 0.0, 0.0]])
        model = word2vec.compile_skipgram(word2vec.build_skipgram(vocab_size=V, dim=D, negatives=3), batch_size=1)
    stream = tf.data.Dataset.from_tensors(batch).repeat(70).filter(lambda *_: True).shard(2, 0)
    assert int(stream.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert model.steps_per_execution == word2vec.STEPS_PER_EXECUTION == 16
    model.fit(stream, epochs=2, verbose=0)
    assert int(model.optimizer.iterations) == 2 * 35


def test_cap_scales_each_row_by_its_examples_in_the_batch():
    g = tf.IndexedSlices(tf.ones((4, 2)), tf.constant([3, 3, 3, 5]), tf.constant([8, 2]))
    np.testing.assert_allclose(cap_repeated_rows(g, cap=2.0).values.numpy()[:, 0], [2 / 3, 2 / 3, 2 / 3, 1.0])
    # a shared negative's entry stands for its group's examples: row 5 in 4 of them is scaled by 2 / 4
    weighted = cap_repeated_rows(g, cap=2.0, examples=tf.constant([0, 0, 0, 3, 0, 4, 0, 0]))
    np.testing.assert_allclose(weighted.values.numpy()[:, 0], [2 / 3, 2 / 3, 2 / 3, 0.5])
    np.testing.assert_array_equal(cap_repeated_rows(g, cap=3.0).values.numpy(), g.values.numpy())  # under the cap


def test_ptb_cbow_diverges_without_the_row_cap_and_learns_with_it(shared_data, tmp_path):
    """PTB's frequent words fill hundreds of 4,096 windows: summed at once, their updates blew up (issue 28)."""
    settings = dict(data_dir=shared_data, epochs=3, batch_size=4096, neighbours=2, verbose=0)  # decayed over 3 epochs
    try:
        diverged = not zoo.fit("cbow_ptb", out=tmp_path / "sum", row_cap=0, **settings).metrics["final_loss"] < 1.0
    except TrainingDiverged:  # the loss became NaN or infinite
        diverged = True
    assert diverged
    assert zoo.fit("cbow_ptb", out=tmp_path / "capped", **settings).metrics["final_loss"] < 0.6


def test_the_models_cap_counts_a_shared_negative_as_its_whole_group():
    """One group of 4 examples shares negative 9: under a cap of 2 its row moves half as far, the others in full."""
    batch = {"inputs": [[1, 2, 3, 4]], "positives": [[5, 6, 7, 8]], "negatives": [[9]]}
    deltas = []
    for cap in (None, 2.0):
        model = SharedNegatives(input_rows=V, output_rows=V, dim=D, row_cap=cap)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        model.input_embedding.embeddings.assign(np.random.default_rng(1).normal(size=(V, D)).astype("float32"))
        model.output_embedding.embeddings.assign(np.random.default_rng(2).normal(size=(V, D)).astype("float32"))
        before = np.asarray(model.output_embedding.embeddings).copy()
        model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
        deltas.append(np.asarray(model.output_embedding.embeddings) - before)
    np.testing.assert_allclose(deltas[1][9], 0.5 * deltas[0][9], rtol=1e-5)  # 4 examples' worth, capped at 2
    np.testing.assert_allclose(deltas[1][5:9], deltas[0][5:9], rtol=1e-5)  # each positive in one example
    assert np.abs(deltas[0][9]).sum() > 0

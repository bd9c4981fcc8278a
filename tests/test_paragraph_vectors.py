"""Chapter 14 paragraph vectors: tokenizer, data, the PV-DM gradients, inference, the SavedModel, the recipes."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data.corpus import tokenize
from zoo.data.documents import (
    batches_per_epoch,
    document_dataset,
    document_groups,
    encode_documents,
    tokenize_strings,
)
from zoo.errors import UserError
from zoo.models.paragraph_vectors import ParagraphVectors, build_paragraph_vectors, compile_paragraph_vectors
from zoo.serving.paragraph_vectors import ParagraphVectorServing


def test_graph_tokenizer_splits_as_the_corpus_tokenizer():
    texts = [
        "Don't <br />GO 'there'!  It's 'quoted' -- rock'n'roll x''y 1990s café_au_lait ÉTÉ",
        "",
        "''' ' a' 'b c'' <i>tag</i> end.",
    ]
    got = [[w.decode() for w in row] for row in tokenize_strings(tf.constant(texts)).to_list()]
    assert got == [tokenize(t) for t in texts]


def two_topic_corpus(documents: int = 120, length: int = 30, seed: int = 0) -> list[list[str]]:
    """Even documents draw their words from topic A, odd ones from topic B (disjoint vocabularies)."""
    rng = np.random.default_rng(seed)
    a, b = [f"a{i}" for i in range(25)], [f"b{i}" for i in range(25)]
    return [list(rng.choice(b if k % 2 else a, length)) for k in range(documents)]


def test_encode_documents_drops_rare_words_and_refuses_empty_corpora():
    vocabulary, ids, doc_ids, dropped = encode_documents(
        [["x", "y", "x"], ["rare", "x", "y"]], min_count=2, max_vocab=10
    )
    assert vocabulary.words == ("[UNK]", "x", "y") and dropped == 1 and vocabulary.counts[0] == 0
    assert ids.tolist() == [1, 2, 1, 1, 2] and doc_ids.tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(UserError, match="no words") as caught:
        encode_documents([[], []], min_count=1, max_vocab=10)
    assert "\n" not in str(caught.value)
    with pytest.raises(UserError, match="min_count"):
        encode_documents([["a", "b"]], min_count=2, max_vocab=10)


@pytest.mark.parametrize("mode", ["dbow", "dm", "both"])
def test_dataset_streams_every_word_once_per_epoch(mode):
    docs = two_topic_corpus(20, 10)
    vocabulary, ids, doc_ids, _ = encode_documents(docs, min_count=1, max_vocab=100)
    ds = document_dataset(
        ids,
        doc_ids,
        vocabulary,
        mode=mode,
        window=2,
        negatives=3,
        subsample=0,
        batch_size=20,
        group_size=4,
        chunk_size=50,
    )
    seen, batches = [], 0
    for batch in ds:
        batches += 1
        part = batch["dm" if mode != "dbow" else "dbow"]
        assert part["negatives"].shape == (5, 3) and part["words"].shape == (5, 4)
        if mode == "dbow":  # each group: words of one document, padding slots weighted 0
            assert part["docs"].shape == (5,)
            docs = np.repeat(part["docs"].numpy()[:, None], 4, axis=1)
            real = part["weights"].numpy() > 0
            assert (part["words"].numpy()[~real] == 0).all()
            seen += list(zip(docs[real], part["words"].numpy()[real]))
        else:
            seen += list(zip(part["docs"].numpy().ravel(), part["words"].numpy().ravel()))
        if mode != "dbow":
            # a context slot is either masked (null word 0) or a word of the same document
            contexts, mask, d = part["contexts"].numpy(), part["mask"].numpy(), part["docs"].numpy()
            assert ((contexts == 0) == (mask == 0)).all()
            word_docs = {(int(i), int(w)) for i, w in zip(doc_ids, ids)}
            groups, slots, _ = np.nonzero(mask)
            assert all((int(d[g, k]), int(c)) in word_docs for g, k, c in zip(groups, slots, contexts[mask > 0]))
        if mode == "both":
            assert (batch["dbow"]["words"].numpy() == part["words"].numpy()).all()
    # 200 words: 10 full batches of 20, nothing dropped; PV-DBOW cuts each of the 20 documents of 10 words
    # into groups of 4, 4 and 2 (+ 2 padding slots): 60 groups, 12 batches of 5
    assert sorted(seen) == sorted(zip(doc_ids, ids))
    expected = batches_per_epoch(
        ids, doc_ids, vocabulary, mode=mode, subsample=0, batch_size=20, group_size=4, chunk_size=50
    )
    assert batches == expected == (12 if mode == "dbow" else 10)


def test_document_groups_cut_runs_of_one_document():
    words, docs = tf.constant([5, 6, 7, 8, 9, 4]), tf.constant([0, 0, 0, 1, 0, 0])
    g = document_groups(words, docs, group_size=2)
    assert g["docs"].numpy().tolist() == [0, 0, 1, 0]  # document 0's second run is a run of its own
    assert g["words"].numpy().tolist() == [[5, 6], [7, 0], [8, 0], [9, 4]]
    assert g["weights"].numpy().tolist() == [[1, 1], [1, 0], [1, 0], [1, 1]]
    empty = document_groups(tf.zeros([0], tf.int32), tf.zeros([0], tf.int32), group_size=3)
    assert empty["words"].shape == (0, 3) and empty["docs"].shape == (0,)


def true_loss(h, output, words, negatives):
    """Negative sampling loss by autodiff-able ops: h (N, G, w), words (N, G), negatives (N, K)."""
    u_pos, u_neg = tf.gather(output, words), tf.gather(output, negatives)
    s_pos = tf.reduce_sum(h * u_pos, -1)
    s_neg = tf.einsum("ngd,nkd->ngk", h, u_neg)
    skip = tf.cast(negatives[:, None, :] != words[..., None], h.dtype)
    return tf.reduce_sum(tf.nn.softplus(-s_pos)) + tf.reduce_sum(skip * tf.nn.softplus(s_neg))


@pytest.mark.parametrize(("combine", "bag_update"), [("mean", "mean"), ("mean", "word2vec"), ("concat", "mean")])
def test_dm_gradients_against_autodiff(combine, bag_update):
    rng = np.random.default_rng(1)
    model = ParagraphVectors(
        documents=4, vocab_size=9, dim=3, mode="dm", dm_combine=combine, window=1, bag_update=bag_update
    )
    for v in (model.dm_documents, model.dm_words, model.dm_output):
        v.assign(rng.normal(size=v.shape).astype("float32"))
    mask = np.array([[[1, 1], [0, 1], [0, 0]]], "float32")
    batch = {
        "docs": tf.constant([[0, 2, 2]]),
        "contexts": tf.constant([[[3, 4], [0, 5], [0, 0]]]) * tf.cast(mask, tf.int32),
        "mask": tf.constant(mask),
        "words": tf.constant([[6, 7, 8]]),
        "negatives": tf.constant([[1, 7, 2]]),  # 7 is the second example's own word: skipped there
    }
    variables = [model.dm_documents, model.dm_words, model.dm_output]
    with tf.GradientTape() as tape:
        h = model._dm_input(model.dm_documents, batch["docs"], batch["contexts"], batch["mask"])
        loss = true_loss(h, model.dm_output, batch["words"], batch["negatives"])
    want = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    got_loss, _, grads, _ = model._dm_gradients(batch)
    got = [tf.convert_to_tensor(g) for g in grads]
    np.testing.assert_allclose(got_loss, loss, rtol=1e-5)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-4, atol=1e-6)
    if combine == "concat":
        np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got[1][1:], want[1][1:], rtol=1e-4, atol=1e-6)  # row 0: the null word
    else:
        # the document gets the gradient of the mean undivided (gensim); the words their share ("mean", the
        # true gradient) or all of it ("word2vec", as word2vec.c)
        size = 1 + mask.sum(-1)[0]  # bag size of each example (its document + its window)
        word_scale = size if bag_update == "word2vec" else np.ones_like(size)
        np.testing.assert_allclose(got[0][0], want[0][0] * size[0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got[1][3], want[1][3] * word_scale[0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got[1][5], want[1][5] * word_scale[1], rtol=1e-4, atol=1e-6)


def trained(mode: str, docs, epochs: int = 15, dim: int = 16, combine: str = "mean"):
    keras.utils.set_random_seed(0)
    vocabulary, ids, doc_ids, _ = encode_documents(docs, min_count=1, max_vocab=1000)
    ds = document_dataset(
        ids,
        doc_ids,
        vocabulary,
        mode=mode,
        window=2,
        negatives=5,
        subsample=0,
        batch_size=128,
        group_size=8,
        chunk_size=600,
    )
    model = build_paragraph_vectors(
        documents=len(docs), vocab_size=len(vocabulary), dim=dim, mode=mode, dm_combine=combine, window=2,
        counts=vocabulary.counts,
    )  # fmt: skip
    compile_paragraph_vectors(model, decay_steps=0, jit_compile=False)
    model.fit(ds, epochs=epochs, verbose=0)
    return model, vocabulary


def test_sixteen_batches_per_call_train_every_batch_of_an_epoch():
    """The stream has no known length and 12 batches are not a multiple of the 16 per compiled call."""
    vocabulary, ids, doc_ids, _ = encode_documents(two_topic_corpus(20, 10), min_count=1, max_vocab=100)
    ds = document_dataset(
        ids, doc_ids, vocabulary, mode="dbow", window=2, negatives=3, subsample=0, batch_size=20, group_size=4,
        chunk_size=50,
    )  # fmt: skip
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    model = compile_paragraph_vectors(build_paragraph_vectors(documents=20, vocab_size=len(vocabulary), dim=4))
    assert model.steps_per_execution == 16
    model.fit(ds, epochs=2, verbose=0)
    assert int(model.optimizer.iterations) == 2 * 12


def test_row_cap_scales_a_word_s_summed_update_and_leaves_the_documents_alone():
    """Word 3 is the target of four slots and negatives 5, 6 count once per word of the group (4): with
    row_cap=1 each of their output rows moves a quarter as far; the document's row is not capped."""
    batch = {"dbow": {"docs": np.array([1]), "words": np.full((1, 4), 3), "weights": np.ones((1, 4), "float32"),
                      "negatives": np.array([[5, 6]])}}  # fmt: skip

    def deltas(row_cap):
        keras.utils.set_random_seed(0)
        model = build_paragraph_vectors(documents=3, vocab_size=10, dim=4, row_cap=row_cap)
        compile_paragraph_vectors(model, decay_steps=0, jit_compile=False)
        before = [np.array(model.dbow_documents), np.array(model.dbow_output)]
        model.train_on_batch(batch)
        return np.array(model.dbow_documents) - before[0], np.array(model.dbow_output) - before[1]

    (doc, out), (doc_capped, out_capped) = deltas(None), deltas(1.0)
    assert np.abs(out[[3, 5, 6]]).min() > 0
    np.testing.assert_allclose(out_capped[[3, 5, 6]], out[[3, 5, 6]] / 4, rtol=1e-5)
    np.testing.assert_allclose(doc_capped, doc, rtol=1e-6)
    assert build_paragraph_vectors(documents=3, vocab_size=10, dim=4, row_cap=2.0).get_config()["row_cap"] == 2.0


def cosine(a, b):
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


@pytest.mark.parametrize("mode", ["dbow", "dm"])
def test_inferred_vectors_are_close_to_trained_ones(mode):
    docs = two_topic_corpus()
    model, vocabulary = trained(mode, docs)
    vectors = model.document_vectors()
    serving = ParagraphVectorServing(vocabulary.words, model, epochs=15)
    texts = [" ".join(d) for d in docs[:20]]
    inferred = np.asarray(serving(tf.constant(texts)))
    same = cosine(inferred, vectors[:20])
    assert same.mean() > 0.7, same
    if mode == "dbow":
        # PV-DBOW's vector alone carries the topic: the inferred one is nearer its own document than its
        # neighbour of the other topic, and the nearest trained documents are of its topic. (PV-DM's window
        # words already tell the topic here, so its document vectors need not.)
        other = cosine(inferred, vectors[1:21])
        assert (same > other).mean() >= 0.9
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        assert (np.argmax(inferred @ unit.T, axis=1) % 2 == np.arange(20) % 2).all()
        # the same text, the same vector (PV-DM draws word2vec's random window widths at every call)
        np.testing.assert_array_equal(inferred, np.asarray(serving(tf.constant(texts))))


def test_empty_and_unknown_texts_get_zero_vectors():
    model, vocabulary = trained("both", two_topic_corpus(40), epochs=2)
    serving = ParagraphVectorServing(vocabulary.words, model, epochs=3)
    out = np.asarray(serving(tf.constant(["", "zebra quagga!", "   ", "a1 a2 zebra"])))
    assert out.shape == (4, 32) and np.isfinite(out).all()
    assert not out[:3].any() and out[3].any()


def test_paragraph_vectors_round_trip_through_keras_file(tmp_path):
    model, _ = trained("dm", two_topic_corpus(10), epochs=1, combine="concat")
    model.save(tmp_path / "pv.keras")
    loaded = keras.saving.load_model(tmp_path / "pv.keras")
    assert isinstance(loaded, ParagraphVectors) and loaded.dm_combine == "concat"
    np.testing.assert_array_equal(loaded.document_vectors(), model.document_vectors())
    np.testing.assert_array_equal(loaded.negative_cdf, model.negative_cdf)


def write_corpus(path: Path, documents: int = 60) -> Path:
    path.write_text("\n".join(" ".join(d) for d in two_topic_corpus(documents)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("setting", "value", "match"),
    [("mode", "dbow2", "mode"), ("dm_combine", "sum", "dm_combine"), ("batch_size", 102, "group_size")],
)
def test_bad_settings_are_refused_in_one_line_before_reading(tmp_path, setting, value, match):
    import zoo

    with pytest.raises(UserError, match=match) as caught:
        zoo.fit(
            "paragraph_vectors",
            data_dir=tmp_path / "nothing",
            out=tmp_path / "run",
            corpus=str(tmp_path / "x.txt"),
            **{setting: value},
        )
    assert "\n" not in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_empty_corpus_is_refused_in_one_line(tmp_path):
    import zoo

    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        zoo.fit("paragraph_vectors", out=tmp_path / "run", corpus=str(empty), epochs=1)
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_paragraph_vectors_end_to_end_with_infer_endpoint(tmp_path):
    import zoo

    corpus = write_corpus(tmp_path / "docs.txt")
    result = zoo.fit(
        "paragraph_vectors", out=tmp_path / "run", corpus=str(corpus), epochs=2, batch_size=256, group_size=16,
        dim=8, min_count=1, infer_epochs=3, mode="both",
    )  # fmt: skip
    assert result.metrics["documents"] == 60 and result.metrics["vocabulary_size"] == 51
    for name in ("nearest.json", "pca.png", "saved_model"):
        assert (result.run_dir / name).exists()
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    out = loaded.infer(tf.constant(["a1 a2 a3", "", "unknown words"])).numpy()
    assert out.shape == (3, 16) and out[0].any() and not out[1:].any()
    np.testing.assert_allclose(out, loaded.serve(tf.constant(["a1 a2 a3", "", "unknown words"])).numpy())
    assert loaded.infer(tf.constant([], tf.string)).shape == (0, 16)


def test_draw_negatives_follow_the_cdf_and_repeat_with_a_seed():
    from zoo.data.skipgrams import draw_negatives, negative_cdf

    cdf = tf.constant(negative_cdf(np.array([0, 10, 0, 30], "int64")), tf.float32)
    drawn = draw_negatives(cdf, 4, [50, 4]).numpy()
    assert drawn.shape == (50, 4) and set(np.unique(drawn)) <= {1, 3}  # words never seen are never drawn
    again = [draw_negatives(cdf, 4, [8, 3], seed=[1, 2]).numpy() for _ in range(2)]
    np.testing.assert_array_equal(*again)


def write_topic_vectors(path: Path, header: bool = True) -> Path:
    """word2vec text vectors telling the two topics of `two_topic_corpus` apart: a* -> (1, 0, .), b* -> (0, 1, .)."""
    rng = np.random.default_rng(3)
    lines = [f"{t}{i} {float(t == 'a')} {float(t == 'b')} {rng.normal():.4f}" for t in "ab" for i in range(25)]
    path.write_text(("50 3\n" if header else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_averaged_vectors_are_the_mean_of_the_known_words(tmp_path):
    from zoo.data.documents import DocumentInfo
    from zoo.recipes.text_blocks import averaged_vectors

    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\ngood 1 0\nbad 0 1\nfilm 2 2\n", encoding="utf-8")
    texts = ["Good film!", "bad bad zebra", "", "zebra quagga"]
    words = ("[UNK]", "good", "film", "bad", "zebra", "quagga")
    info = DocumentInfo(words, np.ones(len(words), "int64"), len(texts), 0, 0, 0, texts=texts)
    got = averaged_vectors(str(vectors), info)
    # words absent from the file count as zeros, not as missing; a text without words is the zero vector
    np.testing.assert_allclose(got, [[1.5, 1.0], [0.0, 2 / 3], [0.0, 0.0], [0.0, 0.0]], rtol=1e-6)


def test_check_word_vectors_reads_only_the_start_and_names_the_parameter(tmp_path):
    from zoo.data.vectors import check_word_vectors

    assert check_word_vectors(write_topic_vectors(tmp_path / "w2v.txt")) == 3
    assert check_word_vectors(write_topic_vectors(tmp_path / "glove.txt", header=False)) == 3
    for content, message in (
        (b"3 2\nfilm 1 2 3\n", "line 2 has 3 values, expected 2"),
        (b"film one two\n", "non-numeric"),
        (b"3 2\nking \x81\xfe\x00\x12\x99\n", "not UTF-8"),
        (b"3 2\n", "no vectors"),
    ):
        bad = tmp_path / "bad.txt"
        bad.write_bytes(content)
        with pytest.raises(UserError, match=message) as caught:
            check_word_vectors(bad, param="word_vectors")
        assert caught.value.param == "word_vectors" and "\n" not in str(caught.value)


@pytest.mark.parametrize("recipe", ["paragraph_vectors", "skip_thought", "sequence_autoencoder"])
def test_a_malformed_word_vectors_file_is_refused_before_any_work(tmp_path, recipe):
    import zoo

    bad = tmp_path / "vectors.bin"
    bad.write_bytes(b"3 2\nking \x81\xfe\x00\x12\x99\n")
    for value, message in ((bad, "not UTF-8"), (tmp_path / "missing.txt", "no such file")):
        with pytest.raises(UserError, match=message) as caught:
            # the corpus is missing too: the vectors must be refused first
            zoo.fit(recipe, out=tmp_path / "run", corpus=str(tmp_path / "no_corpus.txt"), word_vectors=str(value))
        assert caught.value.param == "word_vectors" and "\n" not in str(caught.value)
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()


def test_labelled_report_scores_trained_inferred_and_averaged_vectors(tmp_path, capsys):
    """`paragraph_vectors_imdb`'s data and report on a separable two-topic corpus (label: the topic), not IMDB."""
    from zoo.recipes import RunContext, get, resolve_hparams
    from zoo.recipes.ch14 import document_data

    docs = two_topic_corpus(120, 30)
    texts, labels = [" ".join(d) for d in docs], np.arange(120) % 2
    recipe = get("paragraph_vectors_imdb")
    settings = dict(
        mode="dbow", epochs=15, batch_size=128, group_size=8, dim=16, min_count=1, infer_epochs=15,
        infer_documents=20, jit_compile=False, word_vectors=str(write_topic_vectors(tmp_path / "vectors.txt")),
    )  # fmt: skip
    hp = resolve_hparams(recipe, settings)
    keras.utils.set_random_seed(0)
    ctx = RunContext(data_dir=tmp_path, run_dir=tmp_path / "run")
    ctx.run_dir.mkdir()
    data = document_data(hp, ctx, texts, labels=labels, train_size=60, source="two topics")
    model = recipe.model(hp, data)
    model.fit(data.train, epochs=hp.epochs, verbose=0)
    m = recipe.report(hp, data, model, ctx)
    assert m["documents"] == 120 and m["inferred_documents"] == 20
    assert m["test_error"] < 0.2 and m["test_accuracy"] == pytest.approx(1 - m["test_error"])
    assert m["test_error_inferred"] < 0.25 and m["test_error_trained_same_documents"] < 0.25
    assert m["inferred_trained_cosine"] > 0.5
    assert m["averaged_word_vectors_test_error"] == 0.0  # the vectors' first two values are the topic
    assert "averaged_word_vectors_skipped" not in m
    for name in ("errors.png", "pca.png", "nearest.json"):
        assert (ctx.run_dir / name).exists()
    # without word_vectors the report says the baseline row was skipped, and how to get it
    capsys.readouterr()
    m = recipe.report(resolve_hparams(recipe, {**settings, "word_vectors": ""}), data, model, ctx)
    assert "averaged_word_vectors_test_error" not in m and "word_vectors" in m["averaged_word_vectors_skipped"]
    printed = capsys.readouterr().out.strip().splitlines()
    assert any("skipgram_corpus" in line and "word_vectors=RUN/vectors.txt" in line for line in printed)

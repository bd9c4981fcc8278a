"""Chapter 14 skip-thought: sentence triples, sharing, the encode endpoint, bad corpora, end to end."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from zoo.data import rt_polarity
from zoo.data.sentence_decoders import sentence_triples, skip_thought_data
from zoo.errors import UserError
from zoo.models.skip_thought import SkipThoughtEncoder, build_skip_thought, compile_skip_thought


def test_triples_stay_inside_a_text():
    previous, current, following = sentence_triples(["One. Two! Three? Four.", "Alone.", "A b. C d.", "X. Y. Z."])
    assert list(zip(previous, current, following)) == [
        ("One.", "Two!", "Three?"),
        ("Two!", "Three?", "Four."),
        ("X.", "Y.", "Z."),
    ]


def test_a_corpus_without_three_consecutive_sentences_is_refused_in_one_line():
    with pytest.raises(UserError, match="three consecutive sentences") as caught:
        skip_thought_data(["Only one sentence here.", "Two. Sentences."], vocab_size=10, sequence_length=4,
                          batch_size=2, max_triples=0)  # fmt: skip
    assert "\n" not in str(caught.value)


def test_decoders_read_start_then_the_shifted_target():
    texts = ["the cat sat. the dog ran. a bird flew. the end came."] * 3
    data = skip_thought_data(
        texts, vocab_size=20, sequence_length=4, batch_size=8, max_triples=0, validation_fraction=0
    )
    x, y = next(iter(data.train))
    assert (x["next_in"][:, 0].numpy() == 20).all() and (x["previous_in"][:, 0].numpy() == 20).all()
    np.testing.assert_array_equal(x["next_in"][:, 1:], y["next"][:, :-1])
    np.testing.assert_array_equal(x["previous_in"][:, 1:], y["previous"][:, :-1])


def test_two_decoders_share_the_vocabulary_matrix_and_embeddings():
    model = build_skip_thought(vocab_size=30, embedding_dim=4, units=6, sequence_length=5)
    names = [w.path for w in model.weights]
    assert sum("vocabulary" in n for n in names) == 2  # one kernel, one bias: one matrix for both decoders
    assert sum("embedding" in n for n in names) == 1
    assert {"encoder", "previous_decoder", "next_decoder"} <= {layer.name for layer in model.layers}


def test_each_decoder_reads_the_sentence_vector_at_every_step():
    """The paper's C matrices: the thought enters every gate at every step, so each decoder's input kernel
    has rows for the word (4) and for the thought (6); from the initial state alone the encoder collapsed."""
    model = build_skip_thought(vocab_size=30, embedding_dim=4, units=6, sequence_length=5)
    for name in ("previous_decoder", "next_decoder"):
        assert model.get_layer(name).cell.kernel.shape == (4 + 6, 3 * 6)


def test_training_lowers_the_loss_and_the_encoder_serves_strings():
    texts = ["the cat sat. the dog ran. a bird flew. the end came. then night fell."] * 20
    data = skip_thought_data(
        texts, vocab_size=30, sequence_length=5, batch_size=16, max_triples=0, validation_fraction=0
    )
    model = compile_skip_thought(
        build_skip_thought(vocab_size=30, embedding_dim=8, units=12, sequence_length=5), learning_rate=0.02
    )
    history = model.fit(data.train, epochs=8, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    encoder = SkipThoughtEncoder(data.info.vectorizer, model)
    out = np.asarray(encoder(tf.constant(["the dog ran.", "", "zzz qqq"])))
    assert out.shape == (3, 12) and np.isfinite(out).all()
    assert not out[1].any()  # an empty sentence: the encoder's start state


@pytest.mark.slow
def test_skip_thought_end_to_end_with_encode_endpoint(tmp_path, shared_data):
    import zoo

    corpus = tmp_path / "stories.txt"
    corpus.write_text(
        "\n".join(["The film was long. The cast was good. The end was sad. I cried."] * 30), encoding="utf-8"
    )
    result = zoo.fit(
        "skip_thought", data_dir=shared_data, out=tmp_path / "run", max_steps=2, corpus=str(corpus), epochs=1,
        batch_size=8, vocab_size=40, sequence_length=6, embedding_dim=4, units=6, folds=2,
    )  # fmt: skip
    errors = result.metrics["rt_polarity_cv_error"]
    assert set(errors) == {"skip-thought", "averaged skip-thought word embeddings"}
    assert "word_vectors" in result.metrics["averaged_word_vectors_skipped"]  # said, not silently left out
    assert all(0.0 <= e <= 1.0 for e in errors.values())
    assert (result.run_dir / "rt_polarity.png").exists()
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    assert loaded.encode(tf.constant(["The cast was good.", ""])).shape == (2, 6)
    # the mean pairwise cosine of the snippets' vectors, recomputed from the exported encoder
    texts, _ = rt_polarity.load(shared_data)
    vectors = np.asarray(loaded.encode(tf.constant(texts[:100] + texts[-100:])))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert result.metrics["mean_cosine_between_sentences"] == pytest.approx((unit @ unit.T).mean(), abs=2e-4)


def _saved_model(path, endpoint: str):
    """A tiny SavedModel whose one endpoint `endpoint` maps strings to 2-vectors."""
    module = tf.Module()
    function = tf.function(
        lambda text: tf.zeros([tf.shape(text)[0], 2]), input_signature=[tf.TensorSpec([None], tf.string)]
    )
    setattr(module, endpoint, function)
    tf.saved_model.save(module, str(path))
    return path


def test_the_paragraph_vectors_setting_is_checked_before_training(tmp_path):
    import zoo
    from zoo.recipes.text_blocks import paragraph_vectors_model

    run = tmp_path / "pv_run"
    saved = _saved_model(run / "saved_model", "infer")
    assert paragraph_vectors_model(str(run)) == saved == paragraph_vectors_model(str(saved))  # a run folder will do
    garbled = tmp_path / "garbled"
    garbled.mkdir()
    (garbled / "saved_model.pb").write_bytes(b"not a protocol buffer")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = (
        (empty, "not a SavedModel nor a run folder"),
        (_saved_model(tmp_path / "encoder", "encode"), "no `infer` endpoint"),
        (garbled, "not a readable SavedModel"),
        (tmp_path / "missing", "no such file"),
    )
    corpus = str(tmp_path / "no_corpus.txt")  # missing too: the paragraph vectors must be refused first
    for recipe in ("skip_thought", "sequence_autoencoder"):
        for value, message in cases:
            with pytest.raises(UserError, match=message) as caught:
                zoo.fit(recipe, out=tmp_path / "out", corpus=corpus, paragraph_vectors=str(value))
            assert caught.value.param == "paragraph_vectors" and "\n" not in str(caught.value)
        with pytest.raises(UserError) as caught:  # the run folder passes: the missing corpus is what stops
            zoo.fit(recipe, out=tmp_path / "out", corpus=corpus, paragraph_vectors=str(run))
        assert caught.value.param == "corpus"
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()

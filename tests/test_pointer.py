"""Issue 26: the pointer-generator decoder with coverage: extended vocabulary ids, the copy distribution,
the coverage loss, masks, `.keras` round trip, training = step-by-step decoding, copying a word outside
the vocabulary through the served model, and the recipes (`seq2seq_attention --set copy=true`,
`title_pointer`) with bad input served and bad options refused."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import serve_in_fresh_process
from zoo import export
from zoo.data import extended_vocabulary, translation
from zoo.errors import UserError
from zoo.layers.pointer_decoder import PointerDecoder, copy_distribution
from zoo.models import pointer, seq2seq
from zoo.serving.translator import Translator

VOCAB = ["", "[UNK]", "<s>", "</s>", "the", "model", "of", "a"]
V, TS = len(VOCAB), 6


def test_extended_ids_give_each_unknown_source_word_one_id_and_copy_targets():
    lookup = extended_vocabulary.vocabulary_lookup(VOCAB)
    source = tf.constant([["the", "bert", "model", "bert", "elmo", ""], ["gpt", "of", "", "", "", ""]])
    target = tf.constant([["bert", "elmo", "xlnet", "model", ""], ["gpt", "gpt", "bert", "", ""]])
    source_ext, target_ext = (t.numpy() for t in extended_vocabulary.extended_ids(source, lookup, V, target))
    # "bert" is the first unknown word (V), "elmo" the second (V + 1), wherever they occur; padding 0
    np.testing.assert_array_equal(source_ext, [[4, V, 5, V, V + 1, 0], [V, 6, 0, 0, 0, 0]])
    # a target word the source has is its copy id; "xlnet" (not in the source) and the second
    # sentence's "bert" (not in *its* source) stay [UNK]
    np.testing.assert_array_equal(target_ext, [[V, V + 1, 1, 5, 0], [V, V, 1, 0, 0]])


def test_copy_pipeline_feeds_copied_words_back_as_unknown(tmp_path):
    pairs = [("the zorp model of a blit", "zorp of blit")] * 3 + [("a model of the", "the model a")] * 9
    splits = translation.split_pairs(pairs, seed=0, test_size=1)
    info = translation.make_info(
        splits, level="word", max_source_length=6, max_target_length=4, max_tokens=8, shared_vocabulary=True
    )
    vocab = info.target_vocabulary
    assert "zorp" not in vocab and "blit" not in vocab and "model" in vocab
    ds = translation.make_dataset(info, [pairs[0]], batch_size=1, copy=True)
    inputs, target_out, weights = next(iter(ds))
    n = len(vocab)
    ext = inputs["source_ext"].numpy()[0]
    assert ext[1] == n and ext[5] == n + 1  # zorp, blit
    np.testing.assert_array_equal(target_out.numpy()[0], [n, vocab.index("of"), n + 1, 3])
    assert inputs["target_in"].numpy().max() < n  # the decoder's input embedding never sees an extended id
    np.testing.assert_array_equal(weights.numpy()[0], [1, 1, 1, 1])
    # without copy the same pair has no source_ext and [UNK] targets
    plain = next(iter(translation.make_dataset(info, [pairs[0]], batch_size=1)))
    assert "source_ext" not in plain[0] and plain[1].numpy()[0][0] == 1


def decoder_inputs(seed=0, batch=2, steps=4):
    rng = np.random.default_rng(seed)
    embedded = rng.normal(size=(batch, steps, 5)).astype("float32")
    outputs = rng.normal(size=(batch, TS, 8)).astype("float32")
    ids = np.array([[4, 1, 5, 1, 0, 0], [1, 6, 1, 1, 7, 4]], "int32")[:batch]
    ext = np.array([[4, V, 5, V, 0, 0], [V, 6, V + 1, V, 7, 4]], "int32")[:batch]
    states = [rng.normal(size=(batch, 4)).astype("float32") for _ in range(2)]
    return [embedded, outputs, ids, ext, *states]


@pytest.mark.parametrize("coverage", [False, True])
def test_copy_distribution_sums_to_one_over_the_extended_vocabulary(coverage):
    keras.utils.set_random_seed(0)
    decoder = PointerDecoder(units=8, vocab_size=V, max_source_length=TS, coverage=coverage)
    inputs = decoder_inputs()
    log_probs, weights, p_gen = (np.asarray(t) for t in decoder(inputs, return_attention=True))
    assert log_probs.shape == (2, 4, V + TS)
    np.testing.assert_allclose(np.exp(log_probs).sum(-1), 1.0, atol=1e-4)
    assert np.all((p_gen > 0) & (p_gen < 1))
    assert np.all(weights[0][:, 4:] == 0.0)  # source padding is never attended to, hence never copied
    # An id only copying can write gets (1 - p_gen) times the weights of every position holding it:
    # sentence 1 has its first unknown word at positions 0 and 3.
    expected = (1 - p_gen[1]) * (weights[1][:, 0] + weights[1][:, 3])
    np.testing.assert_allclose(np.exp(log_probs[1][:, V]), expected + 1e-9, rtol=1e-4, atol=1e-7)
    # ids beyond a sentence's unknown words (sentence 0 has one) get nothing
    assert np.all(np.exp(log_probs[0][:, V + 1 :]) < 1e-6)


def test_copy_distribution_sums_repeated_words():
    weights = tf.constant([[[0.1, 0.2, 0.3, 0.4]]])
    copy = copy_distribution(weights, tf.constant([[5, 6, 5, 0]]), 8).numpy()
    np.testing.assert_allclose(copy[0, 0], [0.4, 0, 0, 0, 0, 0.4, 0.2, 0], atol=1e-7)


def test_coverage_loss_on_a_tiny_example():
    decoder = PointerDecoder(units=4, vocab_size=V, max_source_length=2, coverage=True)
    weights = tf.constant([[[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]])
    # coverage before each step: (0, 0), (1, 0), (1.5, 0.5); sum_j min(a, c) = 0, 0.5, 0.5
    assert float(decoder.coverage_loss(weights)) == pytest.approx(1.0 / 3.0)
    assert float(decoder.coverage_loss(weights, tf.constant([[1.0, 1.0, 0.0]]))) == pytest.approx(0.25)


def test_coverage_loss_is_added_weighted_and_counts_only_real_target_steps():
    keras.utils.set_random_seed(0)
    model = pointer.build_pointer_seq2seq(
        source_vocab_size=V, target_vocab_size=V, max_source_length=TS, embedding_dim=5, units=8,
        shared_embedding=True, coverage_weight=2.0,
    )  # fmt: skip
    ids, ext = decoder_inputs()[2:4]
    x = {"source": ids, "target_in": np.array([[2, 4, 5, 0], [2, 6, 0, 0]], "int32"), "source_ext": ext}
    model(x)
    (added,) = model.losses
    embedding, decoder = model.get_layer("shared_embedding"), model.get_layer("decoder")
    outputs, *states = model.get_layer("encoder")(embedding(ids), mask=ids != 0)
    target = embedding(x["target_in"])
    _, weights, _ = decoder([target, outputs, ids, ext, *states], mask=[target._keras_mask], return_attention=True)
    real = (x["target_in"] != 0).astype("float32")
    assert float(added) == pytest.approx(2.0 * float(decoder.coverage_loss(weights, real)), rel=1e-5)
    assert float(added) != pytest.approx(2.0 * float(decoder.coverage_loss(weights)), rel=1e-3)


def tiny_pointer(coverage=True, seed=0):
    keras.utils.set_random_seed(seed)
    return seq2seq.compile_seq2seq(
        pointer.build_pointer_seq2seq(
            source_vocab_size=V,
            target_vocab_size=V,
            max_source_length=TS,
            embedding_dim=5,
            units=8,
            shared_embedding=True,
            coverage=coverage,
        )  # fmt: skip
    )


def test_loss_ignores_target_padding_with_coverage():
    model = tiny_pointer()
    ids, ext = decoder_inputs()[2:4]
    target_in = np.array([[2, 4, V - 1], [2, 1, 0]], "int32")
    target_out = np.array([[4, V, 3], [V + 1, 3, 0]], "int32")

    def scores(pad):
        t_in, t_out = (np.pad(a, [(0, 0), (0, pad)]) for a in (target_in, target_out))
        x = {"source": ids, "target_in": t_in, "source_ext": ext}
        return model.evaluate(x, t_out, sample_weight=(t_out != 0).astype("float32"), verbose=0, return_dict=True)

    tight, padded = scores(0), scores(4)
    assert padded["loss"] == pytest.approx(tight["loss"], rel=1e-5)
    assert padded["accuracy"] == pytest.approx(tight["accuracy"], rel=1e-5)


def test_pointer_model_round_trips_through_keras_file(tmp_path):
    model = tiny_pointer()
    ids, ext = decoder_inputs()[2:4]
    x = {"source": ids, "target_in": np.array([[2, 4], [2, 1]], "int32"), "source_ext": ext}
    model.save(tmp_path / "p.keras")
    loaded = keras.saving.load_model(tmp_path / "p.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    decoder = loaded.get_layer("decoder")
    assert isinstance(decoder, PointerDecoder) and decoder.coverage and decoder.extended_size == V + TS


@pytest.mark.parametrize("coverage", [False, True])
def test_teacher_forcing_equals_step_by_step_decoding(coverage):
    """Training and the searches run the same computation, coverage and extended ids included."""
    model = tiny_pointer(coverage)
    ids, ext = decoder_inputs()[2:4]
    tokens = np.array([[4, V, 5], [V + 1, 6, 1]], "int32")  # copied ids among them
    target_in = np.concatenate([np.full((2, 1), 2, "int32"), np.where(tokens >= V, 1, tokens)], axis=1)
    full = model({"source": ids, "target_in": target_in, "source_ext": ext}).numpy()
    inference = pointer.PointerInference(model)
    cache = inference.encode(ids, ext)
    previous = np.full(2, 2, "int32")
    for t in range(4):
        log_probs, cache = inference.step(previous, cache)
        np.testing.assert_allclose(log_probs.numpy(), full[:, t], rtol=1e-4, atol=1e-5)
        if t < 3:
            previous = tokens[:, t]  # the step maps copied ids to [UNK] itself


def copying_translator(beam_width=1):
    """A translator whose model can only copy (p_gen ~ 0), on a tiny shared vocabulary."""
    pairs = [("the model of a cat", "the cat"), ("a model of the dog", "a dog")] * 4
    splits = translation.split_pairs(pairs, seed=0, test_size=2)
    info = translation.make_info(splits, level="word", max_source_length=6, max_target_length=4, shared_vocabulary=True)
    keras.utils.set_random_seed(0)
    model = pointer.build_pointer_seq2seq(
        source_vocab_size=info.source_vocab_size, target_vocab_size=info.target_vocab_size, max_source_length=6,
        embedding_dim=5, units=8, shared_embedding=True,
    )  # fmt: skip
    p_gen = model.get_layer("decoder").p_gen_dense
    p_gen.bias.assign([-30.0])  # generate nothing: every word is copied from the source
    return Translator.from_info(model, info, beam_width=beam_width), info


@pytest.mark.parametrize("beam_width", [1, 3])
def test_a_word_outside_the_vocabulary_is_copied_by_its_string(beam_width):
    translator, info = copying_translator(beam_width)
    source = "Zorblax quuxified Élan naïve"  # no word of it is in the vocabulary
    assert not {w.lower() for w in source.split()} & set(info.target_vocabulary)
    (title,) = translator.translate([source])
    words = title.split()
    assert words and set(words) <= {"zorblax", "quuxified", "élan", "naïve"}
    details = {k: v.numpy()[0] for k, v in translator.attention(tf.constant([source])).items()}
    assert [t.decode() for t in details["source_tokens"][:4]] == ["zorblax", "quuxified", "élan", "naïve"]
    written = [t.decode() for t in details["output_tokens"] if t and t != b"</s>"]
    assert written == words
    assert np.all(details["p_gen"][: len(words)] < 1e-6) and np.all(details["copy_share"][: len(words)] > 0.99)


@pytest.mark.slow
def test_copying_model_served_from_a_fresh_process_with_bad_input(tmp_path):
    translator, _ = copying_translator(beam_width=2)
    path = export.save_serving(translator, tmp_path / "saved_model")
    inputs = ["Zorblax quuxified", "", "   ", "word " * 5000, "数据 données 🙂 zorblax", "the model"]
    served = serve_in_fresh_process(path, inputs)
    assert served.shape == (6,) and served[1] == b"" and served[2] == b""
    assert set(served[0].decode().split()) <= {"zorblax", "quuxified"} and served[0]
    assert set(served[3].decode().split()) <= {"word"} and served[3]  # truncated to the encoder's length
    assert set(served[4].decode().split()) <= {"数", "据", "données", "🙂", "zorblax"}
    serve = keras.layers.TFSMLayer(str(path), call_endpoint="serve")
    assert serve(tf.constant([], tf.string)).shape == (0,)  # an empty batch
    attention = keras.layers.TFSMLayer(str(path), call_endpoint="attention")(tf.constant(["Zorblax quuxified", ""]))
    steps = 4 + 2  # the longest training title (4 tokens), one more, and the end token
    assert attention["p_gen"].shape == (2, steps) and attention["copy_share"].shape == (2, steps)
    assert attention["weights"].shape == (2, steps, 6)


def test_bad_options_are_refused_before_any_data(tmp_path):
    import zoo

    with pytest.raises(UserError, match="attention"):
        zoo.fit("title_pointer", data_dir=tmp_path / "none", out=tmp_path / "a", attention="none", epochs=1)
    with pytest.raises(UserError, match="coverage"):
        zoo.fit("title_pointer", data_dir=tmp_path / "none", out=tmp_path / "b", attention="general", epochs=1)
    assert not (tmp_path / "none").exists()
    with pytest.raises(ValueError, match="additive"):
        PointerDecoder(units=4, vocab_size=V, max_source_length=2, attention="general", coverage=True)
    with pytest.raises(ValueError, match="attention"):
        PointerDecoder(units=4, vocab_size=V, max_source_length=2, attention="none")


def french_pairs(path, n=200):
    rng = np.random.default_rng(0)
    words = {"cat": "chat", "dog": "chien", "house": "maison", "red": "rouge"}
    names = ["Tom", "Mary", "Zoe", "Alice", "Bob", "Yves", "Noor", "Ivan"]
    lines = []
    for i in range(n):
        en = rng.choice(list(words), size=2)
        name = names[i % len(names)]
        lines.append(f"{name} sees the {' '.join(en)}.\t{name} voit le {' '.join(words[w] for w in en)}.")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_seq2seq_attention_with_copy_on_a_pair_file(tmp_path):
    import zoo

    result = zoo.fit(
        "seq2seq_attention",
        data_dir=tmp_path,
        out=tmp_path / "run",
        max_steps=2,
        verbose=0,
        pairs=str(french_pairs(tmp_path / "fra.txt")),
        num_samples=200,
        test_size=40,
        batch_size=16,
        units=16,
        embedding_dim=8,
        epochs=1,
        beam_width=2,
        heatmaps=1,
        copy=True,
        attention="additive",  # coverage (on by default with copy) enters the additive score
        input_feeding=True,
        vocab_size=20,
    )
    assert result.run_dir.joinpath("attention_0.png").stat().st_size > 1000
    assert 0.0 <= result.metrics["beam_bleu"] <= 100.0
    loaded = export.load(result.run_dir)
    assert isinstance(loaded.get_layer("decoder"), PointerDecoder)
    out = keras.layers.TFSMLayer(str(result.run_dir / "saved_model"), call_endpoint="attention")(
        tf.constant(["Quentin sees the red cat."])
    )
    assert "p_gen" in out and out["source_tokens"].numpy()[0][0] == b"quentin"  # its own word, not [UNK]


@pytest.mark.slow
def test_title_pointer_recipe_smoke(shared_data, tmp_path):
    import json

    import zoo

    result = zoo.fit(
        "title_pointer",
        data_dir=shared_data,
        out=tmp_path / "run",
        max_steps=1,
        verbose=0,
        units=16,
        embedding_dim=8,
        epochs=1,
        beam_width=2,
        heatmaps=1,
        max_source_length=40,
        max_target_length=6,
        vocab_size=500,
    )
    m, run = result.metrics, result.run_dir
    for prefix in ("greedy_", "beam_", "baseline_lead_", "baseline_nearest_"):
        assert {f"{prefix}{k}" for k in ("bleu", "chrf", "rougeL", "rouge1", "rouge2", "distinct")} <= set(m)
    assert 0.0 <= m["greedy_mean_p_gen"] <= 1.0 and 0.0 <= m["greedy_copied_share"] <= 1.0
    assert (run / "p_gen_0.png").stat().st_size > 1000 and (run / "attention_0.png").stat().st_size > 1000
    split = json.loads((run / "split.json").read_text())
    assert split["test"] == list(range(1530, 1630))  # the last 100 papers, as title_generation


def copy_task(n, seed, names):
    """Sentences of 5 random names; the 'title' is the first and the last. Almost no name is in the vocabulary."""
    rng = np.random.default_rng(seed)
    return [(" ".join(w), f"{w[0]} {w[-1]}") for w in (list(rng.choice(names, 5, replace=False)) for _ in range(n))]


@pytest.mark.slow
def test_copying_is_learnt_for_words_never_seen_in_training():
    """Trained a few hundred steps, the pointer-generator writes unseen names it can only copy."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    names = ["".join(rng.choice(list("bcdfgklmnprstvz"), 3)) + "a" for _ in range(400)]
    train = copy_task(600, 1, names[:300])
    splits = translation.split_pairs(train, seed=0, test_size=1)
    info = translation.make_info(
        splits, level="word", max_source_length=5, max_target_length=2, max_tokens=10, shared_vocabulary=True
    )
    model = pointer.build_pointer_seq2seq(
        source_vocab_size=info.source_vocab_size, target_vocab_size=info.target_vocab_size, max_source_length=5,
        embedding_dim=16, units=32, shared_embedding=True, coverage=False,
    )  # fmt: skip
    seq2seq.compile_seq2seq(model, learning_rate=1e-2)
    model.fit(translation.make_dataset(info, train, batch_size=32, shuffle=True, copy=True), epochs=12, verbose=0)
    test = copy_task(50, 2, names[300:])  # names never seen in training
    outputs = Translator.from_info(model, info, beam_width=1).translate([s for s, _ in test])
    exact = np.mean([o == t for o, (_, t) in zip(outputs, test)])
    assert exact >= 0.8, list(zip(outputs, test))[:5]

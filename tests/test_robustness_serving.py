"""Language-model and translator SavedModels under hostile batches (issue 31)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from zoo.export import save_serving
from zoo.models import language_model as lm
from zoo.serving.language_model import LanguageModelServing

LONG = "word " * 10_000
MEGABYTE = "word " * 200_000
ODD = "Ünïcödé — 中文 ✓ 😀"
CHARS = list("abcdefghijklmnopqrstuvwxyz \n.")


def _exploding_char_rnn():
    """A char RNN whose ReLU recurrence overflows to inf after a few hundred steps (as a trained one may)."""
    model = lm.build_char_rnn(vocab_size=len(CHARS) + 1, hidden=8)
    rnn = model.get_layer("rnn")
    rnn.cell.recurrent_kernel.assign(3.0 * np.eye(8, dtype="float32"))
    rnn.cell.bias.assign(np.ones(8, "float32"))
    return model


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    serving = LanguageModelServing(
        _exploding_char_rnn(), vocabulary=["[UNK]"] + CHARS, level="char", boundary="\n", length=5, max_tokens=300
    )
    path = save_serving(serving, tmp_path_factory.mktemp("char") / "saved_model")
    return tf.saved_model.load(str(path))


@pytest.fixture(scope="module")
def word_lm(tmp_path_factory):
    vocab = ["<unk>", "<eos>", "the", "a", "N", "word"]
    model = lm.build_word_lstm_lm(vocab_size=len(vocab), units=8, batch_size=2, num_steps=5)
    serving = LanguageModelServing(model, vocabulary=vocab, level="word", boundary="<eos>", normalize="ptb", length=5)
    path = save_serving(serving, tmp_path_factory.mktemp("word") / "saved_model")
    return tf.saved_model.load(str(path))


def test_one_long_row_does_not_turn_the_other_rows_into_nan(char_lm):
    out = char_lm.serve(tf.constant(["a b", LONG, "", ODD]))
    log_prob = out["log_prob"].numpy()
    assert not np.isnan(log_prob).any() and not np.isnan(out["perplexity"].numpy()).any()
    assert np.isfinite(log_prob[[0, 2, 3]]).all()  # the short rows keep their scores
    assert list(out["tokens"].numpy()) == [4, 301, 1, len(ODD) + 1]  # the long row: its first max_tokens + the end
    alone = char_lm.serve(tf.constant(["a b"]))["log_prob"].numpy()
    np.testing.assert_allclose(log_prob[0], alone[0], rtol=1e-5)


@pytest.mark.parametrize("batch", [[], [""], [ODD], [MEGABYTE], ["", ODD, "the word", LONG, MEGABYTE]])
def test_every_language_model_endpoint_takes_any_batch(batch, char_lm, word_lm):
    for model in (char_lm, word_lm):
        scores = model.serve(tf.constant(batch, tf.string))
        for value in scores.values():
            assert value.shape == (len(batch),) and not (value.dtype.is_floating and np.isnan(value.numpy()).any())
        assert model.generate(tf.constant(batch, tf.string)).shape == (len(batch),)
        options = {"prompts": tf.constant(batch, tf.string), "temperature": tf.constant(0.5), "tokens": tf.constant(7)}
        assert model.generate_with_options(options).shape == (len(batch),)


@pytest.mark.parametrize(
    "temperature, tokens, message",
    [
        (0.0, 5, "temperature must be a finite number > 0"),
        (float("nan"), 5, "temperature must be a finite number > 0"),
        (-1.0, 5, "temperature must be a finite number > 0"),
        (float("inf"), 5, "temperature must be a finite number > 0"),
        (1.0, -3, "tokens must be in \\[0, 1000\\]"),
        (1.0, 10**6, "tokens must be in \\[0, 1000\\]"),
    ],
)
def test_generate_with_options_refuses_invalid_options_in_words(temperature, tokens, message, word_lm):
    options = {"prompts": tf.constant(["the"]), "temperature": tf.constant(temperature), "tokens": tf.constant(tokens)}
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        word_lm.generate_with_options(options)


def test_zero_new_tokens_and_many_tokens_after_a_long_prompt(char_lm):
    options = {"prompts": tf.constant([LONG, "a"]), "temperature": tf.constant(1.0), "tokens": tf.constant(0)}
    assert list(char_lm.generate_with_options(options).numpy()) == [b"", b""]
    options["tokens"] = tf.constant(1000)
    assert [len(t.decode()) for t in char_lm.generate_with_options(options).numpy()] == [1000, 1000]


@pytest.mark.parametrize("kind", ["seq2seq", "transformer"])
def test_translator_attention_has_one_trailing_shape_for_every_batch(kind, tmp_path):
    from zoo.data import translation
    from zoo.models import seq2seq, transformer
    from zoo.serving.translator import Translator

    vectorizer = translation.make_vectorizer("word", ["a b c d e", "f g h"])
    vocab = ["", "[UNK]", "<s>", "</s>", "x", "y", "z"]
    if kind == "seq2seq":
        model = seq2seq.build_attention_seq2seq(
            source_vocab_size=vectorizer.vocabulary_size(), target_vocab_size=len(vocab), units=4, embedding_dim=2
        )
    else:
        model = transformer.build_transformer_seq2seq(
            source_vocab_size=vectorizer.vocabulary_size(),
            target_vocab_size=len(vocab),
            num_layers=2,
            model_dim=8,
            num_heads=2,
            ff_dim=16,
        )
    translator = Translator(model, vectorizer, vocab, max_source_length=6, max_output_length=5, beam_width=2)
    loaded = tf.saved_model.load(str(save_serving(translator, tmp_path / "saved_model")))
    shapes = []
    for batch in ([], [""], ["a b", ODD, LONG]):
        out = loaded.attention(tf.constant(batch, tf.string))
        shapes.append({k: tuple(v.shape[1:]) for k, v in out.items()})
        assert all(v.shape[0] == len(batch) for v in out.values())
    assert shapes[0] == shapes[1] == shapes[2], shapes
    expected = (6, 6) if kind == "seq2seq" else (2, 2, 6, 6)
    assert shapes[0]["weights"] == expected and shapes[0]["output_tokens"] == (6,)

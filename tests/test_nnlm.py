"""Chapter 8's feed-forward neural LM (Bengio et al. 2003): the equations against NumPy, the context
rows that predict every token once from a full window, one-step generation, the recipe's bad values."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.data import language_model as lmdata
from zoo.errors import UserError
from zoo.layers.context_pad import ContextPad
from zoo.models import language_model as lm
from zoo.serving.language_model import LanguageModelServing, make_sampler


def _numpy_nnlm(model, ids, window, pad_id, direct):
    """logits[t] = b + W x + U tanh(d + H x), x = the concatenated features of ids[t-window+1 .. t]."""
    emb = model.get_layer("embedding").get_weights()[0]
    h_kernel, d = model.get_layer("hidden").get_weights()  # [window, m, hidden]
    u, b = model.get_layer("logits").get_weights()
    H = h_kernel.reshape(-1, h_kernel.shape[-1])  # rows in the order of the concatenation
    W = model.get_layer("direct").get_weights()[0].reshape(-1, u.shape[1]) if direct else None
    padded = np.concatenate([np.full((ids.shape[0], window - 1), pad_id), ids], axis=1)
    out = []
    for t in range(ids.shape[1]):
        x = emb[padded[:, t : t + window]].reshape(ids.shape[0], -1)
        logits = b + np.tanh(d + x @ H) @ u
        if direct:
            logits = logits + x @ W
        out.append(logits)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("direct", [False, True])
def test_nnlm_is_bengios_equation_over_every_window(direct):
    keras.utils.set_random_seed(0)
    model = lm.build_nnlm(vocab_size=13, window=3, embedding_dim=4, hidden=5, direct=direct, pad_id=2)
    ids = np.random.default_rng(0).integers(0, 13, size=(2, 7)).astype("int32")
    np.testing.assert_allclose(np.asarray(model(ids)), _numpy_nnlm(model, ids, 3, 2, direct), rtol=1e-5, atol=1e-5)
    # position t never sees t + 1: changing the last token leaves every earlier output alone
    changed = ids.copy()
    changed[:, -1] = (changed[:, -1] + 1) % 13
    np.testing.assert_allclose(np.asarray(model(changed))[:, :-1], np.asarray(model(ids))[:, :-1], atol=1e-6)
    # and tokens more than `window` back do not count (a Markov model of order `window`)
    far = ids.copy()
    far[:, 0] = (far[:, 0] + 1) % 13
    np.testing.assert_allclose(np.asarray(model(far))[:, 3:], np.asarray(model(ids))[:, 3:], atol=1e-6)


def test_nnlm_refuses_an_empty_window_and_round_trips_through_keras_files(tmp_path):
    with pytest.raises(ValueError, match="window"):
        lm.build_nnlm(vocab_size=10, window=0)
    with pytest.raises(ValueError, match="direct"):
        lm.build_nnlm(vocab_size=10, hidden=0)
    model = lm.build_nnlm(vocab_size=10, window=2, embedding_dim=3, hidden=4, direct=True, dropout=0.1, pad_id=1)
    model.save(tmp_path / "nnlm.keras")
    loaded = keras.saving.load_model(tmp_path / "nnlm.keras", safe_mode=True)
    ids = np.arange(8, dtype="int32").reshape(2, 4)
    np.testing.assert_allclose(np.asarray(loaded(ids)), np.asarray(model(ids)), rtol=1e-6)
    assert loaded.get_layer("context_pad").get_config()["value"] == 1


def test_hidden_and_direct_kernels_start_as_the_dense_layers_of_the_textbook_formulation():
    """Glorot over window * embedding inputs and hidden (or vocab) outputs, as Dense layers on the concatenation."""
    model = lm.build_nnlm(vocab_size=3000, window=4, embedding_dim=100, hidden=200, direct=True)
    for layer, units in (("hidden", 200), ("direct", 3000)):
        kernel = np.asarray(model.get_layer(layer).kernel)
        dense = keras.layers.Dense(units)
        dense.build((None, 4 * 100))
        np.testing.assert_allclose(kernel.std(), np.asarray(dense.kernel).std(), rtol=0.03)


@pytest.mark.parametrize("n, steps, context", [(8, 3, 2), (50, 7, 4), (12, 11, 0), (5, 10, 3)])
def test_context_rows_predict_every_token_once_from_a_full_window(n, steps, context):
    ids = np.arange(100, 100 + n, dtype=np.int32)
    x, y, w = lmdata.context_windows(ids, steps, context, pad_id=7)
    assert x.shape == y.shape == w.shape and x.shape[1] == context + steps
    real = w > 0
    np.testing.assert_array_equal(np.sort(y[real]), ids[1:])  # every target once
    np.testing.assert_array_equal(y[real], x[real] + 1)  # the next token
    assert not real[:, :context].any()  # the context positions are never scored
    for r, c in zip(*np.nonzero(real)):  # each scored target sees `context` real tokens (or the pad) before it
        seen = x[r, c - context : c + 1]
        expect = np.arange(x[r, c] - context, x[r, c] + 1)
        np.testing.assert_array_equal(seen, np.where(expect < 100, 7, expect))
    assert np.isclose(w.sum(), w.size)  # real pairs weigh slots / pairs: the mean over real tokens


def test_context_datasets_count_tokens_and_refuse_a_tiny_corpus():
    streams = lmdata.char_streams("abcdefghij\n" * 40, source="toy")
    ds, info = lmdata.context_datasets(streams, batch_size=4, num_steps=5, context=2, seed=1)
    scored = sum(int(np.count_nonzero(b[2])) for b in ds["test"].as_numpy_iterator())
    assert scored == info.tokens["test"] == len(streams.test) - 1
    x, y, w = next(iter(ds["train"]))
    assert x.shape == (4, 7) and info.steps["train"] == (len(streams.train) - 1 + 4) // 5 // 4
    with pytest.raises(UserError, match="fewer than batch_size"):
        lmdata.context_datasets(lmdata.char_streams("ab\n" * 10, source="tiny"), 64, 5, 2)


def test_step_generation_equals_the_full_pass():
    keras.utils.set_random_seed(1)
    model = lm.build_nnlm(vocab_size=11, window=3, embedding_dim=4, hidden=6, direct=True, pad_id=4)
    ids = np.random.default_rng(1).integers(0, 11, size=(3, 6)).astype("int32")
    whole = np.asarray(model(ids))
    states = lm.initial_states(model, 3)
    assert states[0].shape == (3, 3) and int(np.asarray(states[0]).max()) == 4
    for t in range(6):
        logits, states = lm.step(model, tf.constant(ids[:, t]), states)
        np.testing.assert_allclose(np.asarray(logits), whole[:, t], rtol=1e-5, atol=1e-5)


def test_serving_scores_like_the_model_and_generates_known_words():
    """Trained a little on a toy corpus: `serve` equals the model's own log-probabilities, `generate` runs."""
    keras.utils.set_random_seed(2)
    sentences = ["the cat sat on the mat", "the dog ate the bone", "a bird sang in the tree"]
    rng = np.random.default_rng(0)
    train = [sentences[i].split() for i in rng.integers(0, 3, 300)]
    streams = lmdata.word_streams(train, [s.split() for s in sentences], [s.split() for s in sentences])
    ds, info = lmdata.context_datasets(streams, batch_size=8, num_steps=6, context=2, seed=1)
    eos = info.vocabulary.index(info.boundary)
    model = lm.build_nnlm(vocab_size=info.vocab_size, window=3, embedding_dim=8, hidden=16, pad_id=eos)
    lm.compile_language_model(model, keras.optimizers.Adam(0.02))
    model.fit(ds["train"], epochs=8, verbose=0)
    test_ppl = model.evaluate(ds["test"], return_dict=True, verbose=0)["perplexity"]
    assert test_ppl < 3.0  # the toy corpus is nearly deterministic given 3 words (uniform: 13)
    serving = LanguageModelServing(model, vocabulary=info.vocabulary, level="word", boundary=info.boundary, length=4)
    text = "the cat sat on the mat"
    score = serving.score(tf.constant([text, "mat the on sat cat the"]))
    assert score["log_prob"].numpy()[0] > score["log_prob"].numpy()[1]
    ids = [eos] + [info.vocabulary.index(w) for w in text.split()] + [eos]
    direct = lm.token_log_probs(model, np.array([ids[:-1]]), np.array([ids[1:]]))
    np.testing.assert_allclose(score["log_prob"].numpy()[0], float(np.sum(direct)), rtol=1e-5)
    greedy = serving.generate_with(tf.constant(["the cat sat on the"]), make_sampler("greedy"), 3)
    assert greedy.numpy()[0].decode().split()[0] == "mat"
    assert set(serving.generate(tf.constant(["a bird", ""])).numpy()[0].decode().split()) <= set(info.vocabulary)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("window", 0, "window=0: expected a value of type int from 1 to 64"),
        ("hidden", 0, "hidden=0: no tanh layer and no direct connections"),  # direct=false, the default
    ],
)
def test_recipe_refuses_bad_values_before_reading_data(tmp_path, key, value, words):
    import zoo

    with pytest.raises(UserError) as caught:
        zoo.fit("nnlm_ptb", data_dir=tmp_path / "no-data-here", out=tmp_path / "run", **{key: value})
    assert str(caught.value).startswith(words) and "\n" not in str(caught.value)
    assert not any(tmp_path.iterdir())  # nothing read, nothing written


def test_recipe_takes_hidden_0_with_direct_connections(tmp_path, monkeypatch):
    """Bengio's direct connections alone (the builder's log-linear model), through the recipe's checks."""
    from types import SimpleNamespace

    from zoo.data.pipelines import Data
    from zoo.recipes import RunContext, get, resolve_hparams

    def reached(data_dir):
        raise LookupError("reached the data")

    recipe = get("nnlm_ptb")
    hp = resolve_hparams(recipe, {"hidden": 0, "direct": True, "embedding_dim": 4})
    monkeypatch.setattr(lmdata, "ptb_word_streams", reached)
    with pytest.raises(LookupError, match="reached the data"):
        recipe.data(hp, RunContext(data_dir=tmp_path, run_dir=tmp_path))
    info = SimpleNamespace(vocab_size=9, vocabulary=["<unk>", "<eos>", *"abcdefg"], boundary="<eos>")
    model = recipe.model(hp, Data(train=None, info=info))
    names = {layer.name for layer in model.layers}
    assert "direct" in names and "hidden" not in names
    assert model(np.zeros((1, 5), "int32")).shape == (1, 5, 9)


@pytest.mark.slow
def test_nnlm_ptb_recipe_end_to_end(tmp_path, shared_data):
    from tests.conftest import run_cli, serve_in_fresh_process

    out = tmp_path / "run"
    args = ("--max-steps", "2", "--epochs", "1", "--set", "hidden=8", "--set", "embedding_dim=8")
    result = run_cli("nnlm_ptb", "--out", str(out), "--data-dir", str(shared_data), *args, "--set", "generate_length=3")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["vocabulary_size"] == 10_000 and 1 < metrics["test_perplexity"] < 10_000
    assert "## top-p 0.9" in (out / "samples.txt").read_text()
    served = serve_in_fresh_process(out / "saved_model", ["the company said", ""])
    assert served["tokens"].tolist() == [4, 1] and np.isfinite(served["log_prob"]).all()
    assert isinstance(keras.saving.load_model(out / "model.keras").get_layer("context_pad"), ContextPad)

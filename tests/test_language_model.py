"""Chapter 8 language models: stream layout, vocabularies, bad corpora, perplexity against NumPy,
state carrying and resets, the learning-rate schedule, and the two-endpoint SavedModel."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.callbacks import ResetStates
from zoo.data import language_model as lmdata
from zoo.errors import CorruptData, DataNotFound, UserError
from zoo.models import language_model as lm
from zoo.serving.language_model import LanguageModelServing, make_sampler

SENTENCES = [
    "the cat sat on the mat",
    "the dog ate the bone",
    "a bird sang in the tree",
    "the cat ate the fish",
    "the dog sat on the rug",
    "a cat sang on the mat",
]


# ----------------------------------------------------------------------------- stream layout


@pytest.mark.parametrize("n, batch, steps", [(103, 4, 5), (40, 3, 4), (21, 4, 4)])
def test_train_windows_continue_row_by_row_and_predict_the_next_token(n, batch, steps):
    ids = np.arange(n, dtype=np.int32)
    x, y = lmdata.train_windows(ids, batch, steps)
    k = len(x) // batch
    assert x.shape == y.shape == (k * batch, steps) and k == (n // batch - 1) // steps
    np.testing.assert_array_equal(y, x + 1)  # the target is the next token of the stream
    batches = x.reshape(k, batch, steps)
    for i in range(1, k):  # batch i continues batch i - 1 in every row
        np.testing.assert_array_equal(batches[i][:, 0], batches[i - 1][:, -1] + 1)
    rows = batches.transpose(1, 0, 2).reshape(batch, -1)
    np.testing.assert_array_equal(np.diff(rows, axis=1), 1)  # each row is one contiguous stretch
    targets = y.ravel()
    assert len(np.unique(targets)) == len(targets)  # no token is a target twice in an epoch
    length = n // batch
    expected = np.concatenate([np.arange(r * length + 1, r * length + 1 + k * steps) for r in range(batch)])
    np.testing.assert_array_equal(np.sort(targets), np.sort(expected))


@pytest.mark.parametrize("n, batch, steps", [(103, 4, 5), (9, 3, 4), (41, 4, 10)])
def test_eval_windows_count_every_token_exactly_once(n, batch, steps):
    ids = np.arange(10, 10 + n, dtype=np.int32)
    x, y, w = lmdata.eval_windows(ids, batch, steps)
    assert x.shape == y.shape == w.shape and x.shape[0] % batch == 0
    real = w.ravel() > 0
    np.testing.assert_array_equal(np.sort(y.ravel()[real]), ids[1:])  # all targets, once each
    np.testing.assert_array_equal(y.ravel()[real], x.ravel()[real] + 1)
    # every real pair weighs slots / real pairs (val_loss is then their mean), padding 0
    assert set(np.unique(w)) <= {0.0, np.float32(w.size / (n - 1))} and np.isclose(w.sum(), w.size)
    k = x.shape[0] // batch
    rows_x = x.reshape(k, batch, steps).transpose(1, 0, 2).reshape(batch, -1)
    rows_w = w.reshape(k, batch, steps).transpose(1, 0, 2).reshape(batch, -1)
    for row, weight in zip(rows_x, rows_w):  # real pairs contiguous, padding only at the end
        real_row = row[weight > 0]
        np.testing.assert_array_equal(np.diff(real_row), 1)
        if (weight == 0).any():
            assert weight[np.argmax(weight == 0) :].sum() == 0


def test_datasets_batches_in_stream_order_with_info():
    text = "abcdefghij\n" * 30
    streams = lmdata.char_streams(text, source="toy")
    ds, info = lmdata.datasets(streams, batch_size=3, num_steps=4)
    assert isinstance(info, lmdata.LanguageModelInfo) and info.level == "char"
    assert info.vocabulary[0] == lmdata.CHAR_UNK and info.vocab_size == 12 and info.boundary == "\n"
    batches = list(ds["train"].as_numpy_iterator())
    assert len(batches) == info.steps["train"] and all(b[0].shape == (3, 4) for b in batches)
    x_full, _ = lmdata.train_windows(streams.train, 3, 4)  # the dataset keeps the layout's order
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x_full)
    evaluated = sum(int(np.count_nonzero(b[2])) for b in ds["test"].as_numpy_iterator())
    assert evaluated == info.tokens["test"] == len(streams.test) - 1


def test_vocabulary_puts_oov_first_and_counts_order_the_rest():
    vocab = lmdata.build_vocabulary("b a <unk> c a b a <unk>".split(), lmdata.UNK)
    assert vocab == ("<unk>", "a", "b", "c")
    assert lmdata.encode(["a", "zzz", "<unk>", "c"], vocab).tolist() == [1, 0, 0, 3]
    streams = lmdata.word_streams([s.split() for s in SENTENCES[:4]], [["the", "emu"]], [["a", "cat"]])
    assert streams.vocabulary[0] == "<unk>" and "<eos>" in streams.vocabulary
    eos = streams.vocabulary.index("<eos>")
    assert (streams.train == eos).sum() == 4  # one <eos> per line
    assert streams.validation.tolist() == [streams.vocabulary.index("the"), 0, eos]  # unseen word -> <unk>


def test_ptb_word_stream_matches_zaremba(shared_data):
    streams = lmdata.ptb_word_streams(shared_data)
    assert len(streams.vocabulary) == 10_000 and streams.vocabulary[0] == "<unk>"
    assert (len(streams.train), len(streams.validation), len(streams.test)) == (929_589, 73_760, 82_430)
    assert (streams.validation == 0).sum() > 0 and streams.vocabulary[streams.train[-1]] == "<eos>"


def test_char_corpus_from_a_folder_holds_out_the_tail(tmp_path):
    (tmp_path / "a.txt").write_text("hello world, " * 50, encoding="utf-8")
    (tmp_path / "b.txt").write_text("ÿello wörld! " * 50, encoding="utf-8")
    streams = lmdata.char_streams(path=tmp_path)
    assert streams.source == str(tmp_path)
    total = len(streams.train) + len(streams.validation) + len(streams.test)
    assert total == 2 * 13 * 50 + 2  # both files, each ended by a newline
    assert {"ö", "ÿ", ","} <= set(streams.vocabulary)  # both files' characters (b.txt is mostly in train)
    tail = "".join(streams.vocabulary[i] for i in streams.test)
    assert tail.endswith("wörld! \n") and len(streams.test) == round(total * 0.05)  # the last 5%, in order


@pytest.mark.parametrize(
    "content, error, words",
    [
        (b"", CorruptData, "no text"),
        (b"\xff\xfe bad bytes", CorruptData, "not UTF-8"),
        (b"tiny text\n", CorruptData, "fewer than"),
    ],
)
def test_bad_corpora_are_one_line_user_errors_naming_the_file(tmp_path, content, error, words):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(error, match=words) as caught:
        streams = lmdata.char_streams(path=path)
        lmdata.datasets(streams, batch_size=4, num_steps=25)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and isinstance(caught.value, UserError)


def test_missing_corpus_is_data_not_found(tmp_path):
    with pytest.raises(DataNotFound, match="no such file"):
        lmdata.char_streams(path=tmp_path / "nope.txt")


# ----------------------------------------------------------------------------- models, perplexity, state


def _numpy_char_rnn(model, x):
    """Embedding -> ReLU SimpleRNN -> Dense in NumPy, over `x` [batch, time], from zero state."""
    emb = model.get_layer("one_hot_dense").get_weights()[0]
    w, u, b = model.get_layer("rnn").get_weights()
    wo, bo = model.get_layer("logits").get_weights()
    h = np.zeros((x.shape[0], u.shape[0]))
    logits = []
    for t in range(x.shape[1]):
        h = np.maximum(0.0, emb[x[:, t]] @ w + h @ u + b)
        logits.append(h @ wo + bo)
    return np.stack(logits, axis=1)


def test_perplexity_over_every_token_once_matches_numpy():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, size=83).astype(np.int32)
    batch, steps = 3, 4
    model = lm.build_char_rnn(vocab_size=7, hidden=5, batch_size=batch, num_steps=steps, stateful=True)
    for name in ("one_hot_dense", "logits"):  # far from uniform predictions
        model.get_layer(name).set_weights([w * 20 for w in model.get_layer(name).get_weights()])
    lm.compile_language_model(model, "sgd")
    got = model.evaluate(lmdata.eval_dataset(ids, batch, steps), return_dict=True, verbose=0)["perplexity"]

    x, y, w = lmdata.eval_windows(ids, batch, steps)
    k = len(x) // batch
    rows = [a.reshape(k, batch, steps).transpose(1, 0, 2).reshape(batch, -1) for a in (x, y, w)]
    logits = _numpy_char_rnn(model, rows[0]).astype(np.float64)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_softmax, rows[1][..., None], axis=-1)[..., 0]
    expected = np.exp((nll * rows[2]).sum() / rows[2].sum())
    assert np.count_nonzero(rows[2]) == len(ids) - 1
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    np.testing.assert_allclose(lm.perplexity_of(model, lmdata.eval_dataset(ids, batch, steps)), expected, rtol=1e-4)
    # Without the weights the padding would be scored too: the metric must differ.
    unweighted = np.exp(nll.mean())
    assert abs(unweighted - expected) > 0.01 * expected


def test_stateful_windows_equal_one_pass_over_each_row_and_reset_zeroes_the_state():
    keras.utils.set_random_seed(5)
    ids = np.random.default_rng(1).integers(0, 11, size=60).astype(np.int32)
    batch, steps = 2, 5
    model = lm.build_word_lstm_lm(vocab_size=11, units=6, batch_size=batch, num_steps=steps, stateful=True, dropout=0.3)
    lm.compile_language_model(model, "sgd")
    x, y, w = lmdata.eval_windows(ids, batch, steps)
    windowed = np.concatenate([np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)])
    states = [v.numpy() for layer in lm.rnn_layers(model) for v in layer.states]
    assert all(np.abs(s).sum() > 0 for s in states)
    lm.reset_rnn_states(model)
    assert all(np.abs(v.numpy()).sum() == 0 for layer in lm.rnn_layers(model) for v in layer.states)

    copy = lm.stateless_copy(model)
    assert not any(layer.stateful for layer in lm.rnn_layers(copy))
    k = len(x) // batch
    rows = x.reshape(k, batch, steps).transpose(1, 0, 2).reshape(batch, -1)
    whole = np.asarray(copy(rows, training=False))  # [batch, k*steps, vocab]
    per_window = whole.reshape(batch, k, steps, -1).transpose(1, 0, 2, 3).reshape(k * batch, steps, -1)
    np.testing.assert_allclose(windowed, per_window, rtol=1e-5, atol=1e-5)
    # The step function (generation) agrees with the full pass as well.
    states = lm.initial_states(copy, batch)
    for t in range(4):
        logits, states = lm.step(copy, tf.constant(rows[:, t]), states)
        np.testing.assert_allclose(np.asarray(logits), whole[:, t], rtol=1e-5, atol=1e-5)


def test_reset_callback_makes_evaluation_independent_of_training_state():
    keras.utils.set_random_seed(7)
    ids = np.random.default_rng(2).integers(0, 9, size=200).astype(np.int32)
    model = lm.build_word_lstm_lm(vocab_size=9, units=4, batch_size=2, num_steps=5, stateful=True)
    lm.compile_language_model(model, "adam")
    train, valid = lmdata.train_dataset(ids, 2, 5), lmdata.eval_dataset(ids[:50], 2, 5)
    history = model.fit(train, validation_data=valid, epochs=1, callbacks=[ResetStates()], verbose=0)
    assert all(np.abs(v.numpy()).sum() == 0 for layer in lm.rnn_layers(model) for v in layer.states)
    again = model.evaluate(valid, return_dict=True, verbose=0)["perplexity"]
    np.testing.assert_allclose(again, history.history["val_perplexity"][-1], rtol=1e-5)


def test_builders_need_a_batch_for_state_and_round_trip_through_keras_files(tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        lm.build_word_lstm_lm(vocab_size=10, units=4, stateful=True)
    model = lm.build_word_lstm_lm(vocab_size=10, units=4, dropout=0.2, batch_size=2, num_steps=3)
    config = lm.CONFIGS["small"]
    model.compile(
        optimizer=lm.zaremba_optimizer(config, steps_per_epoch=7),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    schedule = loaded.optimizer.learning_rate if isinstance(loaded.optimizer._learning_rate, lm.EpochDecay) else None
    assert isinstance(loaded.optimizer._learning_rate, lm.EpochDecay), schedule
    char = lm.build_char_rnn(vocab_size=50, hidden=8)
    assert char(np.zeros((3, 25), "int32")).shape == (3, 25, 50)
    assert char.get_layer("rnn").activation.__name__ == "relu"


def test_zaremba_schedule_and_the_summed_loss_rescaling():
    schedule = lm.EpochDecay(1.0, 0.5, decay_after=4, steps_per_epoch=10)
    rates = [float(schedule(s)) for s in (0, 39, 40, 49, 50, 129)]
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.5**9]
    assert lm.EpochDecay(**schedule.get_config()).get_config() == schedule.get_config()
    medium = lm.CONFIGS["medium"]
    assert (medium.units, medium.num_steps, medium.dropout, medium.epochs, medium.decay_after) == (650, 35, 0.5, 39, 6)
    assert lm.CONFIGS["large"].clipnorm == 10 and lm.CONFIGS["book"].units == 500
    small = lm.CONFIGS["small"]
    optimizer = lm.zaremba_optimizer(small, steps_per_epoch=100)
    assert float(optimizer.learning_rate) == small.num_steps  # step 0: lr 1 on the summed loss
    assert optimizer.global_clipnorm == pytest.approx(5.0 / small.num_steps)


def test_summed_loss_rescaling_gives_zaremba_update():
    """One SGD step on the Keras mean loss with the rescaled lr/clip equals one on the window-summed loss."""
    keras.utils.set_random_seed(11)
    x = np.random.default_rng(3).integers(0, 9, size=(2, 5)).astype(np.int32)
    y = np.roll(x, -1, axis=1)
    base = lm.build_word_lstm_lm(vocab_size=9, units=4, stateful=False, init_scale=0.5)
    weights = base.get_weights()
    config = lm.LanguageModelConfig(
        units=4,
        num_steps=5,
        batch_size=2,
        dropout=0,
        epochs=1,
        learning_rate=1.0,
        decay=0.5,
        decay_after=4,
        clipnorm=0.5,
        init_scale=0.5,
    )
    ours = lm.build_word_lstm_lm(vocab_size=9, units=4, stateful=False)
    ours.set_weights(weights)
    ours.compile(
        optimizer=lm.zaremba_optimizer(config, 1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    ours.train_on_batch(x, y)

    ref = lm.build_word_lstm_lm(vocab_size=9, units=4, stateful=False)
    ref.set_weights(weights)
    with tf.GradientTape() as tape:
        logits = ref(x, training=True)
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)) / 2
    grads = tape.gradient(loss, ref.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, 0.5)
    for v, g in zip(ref.trainable_variables, grads):
        v.assign_sub(tf.convert_to_tensor(g))  # lr 1
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- serving


def _toy_word_model(epochs=6):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    train = [SENTENCES[i].split() for i in rng.integers(0, len(SENTENCES), 300)]
    streams = lmdata.word_streams(train, [s.split() for s in SENTENCES], [s.split() for s in SENTENCES])
    # Independent shuffled windows: a model trained with carried state on 300 toy sentences rarely
    # sees the zero state that scoring and generation start from (on PTB either way works).
    ds, info = lmdata.datasets(streams, batch_size=4, num_steps=6, shuffle=True, seed=1)
    model = lm.build_word_lstm_lm(vocab_size=info.vocab_size, units=16, stateful=False)
    lm.compile_language_model(model, keras.optimizers.Adam(0.01, global_clipnorm=5.0))
    model.fit(ds["train"], epochs=epochs, callbacks=[ResetStates()], verbose=0)
    return model, info


def _run_fresh(script: str, folder: Path):
    """Run `script` in a new Python that never imports zoo; it pickles its result to `out.pkl`."""
    code = (
        textwrap.dedent("""
        import os, pickle, sys
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import numpy as np, tensorflow as tf, keras
        assert "zoo" not in sys.modules
    """)
        + textwrap.dedent(script)
        + '\nassert "zoo" not in sys.modules\n'
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return pickle.loads((folder / "out.pkl").read_bytes())


@pytest.mark.slow
def test_saved_model_scores_and_generates_in_a_fresh_process(tmp_path):
    model, info = _toy_word_model()
    serving = LanguageModelServing(
        model,
        vocabulary=info.vocabulary,
        level=info.level,
        boundary=info.boundary,
        sampler="top_k",
        k=3,
        length=8,
        seed=5,
    )
    local = serving.score(tf.constant(["the cat sat on the mat", "mat the on cat sat the"]))
    assert local["log_prob"].numpy()[0] > local["log_prob"].numpy()[1]
    greedy = serving.generate_with(tf.constant(["the cat sat on the"]), make_sampler("greedy"), 5)
    assert greedy.numpy()[0].decode().split()[0] in {"mat", "rug"}  # learned from the toy corpus
    from zoo.export import save_serving

    path = save_serving(serving, tmp_path / "saved_model")
    out = _run_fresh(
        f"""
        path = {str(path)!r}
        score = keras.layers.TFSMLayer(path, call_endpoint="serve")(tf.constant(
            ["the cat sat on the mat", "mat the on cat sat the", "the emu sat"]))
        loaded = tf.saved_model.load(path)
        generated = loaded.generate(tf.constant(["the dog", "", "a bird sang in the tree"]))
        layer = keras.layers.TFSMLayer(path, call_endpoint="generate")(tf.constant(["the cat"]))
        options = keras.layers.TFSMLayer(path, call_endpoint="generate_with_options")(
            {{"prompts": tf.constant(["the", "a bird"]), "temperature": tf.constant(0.01),
              "tokens": tf.constant(2)}})
        empty = loaded.generate(tf.constant([], tf.string))
        assert empty.shape == (0,) and loaded.serve(tf.constant([], tf.string))["log_prob"].shape == (0,)
        pickle.dump({{"score": {{k: np.asarray(v) for k, v in score.items()}},
                      "generated": [g.decode() for g in generated.numpy()],
                      "layer": [g.decode() for g in layer.numpy()],
                      "options": [g.decode() for g in options.numpy()]}}, open("out.pkl", "wb"))
    """,
        tmp_path,
    )
    score = out["score"]
    assert score["log_prob"][0] > score["log_prob"][1]  # the real sentence beats its shuffle
    assert score["tokens"].tolist() == [7, 7, 4]  # words + the closing <eos>
    np.testing.assert_allclose(score["perplexity"], np.exp(-score["log_prob"] / score["tokens"]), rtol=1e-5)
    np.testing.assert_allclose(score["log_prob"][:2], local["log_prob"].numpy(), rtol=1e-5)
    assert len(out["generated"]) == 3 and len(out["layer"]) == 1
    vocab = set(info.vocabulary)
    for text in out["generated"] + out["layer"]:
        words = text.split()
        assert len(words) <= 8 and "<eos>" not in words and set(words) <= vocab
    assert any(out["generated"])  # something was generated
    # Near-zero temperature is greedy: the same two words as the Python greedy sampler.
    greedy_two = serving.generate_with(tf.constant(["the", "a bird"]), make_sampler("greedy"), 2)
    assert out["options"] == [g.decode() for g in greedy_two.numpy()]
    assert all(len(text.split()) <= 2 for text in out["options"])


# ----------------------------------------------------------------------------- recipes through zoo.run


def _toy_corpus(path: Path) -> Path:
    rng = np.random.default_rng(0)
    path.write_text("".join(SENTENCES[i] + " .\n" for i in rng.integers(0, len(SENTENCES), 400)), encoding="utf-8")
    return path


_TINY_CHAR = ("--set", "hidden=16", "--set", "batch_size=4", "--set", "num_steps=10", "--set", "generate_length=12")


@pytest.mark.slow
def test_char_rnn_recipe_end_to_end_on_any_corpus(tmp_path):
    from tests.conftest import run_cli

    corpus = _toy_corpus(tmp_path / "toy.txt")
    out = tmp_path / "run"
    result = run_cli("char_rnn", "--out", str(out), "--epochs", "2", "--set", f"corpus={corpus}", *_TINY_CHAR)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    import pandas as pd

    metrics = json.loads((out / "metrics.json").read_text())
    assert 1 < metrics["test_perplexity"] < metrics["vocabulary_size"]  # learned something, per character
    assert metrics["val_perplexity"] == pytest.approx(metrics["final_val_perplexity"], rel=1e-5)
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [0, 1] and history["val_perplexity"].iloc[1] < history["val_perplexity"].iloc[0]
    samples = (out / "samples.txt").read_text(encoding="utf-8")
    for label in ("## greedy", "## temperature 0.7", "## temperature 1.3", "## top-k 10", "## top-p 0.9"):
        assert label in samples
    generated = _run_fresh(
        f"""
        loaded = tf.saved_model.load({str(out / "saved_model")!r})
        text = loaded.generate(tf.constant(["the c", "a bird"]))
        score = keras.layers.TFSMLayer({str(out / "saved_model")!r}, call_endpoint="serve")(tf.constant(["the cat"]))
        pickle.dump(([t.decode() for t in text.numpy()], int(score["tokens"][0])), open("out.pkl", "wb"))
    """,
        tmp_path,
    )
    texts, tokens = generated
    assert [len(t) for t in texts] == [12, 12] and tokens == len("the cat") + 1
    assert set("".join(texts)) <= set("".join(SENTENCES) + " .\n")


@pytest.mark.slow
def test_stateful_training_is_refused_on_several_replicas_and_bad_corpus_is_one_line(tmp_path):
    from tests.conftest import run_cli

    corpus = _toy_corpus(tmp_path / "toy.txt")
    result = run_cli(
        "char_rnn",
        "--out",
        str(tmp_path / "a"),
        "--strategy",
        "mirrored",
        "--cpu-replicas",
        "2",
        "--set",
        f"corpus={corpus}",
        *_TINY_CHAR,
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --set stateful: stateful training cannot run on 2 replicas")
    assert "set it to false" in last
    assert "Traceback" not in result.stderr
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 100)
    result = run_cli("char_rnn", "--out", str(tmp_path / "b"), "--set", f"corpus={bad}", *_TINY_CHAR)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: {bad}: not UTF-8" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "a.partial").exists() and not (tmp_path / "b.partial").exists()


@pytest.mark.slow
def test_killed_ptb_run_resumes_with_the_right_learning_rate(tmp_path, shared_data):
    """SIGKILL after the backup of epoch 2 (or later); the same command resumes; the step counter
    (and so the EpochDecay rate, a function of it) carries on instead of restarting."""
    import json
    import signal
    import time

    from tests.conftest import ROOT

    out = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "zoo.run",
        "ptb_lstm_small",
        "--out",
        str(out),
        "--data-dir",
        str(shared_data),
        "--max-steps",
        "3",
        "--epochs",
        "4",
        "--set",
        "units=8",
        "--set",
        "decay_after=1",
        "--set",
        "backup_seconds=0",
        "--set",
        "generate_length=3",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    meta = out.with_name("run.partial") / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if meta.exists() and json.loads(meta.read_text() or "{}").get("epoch", -1) >= 2:  # epochs done
            break
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped_after = json.loads(meta.read_text())["epoch"]
    assert 2 <= stopped_after < 4

    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resuming ptb_lstm_small from epoch {stopped_after + 1}" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 4 and metrics["resumed_from_epoch"] == stopped_after + 1
    model = keras.saving.load_model(out / "model.keras")
    assert int(model.optimizer.iterations) == 4 * 3  # not (4 - epochs done before the kill) * 3
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, lm.EpochDecay) and schedule.steps_per_epoch == 3
    # lr 1 x num_steps 20, halved once per epoch after the first: 20 * 0.5 ** 4 at step 12.
    assert float(model.optimizer.learning_rate) == pytest.approx(20 * 0.5**4)


def test_validation_loss_is_the_mean_over_real_tokens_not_diluted_by_padding():
    """Issue 31: on a small evaluation set val_loss was 0.119 against a perplexity of 6.99."""
    keras.utils.set_random_seed(3)
    ids = np.random.default_rng(2).integers(0, 9, size=30).astype(np.int32)  # 29 pairs in 4 x 10 = 40 slots
    batch, steps = 4, 5
    model = lm.build_char_rnn(vocab_size=9, hidden=6, batch_size=batch, num_steps=steps, stateful=True)
    lm.compile_language_model(model, "sgd")
    scores = model.evaluate(lmdata.eval_dataset(ids, batch, steps), return_dict=True, verbose=0)
    np.testing.assert_allclose(scores["loss"], np.log(scores["perplexity"]), rtol=1e-4)

"""squad_bert end to end on a tiny random BERT: head, schedule, training via zoo.fit, files, serving, CLI."""

from __future__ import annotations

import json
import string

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import serve_in_fresh_process
from zoo.data import squad as squad_data
from zoo.layers.span_head import SpanHead
from zoo.models.bert_qa import WarmupLinearDecay, compile_bert_qa

WORDS = "the a of in is was who what capital france paris city big river team won game blue red".split()
QUESTION = "What is the capital of France?"
FILLER = "The blue team won the game. " * 6
LONG_CONTEXT = FILLER + "The capital of France is Paris, a big city on a river. " + FILLER  # 3+ windows of 48
SHORT_CONTEXT = "The capital of France is Paris."
SMALL = dict(max_seq_length=48, doc_stride=16, max_query_length=12, batch_size=8)


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A keras-hub preset folder: 2-layer, 64-wide random BertBackbone and a small WordPiece vocabulary."""
    import keras_hub

    folder = tmp_path_factory.mktemp("tiny_bert")
    vocab = list(
        dict.fromkeys(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            + list(string.ascii_lowercase)
            + ["##" + c for c in string.ascii_lowercase]
            + list(".,?!'")
            + WORDS
        )
    )
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    keras.utils.set_random_seed(0)
    keras_hub.models.BertTokenizer(vocabulary=str(folder / "vocab.txt"), lowercase=True).save_to_preset(folder)
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocab),
        num_layers=2,
        num_heads=2,
        hidden_dim=64,
        intermediate_dim=128,
        max_sequence_length=64,
    ).save_to_preset(folder)
    return str(folder)


def _squad_file(path, v2=False):
    start = LONG_CONTEXT.index("Paris")
    qas = [
        {"id": f"q{i}", "question": QUESTION, "answers": [{"text": "Paris", "answer_start": start}]} for i in range(12)
    ]
    if v2:
        qas.insert(0, {"id": "nope", "question": "Who won the river?", "answers": [], "is_impossible": True})
    data = {
        "version": "v2.0" if v2 else "1.1",
        "data": [{"title": "t", "paragraphs": [{"context": LONG_CONTEXT, "qas": qas}]}],
    }
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture(scope="module")
def trained(preset, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("squad_run")
    squad = _squad_file(tmp / "train.json")
    settings = dict(preset=preset, train_file=squad, predict_file=squad, epochs=4, learning_rate=2e-3, **SMALL)
    result = zoo.fit("squad_bert", out=tmp / "run", verbose=0, **settings)
    return result, settings


def test_span_head_masks_question_and_padding_and_round_trips():
    head = SpanHead()
    seq = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    segments = np.array([[0, 0, 0, 1, 1, 0], [0, 0, 1, 1, 1, 1]])
    mask = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]])
    start, end = (np.asarray(t) for t in head(seq, segments, mask))
    assert start.dtype == np.float32 and start.shape == (2, 6)
    blocked = (segments == 0) | (mask == 0)
    blocked[:, 0] = False  # [CLS] stays open for "no answer"
    assert (start[blocked] <= -1e8).all() and (end[~blocked] > -1e8).all()
    clone = SpanHead.from_config(head.get_config())
    clone.build(seq.shape)
    clone.set_weights(head.get_weights())
    np.testing.assert_allclose(np.asarray(clone(seq, segments, mask)[0]), start)


def test_warmup_then_linear_decay_and_no_decay_on_layernorm_and_bias():
    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(schedule(s)) for s in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0, 5e-4, 1e-3, 5e-4, 0, 0], atol=1e-9)
    assert WarmupLinearDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.LayerNormalization()(inputs)))
    model.build((None, 4))
    for v in model.trainable_variables:  # no weight is 0, so decay would show on every one
        v.assign(np.ones(v.shape, "float32"))
    optimizer = compile_bert_qa(model, learning_rate=1e-3, total_steps=10, warmup_fraction=0.0).optimizer
    # With zero gradients AdamW moves a weight only through its decay: w -= lr * weight_decay * w.
    optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    decayed = {v.name: bool(np.any(np.asarray(v) < 1.0)) for v in model.trainable_variables}
    assert decayed == {"gamma": False, "beta": False, "kernel": True, "bias": False}


def test_mixed_precision_keeps_float32_logits():
    import keras_hub

    from zoo.models.bert_qa import build_bert_qa, dtype_policy

    with dtype_policy("mixed_float16"):
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=16
        )
        model = compile_bert_qa(build_bert_qa(backbone), learning_rate=1e-3, total_steps=10)
    assert keras.config.dtype_policy().name == "float32"  # the process's policy is restored
    assert model.dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    x = {k: np.ones((2, 16), "int32") for k in ("token_ids", "segment_ids", "padding_mask")}
    out = model(x)
    assert out["start_positions"].dtype == "float32" and out["end_positions"].dtype == "float32"
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"


@pytest.mark.slow
def test_training_writes_predictions_and_scores(trained):
    result, _ = trained
    files = {p.name for p in result.run_dir.iterdir()}
    assert {"model.keras", "saved_model", "predictions.json", "metrics.json"} <= files
    assert "null_odds.json" not in files
    predictions = json.loads((result.run_dir / "predictions.json").read_text())
    assert predictions == {f"q{i}": "Paris" for i in range(12)}
    assert result.metrics["dev_exact_match"] == 100.0 and result.metrics["dev_f1"] == 100.0
    reloaded = zoo.export.load(result.run_dir)
    x = {k: np.zeros((1, 48), "int32") for k in ("token_ids", "segment_ids", "padding_mask")}
    np.testing.assert_allclose(reloaded(x)["start_positions"], result.model(x)["start_positions"], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["tfsm", "load"])
def test_saved_model_answers_long_contexts_in_a_fresh_process(trained, method):
    result, _ = trained
    inputs = {"question": [QUESTION, QUESTION, "?"], "context": [LONG_CONTEXT, SHORT_CONTEXT, ""]}
    out = serve_in_fresh_process(result.run_dir / "saved_model", inputs, method=method)
    assert set(out) == {"answer", "start", "end", "score", "span", "null_odds"}
    assert out["answer"][0].decode() == "Paris"
    start, end = int(out["start"][0]), int(out["end"][0])
    assert LONG_CONTEXT[start:end] == "Paris" and start == LONG_CONTEXT.index("Paris")
    short = out["answer"][1].decode()
    assert SHORT_CONTEXT[int(out["start"][1]) : int(out["end"][1])] == short and short
    assert out["answer"][2] == b"" and out["start"][2] == -1  # no context tokens, no answer
    assert np.isfinite(out["score"][:2]).all()


@pytest.mark.slow
def test_answer_api_matches_the_report(trained):
    result, _ = trained
    predictions = json.loads((result.run_dir / "predictions.json").read_text())
    got = zoo.squad.answer(result.run_dir, QUESTION, LONG_CONTEXT)
    assert got["answer"] == predictions["q0"] and LONG_CONTEXT[got["start"] : got["end"]] == got["answer"]
    assert np.isfinite(got["score"]) and got["span"] == got["answer"]
    assert zoo.squad.answer(result.run_dir, [QUESTION], [SHORT_CONTEXT])[0]["answer"]


@pytest.mark.slow
def test_evaluate_only_scores_a_finished_run_on_v2(trained, tmp_path):
    """`--evaluate-only --set checkpoint=RUN_DIR` with `version=2`: null odds, HasAns/NoAns, v2 serving."""
    result, settings = trained
    v2_file = _squad_file(tmp_path / "v2.json", v2=True)
    scored = zoo.fit(
        "squad_bert",
        out=tmp_path / "eval",
        evaluate_only=True,
        max_steps=2,
        verbose=0,
        **{**settings, "checkpoint": str(result.run_dir), "version": 2, "predict_file": v2_file, "dev_loss": True},
    )
    metrics = json.loads((scored.run_dir / "metrics.json").read_text())
    assert "epochs_trained" not in metrics and "val_loss" in metrics
    for key in ("dev_HasAns_exact", "dev_NoAns_exact", "dev_best_f1", "dev_best_f1_thresh"):
        assert key in metrics
    # --max-steps 2 caps the report at 2 x batch_size (8) = 16 questions: all 13 here
    predictions = json.loads((scored.run_dir / "predictions.json").read_text())
    null_odds = json.loads((scored.run_dir / "null_odds.json").read_text())
    assert set(null_odds) == set(predictions) == {"nope"} | {f"q{i}" for i in range(12)}
    got = zoo.squad.answer(scored.run_dir, ["Who won the river?", QUESTION], [LONG_CONTEXT, LONG_CONTEXT])
    for row in got:
        assert row["answer"] == LONG_CONTEXT[row["start"] : row["end"]] or (row["answer"], row["start"]) == ("", -1)
    assert got[1]["span"] == "Paris"  # the checkpoint's weights, not a fresh head
    assert [r["answer"] for r in got] == [predictions["nope"], predictions["q0"]]  # the report's null threshold
    assert got[1]["null_odds"] == pytest.approx(null_odds["q0"], abs=1e-4)


def test_unloadable_preset_is_one_actionable_error(tmp_path):
    from zoo.models.bert_qa import load_vocabulary

    with pytest.raises(
        FileNotFoundError, match=r"preset=.*: the BERT preset could not be loaded .*give the absolute path"
    ):
        load_vocabulary(str(tmp_path / "no_such_bert_folder"))


@pytest.mark.slow
def test_saved_model_answers_every_part_a_dev_question_as_predictions_json(shared_data, minilm_folder, tmp_path):
    """One definition of the answer: the exported SavedModel, in a process that never imported the zoo,
    gives exactly `predictions.json` for every question of a held-out real article (the first
    paragraphs of part-a's last article, 60-odd questions; all 295 took two minutes to answer twice)."""
    raw = json.loads((shared_data / "squad" / "dev-v1.1-part-a.json").read_text())
    held_out, kept = dict(raw["data"][-1]), []
    for paragraph in held_out["paragraphs"]:
        kept.append(paragraph)
        if sum(len(p["qas"]) for p in kept) >= 60:
            break
    held_out["paragraphs"] = kept
    part_a = tmp_path / "part-a-small.json"
    part_a.write_text(json.dumps({**raw, "data": [*raw["data"][:2], held_out]}))
    part_a = str(part_a)
    result = zoo.fit(
        "squad_bert",
        out=tmp_path / "run",
        verbose=0,
        preset=str(minilm_folder),
        train_file=part_a,
        dev_articles=1,
        train_examples=32,
        epochs=1,
        batch_size=16,
        max_seq_length=128,
        doc_stride=64,
    )
    predictions = json.loads((result.run_dir / "predictions.json").read_text())
    examples = [e for article in squad_data.load(part_a)[-1:] for e in article]
    assert len(predictions) == len(examples) >= 60
    served = serve_in_fresh_process(
        result.run_dir / "saved_model",
        {"question": [e.question for e in examples], "context": [e.context for e in examples]},
        batch_size=16,
    )
    mismatched = [e.qid for e, a in zip(examples, served["answer"]) if a.decode() != predictions[e.qid]]
    assert mismatched == []

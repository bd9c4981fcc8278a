"""Every kind of exported model takes any batch: empty, one row, empty strings, 10,000 words, non-ASCII.

One tiny run of a recipe per kind of serving input (table rows, images, strings to probabilities,
words to vectors, question + context, strings to strings, scores and generations); each
endpoint of its SavedModel is called on the hostile batches, and the output keeps the batch size
with the trailing shape and dtype of an ordinary batch. `zoo.export.save_serving` writes every
recipe's SavedModel, so what holds for these kinds holds for each recipe of that kind.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import zoo

LONG = "word " * 10_000
ODD = "Ünïcödé — 中文 ✓ 😀"
STRINGS = [[], [""], ["a good film"], [LONG], [ODD], ["", ODD, "fine", LONG]]

# recipe, hyper-parameters of a tiny run, the batches to serve
CASES = {
    "iris_mlp": (
        {"epochs": 1},
        [np.zeros((0, 4), "float32"), np.ones((1, 4), "float32"), np.full((3, 4), 1e6, "float32")],
    ),
    "mnist_cnn": ({"epochs": 1}, [np.zeros((0, 28, 28), "float32"), np.full((1, 28, 28), 255, "float32")]),
    "textcnn_mr": ({"epochs": 1, "filters": 2, "vocab_size": 200}, STRINGS),
    "lstm_mr": ({"epochs": 1, "units": 4, "dense_units": 4, "vocab_size": 200}, STRINGS),
    "self_attentive_mr": ({"epochs": 1, "hops": 2, "attention_units": 4, "units": 4, "vocab_size": 200}, STRINGS),
    "skipgram_ptb": ({"epochs": 1, "dim": 8, "max_vocab": 500}, [[], ["the"], ["", ODD, "zebra-not-in-ptb"]]),
}


def _rows(batch) -> int:
    return len(batch) if not isinstance(batch, dict) else len(next(iter(batch.values())))


def _check_endpoint(endpoint, batches):
    outputs = []
    for batch in batches:
        x = (
            {k: tf.constant(v, tf.string) for k, v in batch.items()}
            if isinstance(batch, dict)
            else (tf.constant(batch, tf.string) if isinstance(batch, list) else tf.constant(batch))
        )
        out = endpoint(x)
        leaves = tf.nest.flatten(out)
        for leaf in leaves:
            assert leaf.shape[0] == _rows(batch), (batch if _rows(batch) < 5 else "...", leaf.shape)
            if leaf.dtype.is_floating:  # +-inf is an answer (SQuAD's "no span" score), NaN never
                assert not np.isnan(leaf.numpy()).any()
        outputs.append(leaves)
    reference = outputs[-1]
    for leaves in outputs:  # the same trailing shapes and dtypes whatever the batch
        assert [(t.dtype, t.shape[1:]) for t in leaves] == [(t.dtype, t.shape[1:]) for t in reference]


QA = [
    {"question": [], "context": []},
    {"question": ["Who won?"], "context": ["Denver beat Carolina."]},
    {"question": ["", "Who?", ODD], "context": ["", LONG, ODD]},
]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES) + ["squad_bert"])
def test_saved_model_takes_any_batch(name, shared_data, tmp_path, request):
    if name == "squad_bert":
        part_a = str(shared_data / "squad" / "dev-v1.1-part-a.json")
        settings = {
            "preset": str(request.getfixturevalue("minilm_folder")),
            "train_file": part_a,
            "dev_articles": 1,
            "train_examples": 8,
            "epochs": 1,
            "batch_size": 4,
            "max_seq_length": 64,
            "doc_stride": 32,
            "max_query_length": 16,
        }
        batches = QA
    else:
        settings, batches = CASES[name]
    result = zoo.fit(name, data_dir=shared_data, out=tmp_path / "run", max_steps=1, verbose=0, **settings)
    loaded = tf.saved_model.load(str(result.run_dir / "saved_model"))
    endpoints = [k for k in loaded.signatures if k != "serving_default"]
    assert "serve" in endpoints
    for endpoint in endpoints:
        _check_endpoint(getattr(loaded, endpoint), batches)

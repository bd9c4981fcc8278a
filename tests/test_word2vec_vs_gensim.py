"""benchmarks/word2vec_vs_gensim.py: both sides' analogies by the zoo's evaluator, and PTB for the ARCH_ptb rows."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.word2vec_vs_gensim import (
    PTB_EPOCHS,
    PTB_SETTINGS,
    gensim_corpus,
    score_gensim_vectors,
    whole_row,
    whole_table,
)
from zoo.data.analogy import read_questions
from zoo.metrics.analogy import analogy_accuracy
from zoo.recipes import get

gensim = pytest.importorskip("gensim")

# most frequent first, as gensim orders a trained vocabulary; "prince" is the 7th word
WORDS = {
    "man": [1, 0, 0],
    "woman": [1, 1, 0],
    "king": [0, 0, 1],
    "queen": [0, 1, 1],
    "walk": [1, 0, 1],
    "walked": [1, 1, 1],
    "prince": [0.1, 0, 1],
}
QUESTIONS = """: family
man woman king queen
king queen man woman
man king woman prince
: gram7-past-tense
walk walked man woman
"""


def test_gensim_vectors_are_scored_by_the_zoos_evaluator_with_gensims_own_beside(tmp_path):
    vectors = gensim.models.KeyedVectors(vector_size=3)
    vectors.add_vectors(list(WORDS), np.array(list(WORDS.values()), "float32"))
    questions = tmp_path / "questions.txt"
    questions.write_text(QUESTIONS)
    scores = score_gensim_vectors(vectors, questions, restrict=6)
    zoo_side = analogy_accuracy(
        ["[UNK]", *WORDS], np.array([[0, 0, 0], *WORDS.values()], "float32"), read_questions(questions), restrict=6
    )
    assert {k: scores[f"analogy_{k}"] for k in ("accuracy", "answered", "oov", "semantic", "syntactic")} == {
        k: zoo_side[k] for k in ("accuracy", "answered", "oov", "semantic", "syntactic")
    }
    assert scores["analogy_answered"] == 3 and scores["analogy_oov"] == 1  # "prince" is outside the 6 words
    assert scores["gensim_analogy_answered"] == 3 and 0 <= scores["gensim_analogy_accuracy"] <= 1
    assert scores["cross_check_seconds"] >= 0


def test_whole_table_compares_the_shared_evaluators_numbers():
    common = {"train_seconds": 10.0, "train_words_per_second": 1e5, "analogy_answered": 100}
    zoo_run = whole_row({**common, "analogy_accuracy": 0.20}, 60.0, 2048, 1.0, ["zoo"])
    gensim_run = whole_row(
        {
            **common,
            "analogy_accuracy": 0.25,
            "gensim_analogy_accuracy": 0.90,
            "gensim_analogy_answered": 99,
            "cross_check_seconds": 20.0,
        },
        50.0,
        1024,
        1.0,
        ["gensim"],
    )
    assert gensim_run["whole_seconds"] == 30.0 and gensim_run["wall_seconds"] == 50.0  # the cross-check left out
    table = whole_table({"zoo_1": zoo_run, "gensim_1": gensim_run})
    assert "| gensim_1 | 30 | 100,000 | 1 | 25.00% | 100 | 90.00% |" in table
    assert "| zoo_1 | 60 | 100,000 | 2 | 20.00% | 100 | - |" in table
    assert "gap -5.00 points (zoo - gensim)" in table  # not -70: gensim's own number is only a cross-check


@pytest.mark.parametrize("recipe", ["cbow_ptb", "skipgram_ptb"])
def test_ptb_settings_are_the_ptb_recipes_defaults(recipe):
    params = get(recipe).params()
    assert {key: params[key].default for key in PTB_SETTINGS} == PTB_SETTINGS
    assert params["epochs"].default == PTB_EPOCHS


def test_gensim_reads_ptb_as_the_ptb_recipes_do(shared_data):
    sentences, words = gensim_corpus(shared_data, ptb=True)
    model = gensim.models.Word2Vec(min_count=PTB_SETTINGS["min_count"])
    model.build_vocab(sentences)
    from zoo.data import ptb
    from zoo.data.skipgrams import encode_corpus

    vocabulary, ids, _ = encode_corpus(ptb.load(shared_data)["train"], 50_000, 5, unk_token="<unk>")
    assert set(model.wv.index_to_key) == set(vocabulary.words[1:])  # `<unk>` out of the vocabulary on both sides
    assert words == len(ids) == 887_521

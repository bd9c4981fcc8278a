"""Values that pass the type check but cannot work (issue 31): refused before any work, naming the flag."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import run_cli
from zoo import recipes
from zoo.data.splits import split_table, take_out
from zoo.errors import UserError
from zoo.recipes import RunContext

# a score difference: any finite value; every other number is bounded
_UNBOUNDED = {("squad_bert", "null_score_diff_threshold")}


def _numbers(kind: type):
    for recipe in recipes.all_recipes():
        for key, param in recipe.params().items():
            if param.kind is kind and not param.choices and recipe.name != "toy":  # toy: the tests' own
                yield recipe, key, param


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "1e400"])
def test_every_float_hyper_parameter_refuses_non_finite_values(text):
    for recipe, key, _ in _numbers(float):
        with pytest.raises(UserError, match=f"^{key}={text}: expected"):
            recipes.resolve_hparams(recipe, {key: text})
        with pytest.raises(UserError):
            recipes.resolve_hparams(recipe, {key: float(text)})  # from Python (zoo.fit) too


def test_every_number_has_the_bounds_it_needs_and_its_default_is_within_them():
    unbounded = [
        (r.name, k)
        for kind in (int, float)
        for r, k, p in _numbers(kind)
        if not p.bounded and (r.name, k) not in _UNBOUNDED
    ]
    assert unbounded == []
    for kind in (int, float):
        for recipe, key, param in _numbers(kind):
            assert param.accepts(param.default), (recipe.name, key)


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("iris_mlp", "test_size", "0"),
        ("iris_mlp", "test_size", "1"),
        ("iris_mlp", "val_size", "1.0"),
        ("iris_mlp", "learning_rate", "-0.1"),
        ("mnist_mlp", "dropout", "1"),
        ("cnn1d_mr", "filters", "0"),
        ("cnn1d_mr", "vocab_size", "2"),
        ("textcnn_mr", "embedding_dim", "0"),
        ("skipgram_ptb", "negatives", "0"),
        ("skipgram_ptb", "max_vocab", "1"),
        ("char_rnn", "temperature", "0"),
        ("char_rnn", "top_p", "0"),
        ("char_rnn", "top_k", "0"),
        ("char_rnn", "clipnorm", "0"),
        ("ptb_lstm_small", "decay", "0"),
        ("ptb_lstm_small", "layers", "0"),
        ("lstm_mr", "units", "0"),
        ("self_attentive_mr", "dense_units", "0"),
        ("title_generation", "test_size", "0"),
    ],
)
def test_numbers_out_of_their_real_range_are_refused(name, key, value):
    with pytest.raises(UserError, match=f"^{key}={value}: expected"):
        recipes.resolve_hparams(recipes.get(name), {key: value})


@pytest.mark.parametrize(
    ("name", "overrides", "says"),
    [
        ("textcnn_mr", {"windows": "3,57"}, "widths from 1 to sequence_length"),
        ("textcnn_mr", {"windows": "0"}, "widths from 1"),
        ("textcnn_mr", {"windows": "three"}, "widths from 1"),
        ("textcnn_r8", {"windows": ","}, "widths from 1"),
        ("cnn1d_mr", {"kernel_size": "57"}, "wider than the padded text"),
    ],
)
def test_hyper_parameters_that_cannot_work_together_are_refused_before_data(tmp_path, name, overrides, says):
    recipe = recipes.get(name)
    hp = recipes.resolve_hparams(recipe, overrides)
    with pytest.raises(UserError, match=says):  # no data at tmp_path: the check comes first
        recipe.data(hp, RunContext(data_dir=tmp_path / "none", run_dir=tmp_path))


@pytest.mark.parametrize(
    ("test_size", "val_size", "param"), [(0.99, 0.1, "test_size"), (0.01, 0.1, "test_size"), (0.5, 0.99, "val_size")]
)
def test_a_split_that_leaves_a_part_empty_names_its_parameter(test_size, val_size, param):
    x, y = np.zeros((30, 2)), np.repeat(np.arange(3), 10)
    with pytest.raises(UserError, match="cannot split") as raised:
        split_table(x, y, test_size=test_size, val_size=val_size, seed=0, stratify=True)
    assert raised.value.param == param
    with pytest.raises(UserError, match="^val_fraction=2.0"):
        take_out((x, y), 2.0, 0, param="val_fraction")


def test_cli_refuses_a_non_finite_learning_rate_in_one_line_and_leaves_nothing(tmp_path):
    done = run_cli("iris_mlp", "--set", "learning_rate=inf", "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1]
        == "error: --set learning_rate=inf: expected a finite value of type float > 0.0"
    )
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


def _context(tmp_path) -> RunContext:
    return RunContext(data_dir=tmp_path / "no-data", run_dir=tmp_path)


def test_a_character_corpus_with_fewer_characters_than_top_k_is_refused_in_data(tmp_path):
    """Before: it trained, then failed in the report's or the export's top-k sampler (exit 1)."""
    corpus = tmp_path / "ab.txt"
    corpus.write_text("abab ba\n" * 50)
    recipe = recipes.get("char_rnn")
    hp = recipes.resolve_hparams(recipe, {"corpus": str(corpus), "batch_size": 4, "num_steps": 5})
    with pytest.raises(UserError, match="ab.txt has 5 distinct characters.*fewer than top_k") as raised:
        recipe.data(hp, _context(tmp_path))
    assert raised.value.params == {"top_k": 10}
    hp = recipes.resolve_hparams(recipe, {"corpus": str(corpus), "batch_size": 4, "num_steps": 5, "top_k": 5})
    assert recipe.data(hp, _context(tmp_path)).info.vocab_size == 5


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({}, "min_count"),  # no word is seen 5 times
        ({"min_count": 1, "neighbours": 900}, "neighbours"),
        ({"min_count": 1, "batch_size": 100_000}, "batch_size"),
    ],
)
def test_a_word_corpus_too_small_for_the_settings_is_refused_in_data(tmp_path, overrides, param):
    corpus = tmp_path / "words.txt"
    corpus.write_text("\n".join(f"w{i} x{i} y{i}" for i in range(300)))
    recipe = recipes.get("skipgram_corpus")
    hp = recipes.resolve_hparams(recipe, {"corpus": str(corpus), **overrides})
    with pytest.raises(UserError, match="words.txt") as raised:
        recipe.data(hp, _context(tmp_path))
    assert raised.value.param == param


def test_squad_window_without_room_for_context_is_refused_before_any_data(tmp_path):
    import zoo

    with pytest.raises(UserError, match=r"max_query_length \+ 3 must be below max_seq_length"):
        zoo.fit("squad_bert", data_dir=tmp_path / "no_data", out=tmp_path / "run", max_seq_length=64)
    assert list(tmp_path.iterdir()) == []  # no run folder, no .partial, nothing downloaded

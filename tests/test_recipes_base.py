"""Hyper-parameter parsing and the recipe registry."""

import pytest

from tests.toy_recipe import TOY
from zoo import recipes
from zoo.recipes import Param


def test_overrides_are_type_checked_and_coerced():
    hp = recipes.resolve_hparams(TOY, {"epochs": "3", "learning_rate": "0.5", "batch_size": 8})
    assert (hp.epochs, hp.learning_rate, hp.batch_size, hp.seed) == (3, 0.5, 8, 1337)


def test_unknown_key_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown hyper-parameter 'lr'.*learning_rate"):
        recipes.resolve_hparams(TOY, {"lr": "1"})


def test_wrong_type_says_what_is_expected():
    with pytest.raises(ValueError, match=r"^epochs=three: expected a value of type int"):
        recipes.resolve_hparams(TOY, {"epochs": "three"})


@pytest.mark.parametrize("text,value", [("true", True), ("0", False), ("Yes", True)])
def test_bool_tuple_and_choices(text, value):
    assert recipes.parse_value("flag", Param(False), text) is value
    assert recipes.parse_value("windows", Param((3, 4, 5)), "2,3") == (2, 3)
    with pytest.raises(ValueError, match="expected one of rand, static"):
        recipes.parse_value("variant", Param("rand", choices=("rand", "static")), "dynamic")
    with pytest.raises(ValueError, match="expected a value of type bool"):
        recipes.parse_value("flag", Param(False), "maybe")


def test_unknown_recipe_lists_known_ones():
    with pytest.raises(ValueError, match="unknown recipe 'nope'; known recipes: .*toy"):
        recipes.get("nope")


def test_bounds_include_an_exclusive_maximum():
    smoothing = Param(0.0, minimum=0.0, maximum=1.0, exclusive_maximum=True)
    assert recipes.parse_value("label_smoothing", smoothing, "0.5") == 0.5
    with pytest.raises(ValueError, match=r"^label_smoothing=1.0: expected a value of type float >= 0.0 and < 1.0$"):
        recipes.parse_value("label_smoothing", smoothing, "1.0")


def test_hparams_are_read_only_and_name_the_declared_ones():
    hp = recipes.resolve_hparams(TOY)
    with pytest.raises(AttributeError, match="no hyper-parameter 'vectors'; declared: .*learning_rate"):
        hp.vectors
    with pytest.raises(AttributeError, match="read-only"):
        hp.epochs = 3
    assert hp.to_dict()["epochs"] == 2 and hp == recipes.resolve_hparams(TOY)


def test_a_user_error_names_its_argument_in_python_and_as_a_flag_on_the_command_line():
    import pickle

    from zoo.errors import DataNotFound, UserError, command_line_message

    error = DataNotFound("no such file", param="vectors", value="glove.txt")
    assert str(error) == "vectors=glove.txt: no such file" and isinstance(error, FileNotFoundError)
    assert command_line_message(error) == "--set vectors=glove.txt: no such file"
    unknown = UserError("needs a path", param="corpus")
    assert str(unknown) == "corpus: needs a path"
    assert command_line_message(unknown) == "--set corpus: needs a path"
    assert command_line_message(unknown, {"corpus": "x.txt"}) == "--set corpus=x.txt: needs a path"
    both = UserError("need fold < folds", params={"folds": 3, "fold": 5})
    assert command_line_message(both) == "--set folds=3 --set fold=5: need fold < folds"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DataNotFound and str(copy) == str(error)
    assert command_line_message(UserError("plain")) == "plain"

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
    with pytest.raises(ValueError, match=r"epochs='three': expected a value of type int"):
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

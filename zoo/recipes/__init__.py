"""The recipe registry: every chapter module (`chNN.py`) in this package registers its recipes on import.

Modules here that are not chapters (`base`, and pieces several chapters share, such as
`text_classification`) register nothing and are imported by the chapters that use them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from zoo.errors import UserError
from zoo.recipes.base import (
    COMMON_PARAMS,
    Data,
    HParams,
    Param,
    Recipe,
    RunContext,
    register,
    registered,
    unregister,
)

__all__ = [
    "COMMON_PARAMS",
    "Data",
    "HParams",
    "Param",
    "Recipe",
    "RunContext",
    "register",
    "unregister",
    "get",
    "names",
    "all_recipes",
    "resolve_hparams",
    "parse_value",
]

_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("ch") and module.name[2:].isdigit():
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def all_recipes() -> list[Recipe]:
    """Every registered recipe, ordered by chapter then name."""
    _load_all()
    return sorted(registered().values(), key=lambda r: (r.chapter, r.name))


def names() -> list[str]:
    return [r.name for r in all_recipes()]


def get(name: str) -> Recipe:
    """The recipe called `name`; a `UserError` listing the known names otherwise."""
    _load_all()
    recipe = registered().get(name)
    if recipe is None:
        raise UserError(f"unknown recipe {name!r}; known recipes: {', '.join(names())}")
    return recipe


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_value(key: str, param: Param, value: Any) -> Any:
    """Coerce `value` (a CLI string or a Python value) to the parameter's type, or say what is allowed."""
    kind = param.kind
    refused = UserError(f"expected {param.allowed()}", param=key, value=value)  # the value as given
    try:
        if isinstance(value, str) and kind is not str:
            text = value.strip()
            if kind is bool:
                if text.lower() not in _TRUE | _FALSE:
                    raise ValueError
                value = text.lower() in _TRUE
            elif kind in (tuple, list):
                value = kind(
                    int(v) if v.strip().lstrip("-").isdigit() else v.strip() for v in text.split(",") if v.strip()
                )
            else:
                value = kind(text)
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif kind is tuple and isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError
    except ValueError:
        raise refused from None
    if not param.accepts(value):
        raise refused
    return value


def resolve_hparams(recipe: Recipe, overrides: dict[str, Any] | None = None) -> HParams:
    """Defaults of `recipe` with `overrides` applied, type-checked; unknown keys are an error."""
    params = recipe.params()
    values = {k: p.default for k, p in params.items()}
    for key, value in (overrides or {}).items():
        if key not in params:
            raise UserError(f"unknown hyper-parameter {key!r} for {recipe.name}; allowed: {', '.join(sorted(params))}")
        values[key] = parse_value(key, params[key], value)
    return HParams(**values)

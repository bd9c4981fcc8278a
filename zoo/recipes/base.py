"""What a recipe declares for the one `fit` driver: hyper-parameters, data, model, serving, report."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic

import keras
import tensorflow as tf

from zoo.data.pipelines import Data, InfoT

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Param:
    """A hyper-parameter: its default, its type (inferred from the default if omitted), help text.

    `choices` restricts the value, `minimum` / `maximum` bound a number (inclusive, unless
    `exclusive_minimum` / `exclusive_maximum`); a recipe that gives none of these gets the
    conventional bounds of its name (`CONVENTIONAL_BOUNDS`: `dropout` is in [0, 1), ...). A float
    must be finite (`nan` passes every comparison). `type=str` with `default=""` is the way to say
    "optional path". The command line and `zoo.fit` refuse a value outside these before any work.
    """

    default: Any
    help: str = ""
    type: type | None = None
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: bool = False
    exclusive_minimum: bool = False

    def allowed(self) -> str:
        """What values are allowed, for help and error messages."""
        if self.choices:
            return f"one of {', '.join(map(str, self.choices))}"
        open_ended = self.kind is float and (self.minimum is None or self.maximum is None)
        text = f"a {'finite ' if open_ended else ''}value of type {self.kind.__name__}"
        above = ">" if self.exclusive_minimum else ">="
        below = "<" if self.exclusive_maximum else "<="
        if self.minimum is not None and self.maximum is not None:
            if self.exclusive_maximum or self.exclusive_minimum:
                return f"{text} {above} {self.minimum} and {below} {self.maximum}"
            return f"{text} from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"{text} {above} {self.minimum}"
        if self.maximum is not None:
            return f"{text} {below} {self.maximum}"
        return text

    def accepts(self, value: Any) -> bool:
        """Whether a value of the right type is among the choices and within the bounds."""
        if self.choices and value not in self.choices:
            return False
        if self.kind not in (int, float):
            return True
        if self.kind is float and not math.isfinite(value):
            return False
        if self.minimum is not None and (value <= self.minimum if self.exclusive_minimum else value < self.minimum):
            return False
        if self.maximum is not None and (value >= self.maximum if self.exclusive_maximum else value > self.maximum):
            return False
        return True

    @property
    def kind(self) -> type:
        return self.type or type(self.default)

    @property
    def bounded(self) -> bool:
        """Whether the recipe said which values are allowed (choices or a bound)."""
        return bool(self.choices) or self.minimum is not None or self.maximum is not None


class HParams:
    """Resolved hyper-parameters of one run, read as attributes (`hp.epochs`); read-only.

    Built by `zoo.recipes.resolve_hparams` from a recipe's declared `Param`s (and the driver's common
    ones), so every attribute a recipe reads is one it declared: asking for another is an
    `AttributeError` naming the declared ones (there is no `getattr(hp, name, default)` fallback to
    lean on; code shared by several recipes takes what it needs as explicit arguments).
    """

    __slots__ = ("_values",)

    def __init__(self, **values: Any) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(f"no hyper-parameter {name!r}; declared: {', '.join(sorted(values))}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"hyper-parameters are read-only (tried to set {name!r})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HParams) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HParams({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"

    def __reduce__(self):
        return (_hparams, (self.to_dict(),))

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._values})

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)


def _hparams(values: dict[str, Any]) -> HParams:
    return HParams(**values)


@dataclasses.dataclass(frozen=True)
class RunContext:
    """Where a run reads and writes, handed to `data` and `report` (with the training history)."""

    data_dir: Path
    run_dir: Path  # the (still partial) run folder; files written here land atomically
    max_steps: int | None = None  # cap on batches per epoch / evaluation (smoke runs)
    is_chief: bool = True  # False on non-chief workers of a multi-worker run
    strategy: tf.distribute.Strategy | None = None
    # The per-epoch metrics (`history.csv`, one row per epoch, earlier attempts of a resumed run
    # included), set by the driver after training for `report`; None in `data` and with --evaluate-only.
    history: pd.DataFrame | None = None


@dataclasses.dataclass(frozen=True)
class Recipe(Generic[InfoT]):
    """One worked example of the course, declared for the driver (it never calls `fit` itself).

    A recipe is generic in its data family's info (`Recipe[TextInfo]`): its `data` returns
    `Data[InfoT]` and its `model`, `serving`, `report` and `callbacks` take that `Data[InfoT]`.

    Args:
        name: CLI name, e.g. `"iris_mlp"`.
        chapter: the book chapter (12 for the SQuAD thesis work).
        dataset: the dataset name shown by `--list`.
        summary: one line for `--list`.
        hparams: name -> default value or `Param`. `epochs` and `batch_size` defaults belong here;
            the driver adds `seed`, `patience`, `checkpoint` and `backup_seconds` to every recipe.
        data: `(hp, ctx) -> Data[InfoT]`; preprocessing is adapted on the training split only.
        model: `(hp, data) -> keras.Model`, built *and compiled*; called inside `strategy.scope()`.
        serving: `(hp, data, model) -> keras.Model` taking what a user has (raw strings, raw
            pixels, raw feature rows). Functional models export with their own `inputs`; any other
            model must carry an `input_signature` attribute. `None` serves the trained model.
        report: `(hp, data, model, ctx) -> dict` of task metrics (and extra files in `ctx.run_dir`).
        monitor: the quantity for the best checkpoint and early stopping.
        callbacks: `(hp, data) -> [keras.callbacks.Callback, ...]` added to the driver's own
            (e.g. chapter 6's nearest-neighbour printer).
    """

    name: str
    chapter: int
    dataset: str
    summary: str
    hparams: Mapping[str, Any]
    data: Callable[[HParams, RunContext], Data[InfoT]]
    model: Callable[[HParams, Data[InfoT]], keras.Model]
    serving: Callable[[HParams, Data[InfoT], keras.Model], keras.Model] | None = None
    report: Callable[[HParams, Data[InfoT], keras.Model, RunContext], dict] | None = None
    monitor: str = "val_loss"
    callbacks: Callable[[HParams, Data[InfoT]], list] | None = None

    def params(self) -> dict[str, Param]:
        """All hyper-parameters with the driver's common ones, as `Param`s."""
        merged = dict(COMMON_PARAMS)
        for key, value in self.hparams.items():
            if isinstance(value, Param):
                common = COMMON_PARAMS.get(key)
                if common is not None and value.minimum is None and value.maximum is None:
                    value = dataclasses.replace(value, minimum=common.minimum, maximum=common.maximum)
                merged[key] = value
            elif key in COMMON_PARAMS:  # a recipe overriding only a common default (its range stays)
                merged[key] = dataclasses.replace(COMMON_PARAMS[key], default=value)
            else:
                merged[key] = Param(value)
        for key, param in merged.items():
            kind, bounds = CONVENTIONAL_BOUNDS.get(key, (None, {}))
            if param.kind is kind and not param.bounded:
                merged[key] = dataclasses.replace(param, **bounds)
        return merged


COMMON_PARAMS: dict[str, Param] = {
    "epochs": Param(10, "passes over the training data", minimum=1),
    "batch_size": Param(32, "global batch size (split across replicas)", minimum=1),
    "seed": Param(
        1337, "seeds Python, NumPy, TensorFlow and Keras, and every data split", minimum=0, maximum=2**32 - 1
    ),
    "patience": Param(0, "early stopping patience in epochs on the monitored quantity (0 = off)", minimum=0),
    "checkpoint": Param("", "a finished run folder whose model.keras initialises this run", type=str),
    "backup_seconds": Param(
        60.0, "back up the training state (and the best weights) at most this often (0 = every epoch)", minimum=0.0
    ),
}

_FRACTION = {"minimum": 0.0, "maximum": 1.0, "exclusive_maximum": True}  # a rate such as dropout: [0, 1)
_POSITIVE = {"minimum": 0.0, "exclusive_minimum": True}
_AT_LEAST_1 = {"minimum": 1}

# What a hyper-parameter's name means wherever a recipe declares it without bounds of its own:
# name -> (the type it has, its bounds). Values outside these reach Keras, TensorFlow or
# scikit-learn as tracebacks (a Conv1D of 0 filters, a split of 0 rows, a TextVectorization of one
# token) or train to nothing. A recipe whose name means something else declares its own bounds.
CONVENTIONAL_BOUNDS: dict[str, tuple[type, dict[str, Any]]] = {
    **{name: (float, {"minimum": 0.0}) for name in ("learning_rate", "weight_decay", "penalty", "noise")},
    **{name: (float, {"minimum": 0.0}) for name in ("clipnorm", "max_norm", "subsample")},  # 0 = off
    **{name: (float, _FRACTION) for name in ("dropout", "label_smoothing", "val_size", "val_fraction")},
    "test_size": (float, {**_FRACTION, "exclusive_minimum": True}),  # a test split needs a row
    "warmup_fraction": (float, {"minimum": 0.0, "maximum": 1.0}),
    "top_p": (float, {"minimum": 0.0, "maximum": 1.0, "exclusive_minimum": True}),
    **{name: (float, _POSITIVE) for name in ("temperature", "init_scale", "decay")},
    **{
        name: (int, _AT_LEAST_1)
        for name in (
            *("dim", "embedding_dim", "units", "hidden", "filters", "hidden_dims", "dense_units", "layers"),
            *("attention_units", "hops", "kernel_size", "sequence_length", "window", "negatives", "min_count"),
            *("neighbours", "analogy_restrict", "top_k", "generate_length", "max_source_length"),
            "max_target_length",
        )
    },
    **{name: (int, {"minimum": 0}) for name in ("maps", "samples", "decay_after", "heatmaps")},
    "vocab_size": (int, {"minimum": 3}),  # the padding, the out-of-vocabulary token and one word
    "max_vocab": (int, {"minimum": 2}),  # [UNK] and one word
}

_REGISTRY: dict[str, Recipe] = {}


def register(recipe: Recipe, *, replace: bool = False) -> Recipe:
    """Add a recipe to the registry (chapter modules call this at import time).

    A second recipe of the same name is a bug unless `replace` (tests and notebooks redefining one).
    """
    if recipe.name in _REGISTRY and not replace:
        raise ValueError(f"recipe {recipe.name!r} is registered twice")
    _REGISTRY[recipe.name] = recipe
    return recipe


def unregister(name: str) -> None:
    """Remove a recipe from the registry (no error if it is not there)."""
    _REGISTRY.pop(name, None)


def registered() -> dict[str, Recipe]:
    """A copy of the registry as it is now (without importing the chapter modules)."""
    return dict(_REGISTRY)

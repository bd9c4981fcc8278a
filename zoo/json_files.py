"""Strict JSON for every file the zoo writes (`metrics.json`, `config.json`, reports).

Python's `json` writes `NaN`, `Infinity` and `-Infinity` by default, which are not JSON: strict
parsers (JavaScript's `JSON.parse`, `jq`, Go, Rust's serde) refuse the whole file. Here a
non-finite float becomes `null` (a perplexity that overflowed, a loss that diverged: "no usable
number"), NumPy scalars and arrays become numbers and lists, tuples lists, and anything else
unknown its `str`.

    >>> dumps({"perplexity": float("inf"), "loss": 0.5})
    '{"loss": 0.5, "perplexity": null}'
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def strict(value: Any) -> Any:
    """`value` with JSON's own types only: non-finite floats as None, NumPy values as Python ones."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [strict(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy scalars and arrays, eager tensors' .numpy()
        return strict(value.tolist())
    if hasattr(value, "numpy"):
        return strict(value.numpy())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` of `strict(value)` (sorted keys unless `sort_keys=False`); never writes NaN or Infinity."""
    kwargs.setdefault("sort_keys", True)
    return json.dumps(strict(value), allow_nan=False, **kwargs)


def write_json(path: str | os.PathLike, value: Any, **kwargs: Any) -> None:
    """Write `value` as indented strict JSON (UTF-8), atomically: a temporary file, then `os.replace`.

    A failed write (a full disk) leaves the previous file as it was and no temporary file behind.
    """
    path = Path(path)
    kwargs.setdefault("indent", 2)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(dumps(value, **kwargs) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

"""`zoo.squad.answer`: ask a trained SQuAD model a question about a context (chapter 12)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from zoo.errors import DataNotFound, UserError


@functools.lru_cache(maxsize=4)
def _load(path: str):
    import tensorflow as tf

    return tf.saved_model.load(path)


def _saved_model_dir(path: str | os.PathLike) -> str:
    path = Path(path).expanduser()
    if (path / "saved_model" / "saved_model.pb").exists():
        path = path / "saved_model"
    if not (path / "saved_model.pb").exists():
        raise DataNotFound(f"{path} is neither a squad_bert run folder nor its saved_model/ folder")
    return str(path.resolve())


def answer(model_or_path: Any, question: str | list[str], context: str | list[str]) -> dict | list[dict]:
    """The answer span(s): `{"answer": str, "start": int, "end": int, "score": float}` per question.

    Args:
        model_or_path: a `squad_bert` run folder or its `saved_model/`, or a serving model
            (`zoo.squad.serving.SquadServer`, e.g. built by the recipe's `serving`).
        question, context: one string each, or equally long lists.

    `context[start:end] == answer`; an unanswerable question (v2.0) gives "" with start = end = -1.

    Example:
        >>> zoo.squad.answer("saved_models/squad_bert/run1", "Who won?", "The Broncos won Super Bowl 50.")
    """
    import tensorflow as tf

    single = isinstance(question, str)
    questions = [question] if single else list(question)
    contexts = [context] if isinstance(context, str) else list(context)
    if len(questions) != len(contexts):
        raise UserError(f"{len(questions)} questions but {len(contexts)} contexts")
    inputs = {"question": tf.constant(questions, tf.string), "context": tf.constant(contexts, tf.string)}
    if isinstance(model_or_path, (str, os.PathLike)):
        outputs = _load(_saved_model_dir(model_or_path)).serve(inputs)
    else:
        outputs = model_or_path(inputs)
    rows = [
        {"answer": a.decode("utf-8"), "start": int(s), "end": int(e), "score": float(p)}
        for a, s, e, p in zip(*(outputs[k].numpy() for k in ("answer", "start", "end", "score")))
    ]
    return rows[0] if single else rows

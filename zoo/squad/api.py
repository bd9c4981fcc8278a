"""`zoo.squad.answer`: ask a trained SQuAD model questions about contexts (chapter 12)."""

from __future__ import annotations

import functools
import os
import weakref
from pathlib import Path
from typing import Any

from zoo.errors import DataNotFound, UserError


@functools.lru_cache(maxsize=4)
def _load(path: str):
    import tensorflow as tf

    return tf.saved_model.load(path)


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _serve_function(model_or_path: Any):
    """The serving graph: a SavedModel's `serve`, or a serving model's `call` traced once."""
    import tensorflow as tf

    if isinstance(model_or_path, (str, os.PathLike)):
        return _load(_saved_model_dir(model_or_path)).serve
    if model_or_path not in _TRACED:
        _TRACED[model_or_path] = tf.function(model_or_path.call, input_signature=model_or_path.input_signature)
    return _TRACED[model_or_path]


def _saved_model_dir(path: str | os.PathLike) -> str:
    path = Path(path).expanduser()
    if (path / "saved_model" / "saved_model.pb").exists():
        path = path / "saved_model"
    if not (path / "saved_model.pb").exists():
        raise DataNotFound(f"{path} is neither a squad_bert run folder nor its saved_model/ folder")
    return str(path.resolve())


def answer(
    model_or_path: Any, question: str | list[str], context: str | list[str], batch_size: int = 32
) -> dict | list[dict]:
    """The answer(s): `{"answer", "start", "end", "score", "span", "null_odds"}` per question.

    Args:
        model_or_path: a `squad_bert` run folder or its `saved_model/`, or a serving model
            (`zoo.squad.serving.SquadServer`, e.g. built by the recipe's `serving`).
        question, context: one string each, or equally long lists.
        batch_size: questions per call of the model (long contexts give several windows each).

    `context[start:end] == answer`; an unanswerable question (v2.0) gives "" with start = end = -1.
    `score` is the answer's start + end logit; `span` the best non-null span and `null_odds` the
    null score minus its score (see `zoo.squad.spans.best_answers`). The recipe's evaluation calls
    this same function on its serving model, so a run's `predictions.json` is what it answers.

    Example:
        >>> zoo.squad.answer("saved_models/squad_bert/run1", "Who won?", "The Broncos won Super Bowl 50.")
        {'answer': 'The Broncos', 'start': 0, 'end': 11, ...}
    """
    import tensorflow as tf

    single = isinstance(question, str)
    questions = [question] if single else list(question)
    contexts = [context] if isinstance(context, str) else list(context)
    if len(questions) != len(contexts):
        raise UserError(f"{len(questions)} questions but {len(contexts)} contexts")
    serve = _serve_function(model_or_path)
    rows: list[dict] = []
    for first in range(0, len(questions), batch_size):
        outputs = serve(
            {
                "question": tf.constant(questions[first : first + batch_size], tf.string),
                "context": tf.constant(contexts[first : first + batch_size], tf.string),
            }
        )
        columns = {k: v.numpy() for k, v in outputs.items()}
        for i in range(len(columns["answer"])):
            rows.append(
                {
                    "answer": columns["answer"][i].decode("utf-8"),
                    "start": int(columns["start"][i]),
                    "end": int(columns["end"][i]),
                    "score": float(columns["score"][i]),
                    "span": columns["span"][i].decode("utf-8"),
                    "null_odds": float(columns["null_odds"][i]),
                }
            )
    return rows[0] if single else rows

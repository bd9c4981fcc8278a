"""Exporting and loading models: `.keras` files and end-to-end SavedModels (a `serve` endpoint, and others)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from zoo import disk
from zoo.errors import DataNotFound


def save_serving(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write `model` as a TF SavedModel, atomically (temp folder, then rename); returns `path`.

    The `serve` endpoint calls the model: functional models with their own inputs; any other model
    must carry an `input_signature` (a list with one `tf.TensorSpec` or one dict of them, as
    `TFSMLayer` needs). A model may add endpoints with an `endpoints` attribute,
    `{name: (function, input_signature)}` (e.g. a language model's `generate`).

    Every endpoint answers an empty batch with empty outputs of the right shape and dtype, without
    running the model: a server that batches requests sends empty batches, and some kernels
    (oneDNN's matrix multiply) fail on them.

    A full disk raises `zoo.errors.DiskFull` naming `path`, and leaves no temporary folder behind.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    signature = getattr(model, "input_signature", None) or [
        tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype, name=t.name), model.input)
    ]
    endpoints = {"serve": (model.__call__, signature), **getattr(model, "endpoints", {})}
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (function, spec) in endpoints.items():
        archive.add_endpoint(name, empty_batch_guard(function, spec), input_signature=spec)
    with disk.writing(path, tmp=tmp):
        disk.reserve(path, 2 * disk.estimated_size(model))  # the variables, and the traced graphs beside them
        archive.write_out(str(tmp), verbose=False)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    return path


def empty_batch_guard(function, input_signature: list):
    """`function` that returns empty outputs (shape `[0, ...]`, same dtypes) for an empty batch, without calling it.

    The batch size is that of the first input with a batch axis (scalar inputs are options, such as
    a temperature). The outputs' structure and dtypes come from tracing `function` on
    `input_signature`; unknown trailing dimensions of an empty output are 0.
    """
    outputs = tf.function(function).get_concrete_function(*input_signature).structured_outputs

    def empty(spec):
        return tf.zeros([0] + [d or 0 for d in spec.shape[1:]], spec.dtype)

    batched = [i for i, s in enumerate(tf.nest.flatten(input_signature)) if s.shape.rank]  # scalars are options

    def guarded(*args):
        rows = tf.shape(tf.nest.flatten(args)[batched[0]])[0]
        return tf.cond(rows > 0, lambda: function(*args), lambda: tf.nest.map_structure(empty, outputs))

    return guarded


def load(path: str | os.PathLike) -> keras.Model:
    """The trained Keras model of a run folder (or a `.keras` file), ready to fine-tune."""
    import zoo.layers  # noqa: F401  (registers the zoo's custom layers for deserialisation)
    import zoo.models  # noqa: F401

    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.exists():
        raise DataNotFound(f"{path} not found (expected a run folder holding model.keras)")
    return keras.saving.load_model(path)

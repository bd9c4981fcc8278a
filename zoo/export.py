"""Exporting and loading models: `.keras` files and end-to-end SavedModels with one `serve` endpoint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import keras

from zoo.errors import DataNotFound


def save_serving(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write `model` as a TF SavedModel with one `serve` endpoint, atomically (temp folder, then rename).

    Functional models export with their own inputs; any other model must carry an
    `input_signature` (a list with one `tf.TensorSpec` or one dict of them, as `TFSMLayer` needs).
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    signature = getattr(model, "input_signature", None)
    model.export(str(tmp), format="tf_saved_model", input_signature=signature, verbose=False)
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)
    return path


def serving_layer(path: str | os.PathLike) -> keras.layers.Layer:
    """A `TFSMLayer` over an exported SavedModel (a run folder or its `saved_model/`), for other Keras code."""
    path = Path(path)
    if (path / "saved_model").is_dir():
        path = path / "saved_model"
    if not (path / "saved_model.pb").exists():
        raise DataNotFound(f"{path} is not a SavedModel folder (no saved_model.pb)")
    return keras.layers.TFSMLayer(str(path), call_endpoint="serve")


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

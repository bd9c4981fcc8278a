"""Course Zoo: the models of "Deep Learning for Text Mining" as reusable Keras 3 code.

Public API::

    import zoo
    result = zoo.fit("iris_mlp", epochs=5)        # train, evaluate and export one recipe
    zoo.recipes.names()                            # every registered recipe
    zoo.export.load(result.run_dir)                # the trained Keras model
    zoo.squad.answer(run_dir, question, context)   # chapter 12 question answering

Submodules load on first use, so `import zoo.data.mnist` or `import zoo.models.textcnn` pulls in
neither the recipes nor the training driver.
"""

import os

# Keras 3 must run on TensorFlow here: tf.distribute, tf.data and SavedModel export depend on it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["fit", "RunResult", "recipes", "export", "squad", "data", "visualize", "errors"]
__version__ = "0.1.0"

_SUBMODULES = (
    "recipes",
    "training",
    "export",
    "squad",
    "data",
    "visualize",
    "serving",
    "callbacks",
    "layers",
    "models",
    "metrics",
    "errors",
)


def __getattr__(name: str):
    """`zoo.fit`, `zoo.RunResult` and the submodules (`zoo.recipes`, `zoo.export`, ...) on first use."""
    import importlib

    if name in ("fit", "RunResult"):
        return getattr(importlib.import_module("zoo.training.driver"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")

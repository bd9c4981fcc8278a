"""Course Zoo: the models of "Deep Learning for Text Mining" as reusable Keras 3 code.

Public API::

    import zoo
    result = zoo.fit("iris_mlp", epochs=5)        # train, evaluate and export one recipe
    zoo.recipes.names()                            # every registered recipe
    zoo.export.load(result.run_dir)                # the trained Keras model
    zoo.squad.answer(run_dir, question, context)   # chapter 12 question answering
"""

import os

# Keras 3 must run on TensorFlow here: tf.distribute, tf.data and SavedModel export depend on it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo import recipes  # noqa: E402
from zoo.training.driver import RunResult, fit  # noqa: E402

__all__ = ["fit", "RunResult", "recipes", "export", "squad", "data", "plots"]


def __getattr__(name: str):
    """Import the heavier submodules (`zoo.export`, `zoo.squad`, ...) on first use."""
    if name in ("export", "squad", "data", "plots", "layers", "models", "metrics"):
        import importlib

        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
__version__ = "0.1.0"

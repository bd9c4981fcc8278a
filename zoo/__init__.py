"""Course Zoo: the models of "Deep Learning for Text Mining" as reusable Keras 3 code.

Public API::

    import zoo
    result = zoo.fit("iris_mlp", epochs=5)        # train, evaluate and export one recipe
    zoo.recipes.names()                            # every registered recipe
    zoo.export.load(result.run_dir)                # the trained Keras model
    zoo.squad.answer(run_dir, question, context)   # chapter 12 question answering
    zoo.quiet_tensorflow_start()                   # optional: import TensorFlow without its start-up lines

Submodules load on first use, so `import zoo.data.mnist` or `import zoo.models.textcnn` pulls in
neither the recipes nor the training driver.
"""

import os
import re
import sys
import tempfile

# Keras 3 must run on TensorFlow here: tf.distribute, tf.data and SavedModel export depend on it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ log: 2 hides INFO and WARNING but keeps ERROR lines (a real fault in a kernel or
# a collective often says more there than the Python exception). Level 3 would also hide cuInit's
# "E0000 ... failed call to cuInit" on machines without a GPU, but with every real error; instead
# `quiet_tensorflow_start` drops the start-up lines that no level reaches (they are written before
# absl::InitializeLog). A value the user set is theirs: then nothing is hidden.
_USER_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow's start-up lines on a machine without a GPU, none of them a fault.
_START_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} .*"  # INFO lines written before absl::InitializeLog (oneDNN, "Could not find cuda drivers")
    r"|E\d{4} .*failed call to cuInit.*)$"
)


def quiet_tensorflow_start() -> None:
    """Import TensorFlow and find its devices with its start-up lines dropped from stderr.

    Everything else written meanwhile (Python warnings, real errors) is written to stderr afterwards.
    Does nothing if TensorFlow is already imported or the user set `TF_CPP_MIN_LOG_LEVEL`.
    """
    if _USER_LOG_LEVEL or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)  # the C++ lines go to file descriptor 2, not to sys.stderr
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # where cuInit is called
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line for line in captured.read().decode(errors="replace").splitlines() if not _START_NOISE.match(line)
            ]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


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

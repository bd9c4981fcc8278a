"""Course Zoo: the models of "Deep Learning for Text Mining" as reusable Keras 3 code.

Public API::

    import zoo
    result = zoo.fit("iris_mlp", epochs=5)        # train, evaluate and export one recipe
    zoo.recipes.names()                            # every registered recipe
"""

import os

# Keras 3 must run on TensorFlow here: tf.distribute, tf.data and SavedModel export depend on it.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo import recipes  # noqa: E402
from zoo.training.driver import RunResult, fit  # noqa: E402

__all__ = ["fit", "RunResult", "recipes"]
__version__ = "0.1.0"

"""The one training driver: strategy resolution, callbacks, run folders.

Public: `fit` (train, evaluate and export a recipe), `prepare_data` (a recipe's data exactly as `fit`
trains on it), `RunResult`, `TrainingDiverged`, and `strategy.resolve`.
"""

from zoo.training.driver import RunResult, TrainingDiverged, fit, prepare_data

__all__ = ["fit", "prepare_data", "RunResult", "TrainingDiverged"]

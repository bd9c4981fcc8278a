"""The one training driver: strategy resolution, callbacks, run folders.

Public: `fit` (train, evaluate and export a recipe), `prepare_data` (a recipe's data exactly as `fit`
trains on it), `RunResult`, `TrainingDiverged`, and `strategy.resolve`.

Modules by role: `driver` (`fit` as named steps over a `RunState`), `loop` (`model.fit` with the
driver's callbacks, resuming, stopping on Ctrl-C / SIGTERM), `run_folder` (`RunFolder`: the atomic
`DIR.partial` folder, its checks and files), `callbacks` (the driver's own callbacks), `strategy`.
"""

from zoo.training.driver import RunResult, TrainingDiverged, fit, prepare_data

__all__ = ["fit", "prepare_data", "RunResult", "TrainingDiverged"]

"""Chapter 8's word-LM configurations (Zaremba et al. 2014 and the book) and their optimizers.

Zaremba's loss is summed over the `num_steps` of a window (averaged over the batch) while Keras
averages over both. The same SGD steps (learning rate 1, gradient norm clipped at 5 on the summed
loss) are therefore `learning_rate * num_steps` with the norm clipped at `clipnorm / num_steps` on
Keras' mean loss; `zaremba_optimizer` does this rescaling, so the logged loss stays the per-token
cross-entropy. `zoo.models.language_model` re-exports everything here.
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

# ----------------------------------------------------------------------------- configurations


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig:
    """Hyper-parameters of one word-level LSTM language model (Zaremba et al. 2014, section 4).

    `decay_after` is the number of epochs at the initial learning rate; every later epoch
    multiplies it by `decay` (small: lr 1 for 4 epochs, then halved each epoch).
    """

    units: int
    num_steps: int
    batch_size: int
    dropout: float
    epochs: int
    learning_rate: float
    decay: float
    decay_after: int
    clipnorm: float
    init_scale: float
    optimizer: str = "sgd"
    layers: int = 2


CONFIGS: dict[str, LanguageModelConfig] = {
    # Zaremba et al. (2014) "Recurrent neural network regularization", section 4.1 (the paper's text).
    "small": LanguageModelConfig(
        units=200,
        num_steps=20,
        batch_size=20,
        dropout=0.0,
        epochs=13,
        learning_rate=1.0,
        decay=0.5,
        decay_after=4,
        clipnorm=5.0,
        init_scale=0.1,
    ),
    "medium": LanguageModelConfig(
        units=650,
        num_steps=35,
        batch_size=20,
        dropout=0.5,
        epochs=39,
        learning_rate=1.0,
        decay=1 / 1.2,
        decay_after=6,
        clipnorm=5.0,
        init_scale=0.05,
    ),
    "large": LanguageModelConfig(
        units=1500,
        num_steps=35,
        batch_size=20,
        dropout=0.65,
        epochs=55,
        learning_rate=1.0,
        decay=1 / 1.15,
        decay_after=14,
        clipnorm=10.0,
        init_scale=0.04,
    ),
    # The book's code: hidden 500, num_steps 30, batch 20, dropout 0.5, 50 epochs, Adam; clipping added.
    "book": LanguageModelConfig(
        units=500,
        num_steps=30,
        batch_size=20,
        dropout=0.5,
        epochs=50,
        learning_rate=1e-3,
        decay=1.0,
        decay_after=50,
        clipnorm=5.0,
        init_scale=0.05,
        optimizer="adam",
    ),
}


@keras.saving.register_keras_serializable(package="zoo")
class EpochDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial * decay ** max(0, epoch - decay_after + 1)` with `epoch = step // steps_per_epoch`.

    Zaremba et al.'s schedule as a Keras schedule: it reads the optimizer's step counter, which
    `BackupAndRestore` saves, so a resumed run continues with the right rate.

    Args:
        initial: the learning rate of the first `decay_after` epochs.
        decay: the factor applied once per later epoch (0.5 halves it).
        decay_after: epochs at the initial rate.
        steps_per_epoch: batches per epoch.

    Example:
        >>> schedule = EpochDecay(1.0, 0.5, decay_after=4, steps_per_epoch=10)
        >>> [float(schedule(step)) for step in (0, 39, 40, 50)]
        [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, initial: float, decay: float, decay_after: int, steps_per_epoch: int):
        self.initial = float(initial)
        self.decay = float(decay)
        self.decay_after = int(decay_after)
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / float(max(1, self.steps_per_epoch)))
        times = ops.maximum(epoch - float(self.decay_after) + 1.0, 0.0)
        return self.initial * ops.power(self.decay, times)

    def get_config(self):
        return {
            "initial": self.initial,
            "decay": self.decay,
            "decay_after": self.decay_after,
            "steps_per_epoch": self.steps_per_epoch,
        }


def zaremba_optimizer(config: LanguageModelConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimizer of a config, rescaled for Keras' per-token mean loss (see the module docstring).

    SGD: learning rate `lr * num_steps` under `EpochDecay`, global norm clipped at `clipnorm / num_steps`
    (the same update as Zaremba's on a loss summed over the window). Adam is scale-invariant, so
    the book's Adam keeps its rate and the clipping is on the mean loss.
    """
    if config.optimizer == "sgd":
        schedule = EpochDecay(
            config.learning_rate * config.num_steps, config.decay, config.decay_after, steps_per_epoch
        )
        return keras.optimizers.SGD(schedule, global_clipnorm=config.clipnorm / config.num_steps)
    if config.optimizer == "adam":
        rate = (
            EpochDecay(config.learning_rate, config.decay, config.decay_after, steps_per_epoch)
            if config.decay != 1.0
            else config.learning_rate
        )
        return keras.optimizers.Adam(rate, global_clipnorm=config.clipnorm)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")

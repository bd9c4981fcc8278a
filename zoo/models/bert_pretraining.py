"""A small BERT pre-trained from scratch (masked LM + next sentence), and BERT text classifiers (chapter 12).

The network is keras-hub's `BertBackbone` (token + segment + position embeddings, post-LayerNorm
Transformer encoder, tanh pooler on `[CLS]`). Pre-training adds keras-hub's `MaskedLMHead` (dense, GELU,
LayerNorm, then the output projection tied to the token embedding, as in BERT) over the masked positions,
and a two-way next-sentence classifier on the pooled `[CLS]` vector (Devlin et al. 2019). Fine-tuning
puts dropout and one output unit on the pooled vector and trains everything with AdamW, linear warm-up
and linear decay, as the course teaches.
"""

from __future__ import annotations

import keras
import keras_hub

from zoo.models.bert_qa import WarmupLinearDecay
from zoo.models.classifier import classifier_head


def build_bert_backbone(
    *,
    vocabulary_size: int,
    num_layers: int = 4,
    num_heads: int = 4,
    hidden_dim: int = 128,
    intermediate_dim: int = 512,
    dropout: float = 0.1,
    max_sequence_length: int = 128,
) -> keras_hub.models.BertBackbone:
    """A randomly initialised `keras_hub.models.BertBackbone` (BERT-base: 12 layers, 12 heads, 768, 3072, 512).

    Example:
        >>> backbone = build_bert_backbone(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16,
        ...                                intermediate_dim=32, max_sequence_length=8)
        >>> backbone.count_params() > 0
        True
    """
    return keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        max_sequence_length=max_sequence_length,
    )


@keras.saving.register_keras_serializable(package="zoo")
class BertPretrainer(keras.Model):
    """`{token_ids, segment_ids, padding_mask, mask_positions}` -> `{"mlm": logits, "nsp": logits}`.

    `mlm` is `(batch, masks, vocabulary)` logits at `mask_positions`; `nsp` (only with
    `next_sentence=True`) is `(batch, 2)` logits of "B does not / does follow A". Written like a
    keras-hub task (a functional model that serialises its backbone), so the MLM output projection stays
    tied to the backbone's token embedding after loading a `.keras` file (a plain functional model
    would serialise the head's copy of the embedding separately and lose the tie).

    Args:
        backbone: a `keras_hub.models.BertBackbone` (e.g. `build_bert_backbone`).
        next_sentence: add the next-sentence head.

    Example:
        >>> model = BertPretrainer(build_bert_backbone(vocabulary_size=100, num_layers=1, num_heads=2,
        ...                        hidden_dim=16, intermediate_dim=32, max_sequence_length=8))
        >>> sorted(model.output)
        ['mlm', 'nsp']
    """

    def __init__(self, backbone: keras_hub.models.BertBackbone, next_sentence: bool = True, **kwargs):
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions"),
        }
        mlm_head = keras_hub.layers.MaskedLMHead(
            token_embedding=backbone.token_embedding,
            intermediate_activation="gelu",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="mlm_head",
        )
        features = backbone({k: inputs[k] for k in backbone.input})
        outputs = {"mlm": mlm_head(features["sequence_output"], mask_positions=inputs["mask_positions"])}
        if next_sentence:
            nsp = keras.layers.Dense(2, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), name="nsp")
            outputs["nsp"] = nsp(features["pooled_output"])
        else:  # the pooler gets no gradient without the next-sentence loss
            backbone.get_layer("pooled_dense").trainable = False
        super().__init__(inputs=inputs, outputs=outputs, name=kwargs.pop("name", "bert_pretrainer"), **kwargs)
        self.backbone, self.next_sentence = backbone, next_sentence

    def get_config(self):
        return {
            "backbone": keras.layers.serialize(self.backbone),
            "next_sentence": self.next_sentence,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


def adamw_warmup_linear(
    *, learning_rate: float, total_steps: int, warmup_fraction: float, weight_decay: float, clipnorm: float = 1.0
) -> keras.optimizers.AdamW:
    """BERT's optimiser: AdamW (no decay on LayerNorm and biases), linear warm-up then linear decay to 0."""
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(warmup_fraction * total_steps))
    optimizer = keras.optimizers.AdamW(
        schedule, weight_decay=weight_decay, epsilon=1e-6, global_clipnorm=clipnorm or None
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def compile_bert_pretrainer(model: BertPretrainer, optimizer: keras.optimizers.Optimizer) -> BertPretrainer:
    """Cross-entropy of the masked tokens plus, with next-sentence, that of next-sentence.

    The masked-token loss is the mean over the real masked tokens (`sample_weight["mlm"]` is 0 on the
    padded mask slots), BERT's `numerator / denominator`: a batch of short sequences does not count for
    less. The logs are named alike with or without next-sentence: `mlm_loss`, `mlm_accuracy` (over the
    real masked tokens) and, with it, `nsp_loss`, `nsp_accuracy`.
    """
    mlm_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    if model.next_sentence:
        losses = {"mlm": mlm_loss, "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}
        metrics = {name: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")] for name in losses}
    else:  # one output: Keras neither prefixes its metrics with "mlm_" nor logs a per-output loss
        losses = {"mlm": mlm_loss}
        metrics = {
            "mlm": [
                keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy"),
                keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="mlm_loss"),
            ]
        }
    model.compile(optimizer=optimizer, loss=losses, weighted_metrics=metrics)
    return model


def build_bert_classifier(
    backbone: keras_hub.models.BertBackbone, *, num_classes: int = 2, dropout: float = 0.1
) -> keras.Model:
    """`{token_ids, segment_ids, padding_mask}` -> class probabilities from the pooled `[CLS]` vector.

    Args:
        backbone: a `BertBackbone`: pre-trained (ours or a Hugging Face BERT) or fresh.
        num_classes: 2 gives one sigmoid unit (`zoo.models.classifier.classifier_head`).
        dropout: on the pooled vector (BERT's 0.1).

    Example:
        >>> model = build_bert_classifier(build_bert_backbone(vocabulary_size=100, num_layers=1, num_heads=2,
        ...                               hidden_dim=16, intermediate_dim=32, max_sequence_length=8))
        >>> model.output.shape
        (None, 1)
    """
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in backbone.input}
    pooled = backbone(inputs)["pooled_output"]
    pooled = keras.layers.Dropout(dropout, name="head_dropout")(pooled)
    return keras.Model(inputs, classifier_head(pooled, num_classes), name="bert_classifier")


def bert_sizes(model: keras.Model) -> dict[str, int | float]:
    """The sizes of the `BertBackbone` in `model` (a classifier of `build_bert_classifier`, or the backbone).

    Example:
        >>> backbone = build_bert_backbone(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16,
        ...                                intermediate_dim=32, max_sequence_length=8)
        >>> bert_sizes(build_bert_classifier(backbone))["hidden_dim"]
        16
    """
    if not isinstance(model, keras_hub.models.BertBackbone):
        model = next(layer for layer in model.layers if isinstance(layer, keras_hub.models.BertBackbone))
    return {
        "vocabulary_size": model.vocabulary_size,
        "num_layers": model.num_layers,
        "hidden_dim": model.hidden_dim,
        "num_heads": model.num_heads,
        "intermediate_dim": model.intermediate_dim,
        "dropout": model.dropout,
        "max_sequence_length": model.max_sequence_length,
    }


def compile_bert_classifier(
    model: keras.Model, optimizer: keras.optimizers.Optimizer, *, num_classes: int = 2
) -> keras.Model:
    """Binary (2 classes) or sparse categorical cross-entropy and accuracy, with BERT's optimiser."""
    loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model

"""The hierarchical attention network (Yang et al. 2016) as a document classifier: builder and attention probe.

    ids (batch, S, W) -> Embedding(mask_zero) -> HierarchicalAttention (word BiGRU + attention,
        sentence BiGRU + attention) -> document vector v -> Dropout -> Dense (sigmoid / softmax)

Yang et al.'s sizes are the defaults: embedding 200, GRU 50 per direction, context vectors of 100.
They trained with SGD (momentum 0.9, batch 64) on word2vec vectors of their own corpora; here Adam
from scratch, the zoo's other text classifiers' setting (`zoo.models.classifier.compile_classifier`),
with one sigmoid unit for two classes. Their model keeps every sentence and word; here a document is
cut to its first S sentences of W words (`zoo.data.sentences`), which makes every batch one dense tensor.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.layers.hierarchical_attention import HierarchicalAttention
from zoo.models.classifier import classifier_head

HAN_LAYER = "han"


def build_han_classifier(
    *,
    vocab_size: int,
    max_sentences: int | None,
    max_words: int | None,
    num_classes: int,
    embedding_dim: int = 200,
    units: int = 50,
    attention_units: int = 100,
    dropout: float = 0.0,
) -> keras.Model:
    """Yang et al.'s HAN over documents of `max_sentences` sentences of `max_words` word ids.

    Args:
        vocab_size: rows of the embedding (id 0 = padding, masked at both levels).
        max_sentences, max_words: S and W of the input ids (`None` for any).
        num_classes: k; one sigmoid unit for 2, a softmax otherwise (`classifier_head`).
        embedding_dim: word embedding size (Yang et al.: 200).
        units: GRU units per direction at both levels (Yang et al.: 50).
        attention_units: size of the word and sentence context vectors (Yang et al.: 100).
        dropout: dropout on the document vector before the output layer (Yang et al.: none).

    Returns:
        An uncompiled `keras.Model`, ids `(batch, S, W)` -> probabilities. `attention_model(model)`
        adds the word and sentence weights as outputs.

    Example:
        >>> model = build_han_classifier(vocab_size=100, max_sentences=4, max_words=6, num_classes=2,
        ...                              embedding_dim=8, units=4, attention_units=5)
        >>> model.output_shape
        (None, 1)
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    ids = keras.Input(shape=(max_sentences, max_words), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    document, _, _ = HierarchicalAttention(units=units, attention_units=attention_units, name=HAN_LAYER)(x)
    x = keras.layers.Dropout(dropout, name="dropout")(document)
    return keras.Model(ids, classifier_head(x, num_classes), name="han")


def attention_model(model: keras.Model) -> keras.Model:
    """The same weights with three outputs: `{"probabilities", "word_weights" (b, S, W), "sentence_weights" (b, S)}`."""
    _, words, sentences = model.get_layer(HAN_LAYER).output
    outputs = {"probabilities": model.outputs[0], "word_weights": words, "sentence_weights": sentences}
    return keras.Model(model.input, outputs, name=f"{model.name}_attention")


def class_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """`(m, k)` class probabilities from a classifier head's output (one sigmoid unit -> two columns)."""
    probabilities = np.asarray(probabilities, "float64")
    if probabilities.shape[-1] == 1:
        return np.concatenate([1.0 - probabilities, probabilities], axis=-1)
    return probabilities

"""Chapter 9 recurrent sentiment classifiers: (Bi)LSTM or peephole LSTM, mean over the real time steps."""

from __future__ import annotations

import keras

from zoo.layers.peephole import PeepholeLSTMCell
from zoo.models.classifier import classifier_head


def build_lstm_classifier(
    *,
    vocab_size: int,
    sequence_length: int,
    num_classes: int = 2,
    embedding_dim: int = 50,
    units: int = 100,
    cell: str = "lstm",
    peephole: str = "diagonal",
    bidirectional: bool = False,
    dropout: float = 0.5,
    dense_units: int = 100,
) -> keras.Model:
    """Embedding -> (Bi)LSTM(return_sequences) -> Dropout -> mean over time -> Dense -> classifier.

    The book averages over the padding too (a Lambda `K.mean`); here the embedding masks id 0 and
    `GlobalAveragePooling1D` averages only the real tokens (Keras 3's pooling honours the mask).
    `cell="peephole"` uses `RNN(PeepholeLSTMCell(units, peephole=...))` instead of `LSTM`.

    Args:
        vocab_size, sequence_length, num_classes, embedding_dim: as `zoo.models.textcnn.build_textcnn`.
        units: recurrent units (per direction).
        cell: `"lstm"` or `"peephole"`.
        peephole: `"diagonal"` (Gers & Schmidhuber) or `"full"` (the book's u x u matrices).
        bidirectional: wrap the recurrent layer in `Bidirectional`.
        dropout: after the recurrent layer.
        dense_units: the hidden Dense layer before the classifier.

    Example:
        >>> model = build_lstm_classifier(vocab_size=100, sequence_length=12, units=8, dense_units=8)
        >>> model.output.shape
        (None, 1)
    """
    if cell not in ("lstm", "peephole"):
        raise ValueError(f"cell must be 'lstm' or 'peephole', got {cell!r}")
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True)(ids)
    if cell == "lstm":
        rnn = keras.layers.LSTM(units, return_sequences=True)
    else:
        rnn = keras.layers.RNN(PeepholeLSTMCell(units, peephole=peephole), return_sequences=True)
    x = keras.layers.Bidirectional(rnn)(x) if bidirectional else rnn(x)
    x = keras.layers.Dropout(dropout)(x)
    x = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(x)
    x = keras.layers.Dense(dense_units, activation="relu")(x)
    name = ("bi" if bidirectional else "") + ("peephole_lstm" if cell == "peephole" else "lstm")
    return keras.Model(ids, classifier_head(x, num_classes), name=name)

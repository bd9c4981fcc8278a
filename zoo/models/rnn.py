"""Chapter 9 recurrent sentiment classifiers, and the one switch between the course's recurrent cells.

`recurrent_layer(cell, units)` is the switch the classifiers here and chapter 8's word language
models share: `simple_rnn` (Elman: one tanh layer), `gru` (Cho et al. 2014), `lstm` (the fused
Keras LSTM) or `peephole` (`RNN(PeepholeLSTMCell)`, chapter 9's gates that see the cell state).
"""

from __future__ import annotations

import keras

from zoo.errors import UserError
from zoo.layers.peephole import PeepholeLSTMCell
from zoo.layers.pooling import SequencePooling
from zoo.models.classifier import classifier_head

CELLS = ("simple_rnn", "gru", "lstm", "peephole")
DENSE_ACTIVATIONS = ("linear", "relu")


def check_cell(cell: str) -> None:
    """Refuse an unknown cell name in one line (a `UserError` naming `cell`)."""
    if cell not in CELLS:
        raise UserError(f"expected one of {', '.join(CELLS)}", param="cell", value=cell)


def recurrent_layer(cell: str, units: int, *, peephole: str = "diagonal", **kwargs) -> keras.layers.Layer:
    """A recurrent layer of `units` with the named cell; `kwargs` go to the layer (or the peephole cell).

    Args:
        cell: `"simple_rnn"`, `"gru"`, `"lstm"` or `"peephole"`.
        units: size of the hidden state.
        peephole: `"diagonal"` or `"full"` (the `peephole` cell only).
        **kwargs: `return_sequences`, `stateful`, `unroll`, `name` go to the layer; initialisers,
            `dropout` ... go to the layer, or to the cell for `peephole` (`keras.layers.RNN` takes no
            cell arguments). `unit_forget_bias` is dropped for cells without a forget gate.

    Example:
        >>> recurrent_layer("gru", 8, return_sequences=True)(np.zeros((2, 5, 3), "float32")).shape
        (2, 5, 8)
    """
    check_cell(cell)
    layer_keys = ("return_sequences", "return_state", "stateful", "unroll", "name", "go_backwards")
    if cell != "lstm" and cell != "peephole":
        kwargs.pop("unit_forget_bias", None)
    if cell == "simple_rnn":
        return keras.layers.SimpleRNN(units, **kwargs)
    if cell == "gru":
        return keras.layers.GRU(units, **kwargs)
    if cell == "lstm":
        return keras.layers.LSTM(units, **kwargs)
    layer_kwargs = {k: kwargs.pop(k) for k in layer_keys if k in kwargs}
    return keras.layers.RNN(PeepholeLSTMCell(units, peephole=peephole, **kwargs), **layer_kwargs)


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
    dense_activation: str = "linear",
) -> keras.Model:
    """Embedding -> (Bi)RNN(return_sequences) -> Dropout -> mean over time -> Dense -> classifier.

    The book averages over the padding too (a Lambda `K.mean`); here the embedding masks id 0 and
    `GlobalAveragePooling1D` averages only the real tokens (Keras 3's pooling honours the mask).

    The hidden `Dense(dense_units)` is linear, as the book prints it (`Dense(100)` with no
    activation). A linear layer between the mean and the sigmoid unit adds no expressive power (two
    linear maps compose into one); it only changes how the same function is parameterised.
    `dense_activation="relu"` makes it a real hidden layer (what the zoo used before; RESULTS.md
    compares the two on rt-polarity).

    Args:
        vocab_size, sequence_length, num_classes, embedding_dim: as `zoo.models.textcnn.build_textcnn`.
        units: recurrent units (per direction).
        cell: `"simple_rnn"`, `"gru"`, `"lstm"` (the book's) or `"peephole"` (see `recurrent_layer`).
        peephole: `"diagonal"` (Gers & Schmidhuber) or `"full"` (the book's u x u matrices).
        bidirectional: wrap the recurrent layer in `Bidirectional`.
        dropout: after the recurrent layer.
        dense_units: the hidden Dense layer before the classifier.
        dense_activation: `"linear"` (the book) or `"relu"`.

    Example:
        >>> model = build_lstm_classifier(vocab_size=100, sequence_length=12, units=8, dense_units=8, cell="gru")
        >>> model.output.shape
        (None, 1)
    """
    check_cell(cell)
    if dense_activation not in DENSE_ACTIVATIONS:
        raise UserError(
            f"expected one of {', '.join(DENSE_ACTIVATIONS)}", param="dense_activation", value=dense_activation
        )
    ids = keras.Input(shape=(sequence_length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True)(ids)
    rnn = recurrent_layer(cell, units, peephole=peephole, return_sequences=True)
    x = keras.layers.Bidirectional(rnn)(x) if bidirectional else rnn(x)
    x = keras.layers.Dropout(dropout)(x)
    # Not GlobalAveragePooling1D: a review with no known word (an empty string) would be 0 / 0 = NaN.
    x = SequencePooling("mean", name="mean_over_time")(x, padding_mask=keras.ops.not_equal(ids, 0))
    x = keras.layers.Dense(dense_units, activation=dense_activation, name="hidden")(x)
    name = ("bi" if bidirectional else "") + {"peephole": "peephole_lstm"}.get(cell, cell)
    return keras.Model(ids, classifier_head(x, num_classes), name=name)

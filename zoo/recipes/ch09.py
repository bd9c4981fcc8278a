"""Chapter 9 recipes: LSTM and peephole-LSTM sentiment classifiers with masked mean pooling over time.

`--set cell=simple_rnn|gru|lstm|peephole` swaps the recurrent cell of any of them (chapters 8-9
contrast the three; RESULTS.md has the table of cells x tasks). The hidden `Dense(100)` is linear as
in the book (`--set dense_activation=relu` for the zoo's earlier ReLU; see `build_lstm_classifier`).
"""

from __future__ import annotations

import keras

from zoo.data.text import TextInfo
from zoo.models.classifier import compile_classifier
from zoo.models.rnn import CELLS, DENSE_ACTIVATIONS, build_lstm_classifier
from zoo.recipes.base import Data, HParams, Param, Recipe, register
from zoo.recipes.text_classification import (
    MR_SPLIT_PARAMS,
    TEXT_PARAMS,
    imdb_data,
    mr_data,
    serve_strings,
)


def _model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = build_lstm_classifier(
        vocab_size=info.vocab_size,
        sequence_length=info.sequence_length,
        num_classes=info.num_classes,
        embedding_dim=hp.embedding_dim,
        units=hp.units,
        cell=hp.cell,
        peephole=hp.peephole,
        bidirectional=hp.bidirectional,
        dropout=hp.dropout,
        dense_units=hp.dense_units,
        dense_activation=hp.dense_activation,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)


_CELL = (
    "recurrent cell: simple_rnn, gru, lstm (keras.layers.LSTM, the book) or peephole (RNN(PeepholeLSTMCell))",
    CELLS,
)
_LSTM = {
    **TEXT_PARAMS,
    "vocab_size": Param(5000, "vocabulary size (the author's code: 5000)"),
    "units": Param(100, "LSTM units per direction"),
    "cell": Param("lstm", _CELL[0], choices=_CELL[1]),
    "peephole": Param(
        "diagonal",
        "peephole connections: diagonal (Gers & Schmidhuber) or full (the book)",
        choices=("diagonal", "full"),
    ),
    "bidirectional": Param(False, "wrap the recurrent layer in Bidirectional"),
    "dropout": Param(0.5, "dropout after the recurrent layer"),
    "dense_units": Param(100, "hidden Dense units"),
    "dense_activation": Param(
        "linear", "the hidden Dense's activation: linear (the book) or relu", choices=DENSE_ACTIVATIONS
    ),
    "epochs": 10,
    "batch_size": 64,
}

register(
    Recipe(
        name="lstm_mr",
        chapter=9,
        dataset="rt-polarity",
        summary="LSTM sentiment classifier (any cell: --set cell=gru, simple_rnn, peephole), mean over the real "
        "(masked) time steps, on sentence polarity",
        hparams={**_LSTM, **MR_SPLIT_PARAMS},
        data=mr_data,
        model=_model,
        serving=serve_strings,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="peephole_mr",
        chapter=9,
        dataset="rt-polarity",
        summary="Bidirectional(RNN(PeepholeLSTMCell)) sentiment classifier on sentence polarity",
        hparams={
            **_LSTM,
            **MR_SPLIT_PARAMS,
            "cell": Param("peephole", _CELL[0], choices=_CELL[1]),
            "bidirectional": Param(True, _LSTM["bidirectional"].help),
        },
        data=mr_data,
        model=_model,
        serving=serve_strings,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="lstm_imdb",
        chapter=9,
        dataset="imdb",
        summary="BiLSTM sentiment classifier (keras.io settings) on IMDB, raw text in",
        hparams={
            **_LSTM,
            "vocab_size": Param(20000, "vocabulary size"),
            "sequence_length": Param(200, "tokens per review"),
            "embedding_dim": Param(128, "embedding size"),
            "units": Param(64, "LSTM units per direction"),
            "bidirectional": Param(True, "BiLSTM"),
            "epochs": 2,
            "batch_size": 32,
        },
        data=imdb_data,
        model=_model,
        serving=serve_strings,
    )
)

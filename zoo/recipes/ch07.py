"""Chapter 7 recipes: the Embedding+Flatten toy, Kim's TextCNN and the 1D CNN on rt-polarity, IMDB and R8, and
the sequence-models notes' averaged-embedding sentiment model (`avg_embedding_mr`) beside them."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from zoo.data.text import TextInfo, classification_data
from zoo.errors import UserError
from zoo.models.average_embedding import build_average_embedding
from zoo.models.classifier import compile_classifier
from zoo.models.textcnn import (
    VARIANTS,
    build_cnn1d,
    build_embedding_flatten,
    build_textcnn,
)
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register
from zoo.recipes.text_classification import (
    MR_SPLIT_PARAMS,
    TEXT_PARAMS,
    VECTORS_PARAM,
    imdb_data,
    mr_data,
    mr_splits,
    r8_data,
    serve_strings,
    tfidf_baseline,
    using_vectors,
    vectors_report,
)

# The book's ten documents; it printed only eight labels, these are the ten the sentences deserve.
TOY_DOCS = [
    "Well done!",
    "Good work",
    "Great effort",
    "nice work",
    "Excellent!",
    "Weak",
    "Poor effort!",
    "not good",
    "poor work",
    "Could have done better.",
]
TOY_LABELS = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]


def _check_textcnn(hp: HParams) -> None:
    """Each window must fit the padded text (a wider Conv1D has no output to pool)."""
    windows = hp.windows
    if not windows or not all(isinstance(w, int) and 1 <= w <= hp.sequence_length for w in windows):
        raise UserError(
            f"expected one or more integer widths from 1 to sequence_length ({hp.sequence_length}), e.g. 3,4,5",
            params={"windows": ",".join(map(str, windows)), "sequence_length": hp.sequence_length},
        )


def _check_cnn1d(hp: HParams) -> None:
    if hp.kernel_size > hp.sequence_length:
        raise UserError(
            "the convolution is wider than the padded text",
            params={"kernel_size": hp.kernel_size, "sequence_length": hp.sequence_length},
        )


def _checked(check: Callable[[HParams], None], load: Callable) -> Callable:
    """`load` (a recipe's `data`) after `check` has refused hyper-parameters that cannot work together."""

    def data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
        check(hp)
        return load(hp, ctx)

    return data


def _textcnn_model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = build_textcnn(
        vocab_size=info.vocab_size,
        sequence_length=info.sequence_length,
        num_classes=info.num_classes,
        variant=hp.variant,
        embedding_dim=hp.embedding_dim,
        vectors=info.vectors,
        windows=hp.windows,
        filters=hp.filters,
        dropout=hp.dropout,
        max_norm=hp.max_norm,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)


def _cnn1d_model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = build_cnn1d(
        vocab_size=info.vocab_size,
        sequence_length=info.sequence_length,
        num_classes=info.num_classes,
        embedding_dim=hp.embedding_dim,
        filters=hp.filters,
        kernel_size=hp.kernel_size,
        hidden_dims=hp.hidden_dims,
        dropout=hp.dropout,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)


def _check_average(hp: HParams) -> None:
    if hp.freeze and not hp.vectors:
        raise UserError(
            "a frozen embedding needs pre-trained vectors: give --set vectors=FILE or leave freeze false",
            param="freeze",
            value=True,
        )


def _average_model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    info = data.info
    model = build_average_embedding(
        vocab_size=info.vocab_size,
        sequence_length=info.sequence_length,
        num_classes=info.num_classes,
        embedding_dim=hp.embedding_dim,
        vectors=info.vectors,
        freeze=hp.freeze,
    )
    return compile_classifier(model, num_classes=info.num_classes, learning_rate=hp.learning_rate)


def _average_report(hp: HParams, data: Data[TextInfo], model: keras.Model, ctx: RunContext) -> dict:
    """The vectors' coverage, and scikit-learn's TF-IDF + logistic regression on the same split."""
    train, held_out = mr_splits(hp, ctx)
    return {
        **vectors_report(hp, data, model, ctx),
        "baseline_tfidf_logreg_accuracy": tfidf_baseline(train, held_out, seed=hp.seed),
    }


def _toy_data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
    """The book's ten documents, all used for training (the book has no held-out data)."""
    return classification_data(
        (TOY_DOCS, np.array(TOY_LABELS)),
        vocab_size=hp.vocab_size,
        sequence_length=hp.sequence_length,
        batch_size=hp.batch_size,
        seed=hp.seed,
    )


def _toy_model(hp: HParams, data: Data[TextInfo]) -> keras.Model:
    model = build_embedding_flatten(
        vocab_size=data.info.vocab_size, sequence_length=hp.sequence_length, embedding_dim=hp.embedding_dim
    )
    return compile_classifier(model, num_classes=2, learning_rate=hp.learning_rate)


def _toy_report(hp: HParams, data: Data[TextInfo], model: keras.Model, ctx: RunContext) -> dict:
    """Training accuracy on the ten documents (the book's only result)."""
    scores = model.evaluate(data.train, return_dict=True, verbose=0)
    return {"train_accuracy": float(scores["accuracy"])}


_TEXTCNN = {
    **TEXT_PARAMS,
    **MR_SPLIT_PARAMS,
    "variant": Param(
        "rand",
        "rand | static | non-static | multichannel (Kim: two copies of the vectors) | book-multichannel "
        "(the book's 7.3.3: a random trainable channel + a frozen vectors channel, own kernels); all but rand "
        "need vectors",
        choices=VARIANTS,
    ),
    "vectors": VECTORS_PARAM,
    "windows": Param((3, 4, 5), "convolution window sizes", type=tuple),
    "filters": Param(10, "filters per window (book 10; paper 100)"),
    "dropout": Param(0.5, "dropout before the classifier"),
    "max_norm": Param(0.0, "max-norm of the output weights, 0 = off (paper 3)"),
    "epochs": 10,
    "batch_size": 50,
}
_CNN1D = {
    **TEXT_PARAMS,
    "vocab_size": Param(5000, "vocabulary size"),
    "filters": Param(250, "Conv1D filters"),
    "kernel_size": Param(3, "Conv1D width"),
    "hidden_dims": Param(250, "hidden Dense units"),
    "dropout": Param(0.2, "dropout rate"),
    "epochs": 2,
    "batch_size": 32,
}

register(
    Recipe(
        name="embedding_toy",
        chapter=7,
        dataset="10 documents from the book",
        summary="Embedding(vocab, 8) + Flatten + sigmoid on the book's ten short documents",
        hparams={
            "vocab_size": Param(50, "vocabulary cap"),
            "sequence_length": Param(4, "tokens per document"),
            "embedding_dim": Param(8, "embedding size"),
            "learning_rate": Param(1e-2, "Adam learning rate"),
            "epochs": 50,
            "batch_size": 10,
        },
        data=_toy_data,
        model=_toy_model,
        serving=serve_strings,
        report=_toy_report,
    )
)
register(
    Recipe(
        name="textcnn_mr",
        chapter=7,
        dataset="rt-polarity",
        summary="Kim's TextCNN (rand/static/non-static/multichannel, and the book's multichannel) on sentence "
        "polarity, book split or k-fold CV",
        hparams=_TEXTCNN,
        data=_checked(_check_textcnn, using_vectors(mr_data)),
        model=_textcnn_model,
        serving=serve_strings,
        report=vectors_report,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="cnn1d_mr",
        chapter=7,
        dataset="rt-polarity",
        summary="keras' imdb_cnn 1D CNN on sentence polarity (book split)",
        hparams={**_CNN1D, **MR_SPLIT_PARAMS},
        data=_checked(_check_cnn1d, mr_data),
        model=_cnn1d_model,
        serving=serve_strings,
        monitor="val_accuracy",
    )
)
register(
    Recipe(
        name="cnn1d_imdb",
        chapter=7,
        dataset="imdb",
        summary="keras' imdb_cnn 1D CNN on the 25k/25k IMDB reviews, raw text in",
        hparams={**_CNN1D, "sequence_length": Param(400, "tokens per review")},
        data=_checked(_check_cnn1d, imdb_data),
        model=_cnn1d_model,
        serving=serve_strings,
    )
)
register(
    Recipe(
        name="textcnn_r8",
        chapter=7,
        dataset="r8",
        summary="TextCNN (rand) on Reuters R8, 8 classes",
        hparams={
            **{k: v for k, v in _TEXTCNN.items() if k not in MR_SPLIT_PARAMS},
            "sequence_length": Param(300, "tokens per document"),
            "filters": Param(100, "filters per window (the paper's 100: 8 classes need more than 10)"),
        },
        data=_checked(_check_textcnn, using_vectors(r8_data)),
        model=_textcnn_model,
        serving=serve_strings,
        report=vectors_report,
    )
)
register(
    Recipe(
        name="avg_embedding_mr",
        chapter=7,
        dataset="rt-polarity",
        summary="mean of the word vectors -> sigmoid/softmax on sentence polarity (sequence-models notes), "
        "from scratch or from vectors; TF-IDF + logistic regression baseline",
        hparams={
            **TEXT_PARAMS,
            **MR_SPLIT_PARAMS,
            "vectors": VECTORS_PARAM,
            "freeze": Param(False, "keep the vectors fixed, train only the output layer (the notes' model)"),
            "learning_rate": Param(5e-3, "Adam learning rate", minimum=0.0, exclusive_minimum=True),
            "epochs": 20,
            "batch_size": Param(50, "global batch size", minimum=1),
        },
        data=_checked(_check_average, using_vectors(mr_data)),
        model=_average_model,
        serving=serve_strings,
        report=_average_report,
        monitor="val_accuracy",
    )
)

"""Chapter 7 recipes: the Embedding+Flatten toy, Kim's TextCNN and the 1D CNN on rt-polarity, IMDB and R8."""

from __future__ import annotations

import numpy as np

from zoo.data import imdb, r8, rt_polarity
from zoo.data.text import classification_data, string_model, strip_html_lower_punct
from zoo.data.vectors import load_word_vectors
from zoo.models.textcnn import VARIANTS, build_cnn1d, build_embedding_flatten, build_textcnn, compile_classifier
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register

# The book's ten documents; it printed only eight labels, these are the ten the sentences deserve.
TOY_DOCS = ["Well done!", "Good work", "Great effort", "nice work", "Excellent!",
            "Weak", "Poor effort!", "not good", "poor work", "Could have done better."]
TOY_LABELS = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]

_TEXT = {
    "vocab_size": Param(10000, "vocabulary size incl. padding and OOV (adapted on the training split)"),
    "sequence_length": Param(56, "tokens per text (padded / truncated)"),
    "embedding_dim": Param(50, "embedding size (taken from the vectors file when one is given)"),
    "learning_rate": Param(1e-3, "Adam learning rate"),
}
# The dev accuracy peaks after 3-5 epochs and the small models then over-fit: stop early on it and
# keep the best epoch (Kim 2014 early-stops on a dev set too). In CV mode the held-out fold is that dev set.
_MR_SPLIT = {
    "patience": Param(3, "early stopping patience on val_accuracy (best epoch restored); 0 = off"),
    "folds": Param(0, "0: the book's split (seed-10 shuffle, last 1,000 as dev); k >= 2: k-fold CV (Kim 2014)"),
    "fold": Param(0, "which fold is held out when folds >= 2"),
}


def serving(hp: HParams, data: Data, model):
    """Raw strings in, class probabilities out."""
    return string_model(data.info["vectorizer"], model)


def mr_data(hp: HParams, ctx: RunContext) -> Data:
    """rt-polarity as `(ids, label)` with the book's split or one cross-validation fold as validation."""
    texts, labels = rt_polarity.load(ctx.data_dir)
    if hp.folds:
        train, held_out = rt_polarity.cv_split(labels, hp.folds, hp.fold, hp.seed)
    else:
        train, held_out = rt_polarity.book_split(len(texts))
    pick = lambda idx: ([texts[i] for i in idx], labels[idx])  # noqa: E731
    return with_vectors(hp, classification_data(hp, pick(train), validation=pick(held_out)))


def with_vectors(hp: HParams, data: Data) -> Data:
    """Adds the `--set vectors=PATH` matrix aligned to the adapted vocabulary, and its coverage report."""
    if getattr(hp, "vectors", ""):
        matrix, report = load_word_vectors(hp.vectors, data.info["vocabulary"], seed=hp.seed)
        data.info.update(vectors=matrix, vectors_report=report)
    return data


def textcnn_model(hp: HParams, data: Data):
    info = data.info
    model = build_textcnn(info["vocab_size"], info["sequence_length"], info["num_classes"], hp.variant,
                          hp.embedding_dim, info.get("vectors"), hp.windows, hp.filters, hp.dropout,
                          hp.max_norm)
    return compile_classifier(model, info["num_classes"], hp.learning_rate)


def textcnn_report(hp: HParams, data: Data, model, ctx: RunContext) -> dict:
    """Vocabulary coverage of the pre-trained vectors, if any."""
    report = data.info.get("vectors_report")
    if not report:
        return {}
    return {"vectors_coverage": report["coverage"], "vectors_found": report["found"],
            "vectors_dim": report["dim"]}


def cnn1d_model(hp: HParams, data: Data):
    info = data.info
    model = build_cnn1d(info["vocab_size"], info["sequence_length"], info["num_classes"], hp.embedding_dim,
                        hp.filters, hp.kernel_size, hp.hidden_dims, hp.dropout)
    return compile_classifier(model, info["num_classes"], hp.learning_rate)


def imdb_data(hp: HParams, ctx: RunContext) -> Data:
    """IMDB train (adapted on) and test; no validation split, as in keras' imdb_cnn."""
    splits = imdb.load(ctx.data_dir)
    return classification_data(hp, splits["train"], test=splits["test"], standardize=strip_html_lower_punct)


def r8_data(hp: HParams, ctx: RunContext) -> Data:
    """R8 train and test with labels as indices of the sorted training classes."""
    splits = r8.load(ctx.data_dir)
    names = sorted(set(splits["train"][1]))
    unknown = set(splits["test"][1]) - set(names)
    if unknown:
        raise ValueError(f"R8 test labels {sorted(unknown)} never occur in the training file")
    index = {name: i for i, name in enumerate(names)}
    as_ids = lambda split: (split[0], np.array([index[y] for y in split[1]], "int32"))  # noqa: E731
    data = classification_data(hp, as_ids(splits["train"]), test=as_ids(splits["test"]), class_names=names)
    return with_vectors(hp, data)


def toy_data(hp: HParams, ctx: RunContext) -> Data:
    """The book's ten documents, all used for training (the book has no held-out data)."""
    return classification_data(hp, (TOY_DOCS, np.array(TOY_LABELS)))


def toy_model(hp: HParams, data: Data):
    model = build_embedding_flatten(data.info["vocab_size"], hp.sequence_length, hp.embedding_dim)
    return compile_classifier(model, 2, hp.learning_rate)


def toy_report(hp: HParams, data: Data, model, ctx: RunContext) -> dict:
    """Training accuracy on the ten documents (the book's only result)."""
    scores = model.evaluate(data.train, return_dict=True, verbose=0)
    return {"train_accuracy": float(scores["accuracy"])}


_TEXTCNN = {
    **_TEXT, **_MR_SPLIT,
    "variant": Param("rand", "rand | static | non-static | multichannel (the last three need vectors)",
                     choices=VARIANTS),
    "vectors": Param("", "word2vec/GloVe text file of pre-trained vectors (the zoo's skip-gram export works)",
                     type=str),
    "windows": Param((3, 4, 5), "convolution window sizes", type=tuple),
    "filters": Param(10, "filters per window (book 10; paper 100)"),
    "dropout": Param(0.5, "dropout before the classifier"),
    "max_norm": Param(0.0, "max-norm of the output weights, 0 = off (paper 3)"),
    "epochs": 10, "batch_size": 50,
}
_CNN1D = {
    **_TEXT, "vocab_size": Param(5000, "vocabulary size"),
    "filters": Param(250, "Conv1D filters"), "kernel_size": Param(3, "Conv1D width"),
    "hidden_dims": Param(250, "hidden Dense units"), "dropout": Param(0.2, "dropout rate"),
    "epochs": 2, "batch_size": 32,
}

register(Recipe(
    name="embedding_toy", chapter=7, dataset="10 documents from the book",
    summary="Embedding(vocab, 8) + Flatten + sigmoid on the book's ten short documents",
    hparams={"vocab_size": Param(50, "vocabulary cap"), "sequence_length": Param(4, "tokens per document"),
             "embedding_dim": Param(8, "embedding size"), "learning_rate": Param(1e-2, "Adam learning rate"),
             "epochs": 50, "batch_size": 10},
    data=toy_data, model=toy_model, serving=serving, report=toy_report,
))
register(Recipe(
    name="textcnn_mr", chapter=7, dataset="rt-polarity",
    summary="Kim's TextCNN (rand/static/non-static/multichannel) on sentence polarity, book split or k-fold CV",
    hparams=_TEXTCNN, data=mr_data, model=textcnn_model, serving=serving, report=textcnn_report,
    monitor="val_accuracy",
))
register(Recipe(
    name="cnn1d_mr", chapter=7, dataset="rt-polarity",
    summary="keras' imdb_cnn 1D CNN on sentence polarity (book split)",
    hparams={**_CNN1D, **_MR_SPLIT}, data=mr_data, model=cnn1d_model, serving=serving, monitor="val_accuracy",
))
register(Recipe(
    name="cnn1d_imdb", chapter=7, dataset="imdb",
    summary="keras' imdb_cnn 1D CNN on the 25k/25k IMDB reviews, raw text in",
    hparams={**_CNN1D, "sequence_length": Param(400, "tokens per review")},
    data=imdb_data, model=cnn1d_model, serving=serving,
))
register(Recipe(
    name="textcnn_r8", chapter=7, dataset="r8",
    summary="TextCNN (rand) on Reuters R8, 8 classes",
    hparams={**{k: v for k, v in _TEXTCNN.items() if k not in _MR_SPLIT},
             "sequence_length": Param(300, "tokens per document"),
             "filters": Param(100, "filters per window (the paper's 100: 8 classes need more than 10)")},
    data=r8_data, model=textcnn_model, serving=serving,
    report=textcnn_report,
))


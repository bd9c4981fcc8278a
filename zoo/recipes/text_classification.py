"""What the text-classification recipes of chapters 7, 9 and 11 share: parameters, datasets, serving.

Not a chapter: it registers nothing. Each `*_data` function is a recipe's `data` callable
(`(hp, ctx) -> Data[TextInfo]`); `using_vectors(mr_data)` is the same data with the pre-trained
vectors of a recipe that declares `VECTORS_PARAM`; `serve_strings` is a recipe's `serving`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np

from zoo.data import imdb, r8, rt_polarity
from zoo.data.pipelines import Data
from zoo.data.text import TextInfo, classification_data, string_model, strip_html_lower_punct
from zoo.data.vectors import load_word_vectors
from zoo.errors import CorruptData, UserError
from zoo.recipes.base import HParams, Param, RunContext

TEXT_PARAMS = {
    "vocab_size": Param(10000, "vocabulary size incl. padding and OOV (adapted on the training split)"),
    "sequence_length": Param(56, "tokens per text (padded / truncated)"),
    "embedding_dim": Param(50, "embedding size (taken from the vectors file when one is given)"),
    "learning_rate": Param(1e-3, "Adam learning rate"),
}
"""Every text classifier's vocabulary, length, embedding and learning rate."""

# The dev accuracy peaks after 3-5 epochs and the small models then over-fit: stop early on it and
# keep the best epoch (Kim 2014 early-stops on a dev set too). In CV mode the held-out fold is that dev set.
MR_SPLIT_PARAMS = {
    "patience": Param(3, "early stopping patience on val_accuracy (best epoch restored); 0 = off"),
    "folds": Param(
        0, "0: the book's split (seed-10 shuffle, last 1,000 as dev); k >= 2: k-fold CV (Kim 2014)", minimum=0
    ),
    "fold": Param(0, "which fold is held out when folds >= 2", minimum=0),
}
"""How rt-polarity is split: the book's dev set or one fold of Kim's cross-validation."""

VECTORS_PARAM = Param(
    "", "word2vec/GloVe text file of pre-trained vectors (the zoo's skip-gram export works)", type=str
)


def _settings(hp: HParams) -> dict:
    return dict(vocab_size=hp.vocab_size, sequence_length=hp.sequence_length, batch_size=hp.batch_size, seed=hp.seed)


def serve_strings(hp: HParams, data: Data[TextInfo], model: keras.Model) -> keras.Model:
    """Serving model: raw strings in, class probabilities out (the adapted vectoriser inside)."""
    return string_model(data.info.vectorizer, model)


def with_vectors(data: Data[TextInfo], vectors: str, *, seed: int) -> Data[TextInfo]:
    """`data` with the pre-trained `vectors` file aligned to its vocabulary and its coverage report (if a path)."""
    if not vectors:
        return data
    matrix, report = load_word_vectors(vectors, data.info.vocabulary, seed=seed)
    return dataclasses.replace(data, info=dataclasses.replace(data.info, vectors=matrix, vectors_report=report))


TextData = Callable[[HParams, RunContext], Data[TextInfo]]


def using_vectors(load: TextData) -> TextData:
    """A recipe's `data`: `load`, then the recipe's `vectors` hyper-parameter (`VECTORS_PARAM`) aligned to it."""

    def data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
        return with_vectors(load(hp, ctx), hp.vectors, seed=hp.seed)

    data.__name__ = data.__qualname__ = f"{load.__name__}_with_vectors"
    data.__doc__ = f"{load.__doc__} Pre-trained vectors from `vectors`, if given."
    return data


def vectors_report(hp: HParams, data: Data[TextInfo], model: keras.Model, ctx: RunContext) -> dict:
    """Vocabulary coverage of the pre-trained vectors, if any (a recipe's `report`)."""
    report = data.info.vectors_report
    if report is None:
        return {}
    return {"vectors_coverage": report.coverage, "vectors_found": report.found, "vectors_dim": report.dim}


def mr_splits(hp: HParams, ctx: RunContext) -> tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]]:
    """rt-polarity's `(texts, labels)` for training and the held-out part: the book's split or one CV fold."""
    if hp.folds and (hp.folds < 2 or hp.fold >= hp.folds):
        raise UserError("need folds >= 2 and fold < folds (or folds=0)", params={"folds": hp.folds, "fold": hp.fold})
    texts, labels = rt_polarity.load(ctx.data_dir)
    if hp.folds:
        train, held_out = rt_polarity.cv_split(labels, hp.folds, hp.fold, hp.seed)
    else:
        train, held_out = rt_polarity.book_split(len(texts))
    pick = lambda idx: ([texts[i] for i in idx], labels[idx])  # noqa: E731
    return pick(train), pick(held_out)


def mr_data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
    """rt-polarity as `(ids, label)` with the book's split or one cross-validation fold as validation."""
    train, held_out = mr_splits(hp, ctx)
    return classification_data(train, validation=held_out, **_settings(hp))


def tfidf_baseline(train: tuple[list[str], np.ndarray], held_out: tuple[list[str], np.ndarray], *, seed: int) -> float:
    """Held-out accuracy of scikit-learn's TF-IDF (words and word pairs) + logistic regression on the same split.

    The plainest bag-of-words classifier, for the neural ones to beat: `TfidfVectorizer(ngram_range=(1, 2),
    sublinear_tf=True)` fitted on the training texts only, `LogisticRegression(C=1)` (the defaults).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000, random_state=seed)
    )
    model.fit(train[0], train[1])
    return float(model.score(held_out[0], held_out[1]))


def imdb_data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
    """IMDB train (adapted on) and test; no validation split, as in keras' imdb_cnn."""
    splits = imdb.load(ctx.data_dir)
    return classification_data(
        splits["train"], test=splits["test"], standardize=strip_html_lower_punct, **_settings(hp)
    )


def r8_data(hp: HParams, ctx: RunContext) -> Data[TextInfo]:
    """R8 train and test with labels as indices of the sorted training classes."""
    splits = r8.load(ctx.data_dir)
    names = sorted(set(splits["train"][1]))
    unknown = set(splits["test"][1]) - set(names)
    if unknown:
        raise CorruptData(f"R8 test labels {sorted(unknown)} never occur in the training file")
    index = {name: i for i, name in enumerate(names)}
    as_ids = lambda split: (split[0], np.array([index[y] for y in split[1]], "int32"))  # noqa: E731
    return classification_data(as_ids(splits["train"]), test=as_ids(splits["test"]), class_names=names, **_settings(hp))

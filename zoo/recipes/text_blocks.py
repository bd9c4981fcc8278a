"""What chapter 14's recipes and benchmark share: scoring text-block vectors with a logistic regression
(gensim's IMDB tutorial; the skip-thought paper's cross-validation), averaged word vectors (the
baseline), batched inference through a serving model or SavedModel endpoint, and the report pictures.
Not a chapter: it registers nothing.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data import corpus
from zoo.data.documents import DocumentInfo
from zoo.data.vectors import load_word_vectors


def infer_texts(serving: keras.Model, texts: list[str], batch: int = 512) -> np.ndarray:
    """Inferred vectors of `texts` through a serving model's (or a loaded SavedModel's) `infer`, in batches."""
    parts = [np.asarray(serving(tf.constant(texts[i : i + batch]))) for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), "float32")


def averaged_vectors(path: str, info: DocumentInfo) -> np.ndarray:
    """Each document's mean word vector from a word2vec text file (words absent from the file count as zeros)."""
    from scipy.sparse import csr_matrix

    matrix, _ = load_word_vectors(path, info.vocabulary, scale=0.0)
    matrix[0] = 0.0
    rows, cols = [], []
    index = {w: k for k, w in enumerate(info.vocabulary)}
    for i, text in enumerate(info.texts):
        ids = [index.get(t, 0) for t in corpus.tokenize(text)]
        rows += [i] * len(ids)
        cols += ids
    counts = csr_matrix((np.ones(len(rows), "float32"), (rows, cols)), shape=(len(info.texts), len(info.vocabulary)))
    known = np.asarray(counts[:, 1:].sum(axis=1)).reshape(-1, 1)
    return np.asarray(counts @ matrix) / np.maximum(known, 1.0)


def logistic_error(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int = 0):
    """Test error of a logistic regression fit on `train_x` (gensim's tutorial's classifier), and the model."""
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(max_iter=1000, random_state=seed).fit(train_x, train_y)
    return float(1.0 - classifier.score(test_x, test_y)), classifier


def pca_png(path: Path, vectors: np.ndarray, labels: np.ndarray | None, title: str) -> None:
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    rows = np.random.default_rng(0).permutation(len(vectors))[:3000]
    points = PCA(n_components=2).fit_transform(vectors[rows]) if len(rows) > 2 else np.zeros((len(rows), 2))
    fig = Figure(figsize=(7, 6))
    ax = fig.subplots()
    colour = None if labels is None else np.where(labels[rows] > 0, "tab:blue", "tab:red")
    ax.scatter(points[:, 0], points[:, 1], s=3, c=colour)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def errors_png(path: Path, rows: dict[str, float], title: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 0.6 * len(rows) + 1.2))
    ax = fig.subplots()
    names = list(rows)
    ax.barh(names, [100 * rows[n] for n in names], color="tab:blue")
    for k, n in enumerate(names):
        ax.annotate(f"{100 * rows[n]:.2f}%", (100 * rows[n], k), va="center", fontsize=8)
    ax.set_xlabel("test error (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def cross_validated_error(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    """Mean held-out error of a logistic regression over stratified folds (the skip-thought paper's protocol)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(1.0 - cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=splitter).mean())

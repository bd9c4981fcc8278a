"""Views of learned word embeddings (chapter 6): a labelled 2-D PCA scatter, written as a PNG.

Drawn on a `matplotlib.figure.Figure` (no `pyplot`, no backend switch).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def plot_pca(
    path: str | os.PathLike, vocabulary: Sequence[str], matrix: np.ndarray, words: int = 150, title: str = ""
) -> Path:
    """A 2-D PCA scatter of the `words` most frequent words (rows 1..words), labelled."""
    from sklearn.decomposition import PCA  # imported when drawing: scikit-learn is slow to import

    rows = np.arange(1, min(words + 1, len(vocabulary)))
    unit = matrix[rows] / np.maximum(np.linalg.norm(matrix[rows], axis=1, keepdims=True), 1e-12)
    points = PCA(n_components=2).fit_transform(unit) if len(rows) >= 2 else np.zeros((len(rows), 2))
    fig = Figure(figsize=(11, 9))
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], s=6, color="tab:blue")
    for (x, y), i in zip(points, rows):
        ax.annotate(vocabulary[i], (x, y), fontsize=7)
    ax.set_title(title or f"PCA of the {len(rows)} most frequent words")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return Path(path)

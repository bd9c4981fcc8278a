"""Debiasing word vectors (Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman is to Homemaker?"):
find a bias direction, *neutralise* the words that should not lean along it, *equalise* the pairs that should
differ only along it. Works on any word-vector table (rows = words), the zoo's or loaded ones.

The course's notes (Ng, sequence models, "Operations on word vectors") take the direction as
e_woman - e_man and run equalise on raw vectors, dividing by |e_w - mu_orth - mu_B|; the equal-norm
construction only holds for unit vectors and a division by |e_wB - mu_B|, so here (as in the paper) all
vectors are normalised first and the direction is the first principal component of several pairs'
differences (`bias_direction`), which is less noisy than one pair.

Example:
    >>> direction = bias_direction(matrix, index, [("she", "he"), ("woman", "man"), ("her", "his")])
    >>> fair = debias(matrix, index, direction, neutral=["doctor", "nurse"], pairs=[("she", "he")])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype="float64")
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def bias_direction(matrix: np.ndarray, index: Mapping[str, int], pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Unit bias direction: first principal component of the pairs' unit-vector differences, oriented first - second.

    Args:
        matrix: word vectors, row `index[word]` for each word.
        index: word -> row.
        pairs: definitional pairs such as `("she", "he")`; pairs with an unknown word are skipped.

    Raises:
        ValueError: if no pair has both words in `index`.
    """
    known = [(a, b) for a, b in pairs if a in index and b in index]
    if not known:
        raise ValueError(f"none of the pairs {list(pairs)} has both words in the vocabulary")
    unit = normalize(matrix)
    differences = np.stack([unit[index[a]] - unit[index[b]] for a, b in known])
    _, _, vt = np.linalg.svd(differences, full_matrices=False)  # uncentred: the shared offset is the signal
    direction = vt[0]
    return direction if differences.mean(0) @ direction >= 0 else -direction


def projection(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Cosine of each row with the unit `direction` (its component along the bias, for unit rows)."""
    return normalize(vectors) @ (direction / np.linalg.norm(direction))


def neutralize(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Rows with their component along `direction` removed: e - (e.g / |g|^2) g."""
    g = direction / np.linalg.norm(direction)
    vectors = np.asarray(vectors, dtype="float64")
    return vectors - np.outer(vectors @ g, g).reshape(vectors.shape)


def equalize(a: np.ndarray, b: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors moved to be symmetric about the plane orthogonal to `direction`, still unit length.

    Both keep the pair's mean off the bias axis (nu), and their bias parts become opposite:
    `a' = nu + sqrt(1 - |nu|^2) (a_B - mu_B) / |a_B - mu_B|`, so every neutralised word is as close
    to `a'` as to `b'`.
    """
    g = direction / np.linalg.norm(direction)
    a, b = normalize(a), normalize(b)
    mu = (a + b) / 2
    mu_b = (mu @ g) * g
    nu = mu - mu_b
    scale = np.sqrt(max(1.0 - nu @ nu, 0.0))
    out = []
    for w in (a, b):
        w_b = (w @ g) * g
        offset = w_b - mu_b
        out.append(nu + scale * offset / max(np.linalg.norm(offset), 1e-12))
    return out[0], out[1]


def debias(
    matrix: np.ndarray,
    index: Mapping[str, int],
    direction: np.ndarray,
    neutral: Sequence[str],
    pairs: Sequence[tuple[str, str]],
) -> np.ndarray:
    """A debiased copy of `matrix`: every row normalised, `neutral` words neutralised, `pairs` equalised.

    Args:
        matrix: word vectors, row `index[word]` for each word.
        index: word -> row.
        direction: the bias direction (`bias_direction`).
        neutral: words that should carry no bias (occupations, ...); unknown words are skipped.
        pairs: pairs that should differ only along the bias (`("actor", "actress")`); unknown ones skipped.
    """
    out = normalize(matrix)
    rows = [index[w] for w in neutral if w in index]
    out[rows] = normalize(neutralize(out[rows], direction))
    for a, b in pairs:
        if a in index and b in index:
            out[index[a]], out[index[b]] = equalize(out[index[a]], out[index[b]], direction)
    return out.astype(np.asarray(matrix).dtype)

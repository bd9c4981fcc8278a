"""Issue 30 item 6: neutralise and equalise word vectors along a bias direction (Bolukbasi et al. 2016)."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.models.debiasing import bias_direction, debias, equalize, neutralize, normalize, projection

WORDS = ["[UNK]", "he", "she", "man", "woman", "king", "queen", "doctor", "nurse", "table"]


def _vectors(seed=0):
    """Random 20-d vectors with a planted gender axis (dimension 0): gendered words and two occupations lean on it."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(len(WORDS), 20))
    lean = {"he": -2, "she": 2, "man": -2, "woman": 2, "king": -1.5, "queen": 1.5, "doctor": -0.8, "nurse": 1.2}
    for word, value in lean.items():
        m[WORDS.index(word), 0] = value * 3
    return m, {w: i for i, w in enumerate(WORDS)}


def test_bias_direction_finds_the_planted_axis_and_refuses_unknown_pairs():
    m, index = _vectors()
    g = bias_direction(m, index, [("she", "he"), ("woman", "man"), ("queen", "king"), ("zebra", "he")])
    assert abs(g[0]) > 0.9 and g[0] > 0  # oriented first - second: female positive
    assert np.isclose(np.linalg.norm(g), 1)
    with pytest.raises(ValueError, match="none of the pairs"):
        bias_direction(m, index, [("zebra", "lion")])


def test_neutralize_removes_only_the_bias_component():
    m, index = _vectors()
    g = bias_direction(m, index, [("she", "he"), ("woman", "man")])
    rows = m[[index["doctor"], index["nurse"]]]
    out = neutralize(rows, g)
    np.testing.assert_allclose(out @ g, 0, atol=1e-12)
    np.testing.assert_allclose(rows - out, np.outer(rows @ g, g), atol=1e-12)  # what was removed lies along g
    assert np.allclose(neutralize(m[index["table"]], g) @ g, 0)  # a single vector too


def test_equalize_makes_a_pair_symmetric_and_unit_length():
    m, index = _vectors()
    g = bias_direction(m, index, [("she", "he"), ("woman", "man")])
    a, b = equalize(m[index["king"]], m[index["queen"]], g)
    assert np.isclose(np.linalg.norm(a), 1) and np.isclose(np.linalg.norm(b), 1)
    assert np.isclose(a @ g, -(b @ g)) and abs(a @ g) > 0.1  # opposite along the bias, still gendered
    np.testing.assert_allclose(a - (a @ g) * g, b - (b @ g) * g, atol=1e-12)  # the same off the bias axis
    doctor = normalize(neutralize(m[index["doctor"]], g))
    assert np.isclose(doctor @ a, doctor @ b)  # a neutral word is as close to king as to queen


def test_debias_on_a_table():
    m, index = _vectors()
    g = bias_direction(m, index, [("she", "he"), ("woman", "man")])
    before = projection(m, g)
    out = debias(m, index, g, neutral=["doctor", "nurse", "unknown-word"], pairs=[("king", "queen"), ("a", "b")])
    after = projection(out, g)
    assert abs(before[index["nurse"]]) > 0.3 and abs(after[index["nurse"]]) < 1e-6
    assert abs(after[index["doctor"]]) < 1e-6
    assert np.isclose(after[index["king"]], -after[index["queen"]])
    np.testing.assert_allclose(out[index["table"]], normalize(m)[index["table"]])  # untouched rows: only normalised
    assert out.dtype == m.dtype and out.shape == m.shape

"""Chapter 11.3 as the book writes it, beside the zoo's versions: the 0.01 * sum|x| activity regulariser
function, the `L2Regularizer` subclass and the cross-entropy factory (zoo.regularizers, zoo.losses)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from zoo.losses import book_crossentropy
from zoo.regularizers import BOOK_L1_ACTIVITY_RATE, L2Regularizer, book_l1_activity


def test_book_activity_regulariser_is_a_hundredth_of_the_summed_magnitudes_averaged_over_the_batch():
    x = np.array([[1.0, -2.0], [0.5, 0.0]], "float32")
    assert BOOK_L1_ACTIVITY_RATE == 0.01
    assert float(book_l1_activity(x)) == pytest.approx(0.01 * 3.5)
    layer = keras.layers.Dense(2, kernel_initializer="identity", use_bias=False, activity_regularizer=book_l1_activity)
    layer(x)
    assert float(layer.losses[0]) == pytest.approx(0.01 * 3.5 / 2)  # Keras divides by the batch size


def test_l2_regularizer_equals_keras_l2_and_both_book_objects_reload_from_a_keras_file(tmp_path):
    w = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    assert float(L2Regularizer(0.5)(w)) == pytest.approx(float(keras.regularizers.L2(0.5)(w)), rel=1e-6)
    assert L2Regularizer.from_config(L2Regularizer(0.5).get_config()).l2 == 0.5
    with pytest.raises(ValueError, match="l2"):
        L2Regularizer(-1.0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, kernel_regularizer=L2Regularizer(0.5), activity_regularizer=book_l1_activity),
        ]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.layers[0].kernel_regularizer.get_config() == {"l2": 0.5}
    assert loaded.layers[0].activity_regularizer is book_l1_activity


def test_book_crossentropy_is_keras_categorical_crossentropy_and_stays_finite_on_a_zero():
    y_true = np.array([[0, 1, 0], [1, 0, 0]], "float32")
    y_pred = np.array([[0.2, 0.7, 0.1], [0.0, 0.5, 0.5]], "float32")
    got = np.asarray(book_crossentropy()(y_true, y_pred))
    np.testing.assert_allclose(got, keras.losses.categorical_crossentropy(y_true, y_pred), rtol=1e-5)
    assert np.isfinite(got).all() and got[1] == pytest.approx(-np.log(1e-7), rel=1e-3)
    with np.errstate(divide="ignore"):
        assert np.isinf(-np.sum(y_true * np.log(y_pred), axis=-1)[1])  # the same formula without the clip
    with pytest.raises(ValueError, match="epsilon"):
        book_crossentropy(0.0)

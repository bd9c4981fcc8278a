"""Chapter 3 recipes: linear model, MLPs on UCI tables (binary, multiclass, regression), curve fitting.

Fixes to the book: splits are seeded (and stratified for classes); features are standardised by a
`Normalization` layer inside the model with training-split statistics (the book feeds unscaled
Boston features), so exports take raw feature rows; a validation split gives `val_loss`.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split

from zoo import plots  # noqa: F401  (selects matplotlib's Agg backend before pyplot is imported)
from zoo.data import uci
from zoo.models.mlp import mlp
from zoo.recipes.base import Data, HParams, Param, Recipe, RunContext, register

import matplotlib.pyplot as plt  # noqa: E402  (after zoo.plots chose the backend)

Arrays = tuple[np.ndarray, np.ndarray]

TEST_SIZE = Param(1 / 3, "fraction of rows held out for the test split (seeded; the book: 1/3)")
VAL_SIZE = Param(0.1, "fraction of the remaining rows used for validation (seeded; 0 = none)")


def take_out(arrays: Arrays, size: float | int, seed: int, *, stratify: bool = False) -> tuple[Arrays, Arrays]:
    """Seeded split of `(x, y)` into (rest, held out); `size` is a fraction or a count of rows."""
    x_rest, x_out, y_rest, y_out = train_test_split(*arrays, test_size=size, random_state=seed,
                                                    stratify=arrays[1] if stratify else None)
    return (x_rest, y_rest), (x_out, y_out)


def with_validation(splits: dict[str, Arrays], fraction: float, seed: int, *, stratify: bool = False
                    ) -> dict[str, Arrays]:
    """`splits` with a seeded `fraction` of "train" moved to "val" (unchanged when 0)."""
    if fraction <= 0:
        return splits
    train, val = take_out(splits["train"], fraction, seed, stratify=stratify)
    return {**splits, "train": train, "val": val}


def split_arrays(x: np.ndarray, y: np.ndarray, hp: HParams, *, stratify: bool) -> dict[str, Arrays]:
    """Seeded train/validation/test split of a table (stratified for classification), keyed by split."""
    rest, test = take_out((x, y), hp.test_size, hp.seed, stratify=stratify)
    return with_validation({"train": rest, "test": test}, hp.val_size, hp.seed, stratify=stratify)


def array_data(splits: dict[str, Arrays], hp: HParams, *, standardize: bool = True, **info) -> Data:
    """tf.data pipelines (features as float32, global batch size, seeded shuffle of train) from arrays.

    `info` gets the raw `splits` and, if `standardize`, the train split's per-feature (last axis)
    `mean`/`variance` for the models' `Normalization` layers (training-split statistics only).
    """
    def dataset(split: str, shuffle: bool = False) -> tf.data.Dataset | None:
        if split not in splits:
            return None
        x, y = splits[split]
        ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=hp.seed, reshuffle_each_iteration=True)
        return ds.batch(hp.batch_size)

    info = {"splits": splits, **info}
    if standardize:
        x_train = splits["train"][0].astype(np.float64)
        axes = tuple(range(x_train.ndim - 1))
        info.update(mean=x_train.mean(axis=axes), variance=x_train.var(axis=axes))
    return Data(train=dataset("train", shuffle=True), validation=dataset("val"), test=dataset("test"), info=info)


def normalizer(data: Data) -> keras.layers.Normalization:
    """Per-feature standardisation with the training split's statistics, built inside the model."""
    return keras.layers.Normalization(axis=-1, mean=data.info["mean"], variance=data.info["variance"])


# --- food_price -----------------------------------------------------------------------------------

FOOD_X = np.array([[2, 5, 3], [1, 4, 7], [2, 3, 5], [3, 6, 9], [7, 4, 1]], np.float32)
FOOD_Y = np.array([850, 1050, 950, 1650, 1350], np.float32)


def _food_data(hp: HParams, ctx: RunContext) -> Data:
    ds = tf.data.Dataset.from_tensor_slices((FOOD_X, FOOD_Y)).shuffle(5, seed=hp.seed).batch(hp.batch_size)
    return Data(train=ds, info={"x": FOOD_X, "y": FOOD_Y})


def _food_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((3,), (), 1, name="food_price")
    model.compile(optimizer=keras.optimizers.SGD(hp.learning_rate), loss="mse")
    return model


def _food_report(hp: HParams, data: Data, model: keras.Model, ctx: RunContext) -> dict:
    kernel, bias = model.get_layer("output").get_weights()
    return {"weights": [round(float(w), 3) for w in kernel[:, 0]], "bias": round(float(bias[0]), 3),
            "true_weights": [150.0, 50.0, 100.0]}


register(Recipe(
    name="food_price",
    chapter=3,
    dataset="5 rows from the book",
    summary="linear model Dense(1) learning meal prices; weights approach [150, 50, 100]",
    hparams={"epochs": 500, "batch_size": 1,
             "learning_rate": Param(0.01, "SGD step (Keras default, as the book)")},
    data=_food_data,
    model=_food_model,
    report=_food_report,
    monitor="loss",
))


# --- ionosphere_mlp / iris_mlp ----------------------------------------------------------------------

def _ionosphere_data(hp: HParams, ctx: RunContext) -> Data:
    """Ionosphere 351x34, seeded stratified split (the book's split is unseeded: fixed)."""
    x, y = uci.load_ionosphere(ctx.data_dir)
    return array_data(split_arrays(x, y, hp, stratify=True), hp, class_names=["bad", "good"])


def _ionosphere_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((34,), (10, 8), 1, kernel_initializer="he_normal", output_activation="sigmoid",
                preprocessing=[normalizer(data)], name="ionosphere_mlp")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


register(Recipe(
    name="ionosphere_mlp",
    chapter=3,
    dataset="UCI Ionosphere",
    summary="binary MLP 10-8-1 (sigmoid) on radar returns; scaling inside the model, seeded split",
    hparams={"epochs": 150, "batch_size": 32, "learning_rate": 0.001, "test_size": TEST_SIZE, "val_size": VAL_SIZE},
    data=_ionosphere_data,
    model=_ionosphere_model,
))


def _iris_data(hp: HParams, ctx: RunContext) -> Data:
    x, y, names = uci.load_iris(ctx.data_dir)
    return array_data(split_arrays(x, y, hp, stratify=True), hp, class_names=names)


def _iris_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((4,), (10, 8), 3, kernel_initializer="he_normal", output_activation="softmax",
                preprocessing=[normalizer(data)], name="iris_mlp")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


register(Recipe(
    name="iris_mlp",
    chapter=3,
    dataset="UCI Iris",
    summary="multiclass MLP 10-8-3 (softmax, sparse cross-entropy); serves class probabilities",
    hparams={"epochs": 150, "batch_size": 32, "learning_rate": 0.001, "test_size": TEST_SIZE, "val_size": VAL_SIZE},
    data=_iris_data,
    model=_iris_model,
))


# --- boston_mlp -----------------------------------------------------------------------------------

def _boston_data(hp: HParams, ctx: RunContext) -> Data:
    x, y = uci.load_boston(ctx.data_dir)
    return array_data(split_arrays(x, y, hp, stratify=False), hp, columns=list(uci.BOSTON_COLUMNS))


def _boston_model(hp: HParams, data: Data) -> keras.Model:
    """10-8-1 regression MLP; the book trains it on unscaled features: scaled inside the model here."""
    model = mlp((13,), (10, 8), 1, kernel_initializer="he_normal", preprocessing=[normalizer(data)],
                name="boston_mlp")
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="mse", metrics=["mae"])
    return model


def scatter_true_vs_predicted(y_true: np.ndarray, y_pred: np.ndarray, path: Path, title: str) -> Path:
    """Predicted against true values with the diagonal, as the book's three Boston plots."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("true MEDV ($1000s)")
    ax.set_ylabel("predicted MEDV")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _boston_report(hp: HParams, data: Data, model: keras.Model, ctx: RunContext) -> dict:
    """MLP against SVR(rbf, C=100, gamma=0.1, epsilon=0.1) and LinearRegression on the same scaled split."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_squared_error
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    (x_train, y_train), (x_test, y_test) = data.info["splits"]["train"], data.info["splits"]["test"]
    predictions = {"mlp": model.predict(x_test.astype(np.float32), verbose=0)[:, 0]}
    baselines = {"svr": SVR(kernel="rbf", C=100, gamma=0.1, epsilon=0.1), "linear": LinearRegression()}
    for name, estimator in baselines.items():
        predictions[name] = make_pipeline(StandardScaler(), estimator).fit(x_train, y_train).predict(x_test)
    metrics = {}
    for name, y_pred in predictions.items():
        mse = float(mean_squared_error(y_test, y_pred))
        metrics[f"test_mse_{name}"] = mse
        scatter_true_vs_predicted(y_test, y_pred, ctx.run_dir / f"scatter_{name}.png",
                                  f"{name}: test MSE {mse:.2f}")
    return metrics


register(Recipe(
    name="boston_mlp",
    chapter=3,
    dataset="Boston housing",
    summary="regression MLP 10-8-1 vs SVR and linear regression, with predicted-vs-true scatter plots",
    hparams={"epochs": 150, "batch_size": 32, "learning_rate": 0.001, "test_size": TEST_SIZE, "val_size": VAL_SIZE},
    data=_boston_data,
    model=_boston_model,
    report=_boston_report,
))


# --- sine_fit -------------------------------------------------------------------------------------

def _sine_data(hp: HParams, ctx: RunContext) -> Data:
    """x in [0, 6.4) step 0.1 with y = sin(x) + N(0, noise) (seeded); validation: the noise-free sine."""
    x = np.arange(0, 6.4, 0.1, dtype=np.float32)[:, None]
    y = (np.sin(x) + np.random.default_rng(hp.seed).normal(0, hp.noise, x.shape)).astype(np.float32)
    splits = {"train": (x, y), "val": (x, np.sin(x))}
    return array_data(splits, hp)


def _sine_model(hp: HParams, data: Data) -> keras.Model:
    model = mlp((1,), (10, 10), 1, activation="sigmoid", preprocessing=[normalizer(data)], name="sine_fit")
    model.compile(optimizer=keras.optimizers.Nadam(hp.learning_rate), loss="mse")
    return model


def _sine_report(hp: HParams, data: Data, model: keras.Model, ctx: RunContext) -> dict:
    x, noisy = data.info["splits"]["train"]
    fine = np.linspace(0, 6.4, 200, dtype=np.float32)[:, None]
    fit = model.predict(fine, verbose=0)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(fine, np.sin(fine), label="sin(x)", color="black")
    ax.scatter(x, noisy, s=10, label=f"data: sin(x) + N(0, {hp.noise})", color="tab:blue")
    ax.plot(fine, fit, label="MLP fit", color="tab:red")
    ax.legend()
    ax.set_xlabel("x")
    fig.tight_layout()
    fig.savefig(ctx.run_dir / "sine_fit.png", dpi=90)
    plt.close(fig)
    return {"mse_vs_sine": float(np.mean((fit - np.sin(fine)) ** 2))}


register(Recipe(
    name="sine_fit",
    chapter=3,
    dataset="generated sine",
    summary="curve fitting 1-10-10-1 (sigmoid) on noisy sin(x); plots the sine, the data and the fit",
    hparams={"epochs": 1000, "batch_size": 10, "learning_rate": 0.02,
             "noise": Param(0.1, "standard deviation of the Gaussian noise on sin(x)")},
    data=_sine_data,
    model=_sine_model,
    report=_sine_report,
))

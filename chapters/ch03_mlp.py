"""Chapter 3: a linear model, MLPs on UCI tables and curve fitting, with the book's settings.

The literate source of chapters/ch03.ipynb (python -m zoo.notebooks regenerates it); also a script:

    python chapters/ch03_mlp.py --data-dir ../shared/data            # every chapter 3 recipe, full settings
    python chapters/ch03_mlp.py --data-dir ../shared/data --quick    # 2 batches, 1 epoch each
    python chapters/ch03_mlp.py --only boston_mlp sine_fit
"""

# %% [markdown]
# # Chapter 3: from a linear model to multi-layer perceptrons
#
# The chapter builds up Keras one idea at a time, and so does this notebook, with the zoo's driver
# `zoo.fit` (the run folder keeps metrics, curves, `model.keras` and a SavedModel):
#
# 1. **food prices**: a single `Dense(1)` learns the prices of three dishes from five bills by
#    gradient descent (the book's weights converge to about 150, 50 and 100);
# 2. **Ionosphere** (binary) and **Iris** (three classes): MLPs 10-8-1 and 10-8-3;
# 3. **Boston housing** (regression): an MLP 10-8-1 against an SVR and a linear regression. *Book
#    bugs fixed:* the book neither scaled the features nor seeded its splits; the zoo standardises
#    with training-split statistics (a `Normalization` layer inside the model, so the SavedModel
#    takes raw rows) and seeds every split;
# 4. **curve fitting**: a 1-10-10-1 sigmoid MLP fits sin(x) through noisy samples.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
RECIPES = ["food_price", "ionosphere_mlp", "iris_mlp", "boston_mlp", "sine_fit"]
chapter = chapter_settings(ONLY=RECIPES, choices={"ONLY": RECIPES})  # ONLY: the recipes to train
QUICK, DATA_DIR, OUT, ONLY = chapter
print(chapter)

# %%
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay

import zoo
from zoo.data import uci
from zoo.data.food_price import FOOD_X, FOOD_Y
from zoo.models.mlp import build_mlp
from zoo.notebooks import plot_model, show, show_image
from zoo.training import prepare_data

FIGURES = Path(OUT or "saved_models") / "ch03"  # the data pictures; each run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)
runs = {}


def served(run, rows) -> np.ndarray:
    """Call a run's exported SavedModel as another program would: keras.layers.TFSMLayer on raw rows."""
    layer = keras.layers.TFSMLayer(str(run.run_dir / "saved_model"), call_endpoint="serve")
    return np.asarray(layer(np.asarray(rows, np.float32)))


def test_split(name: str, run):
    """Recipe `name`'s seeded test split, rebuilt by `zoo.training.prepare_data` exactly as `zoo.fit` saw it."""
    context = zoo.recipes.RunContext(data_dir=Path(DATA_DIR), run_dir=run.run_dir)
    return prepare_data(zoo.recipes.get(name), run.hparams, context).info.splits["test"]


# %% [markdown]
# ## 1. Food prices: one neuron, five bills
#
# Each row counts the portions of three dishes on a bill; the target is the bill's total. SGD with
# mean squared error should recover the three prices as the neuron's weights.

# %%
if "food_price" in ONLY:
    show(pd.DataFrame(FOOD_X, columns=["dish 1", "dish 2", "dish 3"]).assign(total=FOOD_Y))
    runs["food_price"] = food = zoo.fit("food_price", **chapter.fit_settings("food_price"))
    print(f"learned prices {food.metrics['weights']}, bias {food.metrics['bias']} (true prices 150, 50, 100)")
    print(f"served: a bill of 1, 1, 1 portions -> {served(food, [[1, 1, 1]])[0, 0]:.1f} (true 300)")

# %% [markdown]
# ## 2. Classification: Ionosphere and Iris
#
# Radar returns (34 features, "good" or "bad") and the iris flowers (4 measurements, 3 species).
# Every class-balance table counts all the rows; the splits are seeded and stratified.

# %%
tables = {}
if "ionosphere_mlp" in ONLY:
    x, y = uci.load_ionosphere(DATA_DIR)
    tables["ionosphere"] = pd.Series(np.bincount(y.astype(int)), index=["bad (0)", "good (1)"])
    print(f"Ionosphere: {x.shape[0]} rows x {x.shape[1]} features")
if "iris_mlp" in ONLY:
    x_iris, y_iris, species = uci.load_iris(DATA_DIR)
    tables["iris"] = pd.Series(np.bincount(y_iris), index=species)
    print(f"Iris: {x_iris.shape[0]} rows x {x_iris.shape[1]} features")
    show(
        pd.DataFrame(x_iris[::50], columns=["sepal length", "sepal width", "petal length", "petal width"]).assign(
            species=[species[i] for i in y_iris[::50]]
        )
    )
for name, counts in tables.items():
    show(counts.rename(f"{name}: rows per class"))

# %% [markdown]
# The Iris MLP in the open: `build_mlp` from `zoo.models.mlp` is the builder the recipes call. The
# `Normalization` layer standardises the raw measurements inside the model; the recipe sets its mean
# and variance from the training split (unset here, where the model is only shown).

# %%
model = build_mlp(
    input_shape=(4,),
    hidden=(10, 8),
    outputs=3,
    kernel_initializer="he_normal",
    output_activation="softmax",
    preprocessing=[keras.layers.Normalization(axis=-1)],
    name="iris_mlp",
)
model.summary()
plot_model(model, FIGURES / "iris_mlp.png")

# %%
for name in ("ionosphere_mlp", "iris_mlp"):
    if name in ONLY:
        runs[name] = zoo.fit(name, **chapter.fit_settings(name))
        print(f"{name}: test accuracy {runs[name].metrics['test_accuracy']:.3f}  ({runs[name].run_dir})")
        show_image(runs[name].run_dir / "curves.png")
iris = runs.get("iris_mlp")

# %% [markdown]
# ### Iris: the confusion matrix on the test split, and a new flower
#
# The SavedModel takes the four raw measurements in centimetres (the standardisation is inside).

# %%
if "iris_mlp" in ONLY:
    x_test, y_test = test_split("iris_mlp", iris)
    predicted = served(iris, x_test).argmax(-1)
    matrix_plot = ConfusionMatrixDisplay.from_predictions(y_test, predicted, display_labels=species, colorbar=False)
    matrix_plot.figure_.savefig(iris.run_dir / "confusion_matrix.png", dpi=90, bbox_inches="tight")
    plt.show()
    flower = [[6.0, 2.9, 4.5, 1.5]]  # a versicolor-like flower
    print(f"new flower {flower[0]} -> " + ", ".join(f"{s} {p:.0%}" for s, p in zip(species, served(iris, flower)[0])))

# %% [markdown]
# ## 3. Regression: Boston house prices, MLP vs SVR vs linear regression
#
# 506 districts, 13 features, the median house value (MEDV, in $1000s) as target. The recipe's
# report trains the two scikit-learn baselines on the same split and draws three predicted-vs-true
# plots.

# %%
if "boston_mlp" in ONLY:
    x_boston, y_boston = uci.load_boston(DATA_DIR)
    print(
        f"Boston: {x_boston.shape[0]} rows x {x_boston.shape[1]} features; MEDV from {y_boston.min()} to "
        f"{y_boston.max()} (median {np.median(y_boston)})"
    )
    fig, ax = plt.subplots(figsize=(5, 2.5))
    ax.hist(y_boston, bins=30)
    ax.set(xlabel="MEDV ($1000s)", ylabel="districts")
    fig.savefig(FIGURES / "boston_medv.png", dpi=90, bbox_inches="tight")
    plt.show()
    runs["boston_mlp"] = boston = zoo.fit("boston_mlp", **chapter.fit_settings("boston_mlp"))
    m = boston.metrics
    show(
        pd.Series(
            {"MLP": m["test_mse_mlp"], "SVR": m["test_mse_svr"], "linear": m["test_mse_linear"]}, name="test MSE"
        ).round(2)
    )
    for name in ("mlp", "svr", "linear"):
        show_image(boston.run_dir / f"scatter_{name}.png")
    print(f"served: the first district's raw row -> MEDV {served(boston, x_boston[:1])[0, 0]:.1f} (true {y_boston[0]})")

# %% [markdown]
# ## 4. Curve fitting: sin(x) through noisy samples

# %%
if "sine_fit" in ONLY:
    runs["sine_fit"] = sine = zoo.fit("sine_fit", **chapter.fit_settings("sine_fit"))
    print(f"MSE of the fit against sin(x): {sine.metrics['mse_vs_sine']:.4f}")
    show_image(sine.run_dir / "sine_fit.png")
    grid = np.array([[0.0], [np.pi / 2], [np.pi], [3 * np.pi / 2]])
    for x0, y0 in zip(grid[:, 0], served(sine, grid)[:, 0]):
        print(f"served: x = {x0:.2f} -> {y0:+.2f} (sin x = {np.sin(x0):+.2f})")

# %%
for name, run in runs.items():
    print(f"{name:15s} {run.run_dir}")

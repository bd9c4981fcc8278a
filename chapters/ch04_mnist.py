"""Chapter 4: softmax regression and a deep MLP on MNIST, served on raw pixels.

The literate source of chapters/ch04.ipynb (python -m zoo.notebooks regenerates it); also a script.
Where only MNIST's t10k files are present (as in ../shared/data), the recipes train on 8,000 of the
10,000 test images (seeded) and score on the other 2,000.

    python chapters/ch04_mnist.py --data-dir ../shared/data
    python chapters/ch04_mnist.py --data-dir ../shared/data --quick
    python chapters/ch04_mnist.py --set patience=2      # early stopping, as taught in this chapter
"""

# %% [markdown]
# # Chapter 4: classifying handwritten digits
#
# The chapter's two MNIST models, trained with the zoo's driver `zoo.fit`:
#
# - **softmax regression**: `Flatten -> Dense(10)`, one weight per pixel and class; Adam, 10 epochs,
#   batch 10. *Book bug fixed:* the book put a softmax on the last layer **and** told the loss
#   `from_logits=True`, so the loss applied a second softmax. The zoo's models output logits, the
#   loss takes logits, and the exported SavedModel adds the softmax so it serves probabilities.
# - a **deep MLP**: `Flatten -> Dense(128, relu) -> Dropout(0.5) -> Dense(10)`; the chapter also
#   teaches early stopping (`SET = ["patience=2"]`), and its whole toolbox is a switch of the
#   `mnist_mlp` recipe (section 5): optimizers (SGD, momentum, Nesterov, AdaGrad, RMSProp, Adadelta,
#   Adam, Adamax, Nadam), initialisers, activations, depth, batch normalisation, dropout, L1/L2 and
#   gradient clipping by norm or by value, e.g. `SET = ["optimizer=momentum", "learning_rate=0.01"]`;
# - the **vanishing gradient** (section 6): the gradient reaching each layer of a 10-layer MLP,
#   sigmoid against ReLU, with and without batch normalisation.
#
# Both models take raw 0-255 pixels: the scaling is a layer inside the model.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (2 batches x 1 epoch per model; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    ONLY=["mnist_softmax", "mnist_mlp"],  # the recipes to train
    SET=[],  # hyper-parameters, "KEY=VALUE" (e.g. "patience=2", "optimizer=momentum", "l2=1e-4")
    choices={"ONLY": ["mnist_softmax", "mnist_mlp"]},
)
QUICK, DATA_DIR, OUT, ONLY, SET = chapter
print(chapter)

# %%
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

import zoo
from zoo.data import mnist
from zoo.models.mlp import build_mlp, hidden_gradient_norms
from zoo.notebooks import plot_model, show, show_image

FIGURES = Path(OUT or "saved_models") / "ch04"  # the data pictures; each run's pictures go to its run folder
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data
#
# 28 x 28 grey-scale digits, 0 (background) to 255 (ink).

# %%
raw = mnist.load(DATA_DIR)
for split, (images, digits) in raw.items():
    print(f"{split}: {images.shape[0]} images of {images.shape[1:]} pixels, dtype {images.dtype}")
images, digits = raw.get("train", raw["test"])

fig, axes = plt.subplots(2, 10, figsize=(10, 2.6))
for ax, image, digit in zip(axes.flat, images, digits):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(int(digit))
    ax.axis("off")
fig.savefig(FIGURES / "examples.png", dpi=90, bbox_inches="tight")
plt.show()

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.bar(range(10), np.bincount(digits, minlength=10))
ax.set(xticks=range(10), xlabel="digit", ylabel="images", title="class balance")
fig.savefig(FIGURES / "balance.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 2. Training both models through `zoo.fit`
#
# First the deep MLP in the open: `build_mlp` from `zoo.models.mlp` is the builder the `mnist_mlp`
# recipe calls, here with its sizes (the softmax regression is the same call with `hidden=()`).

# %%
model = build_mlp(
    input_shape=(28, 28),
    hidden=(128,),
    outputs=10,
    dropout=0.5,
    preprocessing=[keras.layers.Rescaling(1.0 / 255)],
    name="mnist_mlp",
)
model.summary()
plot_model(model, FIGURES / "mnist_mlp.png")

# %% [markdown]
# `zoo.fit` builds each recipe's model the same way, trains it, scores it and exports it
# (`SET` passes hyper-parameters, such as `patience=2` for early stopping).

# %%
runs = {}
for name in ONLY:
    overrides = dict(item.split("=", 1) for item in SET)  # the values stay strings: zoo.fit parses them
    runs[name] = zoo.fit(name, **chapter.fit_settings(name), **overrides)
    print(f"{name}: test accuracy {runs[name].metrics['test_accuracy']:.4f}  ({runs[name].run_dir})")
    show_image(runs[name].run_dir / "curves.png")

# %% [markdown]
# ## 3. The exported SavedModel, called on raw pixels
#
# `keras.layers.TFSMLayer` is how any Keras program loads it: 0-255 pixels in, ten probabilities out.
# First the held-out test images (the same seeded split `zoo.fit` scored on), as a confusion matrix.

# %%
best = runs[ONLY[-1]]
serve = keras.layers.TFSMLayer(str(best.run_dir / "saved_model"), call_endpoint="serve")
splits, test_only = mnist.splits(DATA_DIR, seed=best.hparams.seed, val_fraction=best.hparams.val_fraction)
test_images, test_digits = splits["test"]
probabilities = np.asarray(serve(test_images.astype(np.float32)))
predicted = probabilities.argmax(axis=-1)
print(
    f"{ONLY[-1]}: {np.mean(predicted == test_digits):.2%} of {len(test_digits)} test images "
    f"(the training images came from t10k: {test_only})"
)
matrix_plot = ConfusionMatrixDisplay.from_predictions(test_digits, predicted, colorbar=False)
matrix_plot.figure_.savefig(best.run_dir / "confusion_matrix.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 4. New digits
#
# Digits the model has never seen: typeset with matplotlib into 28 x 28 pixels, white ink on black
# like MNIST. A font is not handwriting, so expect some mistakes.


# %%
def typeset(digit: int) -> np.ndarray:
    """A 28 x 28 image (0-255) of `digit` drawn in matplotlib's default font."""
    fig = Figure(figsize=(1, 1), dpi=28, facecolor="black")
    fig.text(0.5, 0.45, str(digit), color="white", fontsize=20, ha="center", va="center", fontweight="bold")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].astype(np.float32)


new = np.stack([typeset(d) for d in range(10)])
guesses = np.asarray(serve(new))
fig, axes = plt.subplots(1, 10, figsize=(10, 1.6))
for ax, image, p in zip(axes, new, guesses):
    ax.imshow(image, cmap="gray")
    ax.set_title(f"{p.argmax()} ({p.max():.0%})", fontsize=9)
    ax.axis("off")
fig.savefig(best.run_dir / "typeset_digits.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# ## 5. The chapter's toolbox as switches of `mnist_mlp`
#
# Every tool of the chapter is a hyper-parameter of the recipe (`python -m zoo.run mnist_mlp --set
# optimizer=nesterov --set learning_rate=0.01 --set batchnorm=true`); the defaults are the book's
# model. Each run's `config.json` records them all, and a value that cannot work (an unknown
# optimizer, a negative penalty, `layers=0`, clipping by norm and by value at once) is refused in one
# line before any data is read. `benchmarks/mlp_toolbox.py` trains every variant over three seeds
# with the same budget (RESULTS.md has its table and curves).

# %%
params = zoo.recipes.get("mnist_mlp").params()
toolbox = ["optimizer", "learning_rate", "initializer", "activation", "layers", "units", "batchnorm", "dropout"]
toolbox += ["l1", "l2", "clipnorm", "clipvalue", "patience"]
show(
    pd.DataFrame(
        {"default": [params[k].default for k in toolbox], "allowed": [params[k].allowed() for k in toolbox]},
        index=toolbox,
    )
)
try:
    zoo.fit("mnist_mlp", data_dir=DATA_DIR, optimizer="adamw")
except zoo.errors.UserError as error:
    print(f"refused before any work: {error}")

# %% [markdown]
# A variant through `zoo.fit`: Nesterov momentum, He initialisation, two hidden layers with batch
# normalisation, an L2 penalty and gradient clipping by norm.

# %%
variant = dict(optimizer="nesterov", learning_rate=0.01, initializer="he_normal", layers=2, batchnorm=True)
variant.update(l2=1e-4, clipnorm=1.0)
toolbox_run = zoo.fit("mnist_mlp", **chapter.fit_settings("mnist_mlp_toolbox"), **variant)
print(f"{variant}: test accuracy {toolbox_run.metrics['test_accuracy']:.4f}  ({toolbox_run.run_dir})")
show_image(toolbox_run.run_dir / "curves.png")

# %% [markdown]
# ## 6. The vanishing gradient
#
# Backpropagation multiplies the error by each layer's weights and by the derivative of its
# activation. A sigmoid's derivative is at most 1/4, so through ten sigmoid layers the gradient
# reaching the first layers is orders of magnitude smaller than at the top: they barely learn.
# ReLU's derivative is 1 where a unit is active, and batch normalisation keeps every layer's
# inputs in the range where the activation has slope. Below: the norm of the loss gradient for each
# hidden layer's kernel, on one batch of 256 real digits, for four freshly initialised 10-layer MLPs
# (Glorot initialisation, 64 units a layer).

# %%
batch, labels = images[:256].astype(np.float32), digits[:256]
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
fig, ax = plt.subplots(figsize=(7, 4))
for activation, batchnorm in (("sigmoid", False), ("sigmoid", True), ("relu", False), ("relu", True)):
    keras.utils.set_random_seed(0)
    deep = build_mlp(
        input_shape=(28, 28),
        hidden=(64,) * 10,
        outputs=10,
        activation=activation,
        batchnorm=batchnorm,
        preprocessing=[keras.layers.Rescaling(1.0 / 255)],
    )
    norms = hidden_gradient_norms(deep, batch, labels, loss)
    label = f"{activation}{' + batch norm' if batchnorm else ''}"
    ax.semilogy(range(1, 11), norms, marker="o", label=label)
    print(f"{label:22s} gradient norm, layer 1 / layer 10: {norms[0] / norms[-1]:.2e}")
ax.set(xlabel="hidden layer (1 = next to the input)", ylabel="|d loss / d kernel|", xticks=range(1, 11))
ax.set_title("gradient reaching each layer of a 10-layer MLP (one batch, at initialisation)")
ax.legend()
fig.savefig(FIGURES / "vanishing_gradient.png", dpi=90, bbox_inches="tight")
plt.show()

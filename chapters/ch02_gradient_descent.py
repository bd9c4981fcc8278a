"""Chapter 2: gradient descent and backpropagation by hand, in NumPy, checked against TensorFlow.

The literate source of chapters/ch02.ipynb (python -m zoo.notebooks 2 regenerates it); also a script:

    python chapters/ch02_gradient_descent.py --data-dir ../shared/data
    python chapters/ch02_gradient_descent.py --data-dir ../shared/data --quick
"""

# %% [markdown]
# # Chapter 2: gradient descent and backpropagation, by hand
#
# Before Keras does it for us, this chapter writes the learning loops out in NumPy
# (`zoo.models.numpy_network`, a small documented module):
#
# 1. the **food-price perceptron**: five bills, three dishes; a neuron `y = x . w` learns the three
#    prices by **batch** gradient descent (one step per pass over the bills) and by **online**
#    gradient descent (one step per bill). Both reach the book's 150, 50 and 100;
# 2. **backpropagation**: a network of Dense layers with hand-written gradients, checked against
#    TensorFlow's automatic differentiation (`tf.GradientTape`); the relative error is printed;
# 3. that network **trained on Iris**, beside the same 10-8-3 network trained by Keras through the
#    zoo's `iris_mlp` recipe on the same split.

# %% Settings
from zoo.notebooks import chapter_settings

# chapter_settings also takes QUICK=True (the Keras run: 2 batches x 1 epoch; default: $ZOO_QUICK == "1"),
# DATA_DIR (default: $ZOO_DATA_DIR or "datasets") and OUT (the run folders' parent); a script's flags win.
chapter = chapter_settings(
    LEARNING_RATE=0.01,  # the step of both perceptron loops
    EPOCHS=2000,  # passes over the five bills (online: 5 steps each)
)
QUICK, DATA_DIR, OUT, LEARNING_RATE, EPOCHS = chapter
print(chapter)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import zoo
from zoo.data import uci
from zoo.data.food_price import FOOD_X, FOOD_Y
from zoo.models.numpy_network import (
    NumpyMLP,
    batch_gradient_descent,
    online_gradient_descent,
    relative_error,
)
from zoo.notebooks import show
from zoo.training import prepare_data

FIGURES = Path(OUT or "saved_models") / "ch02"
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The food-price perceptron
#
# Each bill counts the portions of three dishes; the neuron predicts the total `x . w`. The loss is
# half the mean squared error, `L(w) = 1/(2n) sum (x_i . w - y_i)^2`, whose gradient is
# `X^T (X w - y) / n`:
#
# - **batch**: `w <- w - lr * X^T (X w - y) / n`, once per pass over the five bills;
# - **online**: for each bill in turn, `w <- w - lr * (x_i . w - y_i) x_i`.
#
# Both start from `w = 0`.

# %%
x, y = FOOD_X.astype(float), FOOD_Y.astype(float)
show(pd.DataFrame(x, columns=["dish 1", "dish 2", "dish 3"]).assign(total=y))
w_batch, batch_losses = batch_gradient_descent(x, y, learning_rate=LEARNING_RATE, epochs=EPOCHS)
w_online, online_losses = online_gradient_descent(x, y, learning_rate=LEARNING_RATE, epochs=EPOCHS)
show(
    pd.DataFrame(
        {"batch": w_batch, "online": w_online, "true": [150, 50, 100]}, index=["dish 1", "dish 2", "dish 3"]
    ).round(4)
)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(range(1, EPOCHS + 1), batch_losses, label="batch (1 step per pass)")
ax.semilogy(range(1, EPOCHS + 1), online_losses, label="online (5 steps per pass)")
ax.set(xlabel="pass over the five bills", ylabel="loss 1/(2n) sum (x.w - y)^2", title=f"learning rate {LEARNING_RATE}")
ax.legend()
fig.savefig(FIGURES / "perceptron_loss.png", dpi=90, bbox_inches="tight")
plt.show()

# %% [markdown]
# Online descent takes five steps per pass and gets there first; with a step too large
# (here above 2 / 57.4, the largest eigenvalue of `X^T X / n`, about 0.035) batch descent diverges.

# %%
print("eigenvalues of X^T X / n:", np.round(np.linalg.eigvalsh(x.T @ x / len(x)), 3))
_, diverging = batch_gradient_descent(x, y, learning_rate=0.036, epochs=50)
print(f"learning rate 0.036: loss after 1, 10, 50 passes {diverging[0]:.3g}, {diverging[9]:.3g}, {diverging[49]:.3g}")

# %% [markdown]
# ## 2. Backpropagation, checked by TensorFlow
#
# `NumpyMLP` is `x -> [Dense -> ReLU] x k -> Dense -> softmax` with the mean cross-entropy. Its
# `gradients` method runs the chain rule backwards: the error at the output is `p - onehot(y)`, and
# each layer turns the error `delta` it receives into its own gradients, `dW = a_prev^T delta / n` and
# `db = mean(delta)`, and sends `(delta W^T) * f'(z_prev)` down. TensorFlow differentiates the same
# computation automatically; the two must agree to rounding (float64).

# %%
rng = np.random.default_rng(0)
for sizes in [(4, 10, 3), (4, 10, 8, 3)]:
    net = NumpyMLP.create(sizes, seed=1)
    xb, yb = rng.normal(size=(16, sizes[0])), rng.integers(0, sizes[-1], 16)
    grad_w, grad_b = net.gradients(xb, yb)
    weights = [tf.Variable(w) for w in net.weights]
    biases = [tf.Variable(b) for b in net.biases]
    with tf.GradientTape() as tape:
        a = tf.constant(xb)
        for i, (w, b) in enumerate(zip(weights, biases)):
            a = a @ w + b
            a = a if i == len(weights) - 1 else tf.nn.relu(a)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, a))
    tape_grads = tape.gradient(loss, weights + biases)
    errors = [relative_error(ours, theirs.numpy()) for ours, theirs in zip(grad_w + grad_b, tape_grads)]
    print(
        f"network {sizes}: loss NumPy {net.loss(xb, yb):.6f} / TF {float(loss):.6f}; "
        f"largest relative error of the {len(errors)} gradients: {max(errors):.1e}"
    )

# %% [markdown]
# ## 3. Iris: the hand-written network beside Keras
#
# The split is `iris_mlp`'s own (seeded, stratified: 90 training, 10 validation, 50 test rows),
# rebuilt with `zoo.training.prepare_data`; the features are standardised with the training rows'
# statistics, as `iris_mlp`'s `Normalization` layer does. The NumPy network has `iris_mlp`'s shape,
# 4-10-8-3 with ReLU, and learns by plain mini-batch gradient descent (step 0.1, batches of 32, 150
# passes). `iris_mlp` trains the same shape with Adam; at the book's step of 0.001 it under-trains
# (RESULTS.md), so it runs here with 0.01.

# %%
recipe = zoo.recipes.get("iris_mlp")
hp = zoo.recipes.resolve_hparams(recipe, {"learning_rate": 0.01})
context = zoo.recipes.RunContext(data_dir=Path(DATA_DIR), run_dir=FIGURES)
splits = prepare_data(recipe, hp, context).info.splits
(x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
mean, std = x_train.mean(axis=0), x_train.std(axis=0)

net = NumpyMLP.create((4, 10, 8, 3), seed=hp.seed)
losses = net.fit((x_train - mean) / std, y_train, learning_rate=0.1, epochs=150, batch_size=32, seed=hp.seed)
numpy_accuracy = np.mean(net.predict_proba((x_test - mean) / std).argmax(axis=1) == y_test)

keras_run = zoo.fit("iris_mlp", **chapter.fit_settings("iris_mlp"), learning_rate=0.01)
show(
    pd.DataFrame(
        {
            "test accuracy": [numpy_accuracy, keras_run.metrics["test_accuracy"]],
            "optimiser": ["gradient descent 0.1, by hand", "Adam 0.01 (Keras)"],
        },
        index=["NumPy 4-10-8-3", "iris_mlp 4-10-8-3"],
    )
)
_, species = uci.load_iris(DATA_DIR)[1:]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, len(losses) + 1), losses, label="NumPy network (training rows)")
history = keras_run.run_dir / "history.csv"
if history.exists():
    keras_losses = pd.read_csv(history)["loss"]
    ax.plot(range(1, len(keras_losses) + 1), keras_losses, label="iris_mlp (training rows)")
ax.set(xlabel="epoch", ylabel="cross-entropy", title="Iris, 4-10-8-3")
ax.legend()
fig.savefig(FIGURES / "iris_numpy_vs_keras.png", dpi=90, bbox_inches="tight")
plt.show()
print(f"classes: {species}; NumPy network's test accuracy {numpy_accuracy:.3f} on {len(y_test)} rows")

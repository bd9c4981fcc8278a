"""Chapter 2 by hand, in NumPy only: gradient descent for the food-price perceptron, and backpropagation.

No Keras and no TensorFlow here: every derivative is written out, so a student can follow the
equations line by line (chapters/ch02_gradient_descent.py checks them against `tf.GradientTape`).

1. The food-price perceptron `y_hat = x . w` (three dish prices, no bias) with the squared error
   `L = 1/(2n) sum (x_i . w - y_i)^2`, whose gradient is `X^T (X w - y) / n`:
   - `batch_gradient_descent`: one step per epoch on the gradient over all rows (the book's batch loop);
   - `online_gradient_descent`: one step per row, `w -= lr * (x_i . w - y_i) x_i` (the book's online
     or stochastic loop). The five bills are consistent (prices 150, 50, 100 explain them exactly),
     so both reach those prices.
2. `NumpyMLP`: a fully connected network (ReLU or sigmoid hidden layers, softmax output, mean
   cross-entropy) whose `gradients` is backpropagation: the output error `p - onehot(y)`, then for
   each layer from the top `dW = a_prev^T delta / n`, `db = sum(delta) / n`, and the error sent down
   `delta_prev = (delta W^T) * f'(z_prev)`. `sizes=(4, 10, 3)` is the chapter's two-layer network;
   `(4, 10, 8, 3)` is `iris_mlp`'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# --- the perceptron -----------------------------------------------------------------------------------


def squared_error(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """`1/(2n) sum (x_i . w - y_i)^2`: the loss both gradient-descent loops minimise."""
    return float(np.mean((x @ w - y) ** 2) / 2)


def batch_gradient_descent(
    x: np.ndarray, y: np.ndarray, *, learning_rate: float, epochs: int, w: np.ndarray | None = None
) -> tuple[np.ndarray, list[float]]:
    """Batch gradient descent: each epoch one step `w -= lr * X^T (X w - y) / n`.

    Returns the weights and the loss after each epoch.

    Example:
        >>> x, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, 3.0])
        >>> w, losses = batch_gradient_descent(x, y, learning_rate=0.5, epochs=200)
        >>> np.round(w, 3).tolist()
        [2.0, 3.0]
    """
    w = np.zeros(x.shape[1]) if w is None else np.array(w, dtype=float)
    losses = []
    for _ in range(epochs):
        w -= learning_rate * x.T @ (x @ w - y) / len(x)
        losses.append(squared_error(x, y, w))
    return w, losses


def online_gradient_descent(
    x: np.ndarray, y: np.ndarray, *, learning_rate: float, epochs: int, w: np.ndarray | None = None
) -> tuple[np.ndarray, list[float]]:
    """Online (stochastic) gradient descent: a step after every row, `w -= lr * (x_i . w - y_i) x_i`.

    Rows are taken in their order (the book's loop); returns the weights and the loss over all rows
    after each epoch, comparable with `batch_gradient_descent`'s.
    """
    w = np.zeros(x.shape[1]) if w is None else np.array(w, dtype=float)
    losses = []
    for _ in range(epochs):
        for xi, yi in zip(x, y):
            w -= learning_rate * (xi @ w - yi) * xi
        losses.append(squared_error(x, y, w))
    return w, losses


# --- a network with backpropagation ----------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow for large -z


ACTIVATIONS = {  # name -> (f, f')
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so `exp` cannot overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """`max |a - b| / max(|a| + |b|)`: how far two gradients are apart, whatever their scale (0 = equal)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))


@dataclasses.dataclass
class NumpyMLP:
    """A fully connected classifier trained by backpropagation written by hand.

    `x -> [Dense -> activation] x hidden layers -> Dense -> softmax`, loss: mean cross-entropy.

    Args:
        weights: one `(inputs, outputs)` matrix per layer.
        biases: one vector per layer.
        activation: "relu" or "sigmoid" for the hidden layers.

    Example:
        >>> net = NumpyMLP.create((4, 10, 3), seed=0)
        >>> net.predict_proba(np.ones((2, 4))).shape
        (2, 3)
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: str = "relu"

    @classmethod
    def create(cls, sizes: tuple[int, ...], *, activation: str = "relu", seed: int = 0) -> NumpyMLP:
        """Weights drawn as He et al. (normal, variance 2 / fan-in; Keras' he_normal untruncated), biases 0."""
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        rng = np.random.default_rng(seed)
        weights = [rng.normal(0.0, np.sqrt(2.0 / m), (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
        return cls(weights, [np.zeros(n) for n in sizes[1:]], activation)

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The pre-activations `z` of every layer and the activations `a` (a[0] is x, a[-1] the softmax)."""
        f, _ = ACTIVATIONS[self.activation]
        zs, activations = [], [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            zs.append(z)
            activations.append(softmax(z) if i == len(self.weights) - 1 else f(z))
        return zs, activations

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[1][-1]

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of the integer labels `y`."""
        p = self.predict_proba(x)
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Backpropagation: d loss / d each weight matrix and bias vector, for a batch."""
        _, df = ACTIVATIONS[self.activation]
        zs, activations = self.forward(x)
        n = len(x)
        delta = activations[-1].copy()
        delta[np.arange(n), y] -= 1.0  # softmax + cross-entropy: d loss / d z = p - onehot(y)
        grad_w, grad_b = [], []
        for layer in reversed(range(len(self.weights))):
            grad_w.append(activations[layer].T @ delta / n)
            grad_b.append(delta.sum(axis=0) / n)
            if layer > 0:
                delta = (delta @ self.weights[layer].T) * df(zs[layer - 1])
        return grad_w[::-1], grad_b[::-1]

    def fit(
        self, x: np.ndarray, y: np.ndarray, *, learning_rate: float, epochs: int, batch_size: int, seed: int = 0
    ) -> list[float]:
        """Mini-batch gradient descent (rows reshuffled each epoch); returns the loss after each epoch."""
        rng = np.random.default_rng(seed)
        losses = []
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                rows = order[start : start + batch_size]
                grad_w, grad_b = self.gradients(x[rows], y[rows])
                for w, b, gw, gb in zip(self.weights, self.biases, grad_w, grad_b):
                    w -= learning_rate * gw
                    b -= learning_rate * gb
            losses.append(self.loss(x, y))
        return losses

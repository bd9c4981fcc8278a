"""Plots of numbers a run produces, as PNG files: training curves, predicted-vs-true scatters, fitted curves.

Drawn on `matplotlib.figure.Figure` objects, not `pyplot`: nothing here selects a backend or keeps
global figure state, so importing the zoo leaves a notebook's or a GUI's matplotlib alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def training_curves(history, path: Path, title: str = "") -> Path:
    """Loss and metric curves per epoch from a history frame (train and `val_` side by side)."""
    names = [c for c in history.columns if c != "epoch" and not c.startswith("val_") and c != "learning_rate"]
    fig = Figure(figsize=(4.5 * max(len(names), 1), 3.5))
    axes = fig.subplots(1, max(len(names), 1), squeeze=False)
    epochs = history["epoch"] + 1
    for ax, name in zip(axes[0], names):
        ax.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return Path(path)


def true_vs_predicted(
    y_true: np.ndarray, y_pred: np.ndarray, path: Path, title: str, label: str = "MEDV ($1000s)"
) -> Path:
    """Predicted against true values with the diagonal (the book's three Boston plots)."""
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    ax.scatter(y_true, y_pred, s=12, alpha=0.7)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(f"true {label}")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return Path(path)


def curve_fit(
    x: np.ndarray,
    y: np.ndarray,
    grid: np.ndarray,
    truth: np.ndarray,
    fit: np.ndarray,
    path: Path,
    data_label: str = "data",
) -> Path:
    """The true curve, the noisy data and a model's fit on one plot (chapter 3's sine)."""
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(grid, truth, label="true curve", color="black")
    ax.scatter(x, y, s=10, label=data_label, color="tab:blue")
    ax.plot(grid, fit, label="model fit", color="tab:red")
    ax.legend()
    ax.set_xlabel("x")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return Path(path)

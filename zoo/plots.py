"""Plots every run can write (matplotlib with the Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def training_curves(history, path: Path, title: str = "") -> Path:
    """Loss and metric curves per epoch from a history frame (train and `val_` side by side)."""
    names = [c for c in history.columns if c != "epoch" and not c.startswith("val_") and c != "learning_rate"]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(4.5 * max(len(names), 1), 3.5), squeeze=False)
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
    plt.close(fig)
    return path

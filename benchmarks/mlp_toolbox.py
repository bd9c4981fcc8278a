"""Chapter 4's toolbox on `mnist_mlp`: optimizers, initialisers, activations, depth, batch norm, dropout,
L1/L2 and clipping, each variant over the same seeds with the same budget (issue 29).

Every variant is `mnist_mlp` through `zoo.fit` with a few `--set` switches and the same budget
(`--epochs`, `--batch-size`: 10 x 32 by default, 2,250 steps); everything else stays the book's
model (Dense128 relu, dropout 0.5, Nadam 1e-3). Learning rates: each optimizer's Keras default,
except Adagrad 0.01 (Keras 2's default; 0.001 barely moves in this budget) and Adadelta 1.0 (Zeiler
2012 has no learning rate, i.e. 1.0). One line per (variant, seed) goes to OUT/toolbox.jsonl (with
its history.csv); lines already there are not run again. `--report` writes OUT/toolbox.md (mean +-
sd over seeds) and OUT/toolbox_curves.png (validation accuracy per epoch, mean over seeds).

    python benchmarks/mlp_toolbox.py --data-dir ../shared/data --out /work/bench/mlp_toolbox --seeds 1
    python benchmarks/mlp_toolbox.py --out /work/bench/mlp_toolbox --report
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import zoo

# variant -> (panel of the figure, --set switches)
VARIANTS: dict[str, tuple[str, dict]] = {
    "book (nadam)": ("optimizer", {}),
    "sgd": ("optimizer", {"optimizer": "sgd", "learning_rate": 0.01}),
    "momentum": ("optimizer", {"optimizer": "momentum", "learning_rate": 0.01}),
    "nesterov": ("optimizer", {"optimizer": "nesterov", "learning_rate": 0.01}),
    "adagrad": ("optimizer", {"optimizer": "adagrad", "learning_rate": 0.01}),
    "rmsprop": ("optimizer", {"optimizer": "rmsprop"}),
    "adadelta": ("optimizer", {"optimizer": "adadelta", "learning_rate": 1.0}),
    "adam": ("optimizer", {"optimizer": "adam"}),
    "adamax": ("optimizer", {"optimizer": "adamax"}),
    "he_normal": ("initialiser, activation, depth", {"initializer": "he_normal"}),
    "random_normal": ("initialiser, activation, depth", {"initializer": "random_normal"}),
    "zeros": ("initialiser, activation, depth", {"initializer": "zeros"}),
    "sigmoid": ("initialiser, activation, depth", {"activation": "sigmoid"}),
    "tanh": ("initialiser, activation, depth", {"activation": "tanh"}),
    "5 layers": ("initialiser, activation, depth", {"layers": 5}),
    "5 layers sigmoid": ("initialiser, activation, depth", {"layers": 5, "activation": "sigmoid"}),
    "5 layers sigmoid + batchnorm": (
        "initialiser, activation, depth",
        {"layers": 5, "activation": "sigmoid", "batchnorm": True},
    ),
    # The book's dropout 0.5 after every one of 5 layers dominates a short budget; without it, depth,
    # the sigmoid's vanishing gradient and batch norm's cure are what the rows measure.
    "5 layers, no dropout": ("initialiser, activation, depth", {"layers": 5, "dropout": 0.0}),
    "5 layers sigmoid, no dropout": (
        "initialiser, activation, depth",
        {"layers": 5, "activation": "sigmoid", "dropout": 0.0},
    ),
    "5 layers sigmoid + batchnorm, no dropout": (
        "initialiser, activation, depth",
        {"layers": 5, "activation": "sigmoid", "batchnorm": True, "dropout": 0.0},
    ),
    "batchnorm": ("regularisation, clipping", {"batchnorm": True}),
    "no dropout": ("regularisation, clipping", {"dropout": 0.0}),
    "l2 1e-4": ("regularisation, clipping", {"l2": 1e-4}),
    "l1 1e-5": ("regularisation, clipping", {"l1": 1e-5}),
    "clipnorm 1": ("regularisation, clipping", {"clipnorm": 1.0}),
    "clipvalue 0.1": ("regularisation, clipping", {"clipvalue": 0.1}),
}


BOTTOM = 0.85  # the figure's lowest validation accuracy; a variant ending below it says so in the legend


def report(rows: list[dict], out: Path) -> str:
    """The table (markdown) and the figure of validation-accuracy curves, mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    lines = [
        "| variant | switches | test accuracy mean +- sd | per seed | seeds | run s (mean) |",
        "|---|---|---|---|---|---|",
    ]
    panels = list(dict.fromkeys(panel for panel, _ in VARIANTS.values()))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 6.5), sharey=True)
    drawn = {panel: 0 for panel in panels}
    for name, (panel, switches) in VARIANTS.items():
        group = sorted((r for r in rows if r["variant"] == name), key=lambda r: r["seed"])
        if not group:
            continue
        scores = [r["test_accuracy"] for r in group]
        sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
        sets = " ".join(f"{k}={v}" for k, v in switches.items()) or "(the book's defaults)"
        lines.append(
            f"| {name} | `{sets}` | {statistics.mean(scores):.4f} +- {sd:.4f} | "
            f"{', '.join(f'{s:.4f}' for s in scores)} | {len(group)} | "
            f"{statistics.mean(r['run_seconds'] for r in group):.0f} |"
        )
        curves = [pd.read_csv(io.StringIO(r["history"]))["val_accuracy"].to_numpy() for r in group if r["history"]]
        if curves:
            length = min(len(c) for c in curves)
            mean = sum(c[:length] for c in curves) / len(curves)
            ax = axes[panels.index(panel)]
            below = f" (off the axis: ends at {mean[-1]:.3f})" if mean[-1] < BOTTOM else ""
            # tab20 and a dash for every other line: a panel holds more variants than the default 10 colours
            index = drawn[panel]
            drawn[panel] += 1
            style = {"color": plt.get_cmap("tab20")(index % 20), "linestyle": "-" if index % 2 == 0 else "--"}
            ax.plot(range(1, length + 1), mean, marker=".", label=name + below, **style)
    for ax, panel in zip(axes, panels):
        ax.set(title=panel, xlabel="epoch", ylabel="validation accuracy (mean over seeds)")
        ax.set_ylim(BOTTOM, 1.0)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)  # below: curves stay visible
    fig.tight_layout()
    fig.savefig(out / "toolbox_curves.png", dpi=100)
    text = "\n".join(lines)
    (out / "toolbox.md").write_text(text + "\n")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="/tmp/mlp_toolbox")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--only", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--report", action="store_true", help="only write the table and the figure")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "toolbox.jsonl"
    done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    for seed in [] if args.report else args.seeds:
        for name in args.only:
            if any((r["variant"], r["seed"]) == (name, seed) for r in done):
                continue
            switches = VARIANTS[name][1]
            start = time.time()
            result = zoo.fit(
                "mnist_mlp",
                data_dir=args.data_dir,
                out=Path(tempfile.mkdtemp()) / "run",
                verbose=0,
                seed=seed,
                epochs=args.epochs,
                batch_size=args.batch_size,
                **switches,
            )
            row = {
                "variant": name,
                "seed": seed,
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "test_accuracy": result.metrics["test_accuracy"],
                "run_seconds": round(time.time() - start, 1),
                "history": (result.run_dir / "history.csv").read_text(),
            }
            done.append(row)
            with open(results, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
    print(report(done, out))


if __name__ == "__main__":
    main()

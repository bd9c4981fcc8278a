"""Chapter 3-5 recipes over several seeds, each beside a scikit-learn baseline on the same split (issue 14).

One seed says little on 50 test rows: this runs each recipe with seeds 1..N through `zoo.fit` and
fits the baseline on the very rows the recipe trained on (`data.info.splits`, train + validation),
scoring both on the recipe's test rows. Baselines: logistic regression (standardised features) for
the classifiers, linear regression for Boston (the book also compares SVR; its numbers are in the
recipe's own metrics). Results go to OUT/seeds.jsonl, one line per (recipe, seed); a line already
there is not run again, so a stopped benchmark resumes.

    python benchmarks/seeds_ch03_05.py --data-dir ../shared/data --out /tmp/seeds --seeds 5
    python benchmarks/seeds_ch03_05.py --only iris_mlp --set epochs=600 --tag epochs600 --out /tmp/seeds
    python benchmarks/seeds_ch03_05.py --only iris_mlp --set learning_rate=0.01 --tag numpy --numpy-network

`--numpy-network` (iris_mlp only) also trains chapter 2's hand-written NumPy network of the same
4-10-8-3 shape (`zoo.models.numpy_network.NumpyMLP`: ReLU, plain mini-batch gradient descent, step
0.1, batches of 32, 150 epochs) on the recipe's training rows, standardised with their statistics,
and scores it on the same test rows (column `numpy`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import zoo
from zoo.models.numpy_network import NumpyMLP

RECIPES = {  # recipe -> (the recipe's test metric, baseline, higher is better)
    "iris_mlp": ("test_accuracy", "logistic regression", True),
    "ionosphere_mlp": ("test_accuracy", "logistic regression", True),
    "boston_mlp": ("test_mse_mlp", "linear regression", False),
    "mnist_softmax": ("test_accuracy", "logistic regression", True),
    "mnist_mlp": ("test_accuracy", "logistic regression", True),
    "mnist_cnn": ("test_accuracy", "logistic regression", True),
}


def baseline(name: str, splits: dict) -> float:
    """The scikit-learn baseline's test score on the recipe's own split."""
    x = np.concatenate([splits[k][0] for k in ("train", "validation") if k in splits])
    y = np.concatenate([splits[k][1] for k in ("train", "validation") if k in splits])
    x_test, y_test = splits["test"]
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    if RECIPES[name][1] == "linear regression":
        model = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
        return float(mean_squared_error(y_test, model.predict(x_test)))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)
    return float(accuracy_score(y_test, model.predict(x_test)))


def numpy_network(splits: dict, seed: int) -> float:
    """Chapter 2's hand-written 4-10-8-3 network on the recipe's training rows; its test accuracy."""
    (x, y), (x_test, y_test) = splits["train"], splits["test"]
    mean, std = x.mean(axis=0), x.std(axis=0)
    net = NumpyMLP.create((x.shape[1], 10, 8, int(y.max()) + 1), seed=seed)
    net.fit((x - mean) / std, y, learning_rate=0.1, epochs=150, batch_size=32, seed=seed)
    return float(np.mean(net.predict_proba((x_test - mean) / std).argmax(axis=1) == y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="/tmp/seeds_ch03_05")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    parser.add_argument("--tag", default="book", help="name of this setting in the results")
    parser.add_argument("--numpy-network", action="store_true", help="iris_mlp: also chapter 2's NumPy network")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "seeds.jsonl"
    done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    overrides = dict(item.split("=", 1) for item in args.set)
    for name in args.only:
        metric, _, _ = RECIPES[name]
        for seed in range(1, args.seeds + 1):
            if any(r["recipe"] == name and r["seed"] == seed and r["tag"] == args.tag for r in done):
                continue
            start = time.time()
            result = zoo.fit(
                name, data_dir=args.data_dir, out=Path(tempfile.mkdtemp()) / "run", verbose=0, seed=seed, **overrides
            )
            data = zoo.training.prepare_data(
                zoo.recipes.get(name),
                result.hparams,
                zoo.recipes.RunContext(data_dir=Path(args.data_dir).resolve(), run_dir=result.run_dir),
            )
            row = {
                "recipe": name,
                "tag": args.tag,
                "seed": seed,
                "zoo": result.metrics[metric],
                "baseline": baseline(name, data.info.splits),
                "seconds": round(time.time() - start, 1),
            }
            if args.numpy_network and name == "iris_mlp":
                row["numpy"] = numpy_network(data.info.splits, seed)
            done.append(row)
            with open(results, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    print("\n| recipe | setting | metric | zoo mean +- sd | baseline mean +- sd | seeds |\n|---|---|---|---|---|---|")
    for name in args.only:
        rows = [r for r in done if r["recipe"] == name and r["tag"] == args.tag]
        if not rows:
            continue
        zoo_scores, base_scores = [r["zoo"] for r in rows], [r["baseline"] for r in rows]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(
            f"| {name} | {args.tag} | {RECIPES[name][0]} | {statistics.mean(zoo_scores):.3f} +- {sd(zoo_scores):.3f} "
            f"| {statistics.mean(base_scores):.3f} +- {sd(base_scores):.3f} ({RECIPES[name][1]}) | {len(rows)} |"
        )
        if all("numpy" in r for r in rows):
            numpy_scores = [r["numpy"] for r in rows]
            print(
                f"| {name} | NumPy network (chapter 2) | "
                f"{statistics.mean(numpy_scores):.3f} +- {sd(numpy_scores):.3f} |"
            )


if __name__ == "__main__":
    main()

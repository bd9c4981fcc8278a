"""Chapter 3-5 recipes over several seeds, each beside a scikit-learn baseline on the same split (issue 14).

One seed says little on 50 test rows: this runs each recipe with seeds 1..N through `zoo.fit` and
fits the baseline on the very rows the recipe trained on (`data.info.splits`, train + validation),
scoring both on the recipe's test rows. Baselines: logistic regression (standardised features) for
the classifiers, linear regression for Boston (the book also compares SVR; its numbers are in the
recipe's own metrics). Results go to OUT/seeds.jsonl, one line per (recipe, seed); a line already
there is not run again, so a stopped benchmark resumes.

    python benchmarks/seeds_ch03_05.py --data-dir ../shared/data --out /tmp/seeds --seeds 5
    python benchmarks/seeds_ch03_05.py --only iris_mlp --set epochs=600 --tag epochs600 --out /tmp/seeds
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="/tmp/seeds_ch03_05")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    parser.add_argument("--tag", default="book", help="name of this setting in the results")
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


if __name__ == "__main__":
    main()

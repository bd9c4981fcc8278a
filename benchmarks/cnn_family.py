"""The chapter 5 CNN family on MNIST over seeds: test accuracy, parameters, training time (issue 29).

Each recipe (`mnist_cnn`, the book's CNN, is the reference; `mlp_dropout_mnist` the plainest model
of the table) trains through `zoo.fit` with its defaults and a seed, on the same seeded split (the
2,000 held-out images when only MNIST's t10k files are present). "run s" is the whole `zoo.fit`
(data, training, test, export) on a shared 2-core machine. One line per (recipe, tag, seed)
goes to OUT/family.jsonl; a line already there is not run again, so a stopped benchmark resumes
and the seeds can run as separate jobs. The table (mean +- sd over the seeds) goes to OUT/family.md.

    python benchmarks/cnn_family.py --data-dir ../shared/data --out /work/bench/cnn_family --seeds 1
    python benchmarks/cnn_family.py --data-dir ../shared/data --out /work/bench/cnn_family --seeds 1 2 3 --table
    python benchmarks/cnn_family.py --only resnet_mnist --set augment=false --tag no-augment --seeds 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import zoo

RECIPES = ["mnist_cnn", "lenet5_mnist", "inception_mnist", "resnet_mnist", "mlp_dropout_mnist"]
GOALS = {"lenet5_mnist": 0.98, "resnet_mnist": 0.99}


def table(rows: list[dict]) -> str:
    """Markdown: one line per (recipe, tag), mean +- sd of the test accuracy over its seeds."""
    lines = [
        "| recipe | setting | test accuracy mean +- sd | per seed | goal | parameters | run s (mean) | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = list(dict.fromkeys((r["recipe"], r["tag"]) for r in rows))
    for name, tag in keys:
        group = sorted((r for r in rows if (r["recipe"], r["tag"]) == (name, tag)), key=lambda r: r["seed"])
        scores = [r["test_accuracy"] for r in group]
        sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
        goal = GOALS.get(name)
        verdict = "" if goal is None else f">= {goal}: {'met' if statistics.mean(scores) >= goal else 'missed'}"
        lines.append(
            f"| {name} | {tag} | {statistics.mean(scores):.4f} +- {sd:.4f} | "
            f"{', '.join(f'{s:.4f}' for s in scores)} | {verdict} | {group[0]['parameters']:,} | "
            f"{statistics.mean(r['run_seconds'] for r in group):.0f} | {len(group)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="/tmp/cnn_family")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    parser.add_argument("--tag", default="defaults", help="name of this setting in the results")
    parser.add_argument("--table", action="store_true", help="only print the table of what is there")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "family.jsonl"
    done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    overrides = dict(item.split("=", 1) for item in args.set)
    for seed in [] if args.table else args.seeds:
        for name in args.only:  # recipes alternate within a seed, so a busy spell of the machine hits them all
            if any((r["recipe"], r["tag"], r["seed"]) == (name, args.tag, seed) for r in done):
                continue
            start = time.time()
            result = zoo.fit(
                name, data_dir=args.data_dir, out=Path(tempfile.mkdtemp()) / "run", verbose=0, seed=seed, **overrides
            )
            history = result.run_dir / "history.csv"
            row = {
                "recipe": name,
                "tag": args.tag,
                "seed": seed,
                "test_accuracy": result.metrics["test_accuracy"],
                "parameters": result.model.count_params(),
                "run_seconds": round(time.time() - start, 1),  # the whole zoo.fit: data, training, test, export
                "epochs": result.hparams.epochs,
                "history": history.read_text() if history.exists() else "",
            }
            done.append(row)
            with open(results, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: v for k, v in row.items() if k != "history"}), flush=True)
    text = table([r for r in done if r["recipe"] in args.only])
    (out / "family.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

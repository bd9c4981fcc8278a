"""Chapter 5 walk-through: the MNIST CNN and the 1D CNN for activity recognition (UCI HAR).

UCI HAR is downloaded from the UCI repository into DATA_DIR/har/ when absent (or place the zip
there by hand); MNIST falls back to a seeded 8,000/2,000 split of its test set when only the t10k
files are present.

    python chapters/ch05_cnn.py --data-dir ../shared/data --only mnist_cnn
    python chapters/ch05_cnn.py --data-dir ~/datasets --only har_cnn1d
    python chapters/ch05_cnn.py --data-dir ../shared/data --only mnist_cnn --quick
"""

from __future__ import annotations

import argparse

import zoo

RECIPES = ["mnist_cnn", "har_cnn1d"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", default=None, help="parent folder of the run folders (default saved_models/)")
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 batches, 1 epoch")
    args = parser.parse_args()
    settings = {"max_steps": 2, "epochs": 1} if args.quick else {}
    for name in args.only:
        result = zoo.fit(name, data_dir=args.data_dir, out=f"{args.out}/{name}" if args.out else None, **settings)
        print(f"{name}: test accuracy {result.metrics['test_accuracy']:.4f}  ({result.run_dir})")


if __name__ == "__main__":
    main()

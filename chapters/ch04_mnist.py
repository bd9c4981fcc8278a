"""Chapter 4 walk-through: softmax regression and a deep MLP on MNIST, served on raw pixels.

Where only MNIST's t10k files are present (as in ../shared/data), the recipes train on 8,000 of the
10,000 test images (seeded) and score on the other 2,000.

    python chapters/ch04_mnist.py --data-dir ../shared/data
    python chapters/ch04_mnist.py --data-dir ../shared/data --quick
    python chapters/ch04_mnist.py --set patience=2      # early stopping, as taught in this chapter
"""

from __future__ import annotations

import argparse

import numpy as np

import zoo
from zoo import export
from zoo.data import mnist

RECIPES = ["mnist_softmax", "mnist_mlp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", default=None, help="parent folder of the run folders (default saved_models/)")
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 batches, 1 epoch")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    if args.quick:
        settings.update(max_steps=2, epochs=1)
    pixels = mnist.load(args.data_dir)["test"][0][:5].astype(np.float32)  # raw 0-255, as a user has them
    for name in args.only:
        result = zoo.fit(name, data_dir=args.data_dir, out=f"{args.out}/{name}" if args.out else None, **settings)
        print(f"{name}: test accuracy {result.metrics['test_accuracy']:.4f}  ({result.run_dir})")
        served = export.serving_layer(result.run_dir)(pixels)  # what other Keras code would do
        print(f"  served class probabilities -> predicted digits {np.argmax(served, axis=-1).tolist()}")


if __name__ == "__main__":
    main()

"""Chapter 4 walk-through: softmax regression and a deep MLP on MNIST, served on raw pixels.

Where only MNIST's t10k files are present (as in ../shared/data), the recipes train on 8,000 of the
10,000 test images (seeded) and score on the other 2,000.

    python chapters/ch04_mnist.py --data-dir ../shared/data
    python chapters/ch04_mnist.py --data-dir ../shared/data --quick
    python chapters/ch04_mnist.py --set patience=2      # early stopping, as taught in this chapter
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.run import chapter_parser, chapter_settings
from zoo import export
from zoo.data import mnist

RECIPES = ["mnist_softmax", "mnist_mlp"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    pixels = mnist.load(args.data_dir)["test"][0][:5].astype(np.float32)  # raw 0-255, as a user has them
    for name in args.only:
        result = zoo.fit(name, **chapter_settings(args, name), **overrides)
        print(f"{name}: test accuracy {result.metrics['test_accuracy']:.4f}  ({result.run_dir})")
        served = export.serving_layer(result.run_dir)(pixels)  # what other Keras code would do
        print(f"  served class probabilities -> predicted digits {np.argmax(served, axis=-1).tolist()}")


if __name__ == "__main__":
    main()

"""Chapter 5 walk-through: the MNIST CNN and the 1D CNN for activity recognition (UCI HAR).

UCI HAR is downloaded from the UCI repository into DATA_DIR/har/ when absent (or place the zip
there by hand); MNIST falls back to a seeded 8,000/2,000 split of its test set when only the t10k
files are present.

    python chapters/ch05_cnn.py --data-dir ../shared/data --only mnist_cnn
    python chapters/ch05_cnn.py --data-dir ~/datasets --only har_cnn1d
    python chapters/ch05_cnn.py --data-dir ../shared/data --only mnist_cnn --quick
"""

from __future__ import annotations

import zoo
from zoo.run import chapter_parser, chapter_settings

RECIPES = ["mnist_cnn", "har_cnn1d"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    args = parser.parse_args()
    for name in args.only:
        result = zoo.fit(name, **chapter_settings(args, name))
        print(f"{name}: test accuracy {result.metrics['test_accuracy']:.4f}  ({result.run_dir})")


if __name__ == "__main__":
    main()

"""Chapter 3 walk-through: a linear model, MLPs on UCI tables and curve fitting, with the book's settings.

    python chapters/ch03_mlp.py --data-dir ../shared/data            # every chapter 3 recipe, full settings
    python chapters/ch03_mlp.py --data-dir ../shared/data --quick    # 2 batches, 1 epoch each
    python chapters/ch03_mlp.py --only boston_mlp sine_fit
"""

from __future__ import annotations

import zoo
from zoo.run import chapter_parser, chapter_settings

RECIPES = ["food_price", "ionosphere_mlp", "iris_mlp", "boston_mlp", "sine_fit"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    args = parser.parse_args()
    for name in args.only:
        result = zoo.fit(name, **chapter_settings(args, name))
        m = result.metrics
        if name == "food_price":  # the book: about [150, 50, 100]
            print(f"food_price: learned weights {m['weights']}, bias {m['bias']}")
        elif name == "boston_mlp":
            print(f"boston_mlp: test MSE  MLP {m['test_mse_mlp']:.2f}  SVR {m['test_mse_svr']:.2f}  "
                  f"linear {m['test_mse_linear']:.2f}  (scatter_*.png in {result.run_dir})")
        elif name == "sine_fit":
            print(f"sine_fit: MSE of the fit against sin(x) {m['mse_vs_sine']:.4f} ({result.run_dir}/sine_fit.png)")
        else:
            print(f"{name}: test accuracy {m['test_accuracy']:.3f}")
        print(f"  run folder: {result.run_dir}")


if __name__ == "__main__":
    main()

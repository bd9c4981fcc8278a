"""Chapter 3 walk-through: a linear model, MLPs on UCI tables and curve fitting, with the book's settings.

    python chapters/ch03_mlp.py --data-dir ../shared/data            # every chapter 3 recipe, full settings
    python chapters/ch03_mlp.py --data-dir ../shared/data --quick    # 2 batches, 1 epoch each
    python chapters/ch03_mlp.py --only boston_mlp sine_fit
"""

from __future__ import annotations

import argparse

import zoo

RECIPES = ["food_price", "ionosphere_mlp", "iris_mlp", "boston_mlp", "sine_fit"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", default=None, help="parent folder of the run folders (default saved_models/)")
    parser.add_argument("--only", nargs="*", default=RECIPES, choices=RECIPES)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 batches, 1 epoch")
    args = parser.parse_args()
    settings = {"max_steps": 2, "epochs": 1} if args.quick else {}
    for name in args.only:
        out = f"{args.out}/{name}" if args.out else None
        result = zoo.fit(name, data_dir=args.data_dir, out=out, **settings)
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

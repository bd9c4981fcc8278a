"""Chapter 6 walk-through: skip-gram word2vec with negative sampling, nearest neighbours, analogies, exports.

    python chapters/ch06_word2vec.py --data-dir ../shared/data                  # PTB (text8 if you have it: --recipe skipgram_text8)
    python chapters/ch06_word2vec.py --data-dir ../shared/data --quick          # 20 batches, 1 epoch
    python chapters/ch06_word2vec.py --recipe skipgram_corpus --corpus ../shared/data/imdb/aclImdb_labeled.tar.gz
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.run import chapter_parser, chapter_settings
from zoo import export
from zoo.models import word2vec


def main() -> None:
    parser = chapter_parser(__doc__, quick_steps=20)
    parser.add_argument("--recipe", default="skipgram_ptb", choices=["skipgram_ptb", "skipgram_text8", "skipgram_corpus"])
    parser.add_argument("--corpus", default="", help="text file, folder or archive for skipgram_corpus")
    args = parser.parse_args()
    settings = chapter_settings(args, args.recipe)
    if args.recipe == "skipgram_corpus":
        settings["corpus"] = args.corpus
        if args.corpus.endswith("aclImdb_labeled.tar.gz"):
            settings["corpus_pattern"] = "aclImdb/*/*/*.txt"

    # The nearest-neighbour callback prints probe words' neighbours after every epoch.
    result = zoo.fit(args.recipe, **settings)
    m = result.metrics
    if "analogy_accuracy" in m:
        print(f"analogies (3CosAdd): {m['analogy_accuracy']:.1%} of {m['analogy_answered']} answered "
              f"({m['analogy_oov']} skipped as out of vocabulary); semantic {m['analogy_semantic']:.1%}, "
              f"syntactic {m['analogy_syntactic']:.1%}")

    # a - b + c with the trained vectors: "king - man + woman"
    vocabulary = (result.run_dir / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    matrix = word2vec.word_vectors(result.model)[1:]
    index = {w: i for i, w in enumerate(vocabulary)}
    if all(w in index for w in ("king", "man", "woman")):
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        query = unit[index["king"]] - unit[index["man"]] + unit[index["woman"]]
        best = [vocabulary[i] for i in np.argsort(-(unit @ query)) if vocabulary[i] not in ("king", "man", "woman")][:5]
        print(f"king - man + woman ~ {', '.join(best)}")

    # The SavedModel maps a batch of words to vectors, usable from any Keras code without the zoo.
    serve = export.serving_layer(result.run_dir)
    vectors = np.asarray(serve(np.array(["market", "stock", "zebra-unknown"])))
    print(f"served vectors: {vectors.shape}; files for the Embedding Projector: "
          f"{result.run_dir / 'vectors.tsv'} + metadata.tsv; word2vec format: {result.run_dir / 'vectors.txt'}")


if __name__ == "__main__":
    main()

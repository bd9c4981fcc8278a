"""Chapter 6 benchmark: our Keras skip-gram (skipgram_corpus) against gensim's Word2Vec on the same corpus and settings.

Both train skip-gram with negative sampling on the IMDB reviews (50,000 labelled reviews, tokenised
once by `zoo.data.corpus.tokenize`), with the same dim/window/negatives/min_count/sample/epochs and
vocabulary cap, on the same cores. Prints raw corpus words per second of training (vocabulary
building excluded for both), the ratio, and both analogy accuracies on questions-words.txt
(our 3CosAdd metric on both, restricted to the 30,000 most frequent words; gensim's own
`evaluate_word_analogies` as a cross-check).

    python benchmarks/word2vec_vs_gensim.py --data-dir ../shared/data --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=2, help="gensim threads (TF uses all cores)")
    parser.add_argument("--no-jit", action="store_true")
    parser.add_argument("--skip-gensim", action="store_true")
    parser.add_argument("--max-docs", type=int, default=0, help="use only the first N reviews (0 = all)")
    parser.add_argument("--json", default="", help="also write the results to this file")
    args = parser.parse_args()

    import zoo
    from zoo.data import analogy, corpus
    from zoo.metrics.analogy import analogy_accuracy
    from zoo.models import word2vec
    from zoo.recipes import RunContext, get, resolve_hparams

    data_dir = Path(args.data_dir).resolve()
    archive = data_dir / "imdb" / "aclImdb_labeled.tar.gz"
    texts, _ = corpus.read_texts(archive, "aclImdb/*/*/*.txt")
    texts = texts[: args.max_docs] if args.max_docs else texts
    sentences = list(corpus.documents(texts))
    words = sum(len(s) for s in sentences)
    questions = analogy.load(data_dir)
    print(f"corpus: {archive.name}, {len(sentences)} reviews, {words:,} words", flush=True)
    results: dict = {
        "corpus_words": words,
        "reviews": len(sentences),
        "settings": vars(args),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
    }

    # --- ours: the skipgram_corpus recipe's data + model, trained with model.fit
    recipe = get("skipgram_corpus")
    hp = resolve_hparams(
        recipe,
        dict(
            corpus=str(archive),
            corpus_pattern="aclImdb/*/*/*.txt",
            epochs=args.epochs,
            dim=args.dim,
            window=args.window,
            negatives=args.negatives,
            min_count=args.min_count,
            subsample=args.sample,
            batch_size=args.batch_size,
            jit_compile=not args.no_jit,
        ),
    )
    import keras

    keras.utils.set_random_seed(hp.seed)
    ctx = RunContext(data_dir=data_dir, run_dir=Path("/tmp"))
    start = time.perf_counter()
    data = recipe.data(hp, ctx) if not args.max_docs else _subset_data(recipe, hp, ctx, sentences)
    prep = time.perf_counter() - start
    model = recipe.model(hp, data)
    start = time.perf_counter()
    history = model.fit(data.train.prefetch(-1), epochs=hp.epochs, verbose=2)
    ours_time = time.perf_counter() - start
    vocabulary, matrix = data.info.vocabulary, word2vec.word_vectors(model)
    ours = analogy_accuracy(vocabulary, matrix, questions, restrict=30_000)
    results["ours"] = {
        "train_seconds": ours_time,
        "vocab_seconds": prep,
        "words_per_second": words * hp.epochs / ours_time,
        "final_loss": history.history["loss"][-1],
        "vocabulary": len(vocabulary),
        **{f"analogy_{k}": v for k, v in ours.items() if k != "sections"},
    }
    print(
        f"ours:   {results['ours']['words_per_second']:,.0f} words/s ({ours_time:.0f} s), "
        f"analogy {ours['accuracy']:.4f} on {ours['answered']} questions",
        flush=True,
    )
    del model

    # --- gensim: same corpus, same settings
    if not args.skip_gensim:
        from gensim.models import Word2Vec

        start = time.perf_counter()
        g = Word2Vec(
            vector_size=args.dim,
            window=args.window,
            negative=args.negatives,
            hs=0,
            sg=1,
            min_count=args.min_count,
            sample=args.sample,
            workers=args.workers,
            seed=hp.seed,
        )
        g.build_vocab(sentences)
        g_prep = time.perf_counter() - start
        start = time.perf_counter()
        g.train(sentences, total_examples=len(sentences), epochs=args.epochs)
        g_time = time.perf_counter() - start
        g_vocab = ["[UNK]", *g.wv.index_to_key]
        import numpy as np

        g_matrix = np.concatenate([np.zeros((1, args.dim), "float32"), g.wv.vectors])
        theirs = analogy_accuracy(g_vocab, g_matrix, questions, restrict=30_000)
        own_score, _ = g.wv.evaluate_word_analogies(
            str(data_dir / "word2vec" / "questions-words.txt"), restrict_vocab=30_000
        )
        results["gensim"] = {
            "train_seconds": g_time,
            "vocab_seconds": g_prep,
            "words_per_second": words * args.epochs / g_time,
            "vocabulary": len(g_vocab),
            "gensim_evaluate_word_analogies": own_score,
            **{f"analogy_{k}": v for k, v in theirs.items() if k != "sections"},
        }
        results["speed_ratio_gensim_over_ours"] = (
            results["gensim"]["words_per_second"] / results["ours"]["words_per_second"]
        )
        print(
            f"gensim: {results['gensim']['words_per_second']:,.0f} words/s ({g_time:.0f} s), "
            f"analogy {theirs['accuracy']:.4f} on {theirs['answered']} questions "
            f"(gensim's own evaluation: {own_score:.4f})",
            flush=True,
        )
        print(
            f"gensim is {results['speed_ratio_gensim_over_ours']:.1f}x faster; analogy gap "
            f"{100 * (theirs['accuracy'] - ours['accuracy']):+.1f} points (gensim - ours)",
            flush=True,
        )
    print(json.dumps(results, indent=1, default=float))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float) + "\n")
    del zoo


def _subset_data(recipe, hp, ctx, sentences):
    from zoo.recipes import ch06

    return ch06.skipgram_data(hp, ctx, sentences, source="imdb subset")


if __name__ == "__main__":
    main()

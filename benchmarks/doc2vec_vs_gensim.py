"""Chapter 14 benchmark: the zoo's paragraph vectors against gensim's Doc2Vec, same corpus, settings and machine.

gensim's doc2vec-IMDB tutorial is the anchor: the 50,000 labelled reviews (labels unused), 100
dimensions, negative 5 (no hierarchical softmax), min_count 2, no sub-sampling, PV-DM window 10 with
the mean (`dm_mean=1`), 20 epochs, a logistic regression fit on the training half's vectors and
scored on the test half (PV-DBOW 10.52% test error, DM-mean 17.09%, DBOW+DMM 10.46%: `--mode both`,
for gensim two models trained one after the other, their vectors concatenated; ours the recipe's
`mode=both`, the two trained side by side on the same batches). Both systems read the same
reviews and tokenise them with `zoo.data.corpus.tokenize`; gensim trains with 2 worker threads.

Each measurement runs in a process of its own (`run`), so its peak memory (`ru_maxrss`) is its own:
prepare (read, tokenise, vocabulary), train, evaluate (classifier on the trained vectors; vectors
inferred for `--infer` test reviews, ours through the exported model's `infer` function, gensim's
`infer_vector`, scored by the same classifier). `pair` alternates ours and gensim for `--rounds`.

    python benchmarks/doc2vec_vs_gensim.py pair --mode dbow --epochs 5 --out /work/bench/pv
    python benchmarks/doc2vec_vs_gensim.py run --system ours --mode dbow --epochs 20 --out /work/bench/pv
    python benchmarks/doc2vec_vs_gensim.py averaged --vectors RUN/vectors.txt --out /work/bench/pv
    python benchmarks/doc2vec_vs_gensim.py table --out /work/bench/pv
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--mode", choices=("dbow", "dm", "both"), default="dbow")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--infer", type=int, default=25_000, help="test reviews whose vectors are inferred")
    parser.add_argument("--max-docs", type=int, default=0, help="first N reviews of each half (0 = all)")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--group-size", type=int, default=0, help="0: the recipe's default for the mode")
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--row-cap", type=float, default=0.0, help="ours: the recipe's row_cap (0 = off)")
    parser.add_argument("--seed", type=int, default=1337)


def _reviews(data_dir: str, max_docs: int):
    import numpy as np

    from zoo.data import imdb

    splits = imdb.load(data_dir)
    halves = []
    for name in ("train", "test"):
        texts, labels = splits[name]
        if max_docs:  # both classes: the halves are sorted by label
            pick = np.linspace(0, len(texts) - 1, max_docs).astype(int)
            texts, labels = [texts[i] for i in pick], labels[pick]
        halves.append((list(texts), np.asarray(labels)))
    return halves


def _picked(n: int, total: int, count: int):
    import numpy as np

    return n + np.linspace(0, total - n - 1, min(count, total - n)).astype(int)


def run(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description="one measurement in this process")
    _common(parser)
    parser.add_argument("--system", choices=("ours", "gensim"), required=True)
    args = parser.parse_args(argv)
    import numpy as np

    from zoo.recipes.text_blocks import infer_texts, logistic_error

    start = time.perf_counter()
    (train_texts, train_y), (test_texts, test_y) = _reviews(args.data_dir, args.max_docs)
    texts, labels, n = train_texts + test_texts, np.concatenate([train_y, test_y]), len(train_texts)
    picked = _picked(n, len(texts), args.infer)
    if args.system == "ours":
        import keras

        from zoo.recipes import RunContext, get, resolve_hparams
        from zoo.recipes.ch14 import document_data

        recipe = get("paragraph_vectors_imdb")
        hp = resolve_hparams(
            recipe,
            dict(
                mode=args.mode,
                epochs=args.epochs,
                batch_size=args.batch_size,
                group_size=args.group_size,
                window=args.window,
                row_cap=args.row_cap,
                seed=args.seed,
            ),
        )
        keras.utils.set_random_seed(hp.seed)
        ctx = RunContext(data_dir=Path(args.data_dir), run_dir=Path("/tmp"))
        data = document_data(hp, ctx, texts, labels=labels, train_size=n, source="IMDB")
        model = recipe.model(hp, data)
        prepared = time.perf_counter()
        history = model.fit(data.train.prefetch(-1), epochs=hp.epochs, verbose=2)
        trained_at = time.perf_counter()
        vectors = model.document_vectors()
        serving = recipe.serving(hp, data, model)
        inferred = infer_texts(serving, [texts[i] for i in picked], batch=1024)  # 256 per call took 1.3x as long
        words, vocabulary = data.info.tokens, len(data.info.vocabulary) - 1
        extra = {"final_loss": float(history.history["loss"][-1]), "row_cap": args.row_cap, "seed": args.seed}
    else:
        from gensim.models.doc2vec import Doc2Vec, TaggedDocument

        from zoo.data.corpus import tokenize

        tokens = [tokenize(t) for t in texts]
        # In a seeded random order, as gensim's IMDB tutorial shuffles them: the reviews come sorted by label,
        # and gensim trains in corpus order under a decaying rate (in label order its 5-epoch PV-DBOW error on
        # the 50,000 reviews was 49%, chance; on 6,000 reviews 10 epochs gave 33.5% in order, 18.9% shuffled).
        order = np.random.default_rng(args.seed).permutation(len(tokens))
        tagged = [TaggedDocument(tokens[i], [int(i)]) for i in order]
        # both: the tutorial's DBOW+DMM, two models trained one after the other, their vectors concatenated
        models = []
        for dm in {"dbow": [0], "dm": [1], "both": [0, 1]}[args.mode]:
            model = Doc2Vec(
                dm=dm,
                dm_mean=1,
                vector_size=100,
                window=args.window,
                negative=5,
                hs=0,
                min_count=2,
                sample=0,
                workers=2,
                epochs=args.epochs,
                seed=args.seed,
            )
            model.build_vocab(tagged)
            models.append(model)
        prepared = time.perf_counter()
        for model in models:
            model.train(tagged, total_examples=len(tagged), epochs=args.epochs)
        trained_at = time.perf_counter()
        vectors = np.concatenate([np.stack([m.dv[i] for i in range(len(texts))]) for m in models], axis=1)
        inferred = np.concatenate([np.stack([m.infer_vector(tokens[i]) for i in picked]) for m in models], axis=1)
        words, vocabulary = models[0].corpus_total_words, len(models[0].wv)
        extra = {}
    error, classifier = logistic_error(vectors[:n], labels[:n], vectors[n:], labels[n:], args.seed)
    cosine = (inferred * vectors[picked]).sum(1) / np.maximum(
        np.linalg.norm(inferred, axis=1) * np.linalg.norm(vectors[picked], axis=1), 1e-12
    )
    done = time.perf_counter()
    result = {
        "system": args.system,
        "mode": args.mode,
        "epochs": args.epochs,
        "reviews": len(texts),
        "corpus_words": int(words),
        "vocabulary": int(vocabulary),
        "test_error": error,
        "inferred_documents": len(picked),
        "test_error_inferred": float(1 - classifier.score(inferred, labels[picked])),
        "test_error_trained_same_documents": float(1 - classifier.score(vectors[picked], labels[picked])),
        "inferred_trained_cosine": float(cosine.mean()),
        "prepare_seconds": prepared - start,
        "train_seconds": trained_at - prepared,
        "evaluate_seconds": done - trained_at,
        "total_seconds": done - start,
        "train_words_per_second": words * args.epochs / (trained_at - prepared),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": os.getloadavg(),
        **extra,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%H%M%S")
    name = f"{args.system}_{args.mode}_e{args.epochs}{f'_d{args.max_docs}' if args.max_docs else ''}_{stamp}.json"
    (out / name).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1), flush=True)
    return result


def pair(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="ours and gensim alternated, each in its own process")
    _common(parser)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--gensim-first", action="store_true")
    args = parser.parse_args(argv)
    shared = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k not in ("rounds", "gensim_first")]
    order = ("gensim", "ours") if args.gensim_first else ("ours", "gensim")
    for _ in range(args.rounds):
        for system in order:
            subprocess.run([sys.executable, __file__, "run", "--system", system, *shared], check=True)


def averaged(argv: list[str]) -> None:
    """The baseline row: mean skip-gram vectors per review (chapter 6's vectors.txt), same classifier."""
    parser = argparse.ArgumentParser(description="averaged word vectors baseline")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--vectors", required=True)
    parser.add_argument("--max-docs", type=int, default=0)
    args = parser.parse_args(argv)
    import numpy as np

    from zoo.data.corpus import tokenize
    from zoo.data.documents import DocumentInfo, encode_documents
    from zoo.recipes.text_blocks import averaged_vectors, logistic_error

    (train_texts, train_y), (test_texts, test_y) = _reviews(args.data_dir, args.max_docs)
    texts, labels, n = train_texts + test_texts, np.concatenate([train_y, test_y]), len(train_texts)
    vocabulary, _, _, _ = encode_documents([tokenize(t) for t in texts], min_count=1, max_vocab=1 << 24)
    info = DocumentInfo(vocabulary.words, vocabulary.counts, len(texts), 0, 0, 0, texts=texts)
    x = averaged_vectors(args.vectors, info)
    error, _ = logistic_error(x[:n], labels[:n], x[n:], labels[n:])
    result = {"system": "averaged", "vectors": args.vectors, "test_error": error, "reviews": len(texts)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "averaged.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def table(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="the results as a Markdown table")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.out).glob("*.json"))]
    print(
        "| system | mode | epochs | test error | inferred (same docs: trained) | cosine | train s | total s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["system"] == "averaged":
            print(f"| averaged skip-gram vectors | | | {100 * r['test_error']:.2f}% | | | | | |")
            continue
        print(
            f"| {r['system']} | {r['mode']} | {r['epochs']} | {100 * r['test_error']:.2f}% | "
            f"{100 * r['test_error_inferred']:.2f}% ({100 * r['test_error_trained_same_documents']:.2f}%) | "
            f"{r['inferred_trained_cosine']:.3f} | {r['train_seconds']:.0f} | {r['total_seconds']:.0f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )


COMMANDS = {"run": run, "pair": pair, "averaged": averaged, "table": table}

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(COMMANDS)}}} ...")
    COMMANDS[sys.argv[1]](sys.argv[2:])

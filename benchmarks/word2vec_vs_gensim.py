"""Chapter 6 benchmark: the zoo's word2vec (skip-gram, CBOW) against gensim's Word2Vec on the same corpus and settings.

Issue 28's measurements (IMDB reviews, 50,000 labelled reviews):

    # group size / shared negatives against speed and analogy accuracy (in one process, vocabulary built once)
    python benchmarks/word2vec_vs_gensim.py sweep --data-dir ../shared/data --epochs 1 --out /work/bench/w2v_sweep
    # whole jobs, alternated: `python -m zoo.run skipgram_corpus ...` against gensim's whole job (read and
    # tokenise, vocabulary, train, write vectors, analogies); wall time and peak memory from /usr/bin/time
    python benchmarks/word2vec_vs_gensim.py whole --data-dir ../shared/data --arch skipgram --rounds 2 \
        --out /work/bench/w2v_whole
    python benchmarks/word2vec_vs_gensim.py whole --data-dir ../shared/data --arch cbow --rounds 2 \
        --out /work/bench/w2v_whole
    # issue 30: the same on PTB's training split, the zoo's `cbow_ptb` with its defaults (10 epochs,
    # sub-sampling 1e-3) against gensim's CBOW with the same settings on the same tokens
    python benchmarks/word2vec_vs_gensim.py whole --data-dir ../shared/data --arch cbow --ptb --rounds 2 \
        --out /work/bench/w2v_whole_ptb

Both sides' analogies are scored by the zoo's evaluator (`zoo.metrics.analogy.analogy_accuracy`, 3CosAdd
on the 30,000 most frequent words of questions-words.txt); gensim's own `evaluate_word_analogies` is
kept beside it as a cross-check. `whole` writes `whole_ARCH.json`, `whole_ARCH.png` and the table
`whole_ARCH.md`.

Issue 5/14's in-process comparison (the per-pair step, training time only), without a subcommand:

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
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
        return COMMANDS[sys.argv[1]](sys.argv[2:])
    return legacy_main()


def legacy_main() -> None:
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
            step="per_pair",
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
    ours = analogy_accuracy(vocabulary, matrix, questions, restrict=RESTRICT)
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
        theirs = score_gensim_vectors(g.wv, data_dir / QUESTIONS)
        own_score = theirs["gensim_analogy_accuracy"]
        results["gensim"] = {
            "train_seconds": g_time,
            "vocab_seconds": g_prep,
            "words_per_second": words * args.epochs / g_time,
            "vocabulary": len(g.wv) + 1,  # with the [UNK] row, as the zoo's
            **theirs,
        }
        results["speed_ratio_gensim_over_ours"] = (
            results["gensim"]["words_per_second"] / results["ours"]["words_per_second"]
        )
        print(
            f"gensim: {results['gensim']['words_per_second']:,.0f} words/s ({g_time:.0f} s), "
            f"analogy {theirs['analogy_accuracy']:.4f} on {theirs['analogy_answered']} questions "
            f"(gensim's own evaluation: {own_score:.4f})",
            flush=True,
        )
        print(
            f"gensim is {results['speed_ratio_gensim_over_ours']:.1f}x faster; analogy gap "
            f"{100 * (theirs['analogy_accuracy'] - ours['accuracy']):+.1f} points (gensim - ours)",
            flush=True,
        )
    print(json.dumps(results, indent=1, default=float))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float) + "\n")
    del zoo


def _subset_data(recipe, hp, ctx, sentences):
    from zoo.recipes import ch06

    return ch06.word2vec_data(hp, ctx, sentences, source="imdb subset")


IMDB = ("imdb/aclImdb_labeled.tar.gz", "aclImdb/*/*/*.txt")
SETTINGS = dict(dim=100, window=5, negatives=5, min_count=5, subsample=1e-4)
RATES = {"skipgram": 0.025, "cbow": 0.05}  # the zoo recipes' defaults (word2vec.c's), given to gensim too
# `--ptb`: the ARCH_ptb recipes' own defaults (a 0.9M-word corpus: sub-sampling scaled up, more epochs)
PTB_SETTINGS = {**SETTINGS, "subsample": 1e-3}
PTB_EPOCHS = 10
QUESTIONS = "word2vec/questions-words.txt"  # under the data folder
RESTRICT = 30_000  # analogies over the most frequent words only (word2vec's compute-accuracy; the recipes' default)


def score_gensim_vectors(vectors, questions_file: str | os.PathLike, restrict: int = RESTRICT) -> dict:
    """Analogies of gensim's `KeyedVectors` by the evaluator that scores the zoo's side, and by gensim's own.

    `analogy_*` come from `zoo.metrics.analogy.analogy_accuracy` on the `restrict` most frequent words (gensim
    orders its vocabulary by frequency; a zero `[UNK]` row 0 stands where the zoo's is, skipped as there);
    `gensim_analogy_accuracy` / `_answered` from `evaluate_word_analogies(restrict_vocab=restrict)`, a
    cross-check only, with the seconds it took (`cross_check_seconds`: work the zoo's job does not do).
    Imports neither Keras nor TensorFlow.
    """
    import numpy as np

    from zoo.data.analogy import read_questions
    from zoo.metrics.analogy import analogy_accuracy

    vocabulary = ["[UNK]", *vectors.index_to_key]
    matrix = np.concatenate([np.zeros((1, vectors.vector_size), "float32"), vectors.vectors])
    shared = analogy_accuracy(vocabulary, matrix, read_questions(questions_file), restrict=restrict)
    start = time.perf_counter()
    own, sections = vectors.evaluate_word_analogies(str(questions_file), restrict_vocab=restrict)
    seconds = time.perf_counter() - start
    total = next(s for s in sections if s["section"] == "Total accuracy")
    return {
        **{f"analogy_{k}": v for k, v in shared.items() if k != "sections"},
        "gensim_analogy_accuracy": float(own),
        "gensim_analogy_answered": len(total["correct"]) + len(total["incorrect"]),
        "cross_check_seconds": seconds,
    }


def sweep(argv: list[str]) -> None:
    """Group size and shared negatives against words/s and analogy accuracy, one process, vocabulary built once."""
    parser = argparse.ArgumentParser(prog="word2vec_vs_gensim.py sweep")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True, help="folder for sweep.json (configurations already there are skipped)")
    parser.add_argument("--arch", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--max-docs", type=int, default=0)
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["per_pair:5", "1:5", "4:5", "16:5", "64:5", "256:5", "16:15", "64:15", "16:5:16384", "64:5:16384"],
        help="G:K[:B[:C]] (group size, shared negatives, batch size if not --batch-size, the models' row_cap if "
        "any; none without) or per_pair:K",
    )
    args = parser.parse_args(argv)

    import keras

    from zoo.data import analogy, corpus
    from zoo.data.skipgrams import (
        cbow_dataset,
        encode_corpus,
        expected_centres,
        expected_pairs,
        keep_probabilities,
        skipgram_dataset,
    )
    from zoo.metrics.analogy import analogy_accuracy
    from zoo.models import word2vec

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = out / f"sweep_{args.arch}.json"
    results = json.loads(record.read_text()) if record.exists() else {}
    data_dir = Path(args.data_dir).resolve()
    texts, _ = corpus.read_texts(data_dir / IMDB[0], IMDB[1])
    texts = texts[: args.max_docs] if args.max_docs else texts
    vocabulary, ids, segments = encode_corpus(corpus.documents(texts), 50_000, SETTINGS["min_count"])
    questions = analogy.load(data_dir)
    keep = keep_probabilities(vocabulary.counts, SETTINGS["subsample"])
    examples = (
        expected_centres(vocabulary.counts, keep)
        if args.arch == "cbow"
        else expected_pairs(vocabulary.counts, keep, SETTINGS["window"])
    )
    rate = RATES[args.arch]
    print(f"{len(ids):,} words, vocabulary {len(vocabulary):,}, {examples:,.0f} examples per epoch", flush=True)
    for config in args.configs:
        if config in results:
            continue
        group, negatives, *rest = config.split(":")
        negatives, batch_size = int(negatives), int(rest[0]) if rest and rest[0] else args.batch_size
        row_cap = float(rest[1]) if len(rest) > 1 else None
        steps = int(examples // batch_size)
        keras.utils.set_random_seed(1337)
        common = dict(
            window=SETTINGS["window"], negatives=negatives, subsample=SETTINGS["subsample"], batch_size=batch_size
        )
        if group == "per_pair":
            ds = skipgram_dataset(ids, segments, vocabulary, **common)
            model = word2vec.compile_skipgram(
                word2vec.build_skipgram(vocab_size=len(vocabulary), dim=SETTINGS["dim"], negatives=negatives),
                learning_rate=rate,
                batch_size=batch_size,
                decay_steps=args.epochs * steps,
            )
        else:
            make = cbow_dataset if args.arch == "cbow" else skipgram_dataset
            ds = make(ids, segments, vocabulary, group_size=int(group), **common)
            model = word2vec.compile_word2vec(
                word2vec.build_word2vec(vocab_size=len(vocabulary), dim=SETTINGS["dim"], row_cap=row_cap),
                learning_rate=rate,
                decay_steps=args.epochs * steps,
            )
        start, cpu = time.perf_counter(), time.process_time()
        history = model.fit(ds.prefetch(-1), epochs=args.epochs, verbose=2)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        scores = analogy_accuracy(vocabulary.words, word2vec.word_vectors(model), questions, restrict=RESTRICT)
        results[config] = {
            "train_seconds": seconds,
            "cpu_seconds": cpu,
            "words_per_second": len(ids) * args.epochs / seconds,
            "final_loss": history.history["loss"][-1],
            "load_average": os.getloadavg()[0],
            **{f"analogy_{k}": v for k, v in scores.items() if k != "sections"},
        }
        print(
            f"{config}: {results[config]['words_per_second']:,.0f} words/s ({seconds:.0f} s, cpu {cpu:.0f} s), "
            f"analogy {scores['accuracy']:.4f}, load {results[config]['load_average']:.1f}",
            flush=True,
        )
        record.write_text(json.dumps(results, indent=1, default=float) + "\n")
        del model, ds
    plot_sweep(results, out / f"sweep_{args.arch}.png", f"{args.arch}: group size G, shared negatives K, batch B")
    print(json.dumps(results, indent=1, default=float))


def plot_sweep(results: dict, path: Path, title: str) -> None:
    """Training words/s against analogy accuracy, one labelled point per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for config, r in results.items():
        ax.scatter(
            r["words_per_second"], 100 * r["analogy_accuracy"], color="tab:red" if "per_pair" in config else "tab:blue"
        )
        ax.annotate(
            config,
            (r["words_per_second"], 100 * r["analogy_accuracy"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set(xlabel="training words/s (shared machine)", ylabel="analogies, % (30,000 words)", title=title)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def whole(argv: list[str]) -> None:
    """Whole jobs alternated: `python -m zoo.run ARCH_corpus` (or `ARCH_ptb`) and gensim's (`gensim-job`),
    /usr/bin/time for each."""
    parser = argparse.ArgumentParser(prog="word2vec_vs_gensim.py whole")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--arch", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--epochs", type=int, default=0, help=f"0: 3 ({PTB_EPOCHS} with --ptb, the recipe's)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--zoo-set", nargs="*", default=[], help="extra KEY=VALUE for the zoo recipe")
    parser.add_argument("--corpus", default="", help="another corpus (default: DATA_DIR/" + IMDB[0] + ")")
    parser.add_argument("--pattern", default=IMDB[1], help="files to read in --corpus")
    parser.add_argument(
        "--ptb",
        action="store_true",
        help="PTB's training split instead: the zoo's ARCH_ptb recipe with its defaults against gensim with the "
        "same settings on the same tokens (<unk> out of the vocabulary on both sides)",
    )
    parser.add_argument(
        "--group-from",
        default="",
        help="a sweep_ARCH.json: the fastest G:5[:B] whose analogy accuracy is within 0.5 points of the best",
    )
    args = parser.parse_args(argv)
    if args.ptb and args.corpus:
        parser.error("--ptb reads DATA_DIR/ptb: not with --corpus")
    args.epochs = args.epochs or (PTB_EPOCHS if args.ptb else 3)
    if args.group_from and Path(args.group_from).exists():
        group, batch = pick_group(json.loads(Path(args.group_from).read_text()))
        args.zoo_set += [f"group_size={group}", f"batch_size={batch}"]
    elif args.group_from:
        print(f"{args.group_from} does not exist: the recipe's default group size", flush=True)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    record = out / f"whole_{args.arch}.json"
    results = json.loads(record.read_text()) if record.exists() else {}
    data_dir = Path(args.data_dir).resolve()
    for round_ in range(1, args.rounds + 1):
        order = ("zoo", "gensim") if round_ % 2 else ("gensim", "zoo")
        for system in order:
            key = f"{system}_{round_}"
            if key in results:
                continue
            folder = out / f"{args.arch}_{key}"
            if system == "zoo" and args.ptb:  # the recipe's defaults are the settings gensim gets
                command = [sys.executable, "-m", "zoo.run", f"{args.arch}_ptb", "--data-dir", str(data_dir)]
                command += ["--out", str(folder), "--epochs", str(args.epochs)]
                for item in args.zoo_set:
                    command += ["--set", item]
            elif system == "zoo":
                command = [sys.executable, "-m", "zoo.run", f"{args.arch}_corpus", "--data-dir", str(data_dir)]
                command += ["--out", str(folder), "--epochs", str(args.epochs)]
                sets = dict(corpus=args.corpus or str(data_dir / IMDB[0]), corpus_pattern=args.pattern, **SETTINGS)
                for item in [f"{k}={v}" for k, v in sets.items()] + args.zoo_set:
                    command += ["--set", item]
            else:
                command = [sys.executable, __file__, "gensim-job", "--data-dir", str(data_dir), "--out", str(folder)]
                command += ["--arch", args.arch, "--epochs", str(args.epochs), "--workers", str(args.workers)]
                command += ["--ptb"] if args.ptb else ["--corpus", args.corpus, "--pattern", args.pattern]
            timing = out / f"{args.arch}_{key}.time"
            load = os.getloadavg()[0]
            proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(timing), *command], text=True)
            if proc.returncode:
                raise SystemExit(f"{key} failed ({proc.returncode}): {' '.join(command)}")
            wall, peak_kb = timing.read_text().split()[-2:]
            metrics = json.loads((folder / "metrics.json").read_text())
            results[key] = whole_row(metrics, float(wall), int(peak_kb), load, command)
            print(f"{key}: {json.dumps({k: v for k, v in results[key].items() if k != 'command'})}", flush=True)
            record.write_text(json.dumps(results, indent=1) + "\n")
    plot_whole(results, out / f"whole_{args.arch}.png", f"{args.arch}: the zoo's whole job against gensim's")
    table = whole_table(results)
    (out / f"whole_{args.arch}.md").write_text(table)
    print(json.dumps(results, indent=1))
    print(table)


def whole_row(metrics: dict, wall: float, peak_kb: int, load: float, command: list[str]) -> dict:
    """One whole job's record from its metrics.json and /usr/bin/time's wall seconds and peak kB.

    `analogy_accuracy` is the zoo's evaluator on both sides; gensim's own score (`gensim_analogy_accuracy`)
    is a cross-check whose seconds are left out of `whole_seconds` (the zoo's job runs one evaluator).
    """
    cross_check = metrics.get("cross_check_seconds", 0.0)
    row = {
        "whole_seconds": wall - cross_check,
        "wall_seconds": wall,
        "peak_rss_mb": peak_kb / 1024,
        "train_seconds": metrics["train_seconds"],
        "train_words_per_second": metrics["train_words_per_second"],
        "analogy_accuracy": metrics["analogy_accuracy"],
        "analogy_answered": metrics["analogy_answered"],
        "load_average_before": load,
        "command": " ".join(command),
    }
    if "gensim_analogy_accuracy" in metrics:
        row["gensim_analogy_accuracy"] = metrics["gensim_analogy_accuracy"]
        row["gensim_analogy_answered"] = metrics["gensim_analogy_answered"]
    return row


def whole_table(results: dict) -> str:
    """Markdown: one row per whole job, then the means and the gaps, analogies by the one shared evaluator."""
    lines = [
        "| run | whole job, s | training words/s | peak memory, MB | analogies (zoo's evaluator) | answered "
        "| gensim's own evaluator (cross-check) |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in sorted(results):
        r = results[run]
        own = f"{100 * r['gensim_analogy_accuracy']:.2f}%" if "gensim_analogy_accuracy" in r else "-"
        lines.append(
            f"| {run} | {r['whole_seconds']:.0f} | {r['train_words_per_second']:,.0f} | {r['peak_rss_mb']:,.0f} "
            f"| {100 * r['analogy_accuracy']:.2f}% | {r['analogy_answered']:,} | {own} |"
        )
    means = {}
    for system in ("zoo", "gensim"):
        runs = [r for key, r in results.items() if key.startswith(f"{system}_")]
        if runs:
            means[system] = {k: sum(r[k] for r in runs) / len(runs) for k in ("whole_seconds", "analogy_accuracy")}
    if len(means) == 2:
        zoo_, gensim_ = means["zoo"], means["gensim"]
        lines += [
            "",
            f"Means: whole job {zoo_['whole_seconds']:.0f} s (zoo) vs {gensim_['whole_seconds']:.0f} s (gensim), "
            f"{gensim_['whole_seconds'] / zoo_['whole_seconds']:.2f}x; analogies {100 * zoo_['analogy_accuracy']:.2f}% "
            f"vs {100 * gensim_['analogy_accuracy']:.2f}%, gap "
            f"{100 * (zoo_['analogy_accuracy'] - gensim_['analogy_accuracy']):+.2f} points (zoo - gensim), both by "
            f"zoo.metrics.analogy.analogy_accuracy on the {RESTRICT:,} most frequent words.",
        ]
    return "\n".join(lines) + "\n"


def plot_whole(results: dict, path: Path, title: str) -> None:
    """Whole-job seconds, training words/s, peak memory and analogies of each run, zoo and gensim side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("whole_seconds", "whole job, s"),
        ("train_words_per_second", "training words/s"),
        ("peak_rss_mb", "peak memory, MB"),
        ("analogy_accuracy", "analogies"),
    ]
    runs = sorted(results)
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3))
    for ax, (key, label) in zip(axes, panels):
        ax.bar(
            runs,
            [results[r][key] for r in runs],
            color=["tab:blue" if r.startswith("zoo") else "tab:gray" for r in runs],
        )
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    fig.suptitle(title, y=1.05)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def pick_group(sweep_results: dict, batch_size: int = 4096) -> tuple[int, int]:
    """(group size, batch size) of the fastest shared-negatives configuration with 5 negatives whose analogy
    accuracy is within 0.5 points of the best with 5 negatives (per-pair included; configurations with a
    row cap left out: the recipe's own cap applies)."""
    five = {c: r for c, r in sweep_results.items() if c.split(":")[1] == "5" and len(c.split(":")) <= 3}
    best = max(r["analogy_accuracy"] for r in five.values())
    fine = [c for c, r in five.items() if not c.startswith("per_pair") and r["analogy_accuracy"] >= best - 0.005]
    choice = max(fine, key=lambda c: five[c]["words_per_second"])
    print(f"group size (and batch size) from the sweep: {choice}", flush=True)
    group, _, *batch = choice.split(":")
    return int(group), int(batch[0]) if batch else batch_size


def gensim_job(argv: list[str]) -> None:
    """gensim's whole job: read and tokenise (the zoo's reader), vocabulary, train, vectors.txt, analogies."""
    parser = argparse.ArgumentParser(prog="word2vec_vs_gensim.py gensim-job")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--arch", choices=("skipgram", "cbow"), default="skipgram")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", default="")
    parser.add_argument("--pattern", default=IMDB[1])
    parser.add_argument("--ptb", action="store_true", help="PTB's training split, as the ARCH_ptb recipes read it")
    args = parser.parse_args(argv)
    from gensim.models import Word2Vec

    data_dir, out = Path(args.data_dir).resolve(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sentences, words = gensim_corpus(data_dir, ptb=args.ptb, corpus=args.corpus, pattern=args.pattern)
    settings = PTB_SETTINGS if args.ptb else SETTINGS
    model = Word2Vec(
        vector_size=settings["dim"],
        window=settings["window"],
        negative=settings["negatives"],
        hs=0,
        sg=int(args.arch == "skipgram"),
        cbow_mean=1,
        alpha=RATES[args.arch],
        min_count=settings["min_count"],
        sample=settings["subsample"],
        workers=args.workers,
        seed=1337,
    )
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(str(out / "vectors.txt"))
    metrics = {
        "train_seconds": seconds,
        "train_words_per_second": words * args.epochs / seconds,
        **score_gensim_vectors(model.wv, data_dir / QUESTIONS),
        "vocabulary": len(model.wv),
        "corpus_words": words,
        "settings": settings,
    }
    assert "tensorflow" not in sys.modules
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")


def gensim_corpus(
    data_dir: Path, *, ptb: bool = False, corpus: str = "", pattern: str = IMDB[1]
) -> tuple[list[list[str]], int]:
    """The sentences gensim trains on, read as the zoo's recipe reads them, and the corpus words the zoo counts.

    PTB (`ptb`): the ARCH_ptb recipes' training split with `<unk>` removed, as those recipes drop it (their
    `unk_token`) before windowing; the word count keeps it, as theirs does. Otherwise `corpus` (default:
    the IMDB reviews) through `zoo.data.corpus`, as ARCH_corpus reads it. Neither imports TensorFlow,
    whose start-up gensim's job should not pay.
    """
    from zoo.data import corpus as reader
    from zoo.data import ptb as penn

    if ptb:
        train = penn.load(data_dir)["train"]
        return [[w for w in s if w != "<unk>"] for s in train], sum(map(len, train))
    texts, _ = reader.read_texts(corpus or data_dir / IMDB[0], pattern)
    sentences = list(reader.documents(texts))
    return sentences, sum(map(len, sentences))


COMMANDS = {"sweep": sweep, "whole": whole, "gensim-job": gensim_job}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the zoo, installed or not
    main()

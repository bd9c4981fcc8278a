"""Issue 26: the title generators side by side, from their run folders (`python -m zoo.run title_pointer ...`).

Each variant is a run of a recipe (the queue runs them one at a time, each timed by the job):

    python -m zoo.run title_pointer --data-dir ../shared/data --out /work/bench/title_pointer/cov
    python -m zoo.run title_pointer --set coverage=false --data-dir ../shared/data --out /work/bench/title_pointer/copy
    python -m zoo.run title_pointer --set copy=false --data-dir ../shared/data --out /work/bench/title_pointer/nocopy

then `table` prints one Markdown table of ROUGE-1/2/L, BLEU, chrF and distinct titles (of the
100 test papers) for greedy and beam decoding of each run, the two model-free titles of the first
run (the abstract's first 8 words, the nearest training abstract's title), the epochs trained and
the best epoch (early stopping), and five test titles of the first run:

    python benchmarks/title_pointer.py table /work/bench/title_pointer/cov /work/bench/title_pointer/copy \
        /work/bench/title_pointer/nocopy

`speed` times training steps of the three decoders at the title recipe's sizes on random batches
(32 abstracts of 150 tokens, titles of 16, vocabulary 5,000, units 256), the models taking turns:

    python benchmarks/title_pointer.py speed --steps 3 --rounds 1
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

COLUMNS = ("rouge1", "rouge2", "rougeL", "bleu", "chrf", "distinct")


def row(name: str, metrics: dict, prefix: str, extra: str = "") -> str:
    values = [metrics.get(f"{prefix}_{c}") for c in COLUMNS]
    cells = ["" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v)) for v in values]
    return f"| {name} | {' | '.join(cells)} | {extra} |"


def describe(run: Path) -> tuple[str, dict]:
    metrics = json.loads((run / "metrics.json").read_text())
    hp = json.loads((run / "config.json").read_text())["hparams"]
    kind = "copy + coverage" if hp["copy"] and hp["coverage"] else ("copy" if hp["copy"] else "no copy")
    with open(run / "history.csv", encoding="utf-8") as f:
        history = list(csv.DictReader(f))
    best = min(history, key=lambda r: float(r["val_loss"])) if history else None
    trained = f"{len(history)} epochs, best val_loss {float(best['val_loss']):.3f} at {int(best['epoch']) + 1}"
    copying = ""
    if "greedy_mean_p_gen" in metrics:
        copying = (
            f"; mean p_gen {metrics['greedy_mean_p_gen']:.2f}, copied {100 * metrics['greedy_copied_share']:.0f}% "
            f"of words, {metrics['greedy_oov_words']} out-of-vocabulary words written"
        )
    return f"{kind} ({run.name}): {trained}{copying}", metrics


def speed(steps: int, rounds: int) -> None:
    import time

    import numpy as np

    from zoo.models import pointer, seq2seq

    batch, source_length, target_length, vocab = 32, 150, 16, 5000
    rng = np.random.default_rng(0)
    source = rng.integers(4, vocab, (batch, source_length)).astype("int32")
    target_in, target_out = (rng.integers(4, vocab, (batch, target_length)).astype("int32") for _ in range(2))
    sizes = dict(source_vocab_size=vocab, target_vocab_size=vocab, embedding_dim=128, units=256, shared_embedding=True)
    models = {
        "no copy (attention decoder)": (seq2seq.build_attention_seq2seq(**sizes), {}),
        "copy": (pointer.build_pointer_seq2seq(**sizes, max_source_length=source_length, coverage=False), True),
        "copy + coverage": (pointer.build_pointer_seq2seq(**sizes, max_source_length=source_length), True),
    }
    times: dict[str, list[float]] = {name: [] for name in models}
    for name, (model, copy) in models.items():
        x = {"source": source, "target_in": target_in, **({"source_ext": source} if copy else {})}
        seq2seq.compile_seq2seq(model).fit(x, target_out, epochs=1, verbose=0)  # warm-up: tracing
        models[name] = (model, x)
    for _ in range(rounds):
        for name, (model, x) in models.items():
            start = time.perf_counter()
            model.fit(x, target_out, batch_size=batch, epochs=steps, verbose=0)
            times[name].append((time.perf_counter() - start) / steps)
    base = float(np.median(times["no copy (attention decoder)"]))
    print("| decoder | params | s/step (median) | vs no copy |\n|---|---|---|---|")
    for name, (model, _) in models.items():
        t = float(np.median(times[name]))
        print(f"| {name} | {model.count_params():,} | {t:.3f} | {t / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    table = sub.add_parser("table", help="the runs' scores side by side")
    table.add_argument("runs", nargs="+", type=Path, help="run folders of title_pointer / title_generation")
    timing = sub.add_parser("speed", help="training step time of the three decoders")
    timing.add_argument("--steps", type=int, default=3)
    timing.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.command == "speed":
        speed(args.steps, args.rounds)
        return
    print(f"| titles of the test papers | {' | '.join(COLUMNS)} | |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    first = None
    for run in args.runs:
        if not (run / "metrics.json").exists():
            print(f"| {run}: no metrics.json (not run yet) |")
            continue
        label, metrics = describe(run)
        first = first or (run, metrics)
        print(row(f"{label.split(' (')[0]}, greedy", metrics, "greedy", label))
        print(row(f"{label.split(' (')[0]}, beam {metrics['beam_width']}", metrics, "beam"))
    if first is not None:
        run, metrics = first
        print(row("first 8 words of the abstract", metrics, "baseline_lead"))
        print(row("title of the nearest training abstract", metrics, "baseline_nearest"))
        print()
        with open(run / "samples.tsv", encoding="utf-8") as f:
            for i, r in enumerate(csv.DictReader(f, delimiter="\t")):
                print(f"| {r['reference']} | {r['greedy']} | {r['beam']} |")
                if i == 4:
                    break


if __name__ == "__main__":
    main()

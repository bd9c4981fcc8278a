"""Chapters 8-9 benchmark (issue 30): the recurrent cells side by side, on a classifier and a language model.

Each run is the recipe as it ships with only `cell` (and the budget) changed, through `zoo.fit`, with
a callback timing the training phase of every epoch (validation excluded; the first epoch, which
traces the graphs, is left out when there are several). Runs go to `--out/<key>` in fresh processes
(one process ages: its later models train slower); a finished run is read back, a stopped one
resumes from its `.partial` folder. One JSON line per run in `--out/results.jsonl`; a Markdown table
at the end.

    python benchmarks/cells.py --data-dir ../shared/data --out /work/bench/cells              # everything
    python benchmarks/cells.py --only mr-gru mr-lstm --out /tmp/cells                         # some runs
    python benchmarks/cells.py --only ptb-gru --ptb-steps 20 --out /tmp/cells                 # a smoke run

Tasks: `mr` = `lstm_mr` (rt-polarity, the book split, dev accuracy, early stopping as shipped);
`ptb` = `ptb_lstm_small` (Zaremba's small config) for one epoch of `--ptb-steps` batches (perplexity
over the whole validation and test splits); `mr-lstm-relu` is the LSTM with the zoo's former ReLU
hidden layer (chapter 9's Dense: the book's is linear).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELLS = ("simple_rnn", "gru", "lstm", "peephole")
RUNS = {
    **{f"mr-{cell}": ("lstm_mr", {"cell": cell}, "val_accuracy") for cell in CELLS},
    "mr-lstm-relu": ("lstm_mr", {"cell": "lstm", "dense_activation": "relu"}, "val_accuracy"),
    **{f"ptb-{cell}": ("ptb_lstm_small", {"cell": cell, "epochs": 1}, "test_perplexity") for cell in CELLS},
    # Zaremba's SGD rate of 1.0 blows the simple RNN up (validation perplexity 2e22): the same at lower rates
    **{
        f"ptb-simple_rnn-lr{rate}": (
            "ptb_lstm_small",
            {"cell": "simple_rnn", "epochs": 1, "learning_rate": rate},
            "test_perplexity",
        )
        for rate in (0.3, 0.1)
    },
}


def run_one(key: str, args: argparse.Namespace) -> dict:
    """Train one run in this process; returns its metric, epochs and training steps/s."""
    from ptb_lm import train_timer  # benchmarks/ is on sys.path when this runs as a script

    import zoo

    name, overrides, metric = RUNS[key]
    recipe = zoo.recipes.get(name)
    timer = train_timer()
    timed = dataclasses.replace(
        recipe, callbacks=lambda h, d: [*(recipe.callbacks(h, d) if recipe.callbacks else []), timer]
    )
    max_steps = args.ptb_steps if name.startswith("ptb") else None
    start = time.perf_counter()
    result = zoo.fit(
        timed, data_dir=args.data_dir, out=Path(args.out) / key, max_steps=max_steps, verbose=2, **overrides
    )
    wall = time.perf_counter() - start
    skip = 1 if len(timer.steps) > 1 else 0
    seconds, steps = sum(timer.seconds[skip:]), sum(timer.steps[skip:])
    return {
        "key": key,
        "recipe": name,
        "overrides": overrides,
        "max_steps": max_steps,
        metric: result.metrics.get(metric),
        "val_perplexity": result.metrics.get("val_perplexity"),
        "epochs_trained": result.metrics.get("epochs_trained"),
        "steps_per_s": steps / seconds if seconds else None,
        "wall_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="/tmp/bench_cells")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--only", nargs="*", choices=sorted(RUNS), help="runs to do (default: all)")
    parser.add_argument("--ptb-steps", type=int, default=800, help="batches of the one PTB epoch (of 2,323)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one run in this process
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, args)), flush=True)
        return
    results = out / "results.jsonl"
    done = (
        {json.loads(line)["key"]: json.loads(line) for line in results.read_text().splitlines()}
        if results.exists()
        else {}
    )
    for key in args.only or list(RUNS):
        if key in done:
            print(f"{key}: done earlier", flush=True)
            continue
        command = [sys.executable, __file__, "--one", key, "--out", str(out), "--data-dir", args.data_dir]
        command += ["--ptb-steps", str(args.ptb_steps)]
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if process.returncode != 0 or not lines:
            print(f"{key}: exit {process.returncode}\n{process.stderr[-2000:]}", flush=True)
            continue
        entry = json.loads(lines[-1][len("RESULT ") :])
        done[key] = entry
        with results.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        print(json.dumps(entry), flush=True)
    print("\n| run | recipe | metric | steps/s | epochs | wall s |\n|---|---|---|---|---|---|")
    for key, entry in done.items():
        metric = entry.get("val_accuracy") or entry.get("test_perplexity")
        extra = f" (valid {entry['val_perplexity']:.1f})" if entry.get("val_perplexity") else ""
        rate = f"{entry['steps_per_s']:.2f}" if entry.get("steps_per_s") else "-"
        print(
            f"| {key} | {entry['recipe']} | {metric:.4g}{extra} | {rate} | {entry['epochs_trained']} |"
            f" {entry['wall_seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()

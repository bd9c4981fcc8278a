"""Chapter 8 benchmarks: PTB perplexity of the LSTM recipes, and words/s through `zoo.fit` vs a plain `model.fit`.

Quality (long: ptb_lstm_small's 13 epochs take hours on a CPU). Each recipe trains with
`python -m zoo.run NAME --out OUT/NAME`; a stopped run resumes from its `OUT/NAME.partial` when the
same command is given again, and a finished one is only read. `OUT/quality.json` collects the
validation/test perplexity, the epochs done and the wall time of every invocation:

    nohup python benchmarks/ptb_lm.py quality --out bench/ptb --data-dir ../shared/data \\
        --recipes ptb_lstm_small ptb_lstm_book > bench/ptb.log 2>&1 &
    python benchmarks/ptb_lm.py quality --out bench/ptb --recipes ptb_lstm_small \\
        --set stateful=false --tag stateless             # stateful vs independent windows
    python benchmarks/ptb_lm.py quality --out bench/ptb --recipes ptb_lstm_medium --set epochs=6

Speed (minutes): words/s of `ptb_lstm_small` during training, through the driver and through a
plain `model.fit` on the same recipe data/model functions, alternating, each run in a fresh process,
first epoch (tracing) skipped:

    python benchmarks/ptb_lm.py speed --data-dir ../shared/data --steps 200 --epochs 3 --repeats 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- quality


def _record(out: Path, key: str, entry: dict) -> None:
    path = out / "quality.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    previous = results.get(key, {})
    if "wall_seconds" in entry:  # one invocation of zoo.run (a first run or a resume)
        entry["wall_seconds_total"] = previous.get("wall_seconds_total", 0.0) + entry["wall_seconds"]
        entry["invocations"] = previous.get("invocations", 0) + 1
    results[key] = {**previous, **entry}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def quality(args) -> None:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for name in args.recipes:
        key = f"{name}-{args.tag}" if args.tag else name
        run = out / key
        if run.exists():
            print(f"{key}: finished earlier ({run})", flush=True)
        else:
            command = [sys.executable, "-m", "zoo.run", name, "--out", str(run), *args.extra]
            if args.data_dir:
                command += ["--data-dir", args.data_dir]
            for setting in args.set or []:
                command += ["--set", setting]
            state = "resuming" if run.with_name(run.name + ".partial").exists() else "starting"
            print(f"{key}: {state}: {' '.join(command)}", flush=True)
            start = time.perf_counter()
            code = subprocess.call(command, cwd=ROOT)
            wall = time.perf_counter() - start
            if code != 0:
                _record(out, key, {"wall_seconds": wall, "status": f"exit {code} (rerun to resume)"})
                print(f"{key}: exit {code} after {wall:.0f} s; rerun the same command to resume", flush=True)
                continue
            _record(out, key, {"wall_seconds": wall, "status": "finished"})
        metrics = json.loads((run / "metrics.json").read_text())
        summary = {
            k: metrics.get(k) for k in ("val_perplexity", "test_perplexity", "epochs_trained", "resumed_from_epoch")
        }
        command = json.loads((run / "config.json").read_text())["command"]
        _record(out, key, {**summary, "command": command})
        print(
            f"{key}: valid ppl {summary['val_perplexity']:.1f}, test ppl {summary['test_perplexity']:.1f}, "
            f"{summary['epochs_trained']} epochs",
            flush=True,
        )


# ----------------------------------------------------------------------------- speed


def train_timer():
    """A Keras callback recording each epoch's train-phase seconds and batches (`.seconds`, `.steps`).

    The validation pass is excluded; only a batch-begin hook, so Keras keeps its async dispatch.
    `.words_per_second(words_per_step)` leaves out the first epoch (tracing). `benchmarks/cells.py` uses it too.
    """
    import keras

    class Timer(keras.callbacks.Callback):
        async_safe = True

        def __init__(self):
            super().__init__()
            self.seconds, self.steps = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start, self._end, self._steps = time.perf_counter(), None, 0

        def on_train_batch_begin(self, batch, logs=None):
            self._steps += 1

        def on_test_begin(self, logs=None):
            if getattr(self, "_end", 0) is None:
                self._end = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append((self._end or time.perf_counter()) - self._start)
            self.steps.append(self._steps)

        def words_per_second(self, words_per_step: int) -> float:
            return sum(self.steps[1:]) * words_per_step / sum(self.seconds[1:])

    return Timer()


def speed_one(args) -> None:
    """One timed run (`--only plain|driver`) in this process; prints its words/s as JSON."""
    import keras

    import zoo
    from zoo.recipes import get, resolve_hparams
    from zoo.recipes.base import RunContext

    overrides = {"epochs": args.epochs, **dict(s.split("=", 1) for s in (args.set or []))}
    recipe = get(args.recipe)
    hp = resolve_hparams(recipe, overrides)
    words = hp.batch_size * hp.num_steps
    data_dir = Path(args.data_dir).resolve() if args.data_dir else None

    def plain() -> float:
        keras.utils.set_random_seed(hp.seed)
        ctx = RunContext(data_dir=data_dir, run_dir=Path(tempfile.mkdtemp()), max_steps=args.steps)
        data = recipe.data(hp, ctx)
        model = recipe.model(hp, data)
        timer = train_timer()
        callbacks = [*(recipe.callbacks(hp, data) if recipe.callbacks else []), timer]
        model.fit(
            data.train.take(args.steps).prefetch(-1),
            epochs=hp.epochs,
            callbacks=callbacks,
            verbose=0,
            validation_data=data.validation.take(args.steps).prefetch(-1),
        )
        return timer.words_per_second(words)

    def driver() -> float:
        timer = train_timer()
        timed = dataclasses.replace(
            recipe, callbacks=lambda h, d: [*(recipe.callbacks(h, d) if recipe.callbacks else []), timer]
        )
        with tempfile.TemporaryDirectory() as tmp:
            zoo.fit(timed, data_dir=data_dir, out=Path(tmp) / "run", max_steps=args.steps, verbose=0, **overrides)
        return timer.words_per_second(words)

    rate = plain() if args.only == "plain" else driver()
    print(json.dumps({"words_per_s": rate}))


def speed(args) -> None:
    """Alternates plain and driver runs, each in a fresh process (one process would age: its second
    model trained slower than its first, whichever path it took)."""
    plain_rates, driver_rates = [], []
    base = [
        sys.executable,
        __file__,
        "speed",
        "--recipe",
        args.recipe,
        "--steps",
        str(args.steps),
        "--epochs",
        str(args.epochs),
    ]
    base += ["--data-dir", args.data_dir] if args.data_dir else []
    for setting in args.set or []:
        base += ["--set", setting]
    for i in range(args.repeats):
        for only, rates in (("plain", plain_rates), ("driver", driver_rates)):
            result = subprocess.run([*base, "--only", only], cwd=ROOT, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(result.stderr[-3000:])
            rates.append(json.loads(result.stdout.strip().splitlines()[-1])["words_per_s"])
        print(f"repeat {i + 1}: plain {plain_rates[-1]:.0f} words/s, driver {driver_rates[-1]:.0f} words/s", flush=True)
    result = {
        "recipe": args.recipe,
        "steps_per_epoch": args.steps,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "plain_words_per_s": plain_rates,
        "driver_words_per_s": driver_rates,
        "ratio_of_medians": statistics.median(driver_rates) / statistics.median(plain_rates),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "speed.json").write_text(json.dumps(result, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("quality", help="train (or resume) recipes and collect their perplexities")
    q.add_argument("--out", required=True, help="folder of the runs and quality.json")
    q.add_argument("--data-dir", default=None)
    q.add_argument("--recipes", nargs="+", default=["ptb_lstm_small", "ptb_lstm_book"])
    q.add_argument("--set", action="append", help="KEY=VALUE hyper-parameter for every recipe")
    q.add_argument("--tag", default="", help="suffix of the run folders (e.g. stateless)")
    q.add_argument("extra", nargs="*", help="more zoo.run flags after --")
    s = sub.add_parser("speed", help="words/s through the driver vs a plain model.fit")
    s.add_argument("--recipe", default="ptb_lstm_small")
    s.add_argument("--data-dir", default=None)
    s.add_argument("--steps", type=int, default=200, help="batches per epoch")
    s.add_argument("--epochs", type=int, default=3, help="epochs per run (the first is not timed)")
    s.add_argument("--repeats", type=int, default=2)
    s.add_argument("--set", action="append", help="KEY=VALUE hyper-parameter")
    s.add_argument("--out", default=None, help="folder for speed.json")
    s.add_argument("--only", choices=("plain", "driver"), help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args()
    if args.mode == "quality":
        quality(args)
    elif args.only:
        speed_one(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()

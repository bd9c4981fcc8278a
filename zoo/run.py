"""The command line: `python -m zoo.run NAME [options]` (also installed as `zoo`).

Exit codes: 0 done; 2 a user's mistake (`zoo.errors.UserError`: bad flag or value, missing or
corrupt data, bad path or preset), printed in one line (an error naming the hyper-parameter at
fault says it as the flag to change: `--set vectors=glove.txt: no such file`); 1 a diverged run
(one line) or a bug in the zoo (with its traceback). `ZOO_DEBUG=1` shows the traceback of user errors too.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

import zoo  # sets KERAS_BACKEND and TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported

zoo.quiet_tensorflow_start()

from zoo import recipes  # noqa: E402  (after TensorFlow's quiet start)
from zoo.errors import UserError, command_line_message  # noqa: E402
from zoo.training import strategy as strategies  # noqa: E402
from zoo.training.driver import RunInterrupted, TrainingDiverged, fit  # noqa: E402


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler or a pre-emptible VM stopping the job), handled like Ctrl-C."""

    signum = signal.SIGTERM


def _on_sigterm(signum, frame):
    raise _Terminated()


def _recipe_table() -> str:
    rows = [("name", "ch", "dataset", "summary")]
    rows += [(r.name, str(r.chapter), r.dataset, r.summary) for r in recipes.all_recipes()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}" for row in rows)


def recipe_markdown() -> str:
    """The recipe table of README.md (kept in sync by a test)."""
    rows = ["| recipe | ch | dataset | what it trains |", "|---|---|---|---|"]
    rows += [f"| `{r.name}` | {r.chapter} | {r.dataset} | {r.summary} |" for r in recipes.all_recipes()]
    return "\n".join(rows)


def _hparam_help(recipe: recipes.Recipe) -> str:
    lines = [
        f"{recipe.name} (chapter {recipe.chapter}, {recipe.dataset}): {recipe.summary}",
        "",
        "hyper-parameters (--set KEY=VALUE):",
    ]
    for key, param in recipe.params().items():
        kind = "|".join(map(str, param.choices)) if param.choices else param.kind.__name__
        bounds = ""
        if not param.choices and (param.minimum is not None or param.maximum is not None):
            low = "" if param.minimum is None else param.minimum
            high = "" if param.maximum is None else param.maximum
            opening, closing = "(" if param.exclusive_minimum else "[", ")" if param.exclusive_maximum else "]"
            bounds = f" {opening}{low}..{high}{closing}"
        lines.append(f"  {key:<24} {kind:<10} default {param.default!r:<14} {param.help}{bounds}")
    return "\n".join(lines)


def _parser(recipe: recipes.Recipe | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zoo.run",
        description="Train, evaluate and export a Course Zoo recipe.",
        epilog=_hparam_help(recipe) if recipe else "python -m zoo.run --list shows the recipes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help="recipe name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--markdown", action="store_true", help="with --list: as a Markdown table")
    parser.add_argument("--epochs", type=int, help="shortcut for --set epochs=N")
    parser.add_argument("--batch-size", type=int, help="global batch size; shortcut for --set batch_size=N")
    parser.add_argument("--seed", type=int, help="shortcut for --set seed=N")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyper-parameter")
    parser.add_argument("--data-dir", help="dataset root (default $ZOO_DATA_DIR or ./datasets)")
    parser.add_argument("--out", help="run folder (default saved_models/NAME/<timestamp>)")
    parser.add_argument("--strategy", default="auto", choices=strategies.STRATEGIES)
    parser.add_argument("--cpu-replicas", type=int, help="split the CPU into N logical devices")
    parser.add_argument("--max-steps", type=int, help="at most N batches per epoch and per evaluation")
    parser.add_argument("--evaluate-only", action="store_true", help="score --set checkpoint=RUN_DIR, no training")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The recipe name may stand anywhere among the options: find it with the same parser first.
    probe = _parser(None)
    probe.add_help = False
    first, _ = probe.parse_known_args([a for a in argv if a not in ("-h", "--help")])
    recipe = None
    if first.name is not None and not first.list:
        try:
            recipe = recipes.get(first.name)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    parser = _parser(recipe)
    args = parser.parse_args(argv)
    if args.list:
        print(recipe_markdown() if args.markdown else _recipe_table())
        return 0
    if recipe is None:
        parser.print_usage(sys.stderr)
        print("error: name a recipe (python -m zoo.run --list shows them)", file=sys.stderr)
        return 2
    overrides: dict[str, str | int] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --set {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 2
        overrides[key.strip()] = value
    for key in ("epochs", "batch_size", "seed"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = fit(
            recipe,
            data_dir=args.data_dir,
            out=args.out,
            strategy=args.strategy,
            cpu_replicas=args.cpu_replicas,
            max_steps=args.max_steps,
            evaluate_only=args.evaluate_only,
            **overrides,
        )
    except UserError as error:
        if os.environ.get("ZOO_DEBUG"):
            traceback.print_exc()
        print(f"error: {command_line_message(error, overrides)}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except RunInterrupted as stop:
        print(
            f"interrupted after epoch {stop.epochs_done}; run the same command to resume "
            f"(the partial run is in {stop.work})",
            file=sys.stderr,
        )
        return 128 + int(stop.signum)
    except KeyboardInterrupt as stop:  # before or after training: nothing to resume from yet
        print("interrupted before the run finished; run the same command to resume or start again", file=sys.stderr)
        return 128 + int(getattr(stop, "signum", signal.SIGINT))
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"run folder: {result.run_dir}")
    for key, value in result.metrics.items():
        print(f"  {key}: {value:.4f}" if isinstance(value, float) else f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

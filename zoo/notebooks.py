"""The chapter notebooks `chapters/chNN.ipynb`, converted from the literate chapter sources `chapters/chNN_*.py`.

    python -m zoo.notebooks              # (re)write every chapters/chNN.ipynb from its source
    python -m zoo.notebooks 7 12 12a     # only chapters/ch07.ipynb, ch12.ipynb and ch12a.ipynb
    python -m zoo.notebooks --check      # exit 1 if a committed notebook differs from its source
    python chapters/ch07_textcnn.py --quick   # the same source, run as a script

Format: jupytext's "percent" format (`# %%` starts a code cell, `# %% [markdown]` a markdown cell
whose lines are `# ` comments). Chosen over keras-io's tutobooks (markdown in triple-quoted strings)
because a percent file is an ordinary Python module whose prose is comments: ruff lints it, VS Code /
PyCharm / Spyder / jupytext open it cell by cell, a cell boundary is a one-line marker rather than a
string whose quoting must survive the prose, and no converter outside PyPI is needed (keras-io's
tutobooks script is not a package).

The converter below reads the subset of the percent format the chapters use, so generating and
checking notebooks needs no extra package (only executing them needs `nbclient` + `ipykernel`, see
tests/test_notebooks.py). The rules of a chapter source:

1. The file is `chapters/chNN_<topic>.py` and contains `# %%` cells; it becomes `chapters/chNN.ipynb`.
   A lowercase letter after the number gives a chapter a second notebook: `ch12a_transformer.py`
   becomes `ch12a.ipynb`, beside `ch12_squad_bert.py`'s `ch12.ipynb`.
2. Everything before the first `# %%` line is the script's header (the module docstring with the
   command-line usage, optionally a `# zoo-notebook: pip=NAME ...` line); it is not in the notebook.
3. A line starting with `# %% [markdown]` starts a markdown cell: each of its lines is `#` or
   `# text` (the `# ` is removed). A line starting with `# %%` otherwise (`# %%`, `# %% Settings`)
   starts a code cell, copied verbatim. Blank lines at either end of a cell are dropped.
4. The first cell is a markdown cell: the chapter's title and story (what it teaches, the book bug
   fixed). The converter inserts the Colab install cell (`colab_cell`: clone + install in Colab,
   plus the header's `pip=` packages installed without dependencies; GPU reported) right after it.
   Nothing else may assume a local checkout: data come from `DATA_DIR`, runs go under the working
   folder (or `OUT`).
5. The first code cell is the settings cell: `chapter = chapter_settings(KNOB=default, ...)` with the
   chapter's own knobs (a comment each), then `QUICK, DATA_DIR, OUT, KNOB, ... = chapter`.
   `chapter_settings` takes QUICK from `ZOO_QUICK` ("1": a first look), DATA_DIR from `ZOO_DATA_DIR`
   (else "datasets") and OUT "" (the run folders go under saved_models/), unless they are passed; run
   as a script, the flags override every value (`--quick`, `--data-dir`, `--out`, one per knob);
   inside a notebook the values stay as given. `zoo.fit(name, **chapter.fit_settings(name))` passes
   the data folder, the run folder under OUT and, in QUICK runs, 2 batches x 1 epoch (`steps=` to
   change): QUICK runs must take seconds.
6. Every code cell also runs as a plain script: no `!` or `%` magics; `show(x)` rather than a bare
   last expression; figures saved into the run folder, then `plt.show()`; `show_image(png)` for
   the pictures a run wrote; `plot_model(model, png)` (a note where pydot/Graphviz are missing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
# The repository the Colab cell clones (and installs from); ZOO_REPOSITORY overrides it there.
REPOSITORY = "https://github.com/course-zoo/course-zoo.git"

_SOURCE = re.compile(r"ch(\d\d[a-z]?)_[A-Za-z0-9_]+\.py$")  # group 1: the notebook's "12" or "12a"
_MARKER = re.compile(r"^# %%(?P<rest>.*)$")
_PIP = re.compile(r"^#\s*zoo-notebook:\s*pip=(?P<packages>.+)$", re.MULTILINE)

COLAB_CELL = """\
# Colab: clone and install the zoo (a few minutes); anywhere else, `pip install -e .` in a clone beforehand.
import importlib.util, os, subprocess, sys
if "google.colab" in sys.modules:
    if not os.path.isdir("course-zoo"):
        repository = os.environ.get("ZOO_REPOSITORY", {repository!r})
        subprocess.run(["git", "clone", "--depth", "1", repository, "course-zoo"], check=True)
    if importlib.util.find_spec("zoo") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "./course-zoo"], check=True){extra}
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
print(f"TensorFlow {{tf.__version__}}:", f"training on {{len(gpus)}} GPU(s)" if gpus else
      "no GPU found, training on the CPU (Colab: Runtime > Change runtime type > GPU; QUICK=True stays small)")"""


# --------------------------------------------------------------------------------------------------
# Converter: percent source -> notebook JSON


def sources(folder: Path = CHAPTERS) -> dict[Path, Path]:
    """`{source: notebook}` for every `chNN_*.py` in `folder` (`ch07_textcnn.py` -> `ch07.ipynb`, `ch12a_*.py` ->
    `ch12a.ipynb`)."""
    found: dict[Path, Path] = {}
    for path in sorted(folder.glob("ch*_*.py")):
        match = _SOURCE.fullmatch(path.name)
        if match and "# %%" in path.read_text(encoding="utf-8"):
            found[path] = folder / f"ch{match.group(1)}.ipynb"
    return found


def colab_cell(packages: list[str] = ()) -> str:
    """The install cell: clone + install in Colab (plus `packages`, no dependencies), report the GPU."""
    extra = ""
    if packages:
        extra = (
            '\n        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", '
            + ", ".join(repr(p) for p in packages)
            + "], check=True)"
        )
    return COLAB_CELL.format(repository=REPOSITORY, extra=extra)


def cells(text: str) -> list[tuple[str, str]]:
    """The `(kind, source)` cells of a percent-format text, header excluded (rules 2-3 above)."""
    found: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        marker = _MARKER.match(line)
        if marker:
            kind = "markdown" if marker.group("rest").strip().startswith("[markdown]") else "code"
            found.append((kind, []))
        elif found:
            kind, lines = found[-1]
            if kind == "markdown":
                if line.strip() and not (line == "#" or line.startswith("# ")):
                    raise ValueError(f"line {number}: a markdown cell's lines start with '# ' ({line!r})")
                line = line[2:]
            lines.append(line)
    result = []
    for kind, lines in found:
        body = "\n".join(lines).strip("\n")
        if body.strip():
            result.append((kind, body))
    return result


def _cell(kind: str, source: str, number: int) -> dict:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": f"cell-{number:02d}",
        "metadata": {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(source: Path) -> dict:
    """The notebook (nbformat 4 JSON, without outputs) of one chapter source."""
    text = source.read_text(encoding="utf-8")
    header = text.split("\n# %%", 1)[0]
    pip = _PIP.search(header)
    packages = pip.group("packages").split() if pip else []
    body = cells(text)
    if not body or body[0][0] != "markdown":
        raise ValueError(f"{source.name}: the first cell must be the chapter's markdown introduction")
    body.insert(1, ("code", colab_cell(packages)))
    return {
        "cells": [_cell(kind, src, number) for number, (kind, src) in enumerate(body)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "colab": {"provenance": []},
            "accelerator": "GPU",
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(source: Path) -> str:
    """The notebook file's text for `source` (what is committed)."""
    return json.dumps(notebook(source), indent=1, ensure_ascii=False) + "\n"


def render_all(folder: Path = CHAPTERS) -> dict[Path, str]:
    """`{notebook path: text}` for every chapter source in `folder`."""
    return {nb: render(src) for src, nb in sources(folder).items()}


# --------------------------------------------------------------------------------------------------
# Helpers the chapter sources call (the same code runs in a notebook and as a script)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, Colab, nbclient), False in a plain script."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"


def command_line(*, choices: dict[str, Sequence] | None = None, **settings: Any) -> tuple:
    """The settings cell's values, overridden by the script's flags; unchanged inside a notebook.

    Each keyword becomes a flag (`DATA_DIR` -> `--data-dir`, `QUICK` -> `--quick`): booleans are
    switches (`--quick`, `--no-quick`), lists take several values (the flag may repeat), other values
    take one, typed like the default. `choices` limits a setting's values (`{"ONLY": [...]}`). The
    values come back in the order given:

        QUICK, DATA_DIR, OUT = command_line(QUICK=QUICK, DATA_DIR=DATA_DIR, OUT=OUT)
    """
    if in_notebook():
        return tuple(settings.values())
    choices = choices or {}
    main = sys.modules.get("__main__")
    doc = (getattr(main, "__doc__", None) or "").strip()
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0] if doc else None,
        epilog=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for name, default in settings.items():
        flag = "--" + name.lower().replace("_", "-")
        allowed = list(choices[name]) if name in choices else None
        if isinstance(default, bool):
            parser.add_argument(flag, dest=name, default=default, action=argparse.BooleanOptionalAction)
        elif isinstance(default, (list, tuple)):
            parser.add_argument(
                flag,
                dest=name,
                default=None,
                nargs="*",
                action="extend",
                choices=allowed,
                metavar=name,
                help=f"default: {' '.join(map(str, default)) or 'none'}",
            )
        else:
            kind = type(default) if isinstance(default, (int, float)) else str
            parser.add_argument(
                flag, dest=name, default=default, type=kind, choices=allowed, metavar=name, help=f"default: {default!r}"
            )
    args = parser.parse_args()
    return tuple(
        list(default) if getattr(args, name) is None else getattr(args, name) for name, default in settings.items()
    )


def show(value: Any) -> None:
    """Display `value` (a DataFrame as a table) in a notebook; print it in a script."""
    if in_notebook():
        from IPython.display import display

        display(value)
    else:
        print(value.to_string() if hasattr(value, "to_string") else value)


def show_image(path: str | Path) -> None:
    """Show a PNG the run wrote (curves.png, ...) inline; a script prints where it is."""
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    else:
        print(f"[image] {path}")


def plot_model(model, path: str | Path) -> None:
    """`keras.utils.plot_model` into `path` and inline, where pydot and Graphviz are installed; else a note."""
    import importlib.util

    if importlib.util.find_spec("pydot") is None or shutil.which("dot") is None:
        print(
            "(no diagram: keras.utils.plot_model needs `pip install pydot` and Graphviz's `dot`; "
            "the summary above has the same layers)"
        )
        return
    import keras

    keras.utils.plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=True)
    show_image(path)


def quick_settings(quick: bool, steps: int = 2) -> dict[str, int]:
    """`zoo.fit` keywords of a QUICK run (`steps` batches per epoch, one epoch); `{}` for the book's settings."""
    return {"max_steps": steps, "epochs": 1} if quick else {}


@dataclass(frozen=True)
class ChapterSettings:
    """The values of a chapter's settings cell, the script's flags applied (rule 5 above).

    Unpacks as QUICK, DATA_DIR, OUT and then the chapter's knobs in the order given
    (`QUICK, DATA_DIR, OUT, ONLY = chapter`); `fit_settings` gives `zoo.fit`'s keywords.
    """

    QUICK: bool
    DATA_DIR: str
    OUT: str
    knobs: dict[str, Any] = field(default_factory=dict)
    steps: int = 2  # batches per epoch of a QUICK run

    def __iter__(self) -> Iterator[Any]:
        return iter((self.QUICK, self.DATA_DIR, self.OUT, *self.knobs.values()))

    def __str__(self) -> str:
        values = {"QUICK": self.QUICK, "DATA_DIR": self.DATA_DIR, "OUT": self.OUT, **self.knobs}
        return "  ".join(f"{name}={value!r}" for name, value in values.items())

    def fit_settings(self, run: str, **extra: Any) -> dict[str, Any]:
        """`zoo.fit`'s keywords: the data folder, the run folder `OUT/run` ("" = zoo.fit's default), QUICK's
        limits, then `extra` (which may replace any of them).

        Example:
            >>> ChapterSettings(True, "data", "/tmp/out").fit_settings("mnist_mlp", dropout=0.2)
            {'data_dir': 'data', 'out': '/tmp/out/mnist_mlp', 'max_steps': 2, 'epochs': 1, 'dropout': 0.2}
        """
        out = f"{self.OUT}/{run}" if self.OUT else None
        return {"data_dir": self.DATA_DIR, "out": out, **quick_settings(self.QUICK, self.steps), **extra}


def chapter_settings(
    *,
    QUICK: bool | None = None,  # upper case: the names the settings cell binds, as the knobs
    DATA_DIR: str | None = None,
    OUT: str = "",
    steps: int = 2,
    choices: dict[str, Sequence] | None = None,
    **knobs: Any,
) -> ChapterSettings:
    """A chapter's settings: QUICK, DATA_DIR, OUT and its own `knobs`, overridden by a script's flags.

    Args:
        QUICK: 2 batches (`steps`) x 1 epoch per model instead of the recipe's settings; None: the
            environment variable `ZOO_QUICK` is "1".
        DATA_DIR: where datasets are read (and downloaded when missing); None: `ZOO_DATA_DIR`, else
            "datasets".
        OUT: parent folder of the run folders; "" = saved_models/<recipe>/<time>.
        steps: batches per epoch of a QUICK run.
        choices: allowed values of a knob (`{"ONLY": [...]}`), checked on the command line.
        **knobs: the chapter's own settings (`ONLY=[...]`, `VARIANT="rand"`); each is a flag too
            (`--only`, `--variant`), see `command_line`.

    Example (in a notebook, where there are no flags):
        >>> chapter = chapter_settings(QUICK=True, DATA_DIR="data", VARIANT="rand")  # doctest: +SKIP
        >>> QUICK, DATA_DIR, OUT, VARIANT = chapter  # doctest: +SKIP
        >>> chapter.fit_settings("textcnn_mr")  # doctest: +SKIP
        {'data_dir': 'data', 'out': None, 'max_steps': 2, 'epochs': 1}
    """
    if QUICK is None:
        QUICK = os.environ.get("ZOO_QUICK") == "1"
    if DATA_DIR is None:
        DATA_DIR = os.environ.get("ZOO_DATA_DIR", "datasets")
    quick, data_dir, out, *values = command_line(QUICK=QUICK, DATA_DIR=DATA_DIR, OUT=OUT, choices=choices, **knobs)
    return ChapterSettings(quick, data_dir, out, dict(zip(knobs, values)), steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write chapters/chNN.ipynb from the chapter sources.")
    parser.add_argument(
        "chapters", nargs="*", help="only these notebooks (7 or ch07, 12a or ch12a; default: every chapter source)"
    )
    parser.add_argument("--check", action="store_true", help="only report notebooks that differ; exit 1 if any")
    args = parser.parse_args(argv)
    wanted = set()
    for chapter in args.chapters:
        match = re.fullmatch(r"(?:ch)?(\d+)([a-z]?)", chapter)
        if not match:
            parser.error(f"a chapter is a number with an optional letter (7, ch07, 12a); got {chapter!r}")
        wanted.add(f"ch{int(match.group(1)):02d}{match.group(2)}.ipynb")
    stale = []
    for path, text in render_all().items():
        if wanted and path.name not in wanted:
            continue
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
        print(("stale: " if args.check else "wrote ") + str(path))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Colab-ready notebooks `chapters/chNN.ipynb`, one per chapter, generated from the recipe registry.

    python -m zoo.notebooks            # (re)write chapters/chNN.ipynb; a test keeps them in sync
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo import recipes

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"

SETUP = """\
# Colab: upload or clone this repository first, then install it (the README's first command).
import os, sys
ROOT = next((p for p in ["..", ".", "/content/course-zoo"] if os.path.exists(os.path.join(p, "pyproject.toml"))), None)
if ROOT is None:
    raise SystemExit("Open this notebook from the repository's chapters/ folder, or clone it to /content/course-zoo")
%pip install -q -e {ROOT}
DATA_DIR = os.environ.get("ZOO_DATA_DIR", os.path.join(ROOT, "datasets"))  # downloads land here
QUICK = True  # a smoke run of 2 batches; set False for the book's full settings"""


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(chapter: int) -> dict:
    chosen = [r for r in recipes.all_recipes() if r.chapter == chapter]
    cells = [
        _cell("markdown", f"# Chapter {chapter}\n\n" + "\n".join(f"- `{r.name}`: {r.summary}" for r in chosen)
              + "\n\nEvery recipe trains through the zoo's one driver (`zoo.fit`), exactly as "
                "`python -m zoo.run NAME` does, and writes a run folder with metrics, curves, "
                "`model.keras` and an end-to-end SavedModel."),
        _cell("code", SETUP),
    ]
    for r in chosen:
        params = "\n".join(f"| `{k}` | `{p.default!r}` | {p.help} |" for k, p in r.params().items())
        cells += [
            _cell("markdown", f"## `{r.name}` ({r.dataset})\n\n{r.summary}\n\n| hyper-parameter | default | |\n"
                              f"|---|---|---|\n{params}"),
            _cell("code", "import zoo\nfrom IPython.display import Image, display\n\n"
                          f"result = zoo.fit({r.name!r}, data_dir=DATA_DIR, **(dict(max_steps=2, epochs=1) if QUICK else {{}}))\n"
                          "print(result.run_dir)\n"
                          "print({k: round(v, 4) if isinstance(v, float) else v for k, v in result.metrics.items()})\n"
                          "if (result.run_dir / 'curves.png').exists():\n"
                          "    display(Image(str(result.run_dir / 'curves.png')))"),
        ]
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}, "colab": {"provenance": []}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def render_all() -> dict[Path, str]:
    chapters = sorted({r.chapter for r in recipes.all_recipes()})
    return {CHAPTERS / f"ch{c:02d}.ipynb": json.dumps(notebook(c), indent=1, ensure_ascii=False) + "\n" for c in chapters}


if __name__ == "__main__":
    for path, text in render_all().items():
        path.write_text(text)
        print(path)
    sys.exit(0)

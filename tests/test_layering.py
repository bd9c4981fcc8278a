"""The code base points one way, and stays lint-clean.

`data`, `models`, `layers`, `metrics`, `serving` and `visualize` (and the top-level `zoo.callbacks` and
`zoo.export`) never import `recipes` or `training`; a chapter module imports no other chapter module;
nothing imports another module's `_private` name; `ruff check` passes.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOWER = ("data", "models", "layers", "metrics", "serving", "visualize")
LOWER_MODULES = ("zoo.callbacks", "zoo.export")  # top-level modules under the same rule


def _modules(package: str) -> list[str]:
    return sorted(f"zoo.{package}.{p.stem}" for p in (ROOT / "zoo" / package).glob("*.py") if p.stem != "__init__")


def test_lower_packages_import_neither_recipes_nor_training():
    """Imported in a fresh process: what each lower module pulls in, directly or not."""
    modules = [m for package in LOWER for m in _modules(package)] + list(LOWER_MODULES)
    script = (
        "import importlib, json, sys\n"
        f"bad = {{}}\nfor name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    up = sorted(m for m in sys.modules if m.startswith(('zoo.recipes', 'zoo.training')))\n"
        "    if up: bad[name] = up; break\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_loading_every_recipe_changes_no_global_state():
    """No matplotlib backend switch (the user's, here `svg`, stays), no process-wide dtype policy change."""
    script = (
        "import zoo, keras, matplotlib\n"
        "zoo.recipes.all_recipes()\n"
        "print(matplotlib.get_backend(), keras.config.dtype_policy().name)\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["svg", "float32"]


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_no_chapter_module_imports_another():
    for path in sorted((ROOT / "zoo" / "recipes").glob("ch*.py")):
        for module, names in _imports(path):
            chapters = [module] + [f"{module}.{n}" for n in names]
            assert not any(m.startswith("zoo.recipes.ch") for m in chapters), f"{path.name} imports {module} {names}"


def test_nothing_imports_a_private_name():
    for folder in ("zoo", "benchmarks", "chapters", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module, names in _imports(path):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                private += [part for part in module.split(".") if part.startswith("_") and not part.startswith("__")]
                assert not private, f"{path.relative_to(ROOT)} imports {private} from {module}"


def test_modules_and_functions_stay_small():
    """One role per module: no product module over 400 lines, no function (docstring included) over 80."""
    too_long = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        if text.count("\n") > 400:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                too_long.append(f"{name}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not too_long, "split by role: " + "; ".join(too_long)


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    """`ruff check` (rules E, W, F, I in pyproject.toml) and `ruff format --check` pass on every source."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the test extra: pip install -e '.[test]'")
    out = subprocess.run(
        [ruff, *command, "zoo", "tests", "benchmarks", "chapters"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout[-3000:]

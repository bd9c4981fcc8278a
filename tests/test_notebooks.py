"""The chapter notebooks: in sync with their literate sources, and executed top to bottom in QUICK mode.

Each notebook runs in a fresh Jupyter kernel (nbclient) with ZOO_QUICK=1 against ../shared/data,
in a temporary working folder; any cell error fails the test with the cell's traceback.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import ROOT
from zoo import notebooks

SOURCES = notebooks.sources()


def test_every_chapter_with_a_notebook_has_its_literate_source():
    assert SOURCES, "no chapters/chNN_*.py with '# %%' cells found"
    committed = set((ROOT / "chapters").glob("ch*.ipynb"))
    assert committed <= set(SOURCES.values()), (
        f"notebooks without a source: {sorted(committed - set(SOURCES.values()))}"
    )


@pytest.mark.parametrize("source", list(SOURCES), ids=lambda p: p.name)
def test_committed_notebook_is_generated_from_its_source_without_outputs(source):
    path = SOURCES[source]
    assert path.exists() and path.read_text(encoding="utf-8") == notebooks.render(source), (
        f"regenerate: python -m zoo.notebooks ({path.name})"
    )
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in cells)
    assert cells[0]["cell_type"] == "markdown" and "google.colab" in "".join(cells[1]["source"])
    settings = "".join(cells[2]["source"])
    assert "chapter = chapter_settings(" in settings, "the first chapter cell must be the settings (rule 5)"


def test_converter_reads_the_percent_format(tmp_path):
    source = tmp_path / "ch99_demo.py"
    source.write_text(
        '"""Usage: python ch99_demo.py"""\n\n# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n'
        "# %% Settings\nQUICK = True\n\n\n# %%\nprint(QUICK)\n"
    )
    nb = notebooks.notebook(source)
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "code", "code"]
    assert "".join(nb["cells"][0]["source"]) == "# Title\n\nSome *text*."
    assert "".join(nb["cells"][2]["source"]) == "QUICK = True"
    assert notebooks.render_all(tmp_path) == {tmp_path / "ch99.ipynb": notebooks.render(source)}
    source.write_text("# %% [markdown]\nnot a comment\n")
    with pytest.raises(ValueError, match="start with '# '"):
        notebooks.notebook(source)


def test_a_letter_after_the_chapter_number_names_a_second_notebook(tmp_path):
    for name in ("ch12_squad_bert.py", "ch12a_transformer.py", "ch12A_upper.py", "ch12ab_two.py", "ch1a_short.py"):
        (tmp_path / name).write_text("# %% [markdown]\n# # Title\n")
    assert notebooks.sources(tmp_path) == {
        tmp_path / "ch12_squad_bert.py": tmp_path / "ch12.ipynb",
        tmp_path / "ch12a_transformer.py": tmp_path / "ch12a.ipynb",
    }
    assert notebooks.main(["--check", "12a"]) == 0  # "12a" selects chapters/ch12a.ipynb (in sync: the test above)
    with pytest.raises(SystemExit):
        notebooks.main(["--check", "12ab"])


@pytest.mark.slow
@pytest.mark.parametrize("source", list(SOURCES), ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_in_quick_mode(source, shared_data, tmp_path, monkeypatch):
    try:  # the test extra installs them: their absence is a broken set-up, not a reason to skip
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as error:
        pytest.fail(f"{error}: pip install -e '.[test]' (nbclient, nbformat, ipykernel)")

    monkeypatch.setenv("ZOO_QUICK", "1")
    monkeypatch.setenv("ZOO_DATA_DIR", str(shared_data))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.reads(notebooks.render(source), as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{SOURCES[source].name}: a cell failed\n{str(error)[-4000:]}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was shown inline"


def test_command_line_gives_a_script_the_settings_cells_flags(monkeypatch):
    assert not notebooks.in_notebook()
    defaults = dict(QUICK=False, DATA_DIR="datasets", ONLY=["a", "b", "c"], SET=[], VERSION=1)
    monkeypatch.setattr("sys.argv", ["chNN.py"])
    assert notebooks.command_line(**defaults) == (False, "datasets", ["a", "b", "c"], [], 1)
    monkeypatch.setattr(
        "sys.argv",
        [
            "chNN.py",
            "--quick",
            "--data-dir",
            "/d",
            "--only",
            "b",
            "--only",
            "c",
            "--set",
            "x=1",
            "--set",
            "y=2",
            "--version",
            "2",
        ],
    )
    assert notebooks.command_line(**defaults, choices={"ONLY": "abc"}) == (True, "/d", ["b", "c"], ["x=1", "y=2"], 2)
    monkeypatch.setattr("sys.argv", ["chNN.py", "--only", "z"])
    with pytest.raises(SystemExit):
        notebooks.command_line(**defaults, choices={"ONLY": "abc"})


def test_chapter_settings_read_the_environment_then_the_flags(monkeypatch):
    monkeypatch.setenv("ZOO_QUICK", "1")
    monkeypatch.setenv("ZOO_DATA_DIR", "/data")
    monkeypatch.setattr("sys.argv", ["chNN.py"])
    chapter = notebooks.chapter_settings(ONLY=["a", "b"], VARIANT="rand")
    assert tuple(chapter) == (True, "/data", "", ["a", "b"], "rand")
    assert chapter.fit_settings("a") == {"data_dir": "/data", "out": None, "max_steps": 2, "epochs": 1}
    assert str(chapter) == "QUICK=True  DATA_DIR='/data'  OUT=''  ONLY=['a', 'b']  VARIANT='rand'"

    monkeypatch.setattr("sys.argv", ["chNN.py", "--no-quick", "--out", "/runs", "--variant", "static"])
    chapter = notebooks.chapter_settings(steps=20, QUICK=True, ONLY=["a", "b"], VARIANT="rand")
    QUICK, DATA_DIR, OUT, ONLY, VARIANT = chapter
    assert (QUICK, DATA_DIR, OUT, ONLY, VARIANT) == (False, "/data", "/runs", ["a", "b"], "static")
    assert chapter.fit_settings("a", epochs=3) == {"data_dir": "/data", "out": "/runs/a", "epochs": 3}
    monkeypatch.setattr("sys.argv", ["chNN.py"])
    assert notebooks.chapter_settings(QUICK=False, DATA_DIR="d").fit_settings("a") == {"data_dir": "d", "out": None}

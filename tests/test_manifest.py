"""Generated documentation (datasets/README.md, the README recipe table) stays in sync with the code.

Notebooks: tests/test_notebooks.py.
"""

import pytest

from tests.conftest import ROOT
from zoo.data import sources
from zoo.data.manifest import render


def test_datasets_readme_is_in_sync_with_the_loaders():
    assert (ROOT / "datasets" / "README.md").read_text() == render(), (
        "regenerate it: python -m zoo.data.manifest > datasets/README.md"
    )


def test_every_downloadable_source_has_a_checksum_and_terms():
    for source in sources():
        for archive in source.archives:
            assert len(archive.sha256) == 64, (source.name, archive.name)
        assert source.licence and source.title, source.name


@pytest.fixture
def product_registry(monkeypatch):
    """The registry without the test-only `toy` recipe that other test modules register."""
    from zoo import recipes

    toy = recipes.base.registered().get("toy")
    recipes.unregister("toy")
    yield
    if toy is not None:
        recipes.register(toy, replace=True)


def test_readme_recipe_table_is_in_sync_with_the_registry(product_registry):
    from zoo.run import recipe_markdown

    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- /recipes -->")[0].split("-->\n", 1)[1].strip()
    assert table == recipe_markdown(), "regenerate the table: python -m zoo.run --list --markdown"

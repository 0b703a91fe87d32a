"""Every chapter notebook has a text form (py:percent) beside it that reviews as a readable diff, kept in sync."""
from __future__ import annotations

import jupytext
import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _text(nb_path) -> str:
    nb = jupytext.read(nb_path)
    nb.metadata.setdefault("jupytext", {}).update(notebook_metadata_filter="-all", cell_metadata_filter="tags")
    return jupytext.writes(nb, fmt="py:percent")


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_text_form_matches_the_notebook(nb_path):
    text = ROOT / "notebooks" / "text" / f"{nb_path.stem}.py"
    assert text.is_file(), f"{text} is missing: run `make notebooks-text`"
    assert text.read_text() == _text(nb_path), f"{text} is out of date with {nb_path.name}: run `make notebooks-text`"


def test_every_text_form_has_its_notebook():
    stems = {p.stem for p in NOTEBOOKS}
    assert {p.stem for p in (ROOT / "notebooks" / "text").glob("*.py")} == stems

"""Figures read at ≥ 9 pt in the book's column: the font floor on real figures, and in a real kernel."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from pecore import channel_profile, plots  # noqa: E402
from pecore.figures import COLUMN_PX, MIN_FONT_PT, _texts, displayed_scale, fit_text_to_column  # noqa: E402
from pecore.notebook import stored_probe_dir  # noqa: E402


def _smallest_shown_pt(fig) -> float:
    scale = displayed_scale(fig)
    return min(t.get_fontsize() for t in _texts(fig)) * scale * fig.dpi / 96


def test_a_wide_channel_card_is_made_readable_and_a_narrow_one_is_left_alone():
    profile = channel_profile(stored_probe_dir("vgg16"), "relu2_2", 5)
    wide = plots.channel_card(profile, frequency=8.0)
    assert displayed_scale(wide) < 1 and _smallest_shown_pt(wide) < MIN_FONT_PT  # as drawn: too small once shrunk
    fit_text_to_column(wide)
    assert _smallest_shown_pt(wide) >= MIN_FONT_PT - 1e-6
    assert displayed_scale(wide) * wide.get_size_inches()[0] * wide.dpi <= COLUMN_PX * 1.15

    narrow, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.set_title("fits", fontsize=10)
    narrow.canvas.draw()
    before = [t.get_fontsize() for t in _texts(narrow)]
    assert fit_text_to_column(narrow) == 1.0
    assert [t.get_fontsize() for t in _texts(narrow)] == before
    plt.close("all")


@pytest.mark.parametrize("column", [400, 900])
def test_the_floor_follows_the_column_width(column):
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), dpi=100)
    for ax in axes:
        ax.set_title("panel", fontsize=7)
    scale = fit_text_to_column(fig, column)
    assert min(t.get_fontsize() for t in _texts(fig)) * scale * fig.dpi / 96 >= MIN_FONT_PT - 1e-6
    plt.close(fig)


def test_a_chapter_kernel_enlarges_small_text_of_every_figure_it_shows():
    cells = ['%matplotlib inline\nimport matplotlib.pyplot as plt\nimport pecore.notebook as pb',
             'fig, ax = plt.subplots(1, 3, figsize=(12, 3))\nt = ax[0].set_title("t", fontsize=8)\nplt.show()',
             'print(t.get_fontsize(), ax[0].xaxis.get_ticklabels()[0].get_fontsize(), pb.fit_figures_to_page())']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    assert any("image/png" in o.get("data", {}) for o in nb.cells[1].outputs)
    title, ticks, installed = nb.cells[2].outputs[-1]["text"].split()
    assert installed == "True"
    # a 12-inch figure is shown at about 676/1220 of its size: 8 pt would read as ~4.6 pt
    assert float(title) > 14 and float(ticks) > 14


@pytest.mark.parametrize("args, message", [
    (("not a figure",), "expected a matplotlib Figure, got str"),
    ((None, 0), "column_px must be a positive number, got 0"),
    ((None, float("nan")), "column_px must be a positive number"),
    ((None, 676, -1), "min_pt must be a positive number, got -1"),
])
def test_bad_arguments_of_the_font_floor_are_named(args, message):
    from pecore.errors import ParameterError

    fig = plt.figure()
    args = tuple(fig if a is None else a for a in args)
    with pytest.raises(ParameterError, match=message):
        fit_text_to_column(*args)
    plt.close(fig)

"""Figure layout shared by every chapter's plots: panel grids of at most three per row, fixed log ticks."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["MAX_COLUMNS", "MIN_FONT_PT", "COLUMN_PX", "LAYER_COLORS", "layer_color", "panel_grid", "log_axis_ticks",
           "displayed_scale", "fit_text_to_column"]

MAX_COLUMNS = 3  # panels per row: wider figures are shrunk below a readable size at page width
MIN_FONT_PT = 9
# Width (CSS pixels) of a figure in the book's text column, in a 1280 px wide browser window: a wider figure
# is shrunk to it, and its text with it.
COLUMN_PX = 676
_CSS_PX_PER_INCH = 96

# one colour per tap depth (1st … 5th tapped layer), the same in every chapter and for every network
LAYER_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]


def layer_color(layer: str, layers: Sequence[str]) -> str:
    """The colour of ``layer`` by its depth among ``layers``.

    Examples
    --------
    >>> layer_color("relu2_2", ["relu1_2", "relu2_2"])
    '#d95f02'
    """
    return LAYER_COLORS[list(layers).index(layer) % len(LAYER_COLORS)]


def panel_grid(n: int, panel_size: tuple[float, float] = (3.4, 3.0), *, max_cols: int = MAX_COLUMNS,
               **subplots: Any) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``n`` panels, at most ``max_cols`` per row; unused cells are hidden.

    Examples
    --------
    >>> fig, axes = panel_grid(5)
    >>> len(axes), sum(ax.get_visible() for ax in fig.axes)
    (5, 5)
    """
    cols = max(1, min(n, max_cols))
    rows = int(np.ceil(n / cols))
    fig, grid = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False,
                             **subplots)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def log_axis_ticks(ax: plt.Axes, values: Any, axis: str = "x",
                   candidates: tuple[float, ...] = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 50, 100)) -> None:
    """A log axis labelled only at fixed round values inside the data range (no '3×10¹' minor labels).

    Examples
    --------
    >>> fig, ax = plt.subplots(); ax.set_xscale("log")
    >>> log_axis_ticks(ax, [0.5, 30]); [t.get_text() for t in ax.get_xticklabels()]
    ['0.5', '1', '2', '5', '10', '20', '30']
    """
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    v = np.asarray(values, dtype=float)
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    ticks = [t for t in candidates if v.min() * 0.99 <= t <= v.max() * 1.01] or sorted({float(v.min()), float(v.max())})
    target.set_major_locator(FixedLocator(ticks))
    (ax.set_xticklabels if axis == "x" else ax.set_yticklabels)([f"{t:g}" for t in ticks])
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def _texts(fig: plt.Figure) -> list:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _check_figure(fig: Any, column_px: Any, min_pt: Any = MIN_FONT_PT) -> None:
    from matplotlib.figure import Figure

    from .errors import ParameterError

    if not isinstance(fig, Figure):
        raise ParameterError(f"expected a matplotlib Figure, got {type(fig).__name__}")
    for name, v in (("column_px", column_px), ("min_pt", min_pt)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v <= 0:
            raise ParameterError(f"{name} must be a positive number, got {v!r}")


def displayed_scale(fig: plt.Figure, column_px: float = COLUMN_PX) -> float:
    """How much the book shrinks ``fig`` to fit its text column (1 if it fits), for a PNG cropped to its ink.

    Examples
    --------
    >>> fig = plt.figure(figsize=(13.52, 2), dpi=100); _ = fig.text(0.01, 0.5, "x" * 200, fontsize=8)
    >>> 0.45 < displayed_scale(fig) < 0.55
    True
    """
    _check_figure(fig, column_px)
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    width_px = (box.width + 2 * 0.1) * fig.dpi  # the inline backend crops to the ink plus 0.1 inch
    return float(min(1.0, float(column_px) / width_px))


def fit_text_to_column(fig: plt.Figure, column_px: float = COLUMN_PX, min_pt: float = MIN_FONT_PT,
                       *, rounds: int = 3) -> float:
    """Enlarge every text of ``fig`` that would read smaller than ``min_pt`` once the book shrinks the figure
    into its column (titles, labels, tick labels, legends, annotations), then lay the figure out again.

    Sizes are as the reader sees them: CSS points of a browser at 96 px per inch, with the PNG at the figure's
    dpi shown pixel for pixel, or shrunk to ``column_px``. Returns the scale at which the figure is then displayed. Text already large enough is left alone; a
    figure that fits the column is only checked. Used for every figure a chapter shows (see
    :mod:`pecore.notebook`); call it yourself before saving a figure for a page of that width.

    Examples
    --------
    >>> fig, ax = plt.subplots(1, 3, figsize=(12, 3), dpi=100)
    >>> for a in ax:
    ...     _ = a.set_title("a title", fontsize=8)
    >>> scale = fit_text_to_column(fig)
    >>> all(t.get_fontsize() * scale * fig.dpi / 96 >= MIN_FONT_PT - 1e-6 for t in _texts(fig))
    True
    """
    _check_figure(fig, column_px, min_pt)

    def shown_pt(size: float) -> float:  # point size as the reader sees it (CSS pt at 96 px per inch)
        return size * scale * fig.dpi / _CSS_PX_PER_INCH

    scale = displayed_scale(fig, column_px)
    for _ in range(rounds):
        small = [t for t in _texts(fig) if shown_pt(t.get_fontsize()) < min_pt - 1e-6]
        if not small:
            break
        need = min_pt * _CSS_PX_PER_INCH / (scale * fig.dpi) + 1e-6
        for t in small:
            t.set_fontsize(need)
        for ax in fig.axes:  # tick labels are re-made on each draw: set them through the axis
            for which in ("x", "y"):
                axis = getattr(ax, f"{which}axis", None)
                labels = axis.get_ticklabels() if axis is not None else []
                if labels and shown_pt(labels[0].get_fontsize()) < min_pt - 1e-6:
                    ax.tick_params(axis=which, labelsize=need)
        if fig.get_layout_engine() is None:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 'not compatible with tight_layout': keep the layout it had
                fig.tight_layout()
        scale = displayed_scale(fig, column_px)
    return scale

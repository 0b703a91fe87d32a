"""Figure layout shared by every chapter's plots: panel grids of at most three per row, fixed log ticks."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["MAX_COLUMNS", "MIN_FONT_PT", "LAYER_COLORS", "layer_color", "panel_grid", "log_axis_ticks"]

MAX_COLUMNS = 3  # panels per row: wider figures are shrunk below a readable size at page width
MIN_FONT_PT = 9

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

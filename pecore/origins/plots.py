"""Chapter 09's figures: PE by training objective, f̂ against the CSF band, sensitivity curves, masking, tests."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd

from ..csf import get_csf
from ..experiment import display_name
from ..figures import log_axis_ticks, panel_grid
from .settings import OBJECTIVES

__all__ = ["OBJECTIVE_COLORS", "SUBSET_STYLE", "pe_by_objective", "fhat_histograms", "sensitivity_curves_figure",
           "masking_figure", "tests_figure"]

OBJECTIVE_COLORS = {OBJECTIVES[0]: "#1f77b4", OBJECTIVES[1]: "#ff7f0e", OBJECTIVES[2]: "#7f7f7f"}
SUBSET_STYLE = {"top": ("#1f77b4", "-"), "bottom": ("#d62728", "-"), "random": ("#7f7f7f", "--"),
                "all": ("#2ca02c", ":"), "top, flat-CSF PE": ("#17becf", "-."), "bottom, flat-CSF PE": ("#ff9896", "-.")}
_SHORT = {OBJECTIVES[0]: "ImageNet", OBJECTIVES[1]: "human judgments (ST-LPIPS)", OBJECTIVES[2]: "random init"}


def pe_by_objective(summary: pd.DataFrame, family: str, columns: Sequence[str] = ("mu1", "mu2", "pe")) -> plt.Figure:
    """Median μ1, μ2 and PE per depth, one line per network, coloured by training objective (random seeds thin);
    the PE panel shows each median's 95 % interval over channels."""
    s = summary[summary.family == family]
    depths = list(dict.fromkeys(s.depth))
    fig, axes = panel_grid(len(columns), (3.6, 3.0))
    x = np.arange(len(depths))
    for ax, col in zip(axes, columns):
        for label, g in s.groupby("label", sort=False):
            g = g.set_index("depth").loc[depths]
            obj = g.objective.iloc[0]
            random = obj == OBJECTIVES[2]
            kw = dict(color=OBJECTIVE_COLORS[obj], lw=1 if random else 2, alpha=0.7 if random else 1, marker="o", ms=3)
            ax.plot(x, g[col], **kw, label=_SHORT[obj] if not random or label.endswith("random0") else None)
            if col == "pe":
                ax.fill_between(x, g.pe_low, g.pe_high, color=OBJECTIVE_COLORS[obj], alpha=0.12)
        ax.set_xticks(x, [str(g) for g in s.drop_duplicates("depth").layer], rotation=30)
        ax.set_title(f"median {display_name(col)}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle(f"{display_name(family)} family: PE by training objective")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    return fig


def fhat_histograms(tables: pd.DataFrame, family: str, band: tuple[float, float]) -> plt.Figure:
    """Each network's preferred frequencies f̂ per depth (random seeds pooled), the CSF's sensitive band shaded."""
    t = tables[(tables.family == family) & ~tables.dead.astype(bool)]
    depths = list(dict.fromkeys(t.depth))
    fig, axes = panel_grid(len(depths), (3.4, 2.6))
    bins = np.geomspace(0.5, 30, 19)
    for ax, depth in zip(axes, depths):
        g = t[t.depth == depth]
        ax.axvspan(*band, color="#ffe08a", alpha=0.5, lw=0, label="CSF band")
        for obj in OBJECTIVES:
            h = g[g.objective == obj]
            if len(h):
                ax.hist(h.fhat.clip(0.5, 30), bins=bins, histtype="step", lw=1.6, density=True,
                        color=OBJECTIVE_COLORS[obj], label=_SHORT[obj])
        log_axis_ticks(ax, [0.5, 30])
        ax.set_title(f"{g.layer.iloc[0]}")
        ax.set_xlabel("f̂ (cpd)")
        ax.set_yticks([])
    handles, labels = axes[0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=9, frameon=False)
    return fig


def sensitivity_curves_figure(curves: pd.DataFrame, label: str, subsets: Sequence[str] = ("top", "bottom", "random",
                                                                                          "all")) -> plt.Figure:
    """Sensitivity (1 / threshold contrast) against frequency per depth for each subset, each curve divided by
    its peak, with the Mannos–Sakrison and Barten CSFs (also peak-normalised) for shape."""
    c = curves[curves.label == label]
    depths = list(dict.fromkeys(c.depth))
    fig, axes = panel_grid(len(depths), (3.4, 2.9))
    f = np.asarray(sorted(c.frequency.unique()))
    for ax, depth in zip(axes, depths):
        for name, csf in (("Mannos–Sakrison", "mannos-sakrison"), ("Barten", "barten")):
            v = get_csf(csf)(f)
            ax.plot(f, v / v.max(), color="k", lw=1, ls="-" if csf == "mannos-sakrison" else "--", alpha=0.6,
                    label=f"{name} CSF")
        for name in subsets:
            g = c[(c.depth == depth) & (c.subset == name)].sort_values("frequency")
            if g.empty:
                continue
            peak = g.sensitivity.max()
            color, ls = SUBSET_STYLE[name]
            ax.plot(g.frequency, g.sensitivity / peak, color=color, ls=ls, lw=1.8, label=name)
            ax.fill_between(g.frequency, g.low / peak, g.high / peak, color=color, alpha=0.12, lw=0)
        ax.set_yscale("log")
        ax.set_ylim(1e-2, 3)
        log_axis_ticks(ax, f)
        ax.set_title(depth)
        ax.set_xlabel("frequency (cpd)")
    axes[0].set_ylabel("sensitivity / its peak")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    return fig


def masking_figure(table: pd.DataFrame, label: str, human: float, subsets: Sequence[str] = ("top", "bottom",
                                                                                            "random", "all")) -> plt.Figure:
    """The masking slope of each subset per depth, with its 95 % interval, against the human slope."""
    t = table[table.label == label]
    depths = list(dict.fromkeys(t.depth))
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    width = 0.8 / len(subsets)
    for i, name in enumerate(subsets):
        g = t[t.subset == name].set_index("depth").loc[depths]
        x = np.arange(len(depths)) + (i - (len(subsets) - 1) / 2) * width
        color, _ = SUBSET_STYLE[name]
        ax.errorbar(x, g.slope, yerr=[g.slope - g.slope_low, g.slope_high - g.slope], fmt="o", color=color,
                    capsize=2, ms=4, label=name)
    ax.axhline(human, color="k", lw=1, ls="--", label=f"human (≈ {human:g})")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(np.arange(len(depths)), depths)
    ax.set_ylabel("masking slope (log–log)")
    ax.legend(fontsize=8, ncol=3, loc="best")
    fig.tight_layout()
    return fig


def tests_figure(tests: pd.DataFrame, label: str) -> plt.Figure:
    """Each test of "high-PE channels see like humans" per depth: estimate and 95 % interval; the predicted side
    (> 0) shaded."""
    t = tests[tests.label == label]
    names = list(dict.fromkeys(t.test))
    fig, axes = panel_grid(len(names), (4.2, 2.9), max_cols=2)
    for ax, name in zip(axes, names):
        g = t[t.test == name]
        y = np.arange(len(g))[::-1]
        ends = np.abs(g[["ci_low", "ci_high", "estimate"]].to_numpy(dtype=float))
        reach = float(ends[np.isfinite(ends)].max()) if np.isfinite(ends).any() else 1.0
        ax.axvspan(0, max(1e-9, reach) * 1.1, color="#d9f0d3", alpha=0.6, lw=0)
        ax.errorbar(g.estimate, y, xerr=[g.estimate - g.ci_low, g.ci_high - g.estimate], fmt="o", color="k",
                    capsize=2, ms=3)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_yticks(y, g.depth)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_title(textwrap.fill(name + (" (circular)" if bool(g.circular.iloc[0]) else ""), 30), fontsize=9)
    fig.tight_layout()
    return fig

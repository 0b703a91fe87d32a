"""Figures and tables of the IQA chapter (matplotlib / pandas); no algorithm lives here."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

import numpy as np
import pandas as pd

from ..experiment import display_name
from ..figures import layer_color, panel_grid
from .experiment import IQAResult

__all__ = ["STAT_NAMES", "interval_table", "score_vs_p", "channel_scatter", "synthetic_table", "conclusions"]

STAT_NAMES = {"srocc": "SROCC", "krocc": "KROCC", "plcc": "PLCC (logistic)"}
SUBSET_STYLE = {"top": ("#1b7837", "o", "top-p % by PE"), "random": ("0.45", "s", "random p % (mean ± sd over seeds)"),
                "bottom": ("#b2182b", "v", "bottom-p % by PE")}


def _fmt(v: float, lo: float, hi: float, sd: float = np.nan) -> str:
    if not np.isfinite(v):
        return "–"
    text = f"{v:.3f}"
    if np.isfinite(sd):
        text += f" ± {sd:.3f}"
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text


def interval_table(grid: pd.DataFrame, layers: str | None = "all", stats: Sequence[str] = ("srocc", "krocc", "plcc")
                   ) -> pd.DataFrame:
    """The grid as readable text: ``estimate [lo, hi]`` (random: ``mean ± sd [lo, hi]``), baselines first.

    Examples
    --------
    >>> g = pd.DataFrame({"layers": ["all"], "subset": ["top"], "p": [25.0], "n_channels": [3], "n_seeds": [1],
    ...                   "srocc": [0.9], "srocc_lo": [0.8], "srocc_hi": [0.95], "srocc_sd": [np.nan]})
    >>> interval_table(g, stats=["srocc"]).iloc[0].astype(str).tolist()
    ['all', 'top 25 %', '3', '0.900 [0.800, 0.950]']
    """
    rows = grid if layers is None else grid[(grid.layers == layers) | (grid.layers == "-")]
    out = []
    for _, r in rows.iterrows():
        name = r.subset if r.layers == "-" else (f"{r.subset} {r.p:g} %" if r.subset != "all" else "all channels")
        rec = {"layers": "baseline" if r.layers == "-" else r.layers, "metric": name, "channels": int(r.n_channels)}
        for s in stats:
            rec[STAT_NAMES.get(s, s)] = _fmt(r[s], r.get(f"{s}_lo", np.nan), r.get(f"{s}_hi", np.nan),
                                             r.get(f"{s}_sd", np.nan))
        out.append(rec)
    return pd.DataFrame(out)


def score_vs_p(grid: pd.DataFrame, stat: str = "srocc", layer_sets: Sequence[str] | None = None,
               baselines: Sequence[str] = ("lpips-vgg", "ssim")) -> plt.Figure:
    """``stat`` against p for top / random / bottom subsets, one panel per layer set, with intervals.

    Top and bottom carry their bootstrap intervals (bars); random carries the spread over seeds (band)
    and its interval (thin bars). The dotted line is all channels of the panel's layers; grey dashed
    lines are baselines.
    """
    sets = list(layer_sets or [l for l in dict.fromkeys(grid.layers) if l != "-"])
    n = len(sets)
    cols = min(3, n)
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(2.9 * cols, 2.9 * int(np.ceil(n / cols))),
                             sharey=True, squeeze=False)
    base = grid[grid.layers == "-"].set_index("subset")
    for ax, label in zip(axes.flat, sets):
        g = grid[grid.layers == label]
        for k, (subset, (color, marker, name)) in enumerate(SUBSET_STYLE.items()):
            r = g[g.subset == subset].sort_values("p")
            x = r.p.to_numpy() * (1 + 0.04 * (k - 1))
            ax.errorbar(x, r[stat], yerr=[r[stat] - r[f"{stat}_lo"], r[f"{stat}_hi"] - r[stat]], color=color,
                        marker=marker, ms=5, lw=1.5, capsize=3, elinewidth=0.8 if subset == "random" else 1.2, label=name)
            if subset == "random" and r[f"{stat}_sd"].notna().any():
                ax.fill_between(x, r[stat] - r[f"{stat}_sd"], r[stat] + r[f"{stat}_sd"], color=color, alpha=0.2, lw=0)
        allc = g[g.subset == "all"]
        if len(allc):
            ax.axhline(float(allc[stat].iloc[0]), color="k", ls=":", lw=1, label="all channels")
        for b, ls in zip(baselines, ("--", "-.")):
            if b in base.index:
                ax.axhline(float(base.loc[b, stat]), color="0.55", ls=ls, lw=1, label=b.upper() if len(b) < 5 else display_name(b))
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())  # fixed ticks only: no '3×10¹' minor labels over them
        ax.set_xticks(sorted(g[g.subset == "top"].p.unique()))
        ax.set_xticklabels([f"{v:g}" for v in sorted(g[g.subset == "top"].p.unique())])
        ax.set_xlabel("subset size p (% of channels)")
        ax.set_title("all five layers" if label == "all" else label, fontsize=10)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{STAT_NAMES.get(stat, stat)} with human scores")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    h, l = axes.flat[0].get_legend_handles_labels()
    fig.legend(h, l, loc="lower center", ncol=3, fontsize=9, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def channel_scatter(channels: pd.DataFrame, summary: pd.DataFrame) -> plt.Figure:
    """PE against each channel's own SROCC with the human scores, one panel per layer, ρ and interval in the title."""
    layers = list(summary.layer)
    fig, axes = panel_grid(len(layers), (2.9, 2.9), sharey=True)
    for i, (ax, layer) in enumerate(zip(axes, layers)):
        c = channels[(channels.layer == layer) & channels.srocc.notna()]
        s = summary.set_index("layer").loc[layer]
        ax.scatter(c.pe, c.srocc, s=7, alpha=0.6, color=layer_color(layer, layers))
        ax.set_title(f"{layer}\nρ = {s.rho:.2f} [{s.rho_lo:.2f}, {s.rho_hi:.2f}], {int(s.n_channels)} ch.", fontsize=9)
        ax.set_xlabel("PE (perceptual efficacy)")
        ax.axhline(0, color="0.7", lw=0.8)
        if i % 3 == 0:
            ax.set_ylabel("single-channel SROCC\nwith human scores")
    fig.tight_layout()
    return fig


def synthetic_table(table: pd.DataFrame) -> pd.DataFrame:
    """The synthetic check, rounded, with readable columns.

    Examples
    --------
    >>> synthetic_table(pd.DataFrame({"metric": ["PSNR"], "subset": ["psnr"], "p": [np.nan], "noise": [1.0],
    ...                               "all": [1.0], "perfect": [1.0]})).columns.tolist()
    ['metric', 'noise', 'mean ρ (all kinds)', 'perfectly ordered']
    """
    out = table.drop(columns=["subset", "p"]).rename(columns={"all": "mean ρ (all kinds)", "perfect": "perfectly ordered"})
    return out.round(3)


def conclusions(result: IQAResult, stat: str = "srocc") -> list[str]:
    """The chapter's conclusion lines: every verdict of :func:`pecore.iqa.experiment.conclusions` for all
    layers together and the channel-level test, the overall reading, and what limits them.

    ``stat`` is kept for the caller's figures; the verdicts use the paired SROCC differences.
    """
    from ..experiment import overall_reading
    from .conclusions import conclusions as verdicts_of

    verdicts = verdicts_of(result)
    shown = [v for v in verdicts if v.scope.startswith("all layers") or v.claim.startswith("a channel's")]
    lines = [v.sentence() for v in shown]
    per_layer = [v for v in verdicts if v not in shown]
    if per_layer:
        lines.append(f"Single layers (top − bottom and top − random at each p): {overall_reading(per_layer)}")
    lines.append(f"**Overall:** {overall_reading(verdicts)}")
    n_ref = result.provenance.get("dataset", {}).get("reference_images")
    if n_ref is not None:
        lines.append(f"Every interval of a subset difference resamples the {n_ref} reference scenes; with so few "
                     "scenes they are wide and rest on few independent units: 'undecided' is weak evidence either way.")
    return lines

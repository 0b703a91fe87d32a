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

__all__ = ["STAT_NAMES", "BASELINE_NAMES", "DISTORTION_NAMES", "DATASET_NAMES", "interval_table", "score_vs_p",
           "channel_scatter", "channel_table", "synthetic_table", "dataset_line", "conclusions", "limits"]

STAT_NAMES = {"srocc": "SROCC", "krocc": "KROCC", "plcc": "PLCC (logistic)"}
#: the baselines' names in words
BASELINE_NAMES = {"psnr": "PSNR", "ssim": "SSIM", "lpips-vgg": "LPIPS v0.1 (VGG-16)", "lpips-alex": "LPIPS v0.1 (AlexNet)"}
#: the distortion folders of LIVE, TID2013, CSIQ and KADID-10k in words (other names are shown as they are)
DISTORTION_NAMES = {"jpeg": "JPEG", "jp2k": "JPEG 2000", "jpeg2000": "JPEG 2000", "wn": "white noise",
                    "awgn": "white noise", "gblur": "Gaussian blur", "blur": "Gaussian blur",
                    "fastfading": "JPEG 2000 with transmission errors (fast fading)", "fnoise": "pink noise",
                    "contrast": "contrast change"}
#: the dataset layouts in words
DATASET_NAMES = {"live": "LIVE release 2", "tid2013": "TID2013", "csiq": "CSIQ", "kadid10k": "KADID-10k",
                 "generic": "a generic full-reference dataset", "bapps": "BAPPS"}
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

    With ``layers`` (e.g. ``"all"``) the rows are that layer set's subsets and the baselines, indexed by the
    metric's name in words; with ``None`` every layer set's subsets, indexed by layers and subset. A baseline
    uses no channel subset: its channel count is '—'.

    Examples
    --------
    >>> g = pd.DataFrame({"layers": ["all", "-"], "subset": ["top", "psnr"], "p": [25.0, np.nan],
    ...                   "n_channels": [3, 0], "n_seeds": [1, 1], "srocc": [0.9, 0.8], "srocc_lo": [0.8, 0.7],
    ...                   "srocc_hi": [0.95, 0.9], "srocc_sd": [np.nan, np.nan]})
    >>> t = interval_table(g, stats=["srocc"]); t.index.tolist(), t.iloc[1].tolist()
    (['top 25 %', 'baseline: PSNR'], ['—', '0.800 [0.700, 0.900]'])
    """
    rows = grid if layers is None else grid[(grid.layers == layers) | (grid.layers == "-")]
    out = []
    for _, r in rows.iterrows():
        baseline = r.layers == "-"
        name = (f"baseline: {BASELINE_NAMES.get(r.subset, display_name(r.subset))}" if baseline else
                f"{r.subset} {r.p:g} %" if r.subset != "all" else "all channels")
        rec = {"layers": "baseline" if baseline else r.layers, "metric": name,
               "channels": "—" if baseline else str(int(r.n_channels))}
        for s in stats:
            rec[STAT_NAMES.get(s, s)] = _fmt(r[s], r.get(f"{s}_lo", np.nan), r.get(f"{s}_hi", np.nan),
                                             r.get(f"{s}_sd", np.nan))
        out.append(rec)
    out = pd.DataFrame(out)
    if layers is not None:
        return out.drop(columns="layers").set_index("metric")
    return out.set_index(["layers", "metric"])


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
                ax.axhline(float(base.loc[b, stat]), color="0.55", ls=ls, lw=1, label=BASELINE_NAMES.get(b, display_name(b)))
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


def channel_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The channel-level summary (one row per layer) for the page: channels used, ρ(PE, own SROCC) with its
    interval, channels left out, and the median single-channel SROCC.

    Examples
    --------
    >>> s = pd.DataFrame({"network": "vgg16", "layer": ["relu1_2"], "rho": [0.42], "rho_lo": [0.34], "rho_hi": [0.48],
    ...                   "n_channels": [64], "n_dead_or_constant": [0], "srocc_median": [0.895]})
    >>> channel_table(s).iloc[0].astype(str).tolist()
    ['64', '0.42 [0.34, 0.48]', '0', '0.895']
    """
    out = pd.DataFrame({
        "layer": summary.layer, "channels": summary.n_channels,
        "Spearman ρ(PE, own SROCC) [95 %]": [f"{r:.2f} [{lo:.2f}, {hi:.2f}]" for r, lo, hi in
                                            zip(summary.rho, summary.rho_lo, summary.rho_hi)],
        "left out (dead or constant)": summary.n_dead_or_constant,
        "median single-channel SROCC": summary.srocc_median.round(3)})
    return out.set_index("layer")


def synthetic_table(table: pd.DataFrame) -> pd.DataFrame:
    """The synthetic check, rounded, with readable columns and metric names in words.

    Examples
    --------
    >>> t = synthetic_table(pd.DataFrame({"metric": ["PSNR", "vgg16 top 10 %"], "subset": ["psnr", "top"], "p": [np.nan, 10],
    ...                               "jpeg": [1.0, 1.0], "all": [1.0, 1.0], "perfect": [1.0, 1.0]}))
    >>> t.index.tolist(), t.columns.tolist()[0]
    (['PSNR', 'VGG-16 top 10 %'], 'JPEG')
    """
    out = table.drop(columns=["subset", "p"]).rename(columns={"all": "mean ρ (all kinds)", "perfect": "perfectly ordered",
                                                              **DISTORTION_NAMES})
    out["metric"] = [" ".join(display_name(w) for w in str(m).split(" ")) for m in out.metric]
    return out.set_index("metric").round(3)


def dataset_line(dataset, pairs_used: int | None = None) -> str:
    """One sentence about a full-reference dataset in words: which database, pairs, scenes, human score and
    distortions (LIVE's folder names such as ``gblur`` and ``wn`` as 'Gaussian blur' and 'white noise').

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> from pecore.iqa.datasets import load_dataset
    >>> dataset_line(load_dataset(shared_data_dir() / "iqa/live-r2-subset"))[:80]
    'Part of LIVE release 2 (folder live-r2-subset): 95 of 95 listed pairs present, 5'
    """
    name = DATASET_NAMES.get(dataset.layout, dataset.layout)
    score = ("mean opinion score (MOS; higher is better)" if dataset.higher_is_better
             else "differential mean opinion score (DMOS; lower is better)")
    kinds = ", ".join(f"{DISTORTION_NAMES.get(k, k)} ({v})" for k, v in dataset.pairs.distortion.value_counts().items())
    part = "Part of " if len(dataset) < dataset.n_listed or "subset" in dataset.name else ""
    return (f"{part}{name} (folder {dataset.name}): {len(dataset)} of {dataset.n_listed} listed pairs present, "
            f"{dataset.pairs.group.nunique()} reference scenes; human score: {score}. Distortions (pairs): {kinds}.")


def conclusions(result: IQAResult, stat: str = "srocc") -> list[str]:
    """The chapter's conclusion lines: one line per claim tested for all layers together and channel by channel,
    each listing its tests as ``where: estimate [low, high], n = N: **verdict**`` (plain decimals), then the
    single layers counted, and the overall reading.

    ``stat`` is kept for the caller's figures; the verdicts use the paired SROCC differences
    (:func:`pecore.iqa.conclusions.conclusions`).

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": p, "top_minus_bottom_diff": d,
    ...                    "top_minus_bottom_lo": d - 0.02, "top_minus_bottom_hi": d + 0.02} for p, d in ((10, 0.0), (25, 0.03))])
    >>> r = IQAResult(g, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {"dataset": {"reference_images": 5}})
    >>> print(conclusions(r)[0])
    **Top-PE channels predict human scores better than bottom-PE channels** — all layers together, SROCC top − bottom: p = 10 %: 0.000 [-0.020, +0.020], n = 5: **undecided**; p = 25 %: +0.030 [+0.010, +0.050], n = 5: **supported**
    """
    from ..tables import interval_text
    from ..experiment import overall_reading
    from .conclusions import conclusions as verdicts_of

    verdicts = verdicts_of(result)
    shown = [v for v in verdicts if v.scope.startswith("all layers") or v.claim.startswith("a channel's")]
    groups: dict[tuple[str, str, bool], list] = {}
    for v in shown:
        groups.setdefault((v.claim, v.measure, v.scope.startswith("all layers")), []).append(v)
    lines = []
    for (claim, measure, together), vs in groups.items():
        where = "all layers together" if together else "per layer"
        tests = "; ".join(f"{v.scope.split(', ', 1)[-1] if together else v.scope}: "
                          f"{interval_text(v.estimate, v.ci_low, v.ci_high)}, n = {v.n}: **{v.verdict}**" for v in vs)
        lines.append(f"**{claim[0].upper() + claim[1:]}** — {where}, {display_name(measure)}: {tests}")
    per_layer = [v for v in verdicts if v not in shown]
    if per_layer:
        lines.append(f"Single layers (top − bottom and top − random at each p; Table 2): {overall_reading(per_layer)}")
    lines.append(f"**Overall:** {overall_reading(verdicts)}")
    return lines


def limits(result: IQAResult) -> str:
    """What the subset differences can carry, in words computed from the verdicts: how many scenes the intervals
    resample, and — for every all-layers difference whose interval excludes 0 — its size, so that the page
    never calls a difference 'within the noise' that a verdict calls, nor a narrow interval on few scenes strong.

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": 25.0, "top_minus_bottom_diff": 0.018,
    ...                    "top_minus_bottom_lo": 0.001, "top_minus_bottom_hi": 0.035}])
    >>> r = IQAResult(g, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {"dataset": {"reference_images": 5}})
    >>> print(limits(r))  # doctest: +NORMALIZE_WHITESPACE
    Every interval of a subset difference resamples the 5 reference scenes, so it rests on 5 independent units
    (at most 126 distinct resamples). One all-layers difference has an interval that excludes 0: SROCC top − bottom
    at p = 25 %, +0.018 [+0.001, +0.035] (supported). It is a difference of a few hundredths of SROCC, and its
    interval, narrow as it is, rests on only 5 scenes: a weak result that more scenes could overturn, not yet a
    finding about the paper's claim. An 'undecided' is weak evidence either way.
    """
    from math import comb

    from ..tables import interval_text
    from .conclusions import conclusions as verdicts_of

    n_ref = int(result.provenance.get("dataset", {}).get("reference_images") or 0)
    called = [v for v in verdicts_of(result) if v.scope.startswith("all layers") and v.verdict in
              ("supported", "contradicted")]
    text = (f"Every interval of a subset difference resamples the {n_ref} reference scenes, so it rests on {n_ref} "
            f"independent units (at most {comb(2 * n_ref - 1, n_ref)} distinct resamples).")
    if called:
        listing = "; ".join(f"{v.measure} at {v.scope.split(', ', 1)[-1]}, "
                            f"{interval_text(v.estimate, v.ci_low, v.ci_high)} ({v.verdict})" for v in called)
        size = max(abs(v.estimate) for v in called)
        words = "a few hundredths" if size < 0.1 else "about a tenth or more"
        one = len(called) == 1
        text += (f" {'One' if one else len(called)} all-layers difference{'' if one else 's'} "
                 f"{'has an interval' if one else 'have intervals'} that exclude{'s' if one else ''} 0: {listing}. "
                 f"{'It is a difference' if one else 'They are differences'} of {words} of SROCC, and "
                 f"{'its interval' if one else 'their intervals'}, narrow as {'it is' if one else 'they are'}, rest"
                 f"{'s' if one else ''} on only {n_ref} scenes: a weak result that more scenes could overturn, not yet "
                 "a finding about the paper's claim.")
    else:
        text += " No all-layers difference excludes 0 here."
    return text + " An 'undecided' is weak evidence either way."

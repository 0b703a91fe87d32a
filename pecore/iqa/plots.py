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
           "channel_scatter", "channel_table", "synthetic_table", "dataset_line", "chance_figure", "chance_table",
           "conclusions", "limits"]

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


def chance_figure(chance: pd.DataFrame) -> plt.Figure:
    """The top- and bottom-PE subsets among random subsets of their size: one panel per p, one column per layer set.

    Grey bars span the central 95 % of the random subsets' SROCC (tick: their median); the markers are the
    top- and bottom-PE subsets, labelled with their percentile among the random ones.
    """
    ps = sorted(chance.p.unique())
    sets = list(dict.fromkeys(chance.layers))
    fig, axes = plt.subplots(1, len(ps), figsize=(min(6.8, 2.3 * len(ps) + 0.6), 3.1), sharey=True, squeeze=False)
    x = np.arange(len(sets))
    for ax, p in zip(axes[0], ps):
        c = chance[chance.p == p].set_index(["layers", "subset"])
        rand = c.xs("top", level="subset").reindex(sets)
        ax.vlines(x, rand.random_lo, rand.random_hi, color="0.7", lw=6, label="random subsets (central 95 %)")
        ax.hlines(rand.random_median, x - 0.25, x + 0.25, color="0.35", lw=1.2)
        for subset, dx in (("top", -0.12), ("bottom", 0.12)):
            color, marker, name = SUBSET_STYLE[subset]
            r = c.xs(subset, level="subset").reindex(sets)
            ax.scatter(x + dx, r.srocc, color=color, marker=marker, s=26, zorder=3, label=name)
        ax.set_xticks(x)
        ax.set_xticklabels(["all" if l == "all" else l.replace("relu", "") for l in sets], fontsize=8)
        ax.set_title(f"p = {p:g} %", fontsize=10)
        ax.set_xlabel("layer (relu…)")
    axes[0, 0].set_ylabel("SROCC with human scores")
    h, l = axes[0, 0].get_legend_handles_labels()
    fig.legend(h, l, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def chance_table(chance: pd.DataFrame) -> pd.DataFrame:
    """Percentile of the top- and bottom-PE subsets among the random ones, ``estimate [low, high]``, per layer set
    (rows) and p (columns).

    Examples
    --------
    >>> c = pd.DataFrame({"layers": "all", "p": 25.0, "subset": ["top", "bottom"], "percentile": [80.0, 20.0],
    ...                   "percentile_lo": [60.0, 5.0], "percentile_hi": [95.0, 40.0]})
    >>> chance_table(c).iloc[0].tolist()
    ['80 [60, 95]', '20 [5, 40]']
    """
    rows = {}
    for _, r in chance.iterrows():
        name = "all layers" if r.layers == "all" else r.layers
        rows.setdefault(name, {})[f"{r.subset} {r.p:g} %"] = \
            f"{r.percentile:.0f} [{r.percentile_lo:.0f}, {r.percentile_hi:.0f}]"
    order = [f"{s} {p:g} %" for p in sorted(chance.p.unique()) for s in ("top", "bottom")]
    return pd.DataFrame.from_dict(rows, orient="index")[order]


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


def dataset_line(dataset) -> str:
    """One sentence about a full-reference dataset in words: which database, pairs, scenes, human score and
    distortions (LIVE's folder names such as ``gblur`` and ``wn`` as 'Gaussian blur' and 'white noise').

    ``dataset`` is a loaded :class:`pecore.iqa.datasets.FRDataset`, or an :class:`IQAResult` (its pairs and
    provenance say the same, so a stored result is described without the data).

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> from pecore.iqa.datasets import load_dataset
    >>> dataset_line(load_dataset(shared_data_dir() / "iqa/live-r2-subset"))[:80]
    'Part of LIVE release 2 (folder live-r2-subset): 95 of 95 listed pairs present, 5'
    """
    if isinstance(dataset, IQAResult):
        d = dataset.provenance.get("dataset", {})
        layout, name, pairs = d.get("layout"), d.get("name"), dataset.pairs
        n_listed, hib = int(d.get("pairs_listed", len(pairs))), bool(d.get("higher_is_better"))
    else:
        layout, name, pairs = dataset.layout, dataset.name, dataset.pairs
        n_listed, hib = dataset.n_listed, dataset.higher_is_better
    words = DATASET_NAMES.get(layout, layout)
    score = ("mean opinion score (MOS; higher is better)" if hib
             else "differential mean opinion score (DMOS; lower is better)")
    kinds = ", ".join(f"{DISTORTION_NAMES.get(k, k)} ({v})" for k, v in pairs.distortion.value_counts().items())
    part = "Part of " if len(pairs) < n_listed or "subset" in str(name) else ""
    return (f"{part}{words} (folder {name}): {len(pairs)} of {n_listed} listed pairs present, "
            f"{pairs.group.nunique()} reference scenes; human score: {score}. Distortions (pairs): {kinds}.")


def conclusions(result: IQAResult, stat: str = "srocc") -> list[str]:
    """The chapter's conclusion lines: one line per claim tested for all layers together and channel by channel,
    each listing its tests as ``where: estimate [low, high], n = N: **verdict**`` (plain decimals), then the
    single layers counted, and the overall reading.

    ``stat`` is kept for the caller's figures; the verdicts use SROCC (:func:`pecore.iqa.conclusions.conclusions`).

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": p, "top_minus_bottom_diff": d,
    ...                    "top_minus_bottom_lo": d - 0.02, "top_minus_bottom_hi": d + 0.02} for p, d in ((10, 0.0), (25, 0.03))])
    >>> r = IQAResult(g, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {"dataset": {"reference_images": 12}})
    >>> print(conclusions(r)[0])
    **Top-PE channels predict human scores better than bottom-PE channels** — all layers together, SROCC top − bottom: p = 10 %: 0.000 [-0.020, +0.020], n = 12: **undecided**; p = 25 %: +0.030 [+0.010, +0.050], n = 12: **supported**
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
        lines.append(f"Single layers (top − bottom and the placement among random subsets at each p): "
                     f"{overall_reading(per_layer)}")
    lines.append(f"**Overall:** {overall_reading(verdicts)}")
    return lines


def limits(result: IQAResult) -> str:
    """What the tests can carry, in words computed from the verdicts: how many scenes the intervals resample, and —
    on too few scenes — how the all-layers intervals fall, described for these scenes only; on enough scenes, the
    size of every all-layers difference a verdict calls, so that the page never calls a narrow interval on few
    scenes strong.

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": 25.0, "top_minus_bottom_diff": 0.018,
    ...                    "top_minus_bottom_lo": 0.001, "top_minus_bottom_hi": 0.035}])
    >>> r = IQAResult(g, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {"dataset": {"reference_images": 5}})
    >>> print(limits(r))  # doctest: +NORMALIZE_WHITESPACE
    Every interval here resamples the 5 reference scenes, so it rests on 5 independent units (at most 126 distinct
    resamples). This book calls no verdict on fewer than 10 scenes: every test reads 'too few data'. As a
    description of these 5 scenes only, of the 1 all-layers interval, 1 lies on the side the paper predicts, 0 on
    the other side and 0 include 0.
    """
    from math import comb

    from ..tables import interval_text
    from .conclusions import MIN_SCENES, conclusions as verdicts_of

    n_ref = int(result.provenance.get("dataset", {}).get("reference_images") or 0)
    together = [v for v in verdicts_of(result) if v.scope.startswith("all layers")]
    text = (f"Every interval here resamples the {n_ref} reference scenes, so it rests on {n_ref} independent units "
            f"(at most {comb(2 * n_ref - 1, n_ref)} distinct resamples).")
    if n_ref < MIN_SCENES:
        side = [np.sign(v.ci_low) * v.predicted if np.sign(v.ci_low) == np.sign(v.ci_high) else 0 for v in together]
        return (text + f" This book calls no verdict on fewer than {MIN_SCENES} scenes: every test reads 'too few "
                f"data'. As a description of these {n_ref} scenes only, of the {len(together)} all-layers interval"
                f"{'' if len(together) == 1 else 's'}, {sum(x > 0 for x in side)} lie{'s' if sum(x > 0 for x in side) == 1 else ''} "
                f"on the side the paper predicts, {sum(x < 0 for x in side)} on the other side and "
                f"{sum(x == 0 for x in side)} include 0.")
    called = [v for v in together if v.verdict in ("supported", "contradicted")]
    if called:
        listing = "; ".join(f"{v.measure} at {v.scope.split(', ', 1)[-1]}, "
                            f"{interval_text(v.estimate, v.ci_low, v.ci_high)} ({v.verdict})" for v in called)
        one = len(called) == 1
        text += (f" {'One' if one else len(called)} all-layers test{'' if one else 's'} "
                 f"{'has an interval' if one else 'have intervals'} that exclude{'s' if one else ''} 0: {listing}.")
    else:
        text += " No all-layers interval excludes 0 here."
    return text + " An 'undecided' is weak evidence either way."

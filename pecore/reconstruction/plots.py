"""Figures of the reconstruction chapter: the image grid, the measures per subset, the loss curves."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..figures import panel_grid
from ..tables import interval_decimals, interval_text

from .experiment import ReconstructionResult
from .measures import HIGHER_IS_BETTER

__all__ = ["SUBSET_COLORS", "SUBSET_LABELS", "MEASURE_LABELS", "reconstruction_grid", "measure_panels", "loss_curves",
           "summary_table", "convergence_table", "verdicts_table", "layer_readings", "caveats"]

SUBSET_COLORS = {"top": "#1f77b4", "bottom": "#d62728", "random": "#7f7f7f", "all": "#2ca02c"}
SUBSET_LABELS = {"top": "top-PE", "bottom": "bottom-PE", "random": "random", "all": "all"}
MEASURE_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "ssim_lowpass": "low-pass SSIM (layout)",
                  "structure": "edge correlation", "colour_de2000": "colour difference ΔE2000",
                  "colour_de2000_blur": "ΔE2000 of blurred images"}


def _hwc(img: np.ndarray) -> np.ndarray:
    return np.clip(np.transpose(img, (1, 2, 0)), 0, 1)


def reconstruction_grid(result: ReconstructionResult, layer: str, subsets: Sequence[str] | None = None,
                        images: Sequence[int] | None = None, seed_index: int = 0, draw: int = 0) -> plt.Figure:
    """Columns: images; rows: the original, then the reconstruction from each subset of ``layer``.

    Each reconstruction is labelled with its low-pass SSIM (layout, ↑) and colour difference ΔE (↓).
    At most four images per figure keep every panel large on the page (pass ``images``).

    Examples
    --------
    >>> import torch
    >>> from pecore import load_network
    >>> from pecore.reconstruction.settings import get_settings as get_reconstruction_settings
    >>> from pecore.reconstruction.experiment import run
    >>> sc = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    >>> r = run(load_network("vgg16", device="cpu"), sc, get_reconstruction_settings("ci"),
    ...         layers=["relu1_2"], subsets=["top", "all"], images=["baboon"], device="cpu")
    >>> len(reconstruction_grid(r, "relu1_2").axes)
    3
    """
    t = result.table[result.table.layer == layer]
    subsets = list(subsets or dict.fromkeys(t.subset))
    names = result.image_names
    images = list(range(len(names)) if images is None else images)
    n_rows, n_cols = 1 + len(subsets), len(images)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.0 * n_cols + 0.9, 2.15 * n_rows), squeeze=False)
    for c, i in enumerate(images):
        ax = axes[0, c]
        ax.imshow(_hwc(result.originals[i]), interpolation="lanczos")
        ax.set_title(names[i], fontsize=10)
        for r, subset in enumerate(subsets, start=1):
            ax = axes[r, c]
            ax.imshow(_hwc(result.reconstruction(layer, subset, i, seed_index, draw)), interpolation="lanczos")
            row = t[(t.subset == subset) & (t.image == i) & (t.draw == draw)].iloc[seed_index]
            low = f"SSIM-low {row.ssim_lowpass:.2f} · " if "ssim_lowpass" in row else ""
            ax.set_xlabel(f"{low}ΔE {row.colour_de2000:.1f}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{SUBSET_LABELS[subset]}\n({int(row.n_channels)} channels)", fontsize=10,
                              color=SUBSET_COLORS[subset])
    axes[0, 0].set_ylabel("original", fontsize=10)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def measure_panels(summary: pd.DataFrame, measures: Sequence[str] = ("ssim_lowpass", "structure", "ssim", "psnr",
                                                                     "colour_de2000", "colour_de2000_blur")) -> plt.Figure:
    """Mean ± 95 % bootstrap interval of each measure per subset, one panel per measure (three per row),
    layers side by side.

    ``summary`` is :meth:`ReconstructionResult.summary`.

    Examples
    --------
    >>> s = pd.DataFrame({"layer": "l", "subset": ["top", "bottom"], "measure": "psnr", "mean": [20.0, 18.0],
    ...                   "ci_low": [19.0, 17.0], "ci_high": [21.0, 19.0], "n": 4})
    >>> len(measure_panels(s, ["psnr"]).axes)
    1
    """
    layers = list(dict.fromkeys(summary.layer))
    subsets = [s for s in SUBSET_COLORS if s in set(summary.subset)]
    measures = [m for m in measures if m in set(summary.measure)]
    n_cols = min(3, len(measures))
    n_rows = -(-len(measures) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.9 * n_cols, 2.8 * n_rows + 0.5), squeeze=False)
    for ax in axes.ravel()[len(measures):]:
        ax.set_visible(False)
    width = 0.8 / max(1, len(subsets))
    for ax, m in zip(axes.ravel(), measures):
        rows = summary[summary.measure == m]
        for k, subset in enumerate(subsets):
            r = rows[rows.subset == subset].set_index("layer").reindex(layers)
            x = np.arange(len(layers)) + (k - (len(subsets) - 1) / 2) * width
            ax.errorbar(x, r["mean"], yerr=[r["mean"] - r.ci_low, r.ci_high - r["mean"]], fmt="o",
                        color=SUBSET_COLORS[subset], label=SUBSET_LABELS[subset], capsize=2, ms=4)
        ax.set_xticks(np.arange(len(layers)))
        ax.set_xticklabels(layers, fontsize=9)
        arrow = "↑" if HIGHER_IS_BETTER.get(m, True) else "↓"
        ax.set_title(f"{MEASURE_LABELS.get(m, m)} {arrow}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=9, frameon=False, loc="lower center", ncol=len(labels),
               bbox_to_anchor=(0.5, 0.0))  # below the panels: a legend inside would hide error bars
    fig.tight_layout(rect=(0, 0.5 / (2.8 * n_rows + 0.5), 1, 1))
    return fig


def loss_curves(result: ReconstructionResult) -> plt.Figure:
    """The objective against the Adam step (log scale), median over images and seeds, per layer and subset.

    Examples
    --------
    >>> r = ReconstructionResult(pd.DataFrame({"layer": ["l"], "subset": ["top"], "image": [0], "image_name": ["a"]}),
    ...                          np.zeros((1, 3, 2, 2)), {}, {"l/top/0": np.ones((5, 1, 1))}, {})
    >>> len(loss_curves(r).axes)
    1
    """
    layers = list(dict.fromkeys(k.split("/")[0] for k in result.losses))
    fig, axes = panel_grid(len(layers), (2.9, 2.9))
    for ax, layer in zip(axes, layers):
        seen = set()
        for key, loss in result.losses.items():
            lay, subset, _draw = key.split("/")
            if lay != layer:
                continue
            curve = np.median(loss.reshape(loss.shape[0], -1), axis=1)
            ax.plot(np.arange(1, len(curve) + 1), curve, color=SUBSET_COLORS.get(subset, "k"), lw=1.2,
                    label=None if subset in seen else SUBSET_LABELS.get(subset, subset))
            seen.add(subset)
        ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel("objective")
        ax.set_title(layer, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def summary_table(summary: pd.DataFrame, measures: Sequence[str] | None = None) -> pd.DataFrame:
    """:meth:`ReconstructionResult.summary` as a readable table: layer × subset rows, one column per measure
    (``measures``: which, in that order; default all of :data:`MEASURE_LABELS` present).

    Examples
    --------
    >>> s = pd.DataFrame({"layer": "l", "subset": ["top"], "measure": "psnr", "mean": [20.0], "ci_low": [19.0],
    ...                   "ci_high": [21.0], "n": 4})
    >>> summary_table(s).columns.tolist()
    ['PSNR (dB) ↑']
    """
    # one number of decimals per measure, so a column reads alike
    d = {m: max(interval_decimals(*r, signed=False) for r in zip(g["mean"], g.ci_low, g.ci_high))
         for m, g in summary.groupby("measure")}
    t = summary.assign(value=[interval_text(v, lo, hi, signed=False, decimals=d[m]) for m, v, lo, hi in
                              zip(summary.measure, summary["mean"], summary.ci_low, summary.ci_high)])
    wide = t.pivot(index=["layer", "subset"], columns="measure", values="value")
    wide = wide[[m for m in (measures or MEASURE_LABELS) if m in wide.columns]]
    wide.columns = [f"{MEASURE_LABELS[m]} {'↑' if HIGHER_IS_BETTER.get(m, True) else '↓'}" for m in wide.columns]
    wide.index = wide.index.set_names(["layer", "subset"])
    return wide


def convergence_table(table: pd.DataFrame, threshold: float = 0.01) -> pd.DataFrame:
    """Per layer and subset: the median and largest relative objective change over the last 10 % of steps,
    and how many runs stayed above ``threshold``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "subset": ["top", "top"], "rel_change_last10": [0.001, 0.02]})
    >>> convergence_table(t).iloc[0].tolist()
    ['0.0105', '0.02', '1 of 2']
    """
    rows = []
    for (layer, subset), g in table.groupby(["layer", "subset"], sort=False):
        v = g.rel_change_last10.to_numpy(float)
        rows.append({"layer": layer, "subset": subset, "median change, last 10 % of steps": f"{np.median(v):.3g}",
                     "largest change": f"{v.max():.3g}",
                     f"runs above {threshold:.0%}": f"{int((v >= threshold).sum())} of {len(v)}"})
    return pd.DataFrame(rows).set_index(["layer", "subset"])


def verdicts_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """:func:`pecore.experiment.verdict_table` with readable headers and the measures' names in words.

    Examples
    --------
    >>> v = pd.DataFrame([{"claim": "c", "scope": "relu2_2", "measure": "ssim_lowpass", "estimate": 0.1,
    ...                    "ci_low": 0.05, "ci_high": 0.2, "n": 8, "verdict": "supported", "note": ""}])
    >>> verdicts_table(v).columns.tolist()
    ['layer', 'part of the claim', 'measure', 'top − bottom [95 % interval]', 'pairs', 'verdict']
    """
    return pd.DataFrame({
        "layer": verdicts.scope, "part of the claim": verdicts.claim,
        "measure": [MEASURE_LABELS.get(m, m) for m in verdicts.measure],
        "top − bottom [95 % interval]": [interval_text(m, lo, hi) for m, lo, hi in
                                         zip(verdicts.estimate, verdicts.ci_low, verdicts.ci_high)],
        "pairs": verdicts.n, "verdict": verdicts.verdict})


def layer_readings(verdicts: Sequence) -> list[str]:
    """Per layer, whether one subset keeps more of *everything*; layers that read alike share one sentence (then the subsets differ in how much they keep,
    not in what kind — the claim's split between structure and colour is not what separates them).

    Examples
    --------
    >>> from pecore.experiment import Verdict
    >>> vs = [Verdict("top-PE keeps edges in place better", "l", "structure", -1, -2, -0.5, 8, "contradicted"),
    ...       Verdict("bottom-PE keeps colour better", "l", "colour_de2000", 3, 1, 5, 8, "supported")]
    >>> layer_readings(vs)[0].startswith("In l the bottom-PE reconstructions are closer to the photograph on every tested")
    True
    >>> from dataclasses import replace
    >>> layer_readings(vs + [replace(v, scope="m") for v in vs])
    ['In l and m the bottom-PE reconstructions are closer to the photograph on every tested measure, structure and colour alike (edge correlation, low-pass SSIM, ΔE2000, blurred ΔE2000): the bottom-PE channels keep more of the image, not a different part.']
    """
    by_reading: dict[str, list[str]] = {}
    for layer in dict.fromkeys(v.scope for v in verdicts):
        vs = [v for v in verdicts if v.scope == layer]
        structure = {v.verdict for v in vs if v.claim.startswith("top-PE")}
        colour = {v.verdict for v in vs if v.claim.startswith("bottom-PE")}
        if structure == {"contradicted"} and colour == {"supported"}:
            by_reading.setdefault("bottom", []).append(layer)
        elif structure == {"supported"} and colour == {"contradicted"}:
            by_reading.setdefault("top", []).append(layer)
    return [f"In {_join_words(layers)} the {which}-PE reconstructions are closer to the photograph on every tested "
            f"measure, structure and colour alike (edge correlation, low-pass SSIM, ΔE2000, blurred ΔE2000): the "
            f"{which}-PE channels keep more of the image, not a different part."
            for which, layers in by_reading.items()]


def _join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _unconverged_comparisons(table: pd.DataFrame) -> list[str]:
    """Per layer, a warning when a quarter or more of the top- or bottom-PE runs (the verdicts' pairs) had not
    levelled off."""
    out = []
    for layer, g in table[table.subset.isin(["top", "bottom"])].groupby("layer", sort=False):
        counts = {s: (int((h.rel_change_last10 >= 0.01).sum()), len(h)) for s, h in g.groupby("subset", sort=False)}
        if any(k >= 0.25 * n for k, n in counts.values()):
            parts = " and ".join(f"{k} of {n} {s}-PE runs" for s, (k, n) in counts.items() if k)
            out.append(f"In {layer}, {parts} were still changing by 1 % or more at the end: its verdicts compare "
                       "reconstructions that had not levelled off and are provisional.")
    return out


def caveats(result: ReconstructionResult) -> str:
    """What limits the chapter's conclusion, from the result's own numbers (Markdown).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "subset": "top", "image": [0, 1], "rel_change_last10": [0.001, 0.03]})
    >>> r = ReconstructionResult(t, np.zeros(0), {}, {}, {}, {"preset": "book", "parameters": {"image_size": 128,
    ...                          "steps": 300, "n_seeds": 1}, "scores": "stored paper-preset probe"})
    >>> "1 of 2 runs" in caveats(r), "In l, 1 of 2 top-PE runs were still changing" in caveats(r)
    (True, True)
    """
    par = result.provenance.get("parameters", {})
    conv = result.table.get("rel_change_last10")
    above = int((conv >= 0.01).sum()) if conv is not None else 0
    n_img = result.table.image.nunique()
    lines = [f"These are {n_img} photographs at {par.get('image_size')} px with {par.get('steps')} steps and "
             f"{par.get('n_seeds')} noise seed{'s' if par.get('n_seeds') != 1 else ''} (preset {result.provenance.get('preset')}): a verdict rests on "
             f"{n_img * int(par.get('n_seeds') or 1)} pairs per layer, so an 'undecided' is weak evidence either way."]
    if conv is not None:
        lines.append(f"Convergence: {above} of {len(conv)} runs changed their objective by 1 % or more over the last "
                     "10 % of steps" + (" — their reconstructions may understate what the channels keep." if above
                                        else "."))
        lines += _unconverged_comparisons(result.table)
    lines.append("The edge correlation also rewards texture copied in place and ΔE rewards pixel-exact colour; the "
                 "low-pass SSIM and the blurred ΔE are the less texture-sensitive readings of each part. The subsets "
                 f"are chosen by PE from the {result.provenance.get('scores', 'stored paper-preset probe')}.")
    return "\n\n".join(lines)

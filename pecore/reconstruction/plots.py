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
           "summary_table", "convergence_table", "verdicts_table", "robustness_display", "band_figure",
           "init_spread_table", "layer_readings", "caveats", "prior_label"]

SUBSET_COLORS = {"top": "#1f77b4", "bottom": "#d62728", "random": "#7f7f7f", "all": "#2ca02c"}
SUBSET_LABELS = {"top": "top-PE", "bottom": "bottom-PE", "random": "random", "all": "all"}
MEASURE_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "ssim_lowpass": "low-pass SSIM (layout)",
                  "ssim_lowpass16": "low-pass SSIM, heavy blur", "structure": "edge correlation",
                  "colour_de2000": "colour difference ΔE2000", "colour_de2000_blur": "ΔE2000 of blurred images",
                  "band_1_4": "luma 1–4 cycles/image", "band_4_8": "luma 4–8 cycles/image",
                  "band_8_16": "luma 8–16 cycles/image", "band_16_32": "luma 16–32 cycles/image"}


def prior_label(tv_weight: float) -> str:
    """How pages name a prior.

    Examples
    --------
    >>> prior_label(0.5), prior_label(0.0)
    ('TV prior (λ_TV = 0.5)', 'no prior (λ_TV = 0)')
    """
    return f"TV prior (λ_TV = {tv_weight:g})" if tv_weight else "no prior (λ_TV = 0)"


def _hwc(img: np.ndarray) -> np.ndarray:
    return np.clip(np.transpose(img, (1, 2, 0)), 0, 1)


def reconstruction_grid(result: ReconstructionResult, layer: str, subsets: Sequence[str] | None = None,
                        images: Sequence[int] | None = None, seed_index: int = 0, draw: int = 0,
                        tv_weight: float | None = None) -> plt.Figure:
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
    tv = result.priors[0] if tv_weight is None else float(tv_weight)
    t = result.table[(result.table.layer == layer) & (result.table.tv_weight == tv)]
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
            ax.imshow(_hwc(result.reconstruction(layer, subset, i, seed_index, draw, tv)), interpolation="lanczos")
            row = t[(t.subset == subset) & (t.image == i) & (t.draw == draw)].sort_values("seed").iloc[seed_index]
            low = f"SSIM-low {row.ssim_lowpass:.2f}\n" if "ssim_lowpass" in row else ""
            ax.set_xlabel(f"{low}ΔE {row.colour_de2000:.1f}", fontsize=9)  # two lines: five panels fit a row
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
    Solid lines: the first prior of the run; dashed: the second (no prior in the book).

    >>> r = ReconstructionResult(pd.DataFrame({"layer": ["l"], "subset": ["top"], "image": [0], "image_name": ["a"]}),
    ...                          np.zeros((1, 3, 2, 2)), {}, {"l/top/0/tv0.5": np.ones((5, 1, 1))}, {})
    >>> len(loss_curves(r).axes)
    1
    """
    layers = list(dict.fromkeys(k.split("/")[0] for k in result.losses))
    priors = list(dict.fromkeys(k.split("/")[3] for k in result.losses))
    fig, axes = panel_grid(len(layers), (3.2, 2.9))
    for ax, layer in zip(axes, layers):
        seen = set()
        for key, loss in result.losses.items():
            lay, subset, _draw, prior = key.split("/")
            if lay != layer:
                continue
            curve = np.median(loss.reshape(loss.shape[0], -1), axis=1)
            ax.plot(np.arange(1, len(curve) + 1), curve, color=SUBSET_COLORS.get(subset, "k"), lw=1.1,
                    ls="-" if prior == priors[0] else "--",
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


def convergence_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`pecore.reconstruction.conclusions.convergence_summary` as a readable table.

    Examples
    --------
    >>> c = pd.DataFrame({"layer": ["l"], "prior": ["both"], "runs": [4], "converged": [3], "share": [0.75]})
    >>> convergence_table(c).iloc[0].tolist()
    ['3 of 4', '75 %']
    """
    return pd.DataFrame({"layer": summary.layer, "prior": summary.prior,
                         "runs converged": [f"{c} of {n}" for c, n in zip(summary.converged, summary.runs)],
                         "share": [f"{v:.0%}".replace("%", " %") for v in summary.share]}).set_index(["layer", "prior"])


def verdicts_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """:func:`pecore.experiment.verdict_table` with readable headers and the measures' names in words.

    Examples
    --------
    >>> v = pd.DataFrame([{"claim": "c", "scope": "relu2_2", "measure": "ssim_lowpass", "estimate": 0.1,
    ...                    "ci_low": 0.05, "ci_high": 0.2, "n": 8, "verdict": "supported", "note": "robust"}])
    >>> verdicts_table(v).columns.tolist()
    ['layer', 'part of the claim', 'measure', 'top − bottom [95 % interval]', 'photograph × init pairs', 'verdict', 'robust']
    """
    return pd.DataFrame({
        "layer": verdicts.scope, "part of the claim": verdicts.claim,
        "measure": [MEASURE_LABELS.get(m, m) for m in verdicts.measure],
        "top − bottom [95 % interval]": [interval_text(m, lo, hi) for m, lo, hi in
                                         zip(verdicts.estimate, verdicts.ci_low, verdicts.ci_high)],
        "photograph × init pairs": verdicts.n, "verdict": verdicts.verdict,
        "robust": ["yes" if str(n).startswith("robust") else "no" for n in verdicts.note]})


def robustness_display(robust: pd.DataFrame) -> pd.DataFrame:
    """:func:`pecore.reconstruction.conclusions.robustness` with readable headers: the verdict under each prior,
    whether every init agrees, robust yes/no.

    Examples
    --------
    >>> r = pd.DataFrame([{"layer": "l", "measure": "structure", "claim": "c", "predicted": 1,
    ...                    "verdict_0.5": "supported", "verdict_0": "supported", "inits_agree": "yes", "robust": True}])
    >>> robustness_display(r).columns.tolist()
    ['layer', 'measure', 'TV prior (λ_TV = 0.5)', 'no prior (λ_TV = 0)', 'every init on the same side', 'robust']
    """
    priors = [c for c in robust.columns if c.startswith("verdict_")]
    out = pd.DataFrame({"layer": robust.layer, "measure": [MEASURE_LABELS.get(m, m) for m in robust.measure]})
    for c in priors:
        out[prior_label(float(c[len("verdict_"):]))] = robust[c].to_numpy()
    out["every init on the same side"] = robust.inits_agree.to_numpy()
    out["robust"] = ["yes" if v else "no" for v in robust.robust]
    return out


def band_figure(bands: pd.DataFrame) -> plt.Figure:
    """Top − bottom luma correlation per band of spatial frequency, with 95 % intervals; one panel per layer,
    one marker per prior (filled: the first). Above 0: top-PE keeps more of that band.

    ``bands`` is :func:`pecore.reconstruction.conclusions.band_table`.

    Examples
    --------
    >>> b = pd.DataFrame({"layer": "l", "tv_weight": [0.5, 0.0], "measure": "band_1_4", "mean": [0.1, 0.05],
    ...                   "ci_low": [0.0, -0.1], "ci_high": [0.2, 0.2], "n_pairs": 6, "better": "neither"})
    >>> len(band_figure(b).axes)
    1
    """
    layers = list(dict.fromkeys(bands.layer))
    priors = list(dict.fromkeys(bands.tv_weight))
    names = list(dict.fromkeys(bands.measure))
    fig, axes = panel_grid(len(layers), (3.2, 2.9))
    for ax, layer in zip(axes, layers):
        for k, tv in enumerate(priors):
            r = bands[(bands.layer == layer) & (bands.tv_weight == tv)].set_index("measure").reindex(names)
            x = np.arange(len(names)) + (k - (len(priors) - 1) / 2) * 0.25
            ax.errorbar(x, r["mean"], yerr=[r["mean"] - r.ci_low, r.ci_high - r["mean"]], fmt="o" if k == 0 else "s",
                        mfc=None if k == 0 else "white", color="#333333", capsize=2, ms=4, label=prior_label(tv))
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(np.arange(len(names)))
        ax.set_xticklabels([n[len("band_"):].replace("_", "–") for n in names], fontsize=9)
        ax.set_xlabel("band (cycles per image)")
        ax.set_ylabel("top − bottom correlation")
        ax.set_title(layer, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def init_spread_table(spread: pd.DataFrame) -> pd.DataFrame:
    """:func:`pecore.reconstruction.conclusions.init_spread` as a table: layer × prior × subset rows, one column
    per measure.

    Examples
    --------
    >>> s = pd.DataFrame({"layer": "l", "tv_weight": 0.5, "subset": "top", "measure": "structure", "init_sd": [0.0123]})
    >>> init_spread_table(s).iloc[0].tolist()
    ['0.0123']
    """
    t = spread.assign(prior=[prior_label(v) for v in spread.tv_weight], value=[f"{v:.3g}" for v in spread.init_sd])
    wide = t.pivot_table(index=["layer", "prior", "subset"], columns="measure", values="value", aggfunc="first",
                         sort=False)
    wide.columns = [MEASURE_LABELS.get(m, m) for m in wide.columns]
    return wide


def layer_readings(verdicts: Sequence) -> list[str]:
    """Per layer, what the tests of the claim say together, and how many are robust; layers that read alike
    share one sentence.

    When every structure part is contradicted and every colour part supported, the bottom-PE channels keep
    more of the image, structure and colour alike (and the other way round): the subsets differ in how much
    they keep, not in what kind.

    Examples
    --------
    >>> from pecore.experiment import Verdict
    >>> vs = [Verdict("top-PE keeps edges in place better", "l", "structure", -1, -2, -0.5, 8, "contradicted", "robust"),
    ...       Verdict("bottom-PE keeps colour better", "l", "colour_de2000", 3, 1, 5, 8, "supported", "not robust")]
    >>> layer_readings(vs)[0]
    'In l the bottom-PE reconstructions are closer to the photograph on every tested measure, structure and colour alike (edge correlation, colour difference ΔE2000): the bottom-PE channels keep more of the image, not a different part. Robust (under both priors and every init): 1 of 2 tests.'
    """
    from ..experiment import display_name

    by_reading: dict[tuple[str, str], list[str]] = {}
    for layer in dict.fromkeys(v.scope for v in verdicts):
        vs = [v for v in verdicts if v.scope == layer]
        structure = {v.verdict for v in vs if v.claim.startswith("top-PE")}
        colour = {v.verdict for v in vs if v.claim.startswith("bottom-PE")}
        names = ", ".join(dict.fromkeys(display_name(v.measure) for v in vs))
        n_robust = sum(str(v.note).startswith("robust") for v in vs)
        tail = f" Robust (under both priors and every init): {n_robust} of {len(vs)} tests."
        if structure | colour == {"undecided"}:
            text = (f"no test separates the top-PE from the bottom-PE reconstructions: every interval includes 0 "
                    f"({names}).")
        elif structure == {"contradicted"} and colour == {"supported"}:
            text = (f"the bottom-PE reconstructions are closer to the photograph on every tested measure, structure "
                    f"and colour alike ({names}): the bottom-PE channels keep more of the image, not a different part.")
        elif structure == {"supported"} and colour == {"contradicted"}:
            text = (f"the top-PE reconstructions are closer to the photograph on every tested measure, structure and "
                    f"colour alike ({names}): the top-PE channels keep more of the image, not a different part.")
        elif structure == {"supported"} and colour == {"supported"}:
            text = "top-PE keeps structure and bottom-PE keeps colour better, as the paper says."
        else:
            parts = [f"{display_name(v.measure)} {v.verdict}" for v in vs]
            text = "the tests do not point one way: " + ", ".join(parts) + "."
        by_reading.setdefault((text, tail), []).append(layer)
    return [f"In {_join_words(layers)} {text}{tail}" for (text, tail), layers in by_reading.items()]


def _join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def caveats(result: ReconstructionResult) -> str:
    """What limits the chapter's conclusion, from the result's own numbers (Markdown).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "tv_weight": 0.5, "subset": "top", "image": [0, 1], "seed": 0, "draw": 0,
    ...                   "rel_change_last10": [0.001, 0.03]})
    >>> r = ReconstructionResult(t, np.zeros(0), {}, {}, {}, {"preset": "book", "parameters": {"image_size": 64,
    ...                          "steps": 300, "n_seeds": 1, "n_random_draws": 3}, "scores": "stored paper-preset probe"})
    >>> "1 of 2 runs" in caveats(r), "l: 50 %" in caveats(r)
    (True, True)
    """
    from .conclusions import MIN_CONVERGED, convergence_summary

    par = result.provenance.get("parameters", {})
    t = result.table
    n_img, n_init = t.image.nunique(), t.seed.nunique()
    conv = t.rel_change_last10.to_numpy(float)
    above = int((conv >= 0.01).sum())
    pooled = convergence_summary(result).groupby("layer", sort=False).tail(1)
    shares = ", ".join(f"{r.layer}: {r.share:.0%}".replace("%", " %") for r in pooled.itertuples())
    lines = [f"Each verdict rests on {n_img} photographs × {n_init} init{'s' if n_init != 1 else ''} at "
             f"{par.get('image_size')} px ({par.get('steps')} Adam steps; preset {result.provenance.get('preset')}); "
             f"the intervals resample photographs, inits and the {par.get('n_random_draws')} random draws "
             "independently, so they include the spread of each. With few photographs an 'undecided' is weak "
             "evidence either way.",
             f"Convergence (objective changed by less than 1 % over the last 10 % of steps): {len(conv) - above} of "
             f"{len(conv)} runs; per layer {shares}. A layer below {MIN_CONVERGED:.0%} has provisional verdicts."
             .replace("%", " %").replace("  %", " %"),
             "The edge correlation also rewards texture copied in place and ΔE rewards pixel-exact colour; the "
             "low-pass SSIMs and the blurred ΔE are the less texture-sensitive readings of each part. The subsets "
             f"are chosen by PE from the {result.provenance.get('scores', 'stored paper-preset probe')}."]
    return "\n\n".join(lines)

"""Figures of the reconstruction chapter: the image grid, the measures per subset, the loss curves."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .experiment import ReconstructionResult
from .measures import HIGHER_IS_BETTER

__all__ = ["SUBSET_COLORS", "SUBSET_LABELS", "MEASURE_LABELS", "reconstruction_grid", "measure_panels", "loss_curves"]

SUBSET_COLORS = {"top": "#1f77b4", "bottom": "#d62728", "random": "#7f7f7f", "all": "#2ca02c"}
SUBSET_LABELS = {"top": "top-PE", "bottom": "bottom-PE", "random": "random", "all": "all"}
MEASURE_LABELS = {"psnr": "PSNR (dB)", "ssim": "SSIM", "structure": "structure (edge corr.)",
                  "colour_de2000": "colour ΔE00", "colour_de2000_blur": "colour ΔE00, blurred"}


def _hwc(img: np.ndarray) -> np.ndarray:
    return np.clip(np.transpose(img, (1, 2, 0)), 0, 1)


def reconstruction_grid(result: ReconstructionResult, layer: str, subsets: Sequence[str] | None = None,
                        seed_index: int = 0, draw: int = 0) -> plt.Figure:
    """Rows: images; columns: the original, then the reconstruction from each subset of ``layer``.

    Each panel of a reconstruction is titled with its subset and channel count; its structure and
    colour scores are printed under it.

    Examples
    --------
    >>> import torch
    >>> from pecore import load_network
    >>> from pecore.reconstruction.settings import get_settings as get_reconstruction_settings
    >>> from pecore.reconstruction.experiment import run_experiment
    >>> sc = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    >>> r = run_experiment(load_network("vgg16", device="cpu"), sc, get_reconstruction_settings("ci"),
    ...                    layers=["relu1_2"], subsets=["top", "all"], images=["baboon"], device="cpu")
    >>> len(reconstruction_grid(r, "relu1_2").axes)
    3
    """
    t = result.table[result.table.layer == layer]
    subsets = list(subsets or dict.fromkeys(t.subset))
    names = result.image_names
    n_rows, n_cols = len(names), 1 + len(subsets)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.75 * n_cols, 1.95 * n_rows), squeeze=False)
    for i, name in enumerate(names):
        ax = axes[i, 0]
        ax.imshow(_hwc(result.originals[i]), interpolation="nearest")
        ax.set_ylabel(name, fontsize=9)
        if i == 0:
            ax.set_title("original", fontsize=9)
        for j, subset in enumerate(subsets, start=1):
            ax = axes[i, j]
            ax.imshow(_hwc(result.reconstruction(layer, subset, i, seed_index, draw)), interpolation="nearest")
            row = t[(t.subset == subset) & (t.image == i) & (t.draw == draw)].iloc[seed_index]
            if i == 0:
                ax.set_title(f"{SUBSET_LABELS[subset]} ({int(row.n_channels)} ch)", fontsize=9,
                             color=SUBSET_COLORS[subset])
            ax.set_xlabel(f"S {row.structure:.2f} · ΔE {row.colour_de2000:.1f}", fontsize=7.5)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{layer}", fontsize=10)
    fig.tight_layout()
    return fig


def measure_panels(summary: pd.DataFrame, measures: Sequence[str] = ("structure", "ssim", "psnr", "colour_de2000",
                                                                     "colour_de2000_blur")) -> plt.Figure:
    """Mean ± 95 % bootstrap interval of each measure per subset, one panel per measure, layers side by side.

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
    fig, axes = plt.subplots(1, len(measures), figsize=(2.9 * len(measures), 2.9), squeeze=False)
    width = 0.8 / max(1, len(subsets))
    for ax, m in zip(axes[0], measures):
        rows = summary[summary.measure == m]
        for k, subset in enumerate(subsets):
            r = rows[rows.subset == subset].set_index("layer").reindex(layers)
            x = np.arange(len(layers)) + (k - (len(subsets) - 1) / 2) * width
            ax.errorbar(x, r["mean"], yerr=[r["mean"] - r.ci_low, r.ci_high - r["mean"]], fmt="o",
                        color=SUBSET_COLORS[subset], label=SUBSET_LABELS[subset], capsize=2, ms=4)
        ax.set_xticks(np.arange(len(layers)))
        ax.set_xticklabels(layers, fontsize=8)
        arrow = "↑" if HIGHER_IS_BETTER.get(m, True) else "↓"
        ax.set_title(f"{MEASURE_LABELS.get(m, m)} {arrow}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0, -1].legend(fontsize=7, frameon=True, framealpha=0.8, loc="best")
    fig.tight_layout()
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
    fig, axes = plt.subplots(1, len(layers), figsize=(3.6 * len(layers), 2.8), squeeze=False)
    for ax, layer in zip(axes[0], layers):
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
        ax.set_title(layer, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig

"""Figures of the SR chapter: training curves, metrics with intervals, crops side by side."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt

import numpy as np
import pandas as pd
import torch

from ..figures import panel_grid
from ..errors import ParameterError
from ..experiment import display_name

__all__ = ["METHOD_COLORS", "method_color", "training_curves", "metric_intervals", "difference_intervals",
           "crops_side_by_side"]

METHOD_COLORS = {"bicubic": "#999999", "pixel": "#4d4d4d", "all": "#1f78b4", "top": "#d95f02", "bottom": "#7570b3"}
_RANDOM = "#66a61e"
_LABELS = {"lpips_alex": "LPIPS-alex ↓", "psnr_y": "PSNR-Y (dB) ↑", "ssim_y": "SSIM-Y ↑", "lpips_vgg": "LPIPS-vgg ↓"}


def method_color(name: str) -> str:
    """The colour of a method (random-subset seeds share one colour).

    Examples
    --------
    >>> method_color("top"), method_color("random-s1")
    ('#d95f02', '#66a61e')
    """
    return METHOD_COLORS.get(name, _RANDOM if name.startswith("random") else "#000000")


def training_curves(logs: Mapping[str, pd.DataFrame], *, smooth: int = 5) -> plt.Figure:
    """The total loss, pixel term and feature term against step for every run (rolling mean of ``smooth`` rows),
    and, where the logs have it, PSNR-Y on a fixed batch of validation crops (a fourth panel).

    Examples
    --------
    >>> log = pd.DataFrame({"step": [1, 2, 3], "loss": [1.0, 0.8, 0.7], "pixel": [0.5, 0.4, 0.3],
    ...                     "feature": [0.0, 0.0, 0.0]})
    >>> len(training_curves({"pixel": log}).axes)
    3
    """
    if not logs:
        raise ParameterError("training_curves needs at least one loss log")
    has_val = any("val_psnr_y" in log and log.val_psnr_y.notna().any() for log in logs.values())
    fig, axes = panel_grid(4 if has_val else 3, (3.9, 3.0) if has_val else (2.9, 3.0), max_cols=2 if has_val else 3)
    for name, log in logs.items():
        if log.empty:
            continue
        for ax, col in zip(axes, ("loss", "pixel", "feature")):
            if col == "feature" and name == "pixel":
                continue
            y = log[col].rolling(max(1, smooth), min_periods=1).mean()
            ax.plot(log.step, y, color=method_color(name), label=name, lw=1.4,
                    ls="--" if name.startswith("random") else "-")
        if has_val and "val_psnr_y" in log:
            v = log[log.val_psnr_y.notna()]
            axes[3].plot(v.step, v.val_psnr_y, color=method_color(name), lw=1.4, marker=".", ms=3,
                         ls="--" if name.startswith("random") else "-")
    titles = ("total loss", "pixel loss", "feature loss (before the weight λ)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.margins(y=0.05)  # linear: the curves vary within one decade, where log ticks read '4.2×10⁻²'
        ax.grid(alpha=0.3, which="both")
    if has_val:
        axes[3].set_title("PSNR-Y on fixed validation crops (dB) ↑", fontsize=10)
        axes[3].set_xlabel("step")
        axes[3].grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, [display_name(x) for x in labels], fontsize=9, ncol=min(6, len(labels)), loc="lower center",
               frameon=False, bbox_to_anchor=(0.5, -0.01))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def metric_intervals(summary: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """One panel per metric: each method's mean with its 95 % bootstrap interval over images.

    Examples
    --------
    >>> s = pd.DataFrame({"dataset": "Set5", "method": ["bicubic", "top"], "metric": "psnr_y",
    ...                   "mean": [28.0, 28.5], "ci_low": [27.0, 27.5], "ci_high": [29.0, 29.5], "n_images": 5})
    >>> len(metric_intervals(s).axes)
    1
    """
    datasets = list(dict.fromkeys(summary.dataset)) if dataset is None else [dataset]
    metrics = [m for m in _LABELS if m in set(summary.metric)]
    if not metrics or not datasets:
        raise ParameterError("metric_intervals needs a summary table with psnr_y, ssim_y or lpips_vgg rows")
    fig, axes = plt.subplots(len(metrics), len(datasets), figsize=(2.9 * len(datasets) + 0.6, 0.5 + 2.5 * len(metrics)),
                             squeeze=False)
    for i, ds in enumerate(datasets):
        for j, m in enumerate(metrics):
            ax = axes[j, i]  # one column per test set, one row per metric: at most three panels per row
            t = summary[(summary.dataset == ds) & (summary.metric == m)].reset_index(drop=True)
            ypos = np.arange(len(t))[::-1]
            for y, (_, r) in zip(ypos, t.iterrows()):
                ax.errorbar(r["mean"], y, xerr=[[r["mean"] - r.ci_low], [r.ci_high - r["mean"]]], fmt="o",
                            color=method_color(r.method), capsize=3)
            ax.set_yticks(ypos, [display_name(x) for x in t.method] if i == 0 else [])
            ax.set_title(f"{ds}: {_LABELS[m]} (n = {int(t.n_images.max())})", fontsize=10)
            ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def difference_intervals(differences: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """Paired differences ``a − b`` per metric with 95 % bootstrap intervals; the dotted line is no difference.

    Examples
    --------
    >>> d = pd.DataFrame({"dataset": "Set5", "a": "top", "b": "all", "metric": "psnr_y", "mean": [0.1],
    ...                   "ci_low": [-0.1], "ci_high": [0.3], "better": "top", "clear": False, "n_images": 5})
    >>> len(difference_intervals(d).axes)
    1
    """
    datasets = list(dict.fromkeys(differences.dataset)) if dataset is None else [dataset]
    metrics = [m for m in _LABELS if m in set(differences.metric)]
    if not metrics or not datasets:
        raise ParameterError("difference_intervals needs a differences table (pecore.sr.evaluate.paired_differences)")
    fig, axes = plt.subplots(len(metrics), len(datasets), figsize=(2.9 * len(datasets) + 0.6, 0.5 + 2.4 * len(metrics)),
                             squeeze=False)
    for i, ds in enumerate(datasets):
        for j, m in enumerate(metrics):
            ax = axes[j, i]  # one column per test set, one row per metric: at most three panels per row
            t = differences[(differences.dataset == ds) & (differences.metric == m)].reset_index(drop=True)
            ypos = np.arange(len(t))[::-1]
            for y, (_, r) in zip(ypos, t.iterrows()):
                ax.errorbar(r["mean"], y, xerr=[[r["mean"] - r.ci_low], [r.ci_high - r["mean"]]], fmt="o",
                            color=method_color(r.b), mfc=method_color(r.b) if r.clear else "white", capsize=3)
            ax.axvline(0, color="k", ls=":", lw=1)
            ax.set_yticks(ypos, [f"{display_name(a)} − {display_name(b)}" for a, b in zip(t.a, t.b)] if i == 0 else [])
            sign = "< 0" if m.startswith("lpips") else "> 0"
            ax.set_title(f"{ds}: Δ {_LABELS[m][:-2]} ({sign}: a better)", fontsize=10)
            ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def crops_side_by_side(samples: Mapping[str, torch.Tensor], *, order: Sequence[str] | None = None,
                       title: str = "") -> plt.Figure:
    """Crops of one test image: the LR input (nearest-neighbour enlarged), bicubic, every arm, the HR image.

    Examples
    --------
    >>> fig = crops_side_by_side({"LR": torch.rand(3, 4, 4), "HR": torch.rand(3, 16, 16)}); len(fig.axes)
    2
    """
    if not samples:
        raise ParameterError("crops_side_by_side needs at least one image")
    names = list(order) if order is not None else list(samples)
    n = len(names)
    fig, axes = panel_grid(n, (2.0, 2.2), max_cols=4)  # thumbnails: four per row
    for ax, name in zip(axes, names):
        img = samples[name].detach().cpu().float().clamp(0, 1)
        if img.ndim == 4:
            img = img[0]
        ax.imshow(img.permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.set_title(display_name(name), fontsize=10)
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

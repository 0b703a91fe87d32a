"""Figures of the SR chapter: training curves, metrics with intervals, crops side by side."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np
import pandas as pd
import torch

from ..figures import panel_grid
from ..errors import ParameterError
from ..experiment import display_name
from .evaluate import POOLED_NAME

__all__ = ["METHOD_COLORS", "method_color", "training_curves", "metric_intervals", "difference_intervals",
           "crops_side_by_side"]

METHOD_COLORS = {"bicubic": "#999999", "pixel": "#4d4d4d", "all": "#1f78b4", "top": "#d95f02", "bottom": "#7570b3"}
_RANDOM = "#66a61e"
_LABELS = {"lpips_alex": "LPIPS-alex ↓", "gmsd": "GMSD ↓", "psnr_y": "PSNR-Y (dB) ↑", "ssim_y": "SSIM-Y ↑",
           "lpips_vgg": "LPIPS-vgg ↓"}


def method_color(name: str) -> str:
    """The colour of a method or arm (every run of an arm, whatever its seed or draw, shares one colour).

    Examples
    --------
    >>> method_color("top"), method_color("random-s1"), method_color("top-t2")
    ('#d95f02', '#66a61e', '#d95f02')
    """
    arm = str(name).split("-")[0]
    return METHOD_COLORS.get(arm, _RANDOM if arm == "random" else "#000000")


def _arm_order(name: str) -> tuple[int, str]:
    order = {"pretrain": -1, "bicubic": 0, "pixel": 1, "all": 2, "top": 3, "bottom": 4, "random": 5}
    return order.get(str(name).split("-")[0], 6), name


def training_curves(logs: Mapping[str, pd.DataFrame], *, smooth: int = 5, train_seed: int | None = 0) -> plt.Figure:
    """The total loss, pixel term and feature term against step for every run (rolling mean of ``smooth`` rows),
    and, where the logs have it, PSNR-Y on a fixed batch of validation crops (a fourth panel).

    With runs of several training seeds, the runs of ``train_seed`` are shown (``None``: all); the shared
    pretraining runs (``pretrain-t<seed>``) are left out (they have no feature term).

    Two panels per row, the runs in the order pixel, all, top, bottom, random; at most 6.6 inches wide, so the
    book shows it without shrinking.

    Examples
    --------
    >>> log = pd.DataFrame({"step": [1, 2, 3], "loss": [1.0, 0.8, 0.7], "pixel": [0.5, 0.4, 0.3],
    ...                     "feature": [0.0, 0.0, 0.0]})
    >>> len(training_curves({"pixel": log}).axes)
    3
    """
    if not logs:
        raise ParameterError("training_curves needs at least one loss log")
    if train_seed is not None and any(re.search(r"-t\d+$", n) for n in logs):
        logs = {n: g for n, g in logs.items() if n.endswith(f"-t{train_seed}") and not n.startswith("pretrain")}
        if not logs:
            raise ParameterError(f"no run of training seed {train_seed} among the logs")
    has_val = any("val_psnr_y" in log and log.val_psnr_y.notna().any() for log in logs.values())
    fig, axes = panel_grid(4 if has_val else 3, (3.3, 2.7) if has_val else (2.2, 2.7), max_cols=2 if has_val else 3)
    for name in sorted(logs, key=_arm_order):
        log = logs[name]
        if log.empty:
            continue
        for ax, col in zip(axes, ("loss", "pixel", "feature")):
            if col == "feature" and name.split("-")[0] == "pixel":
                continue
            y = log[col].rolling(max(1, smooth), min_periods=1).mean()
            ax.plot(log.step, y, color=method_color(name), label=name, lw=1.4,
                    ls="--" if name.startswith("random") else "-")
        if has_val and "val_psnr_y" in log:
            v = log[log.val_psnr_y.notna()]
            axes[3].plot(v.step, v.val_psnr_y, color=method_color(name), lw=1.4, marker=".", ms=3,
                         ls="--" if name.startswith("random") else "-")
    titles = ("total loss", "pixel loss", "feature loss (before λ)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.05)  # linear: the curves vary within one decade, where log ticks read '4.2×10⁻²'
        ax.grid(alpha=0.3, which="both")
    if has_val:
        axes[3].set_title("validation PSNR-Y (dB) ↑", fontsize=10)
        axes[3].grid(alpha=0.3)
    for ax in axes:
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    handles, labels = axes[0].get_legend_handles_labels()
    keep = {}
    for h, lab in zip(handles, labels):  # one entry per arm: its runs share a colour
        keep.setdefault(lab.split("-")[0] if re.search(r"-t\d+$", lab) else lab, h)
    handles, labels = list(keep.values()), list(keep)
    fig.legend(handles, [display_name(x) for x in labels], fontsize=9, ncol=min(5, len(labels)), loc="lower center",
               frameon=False, bbox_to_anchor=(0.5, -0.01), columnspacing=1.0, handlelength=1.6)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


#: the marker of each test set in the interval figures; the pooled set (the one the conclusion reads) is the
#: large circle, each single set a small marker beneath it
_SET_MARKERS = ("o", "^", "s", "D", "v")


def _set_styles(datasets: Sequence[str]) -> dict[str, tuple[str, float, float]]:
    """marker, size and vertical offset of each test set: the pooled set first and largest."""
    first = [d for d in datasets if d == POOLED_NAME] or list(datasets[:1])
    rest = [d for d in datasets if d not in first]
    order = first + rest
    step = 0.56 / max(1, len(order) - 1) if len(order) > 1 else 0.0
    return {d: (_SET_MARKERS[i % len(_SET_MARKERS)], 6.5 if i == 0 else 4.5, 0.28 - i * step if len(order) > 1 else 0.0)
            for i, d in enumerate(order)}


def _set_legend(fig: plt.Figure, styles: Mapping[str, tuple[str, float, float]], n_images: Mapping[str, int]) -> None:
    if len(styles) < 2:  # one test set: the title of the figure's caption says which
        return
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker=m, ms=s, color="#555555",
                      label=f"{d} ({n_images[d]} images)" if d in n_images else d) for d, (m, s, _) in styles.items()]
    fig.legend(handles=handles, loc="lower center", ncol=min(3, len(handles)), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.01), columnspacing=1.2, handletextpad=0.3)


def _interval_panels(table: pd.DataFrame, groups: Sequence[tuple[str, pd.Series]], datasets: Sequence[str],
                     metrics: Sequence[str], titles: Mapping[str, str], *, color_of, filled_of=None,
                     zero_line: bool = False) -> tuple[plt.Figure, dict]:
    """One panel per metric (two per row); one row group per entry of ``groups``, one marker per test set."""
    styles = _set_styles(datasets)
    fig, axes = panel_grid(len(metrics), (3.3, 0.5 + 0.42 * len(groups)), max_cols=2, sharey=True)
    ypos = np.arange(len(groups))[::-1].astype(float)
    for ax, m in zip(axes, metrics):
        for y, (label, select) in zip(ypos, groups):
            for ds, (marker, size, dy) in styles.items():
                r = table[select & (table.dataset == ds) & (table.metric == m)]
                if r.empty:
                    continue
                r = r.iloc[0]
                color = color_of(r)
                filled = filled_of(r) if filled_of is not None else True
                ax.errorbar(r["mean"], y + dy, xerr=[[r["mean"] - r.ci_low], [r.ci_high - r["mean"]]], fmt=marker,
                            ms=size, color=color, mfc=color if filled else "white", capsize=2,
                            lw=1.4 if size > 5 else 0.9, alpha=1.0 if size > 5 else 0.85)
        if zero_line:
            ax.axvline(0, color="k", ls=":", lw=1)
        ax.set_yticks(ypos, [label for label, _ in groups])
        ax.set_ylim(ypos.min() - 0.5, ypos.max() + 0.5)
        ax.set_title(titles[m], fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3))
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[1::2]:
        ax.tick_params(axis="y", labelleft=False)
    return fig, styles


def _n_images(table: pd.DataFrame) -> dict[str, int]:
    return {str(d): int(g.n_images.max()) for d, g in table.groupby("dataset", sort=False)} if "n_images" in table else {}


def metric_intervals(summary: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """One panel per metric (two per row): each arm's mean with its 95 % interval (over images, training seeds
    and draws: :func:`pecore.sr.evaluate.arm_summary`), one marker per test set (the pooled set large).

    Examples
    --------
    >>> s = pd.DataFrame({"dataset": "Set5", "arm": ["bicubic", "top"], "metric": "psnr_y",
    ...                   "mean": [28.0, 28.5], "ci_low": [27.0, 27.5], "ci_high": [29.0, 29.5], "n_images": 5})
    >>> len(metric_intervals(s).axes)
    1
    """
    datasets = list(dict.fromkeys(summary.dataset)) if dataset is None else [dataset]
    metrics = [m for m in _LABELS if m in set(summary.metric)]
    if not metrics or not datasets:
        raise ParameterError("metric_intervals needs a summary table with psnr_y, ssim_y or lpips_vgg rows")
    t = summary[summary.dataset.isin(datasets)]
    col = "arm" if "arm" in t else "method"
    methods = sorted(dict.fromkeys(t[col]), key=_arm_order)
    groups = [(display_name(x), t[col] == x) for x in methods]
    fig, styles = _interval_panels(t, groups, datasets, metrics, _LABELS, color_of=lambda r: method_color(r[col]))
    _set_legend(fig, styles, _n_images(t))
    fig.tight_layout(rect=(0, 0.05 if len(datasets) > 1 else 0.03, 1, 1))
    return fig


def difference_intervals(differences: pd.DataFrame, dataset: str | None = None) -> plt.Figure:
    """Paired differences ``a − b`` per metric (one panel each, two per row) with 95 % bootstrap intervals, one
    marker per test set (the pooled set large); filled where the interval excludes 0 (dotted line).

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
    t = differences[differences.dataset.isin(datasets)]
    pairs = list(dict.fromkeys(zip(t.a, t.b)))
    groups = [(f"{display_name(a)} − {display_name(b)}", (t.a == a) & (t.b == b)) for a, b in pairs]
    titles = {m: f"Δ {_LABELS[m][:-2]}, {'< 0' if _LABELS[m].endswith('↓') else '> 0'}: a better" for m in metrics}
    fig, styles = _interval_panels(t, groups, datasets, metrics, titles, color_of=lambda r: method_color(r.b),
                                   filled_of=lambda r: bool(r.clear), zero_line=True)
    _set_legend(fig, styles, _n_images(t))
    fig.tight_layout(rect=(0, 0.05 if len(datasets) > 1 else 0.03, 1, 1))
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
    fig, axes = panel_grid(n, (2.2, 2.3))  # three per row: 6.6 inches, shown without shrinking
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

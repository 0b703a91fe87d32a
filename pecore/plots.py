"""Figures of the frequency, orientation and PE chapters (matplotlib), with one colour per layer depth.

Length: one function per kind of figure those chapters show, each sized for the book's 6.8 in text column;
they share the colour, title and tick rules kept here.
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .channel import ChannelProfile, channel_profile
from .errors import ParameterError
from .experiment import display_name
from .figures import LAYER_COLORS, layer_color, log_axis_ticks, panel_grid
from .probe_result import ProbeResult
from .presets import ProbeGrid
from .efficacy import ScoreConfig
from .stimuli import oriented_gratings, radial_gratings

__all__ = [
    "LAYER_COLORS",
    "layer_color",
    "grating_gallery",
    "frequency_tuning",
    "channel_card",
    "per_channel_scores",
    "layer_distributions",
    "orientation_tuning",
    "preference_histograms",
    "feature_maps",
    "agreement_heatmap",
    "pe_weight_scatter",
]

def _layers(result: ProbeResult) -> list[str]:
    return list(dict.fromkeys(result.table.layer))


def _mathtext(text: str) -> str:
    r"""``text`` for matplotlib, with f̂ and θ̂ as mathtext (a combining hat drifts off its letter in a figure).

    Examples
    --------
    >>> _mathtext("f̂ at peak activation")
    '$\\hat{f}$ at peak activation'
    """
    return str(text).replace("f\u0302", r"$\hat{f}$").replace("θ\u0302", r"$\hat{\theta}$")


def grating_gallery(grid: ProbeGrid, frequencies: Sequence[float] = (1.0, 4.0, 16.0),
                    orientations: Sequence[float] = (-45.0, 0.0, 60.0), csf: str | None = None) -> plt.Figure:
    """The probe's stimuli and, beneath them, the CSFs that weight their frequencies.

    Top row: radial gratings at ``frequencies``; middle row: straight gratings at ``orientations`` (at the
    middle frequency); bottom: every available CSF, each scaled to its peak, on the grid's frequency range,
    with the shown frequencies marked (``csf`` drawn bold: the one the page uses).

    Examples
    --------
    >>> fig = grating_gallery(ProbeGrid(size=32)); len(fig.axes)
    7
    """
    from .csf import CSFS, get_csf

    freqs = [f for f in frequencies if f <= grid.ppd / 2][:3]
    orientations = list(orientations)[:3]
    fig = plt.figure(figsize=(7.2, 7.4))
    gs = fig.add_gridspec(3, 3, height_ratios=[1, 1, 1.1])
    radial = radial_gratings(freqs, size=grid.size, ppd=grid.ppd, n_phases=1)
    f_mid = freqs[len(freqs) // 2]
    oriented = oriented_gratings(f_mid, orientations, size=grid.size, ppd=grid.ppd, n_phases=1)
    deg = grid.size / grid.ppd
    panels = [*zip(radial[:, 0, 0], [f"radial, {f:g} cpd" for f in freqs], [(0, i) for i in range(len(freqs))]),
              *zip(oriented[0, :, 0, 0], [f"θ = {t:g}°, {f_mid:g} cpd" for t in orientations],
                   [(1, i) for i in range(len(orientations))])]
    for img, title, (r, c) in panels:
        ax = fig.add_subplot(gs[r, c])
        ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1, extent=(0, deg, 0, deg))
        ax.set_title(title, fontsize=10)
        ax.set_xticks([0, round(deg, 2)])
        ax.set_yticks([])
        if (r, c) == (1, 0):
            ax.set_xlabel("degrees of visual angle")
    ax = fig.add_subplot(gs[2, :])
    f = grid.frequencies
    for i, name in enumerate(CSFS):
        sens = get_csf(name)(f)
        ax.plot(f, sens / sens.max(), lw=2.6 if name == csf else 1.4, color=f"C{i}",
                label=display_name(name) + (" (this page)" if name == csf else ""))
    for fr in freqs:
        ax.axvline(fr, color="0.5", ls=":", lw=1)
    log_axis_ticks(ax, f)
    ax.set_xlabel("spatial frequency (cycles per degree); dotted: the radial gratings above")
    ax.set_ylabel("sensitivity / peak")
    ax.set_ylim(0, 1.08)
    ax.legend(fontsize=9, frameon=False, loc="lower center", ncol=len(CSFS))
    ax.set_title(f"contrast sensitivity functions over the probe's {f.min():g}–{f.max():g} cpd", fontsize=10)
    fig.tight_layout()
    return fig


def _profiles(result, layer: str | None, channels: Sequence[int] | None) -> list[ChannelProfile]:
    """Channel profiles from a probe result and channel numbers, or the profiles themselves."""
    if isinstance(result, ChannelProfile):
        return [result]
    if isinstance(result, (list, tuple)) and all(isinstance(r, ChannelProfile) for r in result):
        return list(result)
    if layer is None or channels is None:
        raise ParameterError("pass a probe result with layer and channels, or channel profiles (pecore.channel_profile)")
    return [channel_profile(result, layer, int(ch)) for ch in channels]


def frequency_tuning(result: ProbeResult | ChannelProfile | Sequence[ChannelProfile], layer: str | None = None,
                     channels: Sequence[int] | None = None, config: ScoreConfig | None = None,
                     labels: Sequence[str] | None = None) -> plt.Figure:
    """Normalised mean activation against frequency, with the CSF overlaid.

    Takes a probe result with a layer and channel numbers, or one or more :class:`pecore.channel.ChannelProfile`.

    Examples
    --------
    >>> from pecore.notebook import stored_probe_dir
    >>> from pecore.channel import channel_profile
    >>> fig = frequency_tuning(channel_profile(stored_probe_dir("alexnet"), "relu2", 7)); len(fig.axes)
    2
    """
    profiles = _profiles(result, layer, channels)
    config = config or profiles[0].config
    f = profiles[0].frequencies
    fig, ax = plt.subplots(figsize=(6.8, 4.4 + 0.2 * len(profiles)))
    cmap = plt.get_cmap("viridis", max(2, len(profiles)))
    for i, pr in enumerate(profiles):
        a = pr.frequency_response
        a = a / a.max() if a.max() > 0 else a
        lab = (labels[i] + " · " if labels else "") + f"ch {pr.channel}: μ1 = {pr.mu1:.3f}, $\\hat{{f}}$ = {pr.fhat:.2g} cpd"
        ax.plot(f, a, "-o", ms=2.5, color=cmap(i), label=lab)
        if np.isfinite(pr.fhat):
            ax.axvline(pr.fhat, color=cmap(i), ls=":", lw=1)
    s = config.csf_function()(f)
    ax2 = ax.twinx()
    ax2.fill_between(f, s / s.max(), color="0.6", alpha=0.2, label=f"CSF ({display_name(config.csf)}), normalised")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("CSF (normalised)", color="0.4")
    _log_frequency_axis(ax, f)
    ax.set_ylabel("mean activation / max")
    ax.set_title(f"{display_name(profiles[0].network)} {profiles[0].layer}: frequency tuning")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ncol = 2 if max(len(_mathtext(x).replace("$\\hat{f}$", "f")) for x in l1 + l2) <= 40 else 1  # two fit 6.8 in
    ax.legend(h1 + h2, l1 + l2, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, frameon=False)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    fig.tight_layout()
    return fig


def _log_frequency_axis(ax: plt.Axes, f: np.ndarray) -> None:
    """A log frequency axis with fixed, readable ticks (0.5, 1, 2, 5, 10, 20 … cpd) inside the data range."""
    log_axis_ticks(ax, f)
    ax.set_xlabel("spatial frequency (cycles per degree)")


def _polar_tuning(ax: plt.Axes, th: np.ndarray, a: np.ndarray, color: str) -> None:
    a = a / a.max() if a.max() > 0 else a
    ang = np.deg2rad(np.concatenate([th, th + 180, th[:1] + 360]))
    ax.plot(ang, np.concatenate([a, a, a[:1]]), color=color)
    ax.set_yticklabels([])
    ax.set_xticks(np.deg2rad([0, 45, 90, 135]), ["0°", "45°", "90°", "135°"], fontsize=9)
    ax.tick_params(axis="x", pad=1)  # angle labels close to the circle


#: points between a polar panel's title and its circle: room for the 90° label that sits on top
POLAR_TITLE_PAD = 16


def channel_card(profile: ChannelProfile, frequency: float | None = None) -> plt.Figure:
    """One channel: its frequency tuning with the CSF, and its polar orientation tuning at f̂ (and at ``frequency``).

    Examples
    --------
    >>> from pecore.notebook import stored_probe_dir
    >>> from pecore.channel import channel_profile
    >>> fig = channel_card(channel_profile(stored_probe_dir("vgg16"), "relu3_3", 0), frequency=8.0); len(fig.axes)
    2
    """
    fig = plt.figure(figsize=(8.6, 3.6))
    ax = fig.add_subplot(1, 2, 1)
    a = profile.frequency_response
    ax.plot(profile.frequencies, a / a.max() if a.max() > 0 else a, "-o", ms=2.5, color="C0", label="channel")
    s = profile.config.csf_function()(profile.frequencies)
    ax.fill_between(profile.frequencies, s / s.max(), color="0.6", alpha=0.25, label=f"CSF ({display_name(profile.config.csf)})")
    if np.isfinite(profile.fhat):
        ax.axvline(profile.fhat, color="C0", ls=":", lw=1)
    _log_frequency_axis(ax, profile.frequencies)
    ax.set_ylabel("mean activation / max")
    ax.legend(fontsize=9, frameon=False)
    ax.set_title(f"{display_name(profile.network)} {profile.layer} ch {profile.channel}: μ1 = {profile.mu1:.3f}, "
                 f"$\\hat{{f}}$ = {profile.fhat:.2g} cpd", fontsize=10)
    pax = fig.add_subplot(1, 2, 2, projection="polar")
    _polar_tuning(pax, profile.orientations, profile.orientation_at(), "C0")
    title = f"μ2 = {profile.mu2:.2f}, θ̂ = {profile.theta_hat:.0f}°, PE = {profile.pe:.3f} (rank {profile.rank})"
    if frequency is not None:
        _polar_tuning(pax, profile.orientations, profile.orientation_at(frequency), "C3")
        title += f"\nblue: at f̂; red: at {profile.nearest_frequency(frequency):.2g} cpd"
    pax.set_title(_mathtext(title), fontsize=10, pad=POLAR_TITLE_PAD)
    fig.tight_layout()
    return fig


def per_channel_scores(result: ProbeResult, layer: str, column: str = "mu1", highlight: Sequence[int] = ()) -> plt.Figure:
    """The score of every channel of ``layer`` against channel index (the paper's per-channel figure)."""
    t = result.layer(layer)
    layers = _layers(result)
    fig, ax = plt.subplots(figsize=(6.8, 3.0))
    ax.scatter(t.channel, t[column], s=12, color=layer_color(layer, layers))
    dead = t[t.dead.astype(bool)]
    if len(dead):
        ax.scatter(dead.channel, dead[column], s=14, marker="x", color="k", label="dead channel")
    for ch in highlight:
        right = ch > t.channel.max() / 2  # label toward the middle, clear of the frame
        ax.annotate(f"ch {ch}", (ch, t.loc[ch, column]), textcoords="offset points", xytext=(-6 if right else 6, -12),
                    ha="right" if right else "left", fontsize=9)
    ax.margins(y=0.12)
    ax.set_xlabel("channel index")
    ax.set_ylabel({"mu1": "μ1 (frequency sensitivity)", "mu2": "μ2 (orientation selectivity)",
                   "pe": "PE"}.get(column, column))
    ax.set_title(f"{display_name(column)} of every {layer} channel")
    if len(dead):
        ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def layer_distributions(tables: dict[str, pd.DataFrame] | pd.DataFrame, column: str, *,
                        exclude_silent: bool = False) -> plt.Figure:
    """Box plots of ``column`` per layer over the live channels, for one network or side by side for several.

    ``exclude_silent`` also leaves out the live channels silent at every orientation at their f̂
    (:func:`pecore.orientation.silent_at_fhat`), whose μ2 is 0 by convention rather than measured. Panel titles
    name the networks in words.

    Examples
    --------
    >>> t = pd.DataFrame({"network": "vgg16", "layer": ["a"] * 3, "dead": False, "a_hat": [1.0, 1.0, 0.0],
    ...                   "mu2": [0.4, 0.6, 0.0]})
    >>> fig = layer_distributions(t, "mu2", exclude_silent=True); fig.axes[0].get_title()
    'VGG-16'
    """
    from .orientation import tuning_measured

    if isinstance(tables, pd.DataFrame):
        tables = {tables.network.iloc[0]: tables}
    fig, axes = plt.subplots(1, len(tables), figsize=(max(5.2, 3.0 * len(tables) + 0.7), 3.3), squeeze=False,
                             sharey=True)  # two networks: 6.7 in, the width of the book's column
    for ax, (name, t) in zip(axes[0], tables.items()):
        layers = list(dict.fromkeys(t.layer))
        keep = tuning_measured(t) if exclude_silent else ~t.dead.astype(bool)
        live = t[keep]
        data = [live[live.layer == k][column].to_numpy() for k in layers]
        parts = ax.boxplot(data, patch_artist=True, widths=0.6, showfliers=False)
        for patch, k in zip(parts["boxes"], layers):
            patch.set_facecolor(layer_color(k, layers))
            patch.set_alpha(0.6)
        for i, d in enumerate(data, start=1):
            ax.scatter(np.random.default_rng(0).normal(i, 0.07, d.size), d, s=2, color="k", alpha=0.3)
        ax.set_xticks(range(1, len(layers) + 1), layers, rotation=30 if len(tables) > 1 else 20, ha="right",
                      rotation_mode="anchor")
        ax.set_title(display_name(name))
        ax.set_xlabel("layer")
    axes[0][0].set_ylabel({"mu1": "μ1", "mu2": "μ2", "pe": "PE"}.get(column, column))
    fig.tight_layout()
    return fig


def orientation_tuning(result: ProbeResult | ChannelProfile | Sequence[ChannelProfile], layer: str | None = None,
                       channels: Sequence[int] | None = None, labels: Sequence[str] | None = None) -> plt.Figure:
    """Polar tuning curves at each channel's f̂ (activation / max against orientation, mirrored to 360°).

    Takes a probe result with a layer and channel numbers, or one or more :class:`pecore.channel.ChannelProfile`;
    at most three panels per row.
    """
    profiles = _profiles(result, layer, channels)
    n = len(profiles)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.25 * cols, 2.9 * rows), subplot_kw={"projection": "polar"},
                             squeeze=False)  # three panels: 6.75 in, the book's column
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for i, (ax, pr) in enumerate(zip(axes.ravel(), profiles)):
        _polar_tuning(ax, pr.orientations, pr.orientation_at(), "C0" if not labels or "high" in labels[i] else "C3")
        head = f"{labels[i]}: " if labels else ""
        ax.set_title(f"{head}ch {pr.channel}\nμ2 = {pr.mu2:.2f} at {pr.fhat:.2g} cpd", fontsize=10, pad=POLAR_TITLE_PAD)
    fig.tight_layout(h_pad=2.5, w_pad=0.5)  # room between a row's circles and the next row's titles
    return fig


def preference_histograms(result: ProbeResult) -> plt.Figure:
    """Per layer: the distribution of f̂ (log axis) over the live channels, and of the preferred orientation θ̂
    over the live channels that respond to straight gratings at their f̂.

    θ̂ is drawn on one period, −82.5° to 97.5°, in bins of 15° centred on 0°, ±45° and 90°, so the 90° bin
    (θ̂ = −90° is the same grating as +90°) is one whole bin, as wide in orientations as the 0° bin, drawn with
    a margin on both sides of the period so that no bin's edge hides under the frame; each bin
    shows its share of the layer's channels, and the dotted line the share one bin holds by chance (1/12).
    Channels silent at every orientation at f̂ (:func:`pecore.orientation.silent_at_fhat`) are left out of θ̂:
    their θ̂ is 0° by convention, not measured.

    Examples
    --------
    >>> from pecore.notebook import chapter_probe
    >>> fig = preference_histograms(chapter_probe("alexnet", "ci")); [round(t) for t in fig.axes[1].get_xticks()]
    [-45, 0, 45, 90]
    """
    from .orientation import silent_at_fhat

    t = result.table[~result.table.dead.astype(bool)]
    oriented = t[~silent_at_fhat(t)]
    layers = _layers(result)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(6.8, 3.9))
    f = result.frequency.frequencies
    edges = np.geomspace(f[0] / 1.1, f[-1] * 1.1, 16)
    th_edges = np.arange(-82.5, 97.6, 15)  # one period; bins centred on -45°, 0°, 45°, 90°
    for k in layers:
        rows = t[t.layer == k]
        a1.hist(rows.fhat, bins=edges, histtype="step", lw=1.6, density=True, color=layer_color(k, layers), label=k)
        th = oriented[oriented.layer == k].theta_hat.to_numpy(dtype=float)
        th = np.where(th < -82.5, th + 180.0, th)  # −90° and +90° are the same orientation
        a2.hist(th, bins=th_edges, histtype="step", lw=1.6, weights=np.full(th.size, 1 / max(th.size, 1)),
                color=layer_color(k, layers), label=k)
    _log_frequency_axis(a1, f)
    a1.set_xlabel(r"$\hat{f}$ (cycles per degree)")
    a1.set_ylabel("density")
    a1.set_title("preferred frequency", fontsize=10)
    a2.axhline(15 / 180, color="0.3", ls=":", lw=1.2, label="chance")  # a 15° bin holds 1/12 of the orientations
    a2.set_ylabel("share of channels")
    a2.set_xlabel(r"preferred orientation $\hat{\theta}$ (degrees)")
    a2.set_xticks(np.arange(-45, 91, 45))
    a2.set_xlim(-90, 105)  # the period −82.5° … 97.5° and a margin on each side
    a2.set_title("preferred orientation", fontsize=10)
    handles, names = a2.get_legend_handles_labels()
    fig.legend(handles, names, fontsize=9, loc="lower center", ncol=len(names), frameon=False, handlelength=1.5,
               columnspacing=1.0)
    fig.tight_layout(rect=(0, 0.08, 1, 1))  # the shared legend below both panels
    return fig


def feature_maps(maps: torch.Tensor, channels: Sequence[int], titles: Sequence[str], image: torch.Tensor) -> plt.Figure:
    """The image and the feature maps ``maps[0, channels]`` of one layer, each scaled to its own max."""
    n = len(channels) + 1
    cols = min(n, 4)  # thumbnails: four per row keep them and their titles readable at page width
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, 1.9 * rows), squeeze=False)
    axes = axes.ravel()
    axes[0].imshow(image.permute(1, 2, 0).cpu().numpy())
    axes[0].set_title("input", fontsize=9)
    for ax, ch, title in zip(axes[1:], channels, titles):
        m = maps[0, ch].detach().cpu().numpy()
        ax.imshow(m / m.max() if m.max() > 0 else m, cmap="magma", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def agreement_heatmap(agreement: pd.DataFrame, values: str | Sequence[str] = "spearman", *, p: float = 25.0) -> plt.Figure:
    r"""Heatmaps of Spearman ρ and/or top-set Jaccard per variant (rows) and layer (columns), side by side.

    Each cell is annotated with its value, so no colour bar: two panels fit the book's 6.8 in column.

    Examples
    --------
    >>> a = pd.DataFrame({"variant": ["fhat-peak-activation"] * 2, "layer": ["relu1", "relu2"], "spearman": [0.9, 0.8],
    ...                   "jaccard_top": [0.7, 0.6]})
    >>> fig = agreement_heatmap(a, ("spearman", "jaccard_top")); [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['$\\hat{f}$ at peak activation']
    """
    import seaborn as sns

    values = [values] if isinstance(values, str) else list(values)
    names = {"spearman": "Spearman ρ\nwith the default", "jaccard_top": f"Jaccard index\nof the top {p:g} %"}
    layers = list(dict.fromkeys(agreement.layer))
    n_rows = agreement.variant.nunique()
    fig, axes = plt.subplots(1, len(values), figsize=(2.45 * len(values) + 1.9, 0.34 * n_rows + 1.7), squeeze=False,
                             sharey=True)
    for i, (ax, value) in enumerate(zip(axes[0], values)):
        pivot = agreement.pivot(index="variant", columns="layer", values=value)[layers]
        pivot.index = [_mathtext(display_name(v)) for v in pivot.index]
        sns.heatmap(pivot, annot=True, fmt=".2f", vmin=-1 if value == "spearman" else 0, vmax=1, cbar=False,
                    cmap="RdBu_r" if value == "spearman" else "viridis", ax=ax, annot_kws={"fontsize": 9})
        ax.set_title(names.get(value, value), fontsize=10)
        if max(map(len, layers)) > 5:  # relu1_2 …: slanted, or neighbours touch
            plt.setp(ax.get_xticklabels(), rotation=40, ha="right", rotation_mode="anchor")
        else:
            ax.tick_params(axis="x", rotation=0)
        ax.tick_params(axis="y", rotation=0)
        ax.set_xlabel("layer")
        ax.set_ylabel("alternative choice" if i == 0 else "")
    fig.tight_layout()
    return fig


def pe_weight_scatter(pe_table: pd.DataFrame, weights: dict[str, np.ndarray], title: str) -> plt.Figure:
    """PE against a per-channel weight (LPIPS's learned weights) over the live channels, one panel per layer."""
    layers = list(weights)
    fig, axes = panel_grid(len(layers), (2.25, 2.3))  # three panels a row: 6.75 in, the book's column
    for i, (ax, k) in enumerate(zip(axes, layers)):
        t = pe_table[pe_table.layer == k].sort_values("channel")
        live = ~t.dead.to_numpy(bool) if "dead" in t else np.ones(len(t), bool)
        ax.scatter(t.pe[live], np.asarray(weights[k]).ravel()[live], s=4, alpha=0.5, color=layer_color(k, layers))
        ax.set_title(k, fontsize=10)
        ax.set_xlabel("PE")
        if i % 3 == 0:
            ax.set_ylabel("LPIPS weight")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

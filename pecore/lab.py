"""The channel explorer as ipywidgets, for JupyterLab (``make lab``).

The book's explorer page is static (no kernel). In the lab, :func:`channel_explorer` gives the same view with a
kernel behind it, so a student can also switch the scoring (any named variant, e.g. another CSF) and see the
channel re-scored: pick a network, a scoring, a layer and a channel (by index or by PE rank) and see
:func:`pecore.plots.channel_card` with the channel's scores. It reads the committed paper-grid probes and
re-scores them in memory (a few milliseconds per change); nothing is probed.

Needs the ``lab`` extra (``pip install -e '.[lab]'``, which ``make lab`` does).
"""
from __future__ import annotations

import io
import os
from typing import Any

from .channel import ChannelProfile, channel_profile
from .efficacy import VARIANTS
from .errors import ParameterError
from .probe_result import ProbeResult, load_probe_result
from .rescore import as_config, rescore
from .validate import check_choice

__all__ = ["ExplorerData", "channel_explorer", "describe"]


class ExplorerData:
    """The probe results behind the explorer: one loaded folder per network, re-scored once per variant.

    Parameters
    ----------
    folders
        Network name → probe folder (default: every committed paper-grid probe).

    Examples
    --------
    >>> data = ExplorerData()
    >>> data.networks
    ['vgg16', 'alexnet']
    >>> data.result("alexnet", "barten-csf").table.shape[0]
    1152
    >>> data.profile("alexnet", "barten-csf", "relu1", by="rank", value=1).rank
    1
    """

    def __init__(self, folders: dict[str, str | os.PathLike] | None = None) -> None:
        if folders is None:
            from .notebook import stored_probe_dir

            folders = {n: stored_probe_dir(n) for n in ("vgg16", "alexnet") if stored_probe_dir(n).is_dir()}
        if not isinstance(folders, dict) or not folders:
            raise ParameterError("folders must map at least one network name to a probe folder "
                                 "(none given and no committed probe found)")
        self._folders = dict(folders)
        self._loaded: dict[str, ProbeResult] = {}
        self._scored: dict[tuple[str, str], ProbeResult] = {}

    @property
    def networks(self) -> list[str]:
        """The networks the explorer offers."""
        return list(self._folders)

    def result(self, network: str, variant: str = "default") -> ProbeResult:
        """The probe of ``network`` scored with the named ``variant`` (cached)."""
        check_choice("network", network, self._folders)
        check_choice("score variant", variant, VARIANTS)
        if network not in self._loaded:
            self._loaded[network] = load_probe_result(self._folders[network], network=network)
        if (network, variant) not in self._scored:
            self._scored[network, variant] = rescore(self._loaded[network], as_config(variant))
        return self._scored[network, variant]

    def layers(self, network: str) -> list[str]:
        """The probed layers of ``network``, shallow to deep."""
        return list(dict.fromkeys(self.result(network).table.layer))

    def profile(self, network: str, variant: str, layer: str, *, by: str = "channel", value: int = 0) -> ChannelProfile:
        """One channel's :class:`~pecore.channel.ChannelProfile`, chosen by index (``by='channel'``) or PE rank."""
        result = self.result(network, variant)
        check_choice("by", by, ("channel", "rank"))
        if by == "rank":
            rows = result.layer(layer)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= len(rows):
                raise ParameterError(f"rank must be an integer in 1..{len(rows)} for {layer}, got {value!r}")
            value = int(rows.index[rows["rank"].to_numpy() == value][0])
        return channel_profile(result, layer, value)


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError:
        raise ParameterError("the channel explorer needs ipywidgets: pip install -e '.[lab]' "
                             "(or run make lab)") from None
    return ipywidgets


def describe(profile: ChannelProfile, n_channels: int, variant: str = "default") -> str:
    """The explorer's one-line reading of a channel's scores.

    Examples
    --------
    >>> p = ExplorerData().profile("alexnet", "default", "relu1", by="rank", value=1)
    >>> describe(p, 64).startswith(f"alexnet relu1 channel {p.channel}: μ1 = ")
    True
    """
    if profile.dead:
        scores = "dead (no response to any grating): μ1 = μ2 = PE = 0, no f̂ or θ̂"
    elif not profile.orientation_at().max() > 0:
        scores = (f"μ1 = {profile.mu1:.3f}, f̂ = {profile.fhat:.3g} cpd; answers no straight grating at f̂, so "
                  "μ2 = PE = 0 and no θ̂")
    else:
        scores = (f"μ1 = {profile.mu1:.3f}, μ2 = {profile.mu2:.3f}, PE = {profile.pe:.3f}, "
                  f"f̂ = {profile.fhat:.3g} cpd, θ̂ = {profile.theta_hat:.0f}°")
    return (f"{profile.network} {profile.layer} channel {profile.channel}: {scores}; PE rank {profile.rank} of "
            f"{n_channels} (scoring: {variant}).")


def channel_explorer(network: str = "vgg16", layer: str | None = None, channel: int = 0,
                     variant: str = "default", *, data: ExplorerData | None = None) -> Any:
    """An ipywidgets explorer of every probed channel: frequency and orientation tuning, μ1, μ2, PE, f̂, rank.

    Parameters
    ----------
    network, layer, channel, variant
        What it shows first (``layer`` default: the network's first probed layer; ``variant``: a name of
        :data:`pecore.efficacy.VARIANTS`).
    data
        The probe results to browse (default: the committed paper-grid probes).

    Returns
    -------
    ipywidgets.VBox
        Display it as the last line of a cell. Its ``.children[-1]`` is the output area with the figure.

    Examples
    --------
    In a JupyterLab cell (needs the ``lab`` extra)::

        from pecore.lab import channel_explorer
        channel_explorer("alexnet", "relu2", 17, variant="barten-csf")
    """
    widgets = _ipywidgets()
    import matplotlib.pyplot as plt
    from IPython.display import Image, Markdown

    from . import plots

    data = data or ExplorerData()
    layer = layer if layer is not None else data.layers(network)[0]
    data.profile(network, variant, layer, value=channel)  # a bad choice: named error before any widget exists

    n_channels = lambda: len(data.result(net.value, score.value).layer(lay.value))  # noqa: E731
    net = widgets.Dropdown(options=data.networks, value=network, description="network")
    score = widgets.Dropdown(options=list(VARIANTS), value=variant, description="scoring")
    lay = widgets.Dropdown(options=data.layers(network), value=layer, description="layer")
    by = widgets.ToggleButtons(options=[("channel index", "channel"), ("PE rank", "rank")], value="channel",
                               description="choose by")
    pick = widgets.IntSlider(value=channel, min=0, max=n_channels() - 1, description="channel",
                             continuous_update=False)
    out = widgets.Output()
    shown: dict[str, Any] = {}

    def draw(*_: Any) -> None:
        profile = data.profile(net.value, score.value, lay.value, by=by.value, value=int(pick.value))
        fig = plots.channel_card(profile)
        png = io.BytesIO()
        fig.savefig(png, format="png", bbox_inches="tight")  # whatever the kernel's matplotlib backend
        plt.close(fig)  # shown once, through the output area (not again by the inline backend)
        shown["profile"] = profile
        text = Markdown(describe(profile, n_channels(), score.value))
        out.outputs = ()
        out.append_display_data(Image(png.getvalue(), format="png"))
        out.append_display_data(text)

    def on_range(change: Any) -> None:
        pick.unobserve(draw, "value")
        low = 1 if by.value == "rank" else 0
        pick.max = n_channels() - 1 + low  # the slider clips its value into the new range
        pick.min = low
        pick.description = "PE rank" if by.value == "rank" else "channel"
        if change is not None and change["owner"] is by:  # same channel, now given by its rank (or index)
            pick.value = shown["profile"].rank if by.value == "rank" else shown["profile"].channel
        pick.observe(draw, "value")
        draw()

    def on_network(_: Any) -> None:
        lay.unobserve(on_range, "value")
        lay.options = data.layers(net.value)
        lay.observe(on_range, "value")
        on_range(None)

    net.observe(on_network, "value")
    lay.observe(on_range, "value")
    by.observe(on_range, "value")
    score.observe(draw, "value")
    pick.observe(draw, "value")
    draw()
    return widgets.VBox([widgets.HBox([net, score]), widgets.HBox([lay, by]), pick, out])


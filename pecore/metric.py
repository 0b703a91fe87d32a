"""An LPIPS-style distance over chosen layers with a per-channel weight (or 0/1 mask) per layer.

``d(x, y) = Σ_layers Σ_c w_c · mean_hw (f̂_x − f̂_y)²_c`` where ``f̂`` is the feature map unit-
normalised across channels at each position. With LPIPS's learned ``w`` this is
LPIPS v0.1 (:class:`LPIPS`); with a 0/1 mask from :func:`pecore.selection.select_channels` it is the
channel-subset metric (:func:`create_metric`). Images are RGB in [0, 1] (checked at run time by
:func:`pecore.validate.check_image`); lower is better; differentiable, so usable as a loss.

The input range is [0, 1] everywhere in pecore. The reference LPIPS code takes [-1, 1] and applies
its own affine "scaling layer"; that layer equals ImageNet mean/std normalisation of the [0, 1]
image, which is what :class:`pecore.networks.FeatureExtractor` applies, so the values agree.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .errors import ImageError, ParameterError
from .networks import Network
from .validate import check_choice, check_image

__all__ = [
    "EPS",
    "REDUCTIONS",
    "METRICS",
    "LPIPS_NETWORKS",
    "unit_normalise",
    "check_pair",
    "channel_terms",
    "FeatureDistance",
    "LPIPS",
    "subset_weights",
    "create_metric",
]

EPS = 1e-10
REDUCTIONS = ("none", "mean", "sum")
METRICS = ("lpips-vgg", "lpips-alex", "subset")
LPIPS_NETWORKS = {"lpips-vgg": "vgg16", "lpips-alex": "alexnet"}


def unit_normalise(f: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Divide a feature map ``(N, C, H, W)`` by its L2 norm across channels at each position.

    Examples
    --------
    >>> f = unit_normalise(torch.tensor([[[[3.0]], [[4.0]]]]))
    >>> f.flatten().tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def check_pair(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Check two image batches (RGB in [0, 1]) of equal size; batch sizes equal or one of them 1.

    Raises
    ------
    ImageError
        Wrong type, shape, range, NaN (from :func:`pecore.validate.check_image`) or mismatched sizes.

    Examples
    --------
    >>> a, b = check_pair(torch.zeros(3, 8, 8), torch.ones(2, 3, 8, 8)); a.shape, b.shape
    (torch.Size([1, 3, 8, 8]), torch.Size([2, 3, 8, 8]))
    """
    x, y = check_image(x, "x (reference, RGB in [0, 1])"), check_image(y, "y (distorted, RGB in [0, 1])")
    if x.shape[-2:] != y.shape[-2:]:
        raise ImageError(f"x and y must have the same height and width, got {tuple(x.shape[-2:])} and {tuple(y.shape[-2:])}")
    if x.shape[0] != y.shape[0] and 1 not in (x.shape[0], y.shape[0]):
        raise ImageError(f"x and y batch sizes differ ({x.shape[0]} vs {y.shape[0]}) and neither is 1")
    return x, y


# kept for callers of the first version
_check_pair = check_pair


def _features(network: Network, x: torch.Tensor, y: torch.Tensor, layers: list[str]) -> tuple[dict, int]:
    n = max(x.shape[0], y.shape[0])
    x, y = x.expand(n, -1, -1, -1), y.expand(n, -1, -1, -1)
    z = torch.cat([x, y]).to(network.device).contiguous(memory_format=torch.channels_last)
    return network.extractor(z, layers, check=False), n


def channel_terms(
    network: Network, x: torch.Tensor, y: torch.Tensor, layers: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Per-channel distance terms ``mean_hw (f̂_x − f̂_y)²`` of each layer, shape ``(N, C)``.

    One forward pass serves both images (they are concatenated into one batch) and stops at the
    deepest layer asked for. Any channel weighting is then a dot product with these terms, so every
    subset, p and seed costs no further pass.

    Parameters
    ----------
    network
        A :class:`pecore.networks.Network`.
    x, y
        Reference and distorted images, RGB in [0, 1], ``(N, 3, H, W)`` or ``(3, H, W)``.
    layers
        Layer names (default: the network's taps).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> x = torch.rand(1, 3, 64, 64)
    >>> t = channel_terms(net, x, x.clone(), ["relu1"])
    >>> t["relu1"].shape, float(t["relu1"].abs().max())
    (torch.Size([1, 64]), 0.0)
    """
    x, y = check_pair(x, y)
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    feats, n = _features(network, x, y, layers)
    out = {}
    for k in layers:
        f = unit_normalise(feats[k])
        out[k] = (f[:n] - f[n:]).pow(2).mean(dim=(2, 3))
    return out


def _reduce(d: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return d.mean()
    if reduction == "sum":
        return d.sum()
    return d


class FeatureDistance(nn.Module):
    """A differentiable feature distance with per-channel weights per layer (lower is better).

    ``d(x, y) = Σ_k Σ_c w_kc · mean_hw (f̂_x − f̂_y)²``, features unit-normalised across channels.
    The network runs once on ``x`` and ``y`` together and stops at the deepest weighted layer.

    Parameters
    ----------
    network
        A :class:`pecore.networks.Network`.
    weights
        layer → ``(C,)`` non-negative weights (a 0/1 mask selects a channel subset). ``None`` gives
        every channel weight 1 on the network's taps.
    reduction
        'none' (one distance per image pair, the default), 'mean' or 'sum' over the batch.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> d = FeatureDistance(net, {"relu1": torch.ones(64), "relu2": torch.ones(192)})
    >>> x = torch.rand(2, 3, 64, 64)
    >>> d(x, x).tolist()
    [0.0, 0.0]
    """

    lower_is_better = True
    input_range = (0.0, 1.0)

    def __init__(self, network: Network, weights: Mapping[str, torch.Tensor] | None = None, *,
                 reduction: str = "none") -> None:
        super().__init__()
        self.network = network
        self.reduction = check_choice("reduction", reduction, REDUCTIONS)
        if weights is None:
            weights = {k: torch.ones(network.channels[k]) for k in network.taps}
        if not isinstance(weights, Mapping) or not weights:
            raise ParameterError("FeatureDistance needs weights for at least one layer (a dict layer -> (C,) tensor)")
        self.layers = network.extractor.check_layers(list(weights))
        for k in self.layers:
            w = torch.as_tensor(weights[k], dtype=torch.float32).detach().flatten().cpu()
            if w.numel() != network.channels[k]:
                raise ParameterError(f"weights for {k} have {w.numel()} entries, the layer has {network.channels[k]} channels")
            if bool((w < 0).any()) or not bool(torch.isfinite(w).all()):
                raise ParameterError(f"weights for {k} must be finite and >= 0")
            if float(w.sum()) == 0:
                raise ParameterError(f"weights for {k} select no channel")
            self.register_buffer(f"w_{k}", w.to(network.device))

    def weight(self, layer: str) -> torch.Tensor:
        """The ``(C,)`` channel weights of ``layer``."""
        check_choice("weighted layer", layer, self.layers)
        return getattr(self, f"w_{layer}")

    def channel_contributions(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each channel's weighted contribution ``w_c · mean_hw (f̂_x − f̂_y)²``, ``(N, C)`` per layer.

        Their sum over channels and layers is the distance.

        Examples
        --------
        >>> from pecore.networks import load_network
        >>> d = FeatureDistance(load_network("alexnet", device="cpu"), {"relu1": torch.ones(64)})
        >>> x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
        >>> c = d.channel_contributions(x, y)["relu1"]
        >>> c.shape, bool(torch.isclose(c.sum(), d(x, y).sum()))
        (torch.Size([1, 64]), True)
        """
        terms = channel_terms(self.network, x, y, self.layers)
        return {k: terms[k] * self.weight(k) for k in self.layers}

    def layer_distances(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-layer distances ``(N,)``; their sum is the distance."""
        terms = channel_terms(self.network, x, y, self.layers)
        return {k: terms[k] @ self.weight(k) for k in self.layers}

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distance between images ``x`` and ``y`` (RGB in [0, 1]): ``(N,)``, or a scalar if reduced."""
        d = torch.stack(list(self.layer_distances(x, y).values())).sum(dim=0)
        return _reduce(d, self.reduction)

    def spatial_map(self, x: torch.Tensor, y: torch.Tensor, *, per_layer: bool = False
                    ) -> torch.Tensor | dict[str, torch.Tensor]:
        """Where the images differ: ``Σ_c w_c (f̂_x − f̂_y)²`` per position, ``(N, 1, H, W)``.

        Each layer's map is upsampled (bilinear) to the input size and the layers are summed, as
        LPIPS's ``spatial=True`` does. The mean of a layer's map at its own resolution is that layer's
        distance; after upsampling it is close to it but not equal.

        Parameters
        ----------
        per_layer
            Return a dict layer → ``(N, 1, H, W)`` instead of their sum.

        Examples
        --------
        >>> from pecore.networks import load_network
        >>> d = FeatureDistance(load_network("alexnet", device="cpu"), {"relu1": torch.ones(64)})
        >>> d.spatial_map(torch.rand(2, 3, 48, 40), torch.rand(2, 3, 48, 40)).shape
        torch.Size([2, 1, 48, 40])
        """
        x, y = check_pair(x, y)
        feats, n = _features(self.network, x, y, self.layers)
        size = x.shape[-2:]
        maps = {}
        for k in self.layers:
            f = unit_normalise(feats[k])
            m = ((f[:n] - f[n:]).pow(2) * self.weight(k).view(1, -1, 1, 1)).sum(dim=1, keepdim=True)
            maps[k] = F.interpolate(m, size=tuple(size), mode="bilinear", align_corners=False)
        if per_layer:
            return maps
        return torch.stack(list(maps.values())).sum(dim=0)

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{k}: {int((self.weight(k) > 0).sum())}/{self.weight(k).numel()}" for k in self.layers)
        return f"network={self.network.name}, weighted channels {{{sizes}}}, reduction={self.reduction!r}"


class LPIPS(FeatureDistance):
    """LPIPS v0.1 (Zhang et al. 2018) with its learned linear weights, on VGG-16 or AlexNet.

    The same :class:`FeatureDistance` with LPIPS's per-channel weights from the offline weights file
    (:func:`pecore.weights.load_lpips_linear`). Images are RGB in [0, 1] (not [-1, 1]).

    Parameters
    ----------
    net
        'vgg16' or 'alexnet' (or a loaded :class:`pecore.networks.Network` of either).
    device
        'auto', 'cpu', 'cuda', ... (used when ``net`` is a name).
    reduction
        'none', 'mean' or 'sum'.

    Examples
    --------
    >>> d = LPIPS("alexnet", device="cpu")
    >>> x = torch.rand(1, 3, 64, 64)
    >>> d.version, float(d(x, x)[0])
    ('0.1', 0.0)
    """

    version = "0.1"

    def __init__(self, net: str | Network = "vgg16", *, device: str | torch.device = "auto",
                 reduction: str = "none") -> None:
        from .networks import NETWORKS
        from .weights import load_lpips_linear

        if isinstance(net, Network):
            network = net
            check_choice("LPIPS network", network.name, ("vgg16", "alexnet"))
        else:
            network = _cached_network(check_choice("LPIPS network", net, ("vgg16", "alexnet")), str(device))
        lin, prov = load_lpips_linear(network.name)
        super().__init__(network, dict(zip(NETWORKS[network.name].taps, lin)), reduction=reduction)
        #: where the learned linear weights came from (file, sha256)
        self.linear_weights = prov


@functools.lru_cache(maxsize=4)
def _cached_network(name: str, device: str) -> Network:
    from .networks import load_network

    return load_network(name, device=device)


def subset_weights(network: Network, pe_table: Any, *, layers: Sequence[str] | None = None, subset: str = "top",
                   p: float = 25.0, seed: int = 0) -> dict[str, torch.Tensor]:
    """0/1 channel masks of a PE subset for each layer (top / bottom / random p %, or all).

    Parameters
    ----------
    network
        The network the scores belong to.
    pe_table
        A channel-score table (``ProbeResult.table`` or ``pe_table.csv``) or a ``ProbeResult``.
    layers
        Layers to use (default: the network's taps).
    subset, p, seed
        As in :func:`pecore.selection.select_channels`.

    Examples
    --------
    >>> import pandas as pd
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> t = pd.DataFrame({"layer": "relu1", "channel": range(64), "pe": range(64), "dead": False})
    >>> w = subset_weights(net, t, layers=["relu1"], subset="top", p=25)
    >>> int(w["relu1"].sum()), w["relu1"][-16:].tolist() == [1.0] * 16
    (16, True)
    """
    from .selection import channel_mask, select_channels

    table = getattr(pe_table, "table", pe_table)
    if isinstance(table, pd.DataFrame) and "network" in table and table.network.nunique() == 1 \
            and str(table.network.iloc[0]) != network.name:
        raise ParameterError(f"the PE table is of {table.network.iloc[0]}, but the network is {network.name}: pass "
                             f"a PE table of {network.name} (`pecore probe --net {network.name}`)")
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    out = {}
    for k in layers:
        idx = select_channels(table, k, subset, p, seed=seed)
        out[k] = channel_mask(network.channels[k], idx)
    return out


def create_metric(name: str, *, network: Network | str | None = None, pe_table: Any = None,
                  layers: Sequence[str] | None = None, subset: str = "top", p: float = 25.0, seed: int = 0,
                  device: str | torch.device = "auto", reduction: str = "none") -> FeatureDistance:
    """A distance by name: 'lpips-vgg', 'lpips-alex' (LPIPS v0.1) or 'subset' (a PE channel subset).

    Parameters
    ----------
    name
        One of :data:`METRICS`.
    network
        For 'subset': a :class:`Network` or a network name (default 'vgg16').
    pe_table
        For 'subset': the channel scores (table with layer, channel, pe[, dead]); required unless
        ``subset='all'``.
    layers, subset, p, seed
        For 'subset': which layers and which channels (see :func:`subset_weights`).

    Raises
    ------
    UnknownNameError
        An unknown metric, network, layer or subset name.

    Examples
    --------
    >>> d = create_metric("lpips-alex", device="cpu")
    >>> d.lower_is_better, type(d).__name__
    (True, 'LPIPS')
    >>> create_metric("ssim")
    Traceback (most recent call last):
    ...
    pecore.errors.UnknownNameError: unknown metric 'ssim'; allowed: lpips-vgg, lpips-alex, subset
    """
    check_choice("metric", name, METRICS)
    if name in LPIPS_NETWORKS:
        return LPIPS(network if isinstance(network, Network) else LPIPS_NETWORKS[name], device=device,
                     reduction=reduction)
    net = network if isinstance(network, Network) else _cached_network(
        check_choice("network", network or "vgg16", ("vgg16", "alexnet")), str(device))
    if pe_table is None:
        if subset != "all":
            raise ParameterError(f"the 'subset' metric with subset={subset!r} needs channel scores (PE); "
                                 "pass pe_table=... (e.g. pecore.notebook.chapter_probe(...).table)")
        layers = net.extractor.check_layers(net.taps if layers is None else layers)
        return FeatureDistance(net, {k: torch.ones(net.channels[k]) for k in layers}, reduction=reduction)
    return FeatureDistance(net, subset_weights(net, pe_table, layers=layers, subset=subset, p=p, seed=seed),
                           reduction=reduction)

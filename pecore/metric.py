"""An LPIPS-style distance over chosen layers with a per-channel weight (or 0/1 mask) per layer.

``d(x, y) = Σ_layers Σ_c w_c · mean_hw (f̂_x − f̂_y)²_c`` where ``f̂`` is the feature map unit-
normalised across channels at each position (method.md §8). With LPIPS's learned ``w`` this is
LPIPS v0.1; with a 0/1 mask from :func:`pecore.selection.select_channels` it is the channel-subset
metric. Images are RGB in [0, 1]; lower is better; differentiable.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .errors import ImageError, ParameterError
from .networks import Network
from .validate import check_image

__all__ = ["unit_normalise", "channel_terms", "FeatureDistance"]

EPS = 1e-10


def unit_normalise(f: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Divide a feature map ``(N, C, H, W)`` by its L2 norm across channels at each position.

    Examples
    --------
    >>> f = unit_normalise(torch.tensor([[[[3.0]], [[4.0]]]]))
    >>> f.flatten().tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = check_image(x, "x (reference, RGB in [0, 1])"), check_image(y, "y (distorted, RGB in [0, 1])")
    if x.shape[-2:] != y.shape[-2:]:
        raise ImageError(f"x and y must have the same height and width, got {tuple(x.shape[-2:])} and {tuple(y.shape[-2:])}")
    if x.shape[0] != y.shape[0] and 1 not in (x.shape[0], y.shape[0]):
        raise ImageError(f"x and y batch sizes differ ({x.shape[0]} vs {y.shape[0]}) and neither is 1")
    return x, y


def channel_terms(
    network: Network, x: torch.Tensor, y: torch.Tensor, layers: Sequence[str] | None = None
) -> dict[str, torch.Tensor]:
    """Per-channel distance terms ``mean_hw (f̂_x − f̂_y)²`` of each layer, shape ``(N, C)``.

    One forward pass serves both images (they are concatenated into one batch) and stops at the
    deepest layer asked for. Any channel weighting is then a dot product with these terms, so every
    subset, p and seed costs no further pass.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> x = torch.rand(1, 3, 64, 64)
    >>> t = channel_terms(net, x, x.clone(), ["relu1"])
    >>> t["relu1"].shape, float(t["relu1"].abs().max())
    (torch.Size([1, 64]), 0.0)
    """
    x, y = _check_pair(x, y)
    layers = network.extractor.check_layers(layers or network.taps)
    n = max(x.shape[0], y.shape[0])
    x, y = x.expand(n, -1, -1, -1), y.expand(n, -1, -1, -1)
    dev = network.device
    feats = network.extractor(torch.cat([x, y]).to(dev), layers, check=False)
    out = {}
    for k in layers:
        f = unit_normalise(feats[k])
        out[k] = (f[:n] - f[n:]).pow(2).mean(dim=(2, 3))
    return out


class FeatureDistance(nn.Module):
    """A differentiable feature distance with per-channel weights per layer (lower is better).

    Parameters
    ----------
    network
        A :class:`pecore.networks.Network`.
    weights
        layer → ``(C,)`` non-negative weights (a 0/1 mask selects a channel subset). ``None`` gives
        every channel weight 1 on the network's taps.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> d = FeatureDistance(net, {"relu1": torch.ones(64), "relu2": torch.ones(192)})
    >>> x = torch.rand(2, 3, 64, 64)
    >>> d(x, x).tolist()
    [0.0, 0.0]
    """

    def __init__(self, network: Network, weights: Mapping[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.network = network
        if weights is None:
            weights = {k: torch.ones(network.channels[k]) for k in network.taps}
        if not weights:
            raise ParameterError("FeatureDistance needs at least one layer")
        self.layers = network.extractor.check_layers(list(weights))
        for k in self.layers:
            w = torch.as_tensor(weights[k], dtype=torch.float32).flatten()
            if w.numel() != network.channels[k]:
                raise ParameterError(f"weights for {k} have {w.numel()} entries, the layer has {network.channels[k]} channels")
            if bool((w < 0).any()) or not bool(torch.isfinite(w).all()):
                raise ParameterError(f"weights for {k} must be finite and >= 0")
            if float(w.sum()) == 0:
                raise ParameterError(f"weights for {k} select no channel")
            self.register_buffer(f"w_{k}", w.to(network.device))

    def layer_distances(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-layer distances ``(N,)``."""
        terms = channel_terms(self.network, x, y, self.layers)
        return {k: terms[k] @ getattr(self, f"w_{k}") for k in self.layers}

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distance ``(N,)`` between images ``x`` and ``y`` (RGB in [0, 1])."""
        return torch.stack(list(self.layer_distances(x, y).values())).sum(dim=0)

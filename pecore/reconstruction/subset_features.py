"""The features of a channel subset of one or more layers, computing as little as possible.

:func:`normalise_channels` checks layers and channel subsets; :class:`SubsetFeatures` computes the chosen
channels' features. Only the chosen channels are ever computed at the deepest layer: its last
convolution is replaced by one whose weight and bias are sliced to the subset, so neither the unused
channels' work nor their gradients exist. Shallower requested layers are computed in full (the deeper
layers need them) and their chosen channels are taken with ``index_select``.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np
import torch
from torch import nn

from ..errors import ParameterError
from ..networks import Network

__all__ = ["ChannelSpec", "SubsetFeatures", "normalise_channels"]

#: per layer: channel indices (e.g. from :func:`pecore.select_channels`), a 0/1 mask tensor (from
#: :func:`pecore.channel_mask`), or ``None`` for every channel
ChannelSpec = Union[Sequence[int], np.ndarray, torch.Tensor, None]

# modules that act on each channel separately: a channel subset of their output needs only the
# same subset of their input
_CHANNELWISE = (nn.ReLU, nn.LeakyReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout, nn.Identity)


def normalise_channels(network: Network, layers: str | Sequence[str],
                       channels: ChannelSpec | Mapping[str, ChannelSpec] = None) -> dict[str, np.ndarray]:
    """Check layers and channel subsets; return ``{layer: sorted channel indices}``, shallowest first.

    Parameters
    ----------
    network
        The network whose layers are inverted.
    layers
        One layer name or several.
    channels
        ``None`` (every channel of every layer), one subset (used for every layer; only with one
        layer) or a mapping layer → subset. A subset is a sequence of channel indices or a 0/1 mask
        tensor of length ``channels[layer]``.

    Raises
    ------
    UnknownNameError
        An unknown layer.
    ParameterError
        An empty subset, an index out of range, repeated indices, or a mask of the wrong length.

    Examples
    --------
    >>> from pecore import load_network
    >>> net = load_network("vgg16", device="cpu")
    >>> normalise_channels(net, "relu1_2", [5, 2])
    {'relu1_2': array([2, 5])}
    >>> normalise_channels(net, "relu1_2", [])
    Traceback (most recent call last):
    ...
    pecore.errors.ParameterError: channel subset of relu1_2 is empty: choose at least one channel
    """
    layer_list = [layers] if isinstance(layers, str) else list(layers)
    ordered = network.extractor.check_layers(layer_list)
    if channels is None or not isinstance(channels, Mapping):
        if channels is not None and len(ordered) > 1:
            raise ParameterError("with several layers, give channels as a mapping layer → subset")
        spec: Mapping[str, ChannelSpec] = {layer: channels for layer in ordered}
    else:
        spec = channels
        extra = sorted(set(spec) - set(ordered))
        if extra:
            raise ParameterError(f"channels given for layers {extra} that are not among the inverted layers {ordered}")
    out: dict[str, np.ndarray] = {}
    for layer in ordered:
        n = _n_channels(network, layer)
        out[layer] = _indices(layer, spec.get(layer), n)
    return out


def _n_channels(network: Network, layer: str) -> int:
    if layer in network.channels:
        return int(network.channels[layer])
    p = next(network.extractor.parameters(), None)
    dev = p.device if p is not None else torch.device("cpu")
    with torch.inference_mode():
        n = int(network.extractor(torch.full((1, 3, 32, 32), 0.5, device=dev), [layer])[layer].shape[1])
    network.channels[layer] = n
    return n


def _indices(layer: str, subset: ChannelSpec, n: int) -> np.ndarray:
    if subset is None:
        return np.arange(n)
    if isinstance(subset, torch.Tensor) and torch.is_floating_point(subset) or (
            isinstance(subset, torch.Tensor) and subset.dtype == torch.bool):
        mask = subset.detach().cpu().numpy().astype(np.float64).ravel()
        if mask.size != n or not np.all(np.isin(mask, (0.0, 1.0))):
            raise ParameterError(f"a channel mask of {layer} must be a 0/1 tensor of length {n}, "
                                 f"got length {mask.size}")
        idx = np.flatnonzero(mask)
    else:
        arr = np.asarray(subset.detach().cpu() if isinstance(subset, torch.Tensor) else subset)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ParameterError(f"channel indices of {layer} must be integers, got dtype {arr.dtype}")
        idx = arr.astype(np.int64).ravel()
    if idx.size == 0:
        raise ParameterError(f"channel subset of {layer} is empty: choose at least one channel")
    if idx.min() < 0 or idx.max() >= n:
        raise ParameterError(f"channel indices of {layer} must be in [0, {n}), got {idx.min()}..{idx.max()}")
    if np.unique(idx).size != idx.size:
        raise ParameterError(f"channel indices of {layer} repeat: {sorted(idx.tolist())}")
    return np.sort(idx)


class SubsetFeatures(nn.Module):
    """The features of chosen channels of one or more layers, computing as little as possible.

    For an ``nn.Sequential`` network the module holds a copy of the layers up to the deepest
    requested one; when that layer is reached from a ``Conv2d`` through channel-wise modules only
    (ReLU, pooling), the convolution is replaced by one sliced to the chosen output channels. Any
    other network is run in full and its chosen channels taken with ``index_select``.

    Parameters
    ----------
    network
        A :class:`pecore.networks.Network`.
    channels
        ``{layer: sorted channel indices}`` as returned by :func:`normalise_channels`.

    Examples
    --------
    >>> from pecore import load_network
    >>> net = load_network("vgg16", device="cpu")
    >>> sub = SubsetFeatures(net, {"relu1_2": np.array([3, 7])})
    >>> sub.truncated, sub(torch.rand(1, 3, 16, 16))["relu1_2"].shape
    (True, torch.Size([1, 2, 16, 16]))
    """

    def __init__(self, network: Network, channels: Mapping[str, np.ndarray]) -> None:
        super().__init__()
        fx = network.extractor
        self.layers = fx.check_layers(list(channels))
        self.channels = {k: np.asarray(channels[k], dtype=np.int64) for k in self.layers}
        for k, idx in self.channels.items():
            self.register_buffer(f"_idx_{k}", torch.as_tensor(idx, device=network.device), persistent=False)
        self.mean = None if fx.mean is None else fx.mean.clone()
        self.std = None if fx.std is None else fx.std.clone()
        self.truncated = False
        self._sequential = bool(getattr(fx, "_sequential", False))
        if self._sequential:
            index = {k: int(fx.layers[k]) for k in self.layers}
            deepest = self.layers[-1]
            stop = index[deepest]
            body = [copy.deepcopy(m) for m in list(fx.module)[: stop + 1]]
            full = len(channels[deepest]) == _n_channels(network, deepest)
            conv_at = _sliceable_conv(body, stop)
            shallower_taps_after_conv = conv_at is not None and any(conv_at <= index[k] < stop for k in self.layers[:-1])
            if conv_at is not None and not full and not shallower_taps_after_conv:
                body[conv_at] = _slice_conv(body[conv_at], self.channels[deepest])
                self.truncated = True
            self.body = nn.Sequential(*body)
            self.index = index
        else:
            self.extractor = copy.deepcopy(fx)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def _idx(self, layer: str) -> torch.Tensor:
        return getattr(self, f"_idx_{layer}")

    def select(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The chosen channels of full feature maps ``{layer: (N, C, H, W)}`` (``index_select``).

        Examples
        --------
        >>> from pecore import load_network
        >>> net = load_network("vgg16", device="cpu")
        >>> sub = SubsetFeatures(net, {"relu1_2": np.array([1])})
        >>> sub.select({"relu1_2": torch.arange(4.).view(1, 4, 1, 1)})["relu1_2"].flatten().tolist()
        [1.0]
        """
        return {k: features[k].index_select(1, self._idx(k)) for k in self.layers}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Chosen-channel features ``{layer: (N, k, h, w)}`` of images ``x`` in [0, 1] (not re-checked)."""
        if not self._sequential:
            return self.select(self.extractor(x, self.layers, check=False))
        if self.mean is not None:
            x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        wanted = {v: k for k, v in self.index.items()}
        deepest = self.layers[-1]
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.body):
            x = module(x)
            if i in wanted:
                name = wanted[i]
                out[name] = x if (name == deepest and self.truncated) else x.index_select(1, self._idx(name))
        return out


def _sliceable_conv(body: list[nn.Module], stop: int) -> int | None:
    i = stop
    while i >= 0 and isinstance(body[i], _CHANNELWISE):
        i -= 1
    if i >= 0 and isinstance(body[i], nn.Conv2d) and body[i].groups == 1:
        return i
    return None


def _slice_conv(conv: nn.Conv2d, idx: np.ndarray) -> nn.Conv2d:
    sel = torch.as_tensor(idx, device=conv.weight.device)
    new = nn.Conv2d(conv.in_channels, len(idx), conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    dilation=conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode,
                    device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(conv.weight.index_select(0, sel))
        if conv.bias is not None:
            new.bias.copy_(conv.bias.index_select(0, sel))
    return new

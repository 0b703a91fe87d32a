"""The training loss ``L = L_pix + λ · L_feat(M)`` and the channel subset M of each arm.

``L_feat`` is :class:`pecore.metric.FeatureDistance` (features unit-normalised across all channels of
a layer, squared difference, spatial mean, weighted sum over channels and layers) with a 0/1 mask
per layer selecting M. The arms:

``pixel``
    ``L_pix`` only (λ = 0).
``all``
    every channel of the chosen layers.
``top`` / ``bottom``
    the ``p`` % channels of highest / lowest PE in each layer (dead channels left out).
``random``
    ``p`` % channels drawn uniformly per layer with a selection seed — the same count as top and bottom.

For training, the reference image's features are computed without gradients (one backward pass
through the loss network instead of two), optionally in bfloat16 on a CPU (``precision``); the
value is that of :class:`~pecore.metric.FeatureDistance` (to float rounding).

With ``normalise='count'`` each subset mask is scaled by ``C / |M|`` so that every arm's feature
term has the scale of the all-channel distance and one λ means the same strength for every arm.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ParameterError
from ..metric import FeatureDistance, subset_weights, unit_normalise
from ..networks import Network
from ..validate import check_choice, check_positive

__all__ = ["ARMS", "PIXEL_LOSSES", "NORMALISATIONS", "feature_layers", "arm_weights", "selected_channels", "SRLoss"]

ARMS = ("pixel", "all", "top", "bottom", "random")
PIXEL_LOSSES = ("l1", "mse")
NORMALISATIONS = ("count", "none")


def feature_layers(network: Network, depth: int) -> list[str]:
    """The first ``depth`` tapped layers of ``network`` (VGG-16, depth 2: relu1_2, relu2_2).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> feature_layers(load_network("vgg16", device="cpu"), 2)
    ['relu1_2', 'relu2_2']
    """
    check_positive("feature_depth", depth, integer=True)
    if depth > len(network.taps):
        raise ParameterError(f"feature_depth {depth} exceeds the {len(network.taps)} taps of {network.name}")
    return list(network.taps[:depth])


def arm_weights(arm: str, network: Network, pe_table: Any, layers: Sequence[str], *, p: float = 25.0,
                selection_seed: int = 0, normalise: str = "count") -> dict[str, torch.Tensor] | None:
    """Per-layer channel weights of an arm's feature loss (``None`` for the pixel arm).

    Parameters
    ----------
    arm
        One of :data:`ARMS`.
    network
        The loss network (VGG-16 in the chapter).
    pe_table
        Its channel scores (a table with layer, channel, pe[, dead], or a ``ProbeResult``); not
        needed for 'pixel' and 'all'.
    layers
        The layers of the feature loss.
    p, selection_seed
        Subset size in % and the seed of the random subset.
    normalise
        'count' (scale a mask by ``C / |M|``) or 'none'.

    Raises
    ------
    UnknownNameError
        An unknown arm or normalisation.
    ParameterError
        Scores missing for a PE arm.

    Examples
    --------
    >>> import pandas as pd
    >>> from pecore.networks import load_network
    >>> net = load_network("vgg16", device="cpu")
    >>> t = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": range(64), "dead": False})
    >>> w = arm_weights("top", net, t, ["relu1_2"], p=25)
    >>> int((w["relu1_2"] > 0).sum()), float(w["relu1_2"].sum()), bool(w["relu1_2"][63] > 0)
    (16, 64.0, True)
    >>> arm_weights("best", net, t, ["relu1_2"])
    Traceback (most recent call last):
    ...
    pecore.errors.UnknownNameError: unknown SR arm 'best'; allowed: pixel, all, top, bottom, random
    """
    check_choice("SR arm", arm, ARMS)
    check_choice("feature normalisation", normalise, NORMALISATIONS)
    layers = network.extractor.check_layers(list(layers))
    if arm == "pixel":
        return None
    if arm == "all":
        return {k: torch.ones(network.channels[k]) for k in layers}
    if pe_table is None:
        raise ParameterError(f"the {arm!r} arm needs PE channel scores of {network.name} (pecore.notebook.chapter_probe)")
    masks = subset_weights(network, pe_table, layers=layers, subset=arm, p=p, seed=selection_seed)
    if normalise == "count":
        masks = {k: m * (m.numel() / float(m.sum())) for k, m in masks.items()}
    return {k: v.cpu() for k, v in masks.items()}


def selected_channels(weights: Mapping[str, torch.Tensor] | None) -> dict[str, list[int]]:
    """The channel indices with non-zero weight in each layer (for provenance).

    Examples
    --------
    >>> selected_channels({"relu1_2": torch.tensor([0.0, 2.0, 2.0])})
    {'relu1_2': [1, 2]}
    """
    if weights is None:
        return {}
    return {k: np.flatnonzero(w.detach().cpu().numpy() > 0).tolist() for k, w in weights.items()}


class SRLoss(nn.Module):
    """``L = L_pix(sr, hr) + λ · L_feat(clamp(sr), hr)``, averaged over the batch.

    Parameters
    ----------
    network
        The loss network (ignored when ``weights`` is ``None``).
    weights
        Channel weights per layer from :func:`arm_weights`; ``None`` gives the pixel loss only.
    feature_weight
        λ.
    pixel_loss
        'l1' or 'mse'.
    precision
        'float32' or 'bfloat16': the loss network's precision on a CPU (on CUDA the caller's autocast decides).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("vgg16", device="cpu")
    >>> loss = SRLoss(net, {"relu1_2": torch.ones(64)}, feature_weight=0.1)
    >>> x = torch.rand(2, 3, 16, 16)
    >>> {k: round(float(v), 6) for k, v in loss(x, x).items()}
    {'loss': 0.0, 'pixel': 0.0, 'feature': 0.0}
    """

    def __init__(self, network: Network | None, weights: Mapping[str, torch.Tensor] | None, *,
                 feature_weight: float = 0.1, pixel_loss: str = "l1", precision: str = "float32") -> None:
        super().__init__()
        self.pixel_loss = check_choice("pixel loss", pixel_loss, PIXEL_LOSSES)
        self.precision = check_choice("loss precision", precision, ("float32", "bfloat16"))
        check_positive("feature_weight", feature_weight, allow_zero=True)
        self.feature_weight = float(feature_weight)
        if weights is not None and network is None:
            raise ParameterError("SRLoss with feature weights needs the loss network")
        self.feature = FeatureDistance(network, weights, reduction="mean") if weights is not None else None

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        """The total loss and its two terms (scalars); ``sr`` may leave [0, 1], it is clamped for ``L_feat``."""
        sr = sr.float()
        pix = F.l1_loss(sr, hr) if self.pixel_loss == "l1" else F.mse_loss(sr, hr)
        if self.feature is None:
            feat = torch.zeros((), device=sr.device)
        else:
            feat = self._feature(sr.clamp(0, 1), hr)
        return {"loss": pix + self.feature_weight * feat, "pixel": pix, "feature": feat}

    def _feature(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        """``FeatureDistance(sr, hr)`` averaged over the batch, with the reference's pass free of gradients."""
        fd = self.feature
        net = fd.network
        cpu_bf16 = self.precision == "bfloat16" and sr.device.type == "cpu"
        ctx = torch.autocast(device_type="cpu", dtype=torch.bfloat16) if cpu_bf16 else contextlib.nullcontext()
        cl = torch.channels_last
        with ctx:
            with torch.no_grad():
                fh = net.extractor(hr.to(net.device).contiguous(memory_format=cl), fd.layers, check=False)
            fs = net.extractor(sr.to(net.device).contiguous(memory_format=cl), fd.layers, check=False)
        d = torch.zeros(sr.shape[0], device=sr.device)
        for k in fd.layers:
            terms = (unit_normalise(fs[k].float()) - unit_normalise(fh[k].float())).pow(2).mean(dim=(2, 3))
            d = d + terms @ fd.weight(k)
        return d.mean()

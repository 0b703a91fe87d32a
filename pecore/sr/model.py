"""A small SRResNet-style super-resolution network (Ledig et al. 2017) with pixel-shuffle upsampling."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ParameterError
from ..validate import check_choice, check_positive
from .data import upscale_bicubic

__all__ = ["GLOBAL_RESIDUALS", "ResidualBlock", "SRResNet", "build_model"]

GLOBAL_RESIDUALS = ("bicubic", "none")


class ResidualBlock(nn.Module):
    """conv3×3 → [BN] → PReLU → conv3×3 → [BN], plus the identity.

    Examples
    --------
    >>> ResidualBlock(8)(torch.zeros(1, 8, 5, 5)).shape
    torch.Size([1, 8, 5, 5])
    """

    def __init__(self, n_feats: int, batch_norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(n_feats, n_feats, 3, padding=1)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(n_feats))
        layers += [nn.PReLU(n_feats), nn.Conv2d(n_feats, n_feats, 3, padding=1)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(n_feats))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRResNet-style network that upscales by ``scale``: head conv 9×9, residual blocks, pixel-shuffle ×2 stages, tail conv 9×9.

    Input: LR images ``(N, 3, h, w)`` in [0, 1]; output: ``(N, 3, scale·h, scale·w)`` in float32 (also
    under mixed precision), not clamped (clamp it for display and metrics). With ``global_residual='bicubic'`` the tail predicts a
    correction added to the bicubic upscaling of the input (its last conv starts at zero, so an
    untrained network is exactly bicubic); with 'none' it predicts the image, as in SRResNet.

    Parameters
    ----------
    scale
        2, 4 or 8 (a power of two: one conv + PixelShuffle(2) + PReLU stage per factor 2).
    n_blocks, n_feats
        Residual blocks and channels.
    batch_norm
        Batch normalisation in the blocks (SRResNet) or not (EDSR style, the default).
    global_residual
        'bicubic' or 'none'.

    Examples
    --------
    >>> net = SRResNet(scale=4, n_blocks=2, n_feats=8)
    >>> net(torch.rand(1, 3, 6, 5)).shape
    torch.Size([1, 3, 24, 20])
    """

    def __init__(self, scale: int = 4, n_blocks: int = 16, n_feats: int = 64, *, batch_norm: bool = False,
                 global_residual: str = "bicubic") -> None:
        super().__init__()
        check_positive("n_blocks", n_blocks, integer=True)
        check_positive("n_feats", n_feats, integer=True)
        check_positive("scale", scale, integer=True)
        if scale < 2 or scale & (scale - 1):
            raise ParameterError(f"scale must be a power of two >= 2 (pixel-shuffle ×2 stages), got {scale}")
        self.scale = int(scale)
        self.global_residual = check_choice("global_residual", global_residual, GLOBAL_RESIDUALS)
        self.head = nn.Sequential(nn.Conv2d(3, n_feats, 9, padding=4), nn.PReLU(n_feats))
        mid: list[nn.Module] = [nn.Conv2d(n_feats, n_feats, 3, padding=1)]
        if batch_norm:
            mid.append(nn.BatchNorm2d(n_feats))
        self.body = nn.Sequential(*[ResidualBlock(n_feats, batch_norm) for _ in range(n_blocks)], *mid)
        up: list[nn.Module] = []
        for _ in range(self.scale.bit_length() - 1):
            up += [nn.Conv2d(n_feats, 4 * n_feats, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(n_feats)]
        self.upsample = nn.Sequential(*up)
        self.tail = nn.Conv2d(n_feats, 3, 9, padding=4)
        if self.global_residual == "bicubic":
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        """Super-resolve LR images ``(N, 3, h, w)`` in [0, 1]."""
        if lr.ndim != 4 or lr.shape[1] != 3:
            raise ParameterError(f"SRResNet takes LR images (N, 3, h, w), got shape {tuple(lr.shape)}")
        f = self.head(lr)
        f = f + self.body(f)
        out = self.tail(self.upsample(f)).float()  # float32 even under autocast: bf16 would round the image
        if self.global_residual == "bicubic":
            out = out + upscale_bicubic(lr.float(), self.scale)
        return out


def build_model(settings: Any, seed: int = 0) -> SRResNet:
    """An :class:`SRResNet` from :class:`pecore.sr.settings.SRSettings`, its weights initialised with ``seed``.

    The global torch RNG is left as it was, so building a model does not change any other draw.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> a, b = build_model(PRESETS["ci"], 0), build_model(PRESETS["ci"], 0)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(int(seed))
        return SRResNet(settings.scale, settings.n_blocks, settings.n_feats, batch_norm=settings.batch_norm,
                        global_residual=settings.global_residual)
    finally:
        torch.random.set_rng_state(state)

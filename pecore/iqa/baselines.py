"""Classical baselines: PSNR and SSIM on images in [0, 1] (higher is better for both)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..metric import check_pair

__all__ = ["BASELINES", "psnr", "ssim", "luma"]

#: baseline name -> whether higher is better
BASELINES = {"psnr": True, "ssim": True, "lpips-vgg": False, "lpips-alex": False}


def luma(x: torch.Tensor) -> torch.Tensor:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` of ``(N, 3, H, W)`` images: ``(N, 1, H, W)``.

    Examples
    --------
    >>> luma(torch.ones(1, 3, 2, 2)).flatten().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def psnr(x: torch.Tensor, y: torch.Tensor, *, max_db: float = 100.0) -> torch.Tensor:
    """PSNR in dB over the RGB channels of images in [0, 1], ``(N,)``; identical images give ``max_db``.

    Examples
    --------
    >>> x = torch.zeros(1, 3, 4, 4); y = x + 0.1
    >>> round(float(psnr(x, y)[0]), 3)
    20.0
    """
    x, y = check_pair(x, y)
    mse = (x - y).pow(2).mean(dim=(1, 2, 3)).clamp_min(10 ** (-max_db / 10))
    return 10 * torch.log10(1.0 / mse)


def _gaussian(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.exp(-((torch.arange(size, dtype=dtype) - (size - 1) / 2) ** 2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


def ssim(x: torch.Tensor, y: torch.Tensor, *, downsample: bool = True) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of the luma of images in [0, 1], ``(N,)``.

    11 × 11 Gaussian window (σ = 1.5), K = (0.01, 0.03), 'valid' filtering and, with ``downsample``,
    Wang's automatic ``f = max(1, round(min(H, W) / 256))`` box downsampling, as in his ``ssim.m``
    (without its rounding of the grey image to 8 bits).

    Examples
    --------
    >>> x = torch.rand(2, 3, 32, 32)
    >>> ssim(x, x).tolist()
    [1.0, 1.0]
    """
    x, y = check_pair(x, y)
    a, b = luma(x), luma(y)
    a, b = torch.broadcast_tensors(a, b)
    f = max(1, round(min(a.shape[-2:]) / 256)) if downsample else 1
    if f > 1:
        a, b = F.avg_pool2d(a, f), F.avg_pool2d(b, f)
    side = min(a.shape[-2:])
    w = _gaussian(min(11, side if side % 2 else side - 1), dtype=a.dtype).to(a.device)  # small images: smaller window
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    saa = F.conv2d(a * a, w) - mu_a**2
    sbb = F.conv2d(b * b, w) - mu_b**2
    sab = F.conv2d(a * b, w) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return m.mean(dim=(1, 2, 3))

"""The IQA chapter's baselines: which named measures of :mod:`pecore.measures` stand for PSNR, SSIM and LPIPS.

PSNR is ``psnr-rgb`` (RGB, peak 1); SSIM is ``ssim-iqa`` (BT.601 luma, 11 × 11 Gaussian window, Wang's
automatic downsampling); LPIPS is v0.1 on VGG-16 and on AlexNet. Their directions come from
:data:`pecore.measures.MEASURES`.
"""
from __future__ import annotations

import torch

from ..measures import MEASURES, compute

__all__ = ["BASELINES", "psnr", "ssim", "higher_is_better"]

#: baseline column → named measure
BASELINES = {"psnr": "psnr-rgb", "ssim": "ssim-iqa", "lpips-vgg": "lpips-vgg", "lpips-alex": "lpips-alex"}


def higher_is_better(baseline: str) -> bool:
    """The direction of a baseline column (from its named measure).

    Examples
    --------
    >>> higher_is_better("ssim"), higher_is_better("lpips-alex")
    (True, False)
    """
    return MEASURES[BASELINES[baseline]].higher_is_better


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The chapter's PSNR (``psnr-rgb``) of images in [0, 1], ``(N,)``.

    Examples
    --------
    >>> x = torch.zeros(1, 3, 4, 4); y = x + 0.1
    >>> round(float(psnr(x, y)[0]), 3)
    20.0
    """
    return compute("psnr-rgb", x, y)


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The chapter's SSIM (``ssim-iqa``) of images in [0, 1], ``(N,)``.

    Examples
    --------
    >>> x = torch.rand(2, 3, 32, 32)
    >>> ssim(x, x).tolist()
    [1.0, 1.0]
    """
    return compute("ssim-iqa", x, y)

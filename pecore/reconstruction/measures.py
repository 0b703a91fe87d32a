"""What a reconstruction keeps: the chapter's measures (from :mod:`pecore.measures`).

Each column of the results table is one named measure of :mod:`pecore.measures` (see :data:`COLUMNS`):

- ``psnr`` (``psnr-rgb``) and ``ssim`` (``ssim-rgb``, Gaussian 11 × 11 window, σ = 1.5) to the original;
- ``ssim_lowpass`` (``ssim-lowpass``) [choice]: SSIM of the BT.601 luma after a Gaussian blur of
  σ = side/40 of both images — where the large-scale layout is, without rewarding fine texture in place;
- ``ssim_lowpass16`` (``ssim-lowpass-16``): the same after a heavier blur of σ = side/16 — layout at a
  second, coarser scale;
- ``band_1_4``, ``band_4_8``, ``band_8_16``, ``band_16_32`` (``luma-band-…``) [choice]: the correlation
  of the lumas within one band of spatial frequencies (cycles per image) — what is kept at each scale,
  each alone (bands at or above the images' Nyquist limit are left out);
- ``structure`` (``structure-edges``) [choice]: the correlation of the Sobel gradient magnitudes of the
  lumas; 1 = the same edges in the same places;
- ``colour_de2000`` (``ciede2000``) and ``colour_de2000_blur`` (``ciede2000-blur``, after a blur of
  σ = side/16, which keeps the colour of regions but forgives misplaced edges and texture): lower is better.
"""
from __future__ import annotations

import torch  # noqa: F401  (the doctests use it)

from ..measures import LUMA_BANDS
from ..measures import MEASURES as _NAMED
from ..measures import compute
from ..validate import check_image

__all__ = [
    "COLUMNS",
    "MEASURES",
    "BANDS",
    "HIGHER_IS_BETTER",
    "measure",
]

#: results-table column → named measure of :mod:`pecore.measures`
COLUMNS = {"psnr": "psnr-rgb", "ssim": "ssim-rgb", "ssim_lowpass": "ssim-lowpass", "ssim_lowpass16": "ssim-lowpass-16",
           "structure": "structure-edges", "colour_de2000": "ciede2000", "colour_de2000_blur": "ciede2000-blur",
           **{f"band_{lo:g}_{hi:g}": f"luma-band-{lo:g}-{hi:g}" for lo, hi in LUMA_BANDS}}
#: the band columns, coarse to fine
BANDS = tuple(f"band_{lo:g}_{hi:g}" for lo, hi in LUMA_BANDS)
MEASURES = tuple(COLUMNS)
HIGHER_IS_BETTER = {col: _NAMED[name].higher_is_better for col, name in COLUMNS.items()}


def measure(rec, ref) -> dict[str, float]:
    """Every measure of :data:`COLUMNS` for one reconstruction against its original (``(3, H, W)`` each).

    Examples
    --------
    >>> x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0)); m = measure(x, x)
    >>> round(m["ssim"], 6), round(m["structure"], 6), m["colour_de2000"], m["psnr"]
    (1.0, 1.0, 0.0, 100.0)
    """
    a, b = check_image(rec, "reconstruction"), check_image(ref, "original")
    window = min(11, min(a.shape[-2:]) - (1 - min(a.shape[-2:]) % 2))  # tiny test images: the largest odd window
    out = {}
    side = min(a.shape[-2:])
    for col, name in COLUMNS.items():
        if name.startswith("luma-band") and _NAMED[name].options["low"] >= side / 2:
            continue  # a band at or above the Nyquist limit of these images holds nothing to compare
        extra = {"window": window} if name.startswith("ssim") else {}
        out[col] = float(compute(name, a, b, **extra)[0])
    return out

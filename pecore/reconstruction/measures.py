"""What a reconstruction keeps: PSNR, SSIM, a structure score and colour scores, with bootstrap intervals.

- **PSNR** and **SSIM** (Wang et al. 2004) to the original, on RGB in [0, 1] (``skimage.metrics``).
- **Structure** [choice]: the Pearson correlation of the Sobel gradient-magnitude maps of the
  luminance (Rec. 601 luma via ``skimage.color.rgb2gray``) of the original and the reconstruction;
  1 = the same edges in the same places, 0 = unrelated. Defined as 0 when either map is constant.
- **Colour** [choice]: the mean CIEDE2000 colour difference (``skimage.color.deltaE_ciede2000``)
  between the two images in CIELAB (D65), per pixel (``colour_de2000``) and after a Gaussian blur of
  both images with σ = side / 16 pixels (``colour_de2000_blur``), which keeps the colour of regions
  but forgives misplaced edges and texture. Lower is better for both.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ..errors import ImageError, ParameterError
from ..validate import check_image, check_positive

__all__ = [
    "MEASURES",
    "HIGHER_IS_BETTER",
    "to_numpy_image",
    "psnr",
    "ssim",
    "structure_score",
    "colour_score",
    "measure",
    "bootstrap_mean",
    "summarise",
    "paired_differences",
]

MEASURES = ("psnr", "ssim", "structure", "colour_de2000", "colour_de2000_blur")
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "structure": True, "colour_de2000": False,
                    "colour_de2000_blur": False}


def to_numpy_image(x: torch.Tensor | np.ndarray, name: str = "image") -> np.ndarray:
    """One image as an ``(H, W, 3)`` float64 array in [0, 1] (from a tensor ``(3, H, W)`` / ``(1, 3, H, W)``).

    Examples
    --------
    >>> to_numpy_image(torch.zeros(3, 4, 5)).shape
    (4, 5, 3)
    """
    if isinstance(x, np.ndarray):
        if x.ndim != 3 or x.shape[2] != 3:
            raise ImageError(f"{name} as an array must be (H, W, 3) RGB, got shape {x.shape}")
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).permute(2, 0, 1)
    t = check_image(x, name)
    if t.shape[0] != 1:
        raise ImageError(f"{name} must be one image, got a batch of {t.shape[0]}")
    return t[0].detach().cpu().permute(1, 2, 0).double().numpy()


def _pair(rec, ref) -> tuple[np.ndarray, np.ndarray]:
    a, b = to_numpy_image(rec, "reconstruction"), to_numpy_image(ref, "original")
    if a.shape != b.shape:
        raise ImageError(f"reconstruction {a.shape[:2]} and original {b.shape[:2]} differ in size")
    return a, b


def psnr(rec, ref) -> float:
    """PSNR in dB of ``rec`` against ``ref`` (both RGB in [0, 1]); ``inf`` when identical.

    Examples
    --------
    >>> round(psnr(torch.full((3, 8, 8), 0.5), torch.full((3, 8, 8), 0.6)), 2)
    20.0
    """
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _pair(rec, ref)
    if np.array_equal(a, b):
        return float("inf")
    return float(peak_signal_noise_ratio(b, a, data_range=1.0))


def ssim(rec, ref) -> float:
    """Mean SSIM over the colour channels (7 × 7 window, or the largest odd window that fits).

    Examples
    --------
    >>> x = torch.rand(3, 16, 16); round(ssim(x, x), 6)
    1.0
    """
    from skimage.metrics import structural_similarity

    a, b = _pair(rec, ref)
    win = min(7, min(a.shape[:2]) - (1 - min(a.shape[:2]) % 2))
    if win < 3:
        raise ImageError(f"images of {a.shape[:2]} pixels are too small for SSIM (need at least 3 × 3)")
    return float(structural_similarity(b, a, data_range=1.0, channel_axis=2, win_size=win))


def _edges(img: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray
    from skimage.filters import sobel

    return sobel(rgb2gray(img))


def structure_score(rec, ref) -> float:
    """Correlation of the Sobel edge-magnitude maps of the two luminances (0 if either is constant).

    Examples
    --------
    >>> x = torch.zeros(3, 16, 16); x[:, :, 8:] = 1
    >>> structure_score(x, x), structure_score(torch.full((3, 16, 16), 0.5), x)
    (1.0, 0.0)
    """
    a, b = _pair(rec, ref)
    ea, eb = _edges(a).ravel(), _edges(b).ravel()
    if ea.std() < 1e-12 or eb.std() < 1e-12:
        return 0.0
    return float(np.clip(np.corrcoef(ea, eb)[0, 1], -1.0, 1.0))


def colour_score(rec, ref, *, blur_sigma: float | None = None) -> float:
    """Mean CIEDE2000 difference in CIELAB (lower = closer colour); optionally after a Gaussian blur.

    Parameters
    ----------
    rec, ref
        RGB images in [0, 1].
    blur_sigma
        σ in pixels of a Gaussian blur applied to both images first; ``None`` for none.

    Examples
    --------
    >>> x = torch.rand(3, 8, 8); colour_score(x, x)
    0.0
    >>> red, green = torch.zeros(3, 8, 8), torch.zeros(3, 8, 8); red[0] = 1; green[1] = 1
    >>> colour_score(red, green) > 50
    True
    """
    from skimage.color import deltaE_ciede2000, rgb2lab
    from skimage.filters import gaussian

    a, b = _pair(rec, ref)
    if blur_sigma is not None:
        check_positive("blur_sigma", blur_sigma)
        a = gaussian(a, sigma=blur_sigma, channel_axis=2, preserve_range=True)
        b = gaussian(b, sigma=blur_sigma, channel_axis=2, preserve_range=True)
    return float(np.mean(deltaE_ciede2000(rgb2lab(b), rgb2lab(a))))


def measure(rec, ref) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one reconstruction against its original.

    Examples
    --------
    >>> x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0)); m = measure(x, x)
    >>> round(m["ssim"], 6), round(m["structure"], 6), m["colour_de2000"]
    (1.0, 1.0, 0.0)
    """
    a, b = _pair(rec, ref)
    side = min(a.shape[:2])
    return {
        "psnr": psnr(rec, ref),
        "ssim": ssim(rec, ref),
        "structure": structure_score(rec, ref),
        "colour_de2000": colour_score(rec, ref),
        "colour_de2000_blur": colour_score(rec, ref, blur_sigma=side / 16.0),
    }


def bootstrap_mean(values: Sequence[float] | np.ndarray, *, n_boot: int = 1000, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float, float]:
    """Mean and percentile bootstrap interval of the mean of ``values``.

    Examples
    --------
    >>> m, lo, hi = bootstrap_mean([1.0, 2.0, 3.0, 4.0], n_boot=200)
    >>> m, lo <= m <= hi
    (2.5, True)
    """
    from ..compare import bootstrap_mean as _bootstrap_mean

    v = np.asarray(values, dtype=np.float64).ravel()
    return _bootstrap_mean(v[np.isfinite(v)], n_boot=n_boot, level=level, seed=seed)


def summarise(table: pd.DataFrame, by: Sequence[str] = ("layer", "subset"), measures: Sequence[str] = MEASURES,
              *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Mean ± 95 % bootstrap interval of each measure per group, resampling the rows (images × seeds).

    Returns
    -------
    pandas.DataFrame
        One row per group and measure: ``*by, measure, mean, ci_low, ci_high, n``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "subset": ["top"] * 3, "psnr": [10.0, 11.0, 12.0]})
    >>> summarise(t, measures=["psnr"], n_boot=100)[["subset", "measure", "mean", "n"]].values.tolist()
    [['top', 'psnr', 11.0, 3]]
    """
    by = list(by)
    missing = [c for c in [*by, *measures] if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks columns {missing}")
    rows = []
    for key, grp in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in measures:
            mean, lo, hi = bootstrap_mean(grp[m].to_numpy(), n_boot=n_boot, seed=seed)
            rows.append({**dict(zip(by, key)), "measure": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "n": int(np.isfinite(grp[m].to_numpy(dtype=float)).sum())})
    return pd.DataFrame(rows)


def paired_differences(table: pd.DataFrame, a: str = "top", b: str = "bottom", *, measures: Sequence[str] = MEASURES,
                       pair_on: Sequence[str] = ("image", "seed"), by: Sequence[str] = ("layer",),
                       n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Mean of ``subset a − subset b`` per measure, paired on image and seed, with a bootstrap interval.

    ``better`` names the subset the mean difference favours, taking each measure's direction into
    account, or 'neither' when the interval includes 0. Several rows of one subset with the same
    image and seed (random draws) are averaged first.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "image": [0, 1, 0, 1], "seed": 0, "subset": ["top"] * 2 + ["bottom"] * 2,
    ...                   "psnr": [12.0, 13.0, 10.0, 10.5]})
    >>> r = paired_differences(t, measures=["psnr"], n_boot=100).iloc[0]
    >>> float(r["mean"]), r["better"]
    (2.25, 'top')
    """
    rows = []
    for key, grp in table.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cols = [m for m in measures if m in grp.columns]
        left = grp[grp.subset == a].groupby(list(pair_on))[cols].mean()  # random draws: averaged per pair
        right = grp[grp.subset == b].groupby(list(pair_on))[cols].mean()
        common = left.index.intersection(right.index)
        for m in measures:
            d = (left.loc[common, m] - right.loc[common, m]).to_numpy(dtype=float)
            mean, lo, hi = bootstrap_mean(d, n_boot=n_boot, seed=seed)
            up = HIGHER_IS_BETTER.get(m, True)
            if lo > 0:
                better = a if up else b
            elif hi < 0:
                better = b if up else a
            else:
                better = "neither"
            rows.append({**dict(zip(by, key)), "measure": m, "contrast": f"{a} − {b}", "mean": mean, "ci_low": lo,
                         "ci_high": hi, "n_pairs": int(len(common)), "better": better})
    return pd.DataFrame(rows)

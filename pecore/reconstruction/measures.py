"""What a reconstruction keeps: the chapter's measures (from :mod:`pecore.measures`), summaries and contrasts.

Each column of the results table is one named measure of :mod:`pecore.measures` (see :data:`COLUMNS`):

- ``psnr`` (``psnr-rgb``) and ``ssim`` (``ssim-rgb``, Gaussian 11 × 11 window, σ = 1.5) to the original;
- ``ssim_lowpass`` (``ssim-lowpass``) [choice]: SSIM of the BT.601 luma after a Gaussian blur of
  σ = side/40 of both images — where the large-scale layout is, without rewarding fine texture in place;
- ``structure`` (``structure-edges``) [choice]: the correlation of the Sobel gradient magnitudes of the
  lumas; 1 = the same edges in the same places;
- ``colour_de2000`` (``ciede2000``) and ``colour_de2000_blur`` (``ciede2000-blur``, after a blur of
  σ = side/16, which keeps the colour of regions but forgives misplaced edges and texture): lower is better.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ..errors import ParameterError
from ..measures import MEASURES as _NAMED
from ..measures import compute
from ..validate import check_image

__all__ = [
    "COLUMNS",
    "MEASURES",
    "HIGHER_IS_BETTER",
    "measure",
    "summarise",
    "paired_differences",
]

#: results-table column → named measure of :mod:`pecore.measures`
COLUMNS = {"psnr": "psnr-rgb", "ssim": "ssim-rgb", "ssim_lowpass": "ssim-lowpass", "structure": "structure-edges",
           "colour_de2000": "ciede2000", "colour_de2000_blur": "ciede2000-blur"}
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
    for col, name in COLUMNS.items():
        extra = {"window": window} if name.startswith("ssim") else {}
        out[col] = float(compute(name, a, b, **extra)[0])
    return out


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

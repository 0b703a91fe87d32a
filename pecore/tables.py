"""Tables as readers see them: column and row names in words, numbers rounded, no bare 0, 1, 2 … index."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["READABLE_NAMES", "readable", "interval_text", "interval_decimals"]


#: words for the column and row names of the tables chapters display
READABLE_NAMES = {
    "mu1": "μ1", "mu2": "μ2", "pe": "PE", "fhat": "f̂ (cpd)", "theta_hat": "θ̂ (°)", "a_hat": "â",
    "n_channels": "channels", "n_live": "live channels", "n_dead_or_constant": "dead or constant channels",
    "rho": "Spearman ρ", "rho_lo": "ρ, 95 % low", "rho_hi": "ρ, 95 % high", "srocc_median": "median single-channel SROCC",
    "ci_low": "95 % interval, low", "ci_high": "95 % interval, high", "n_images": "images",
    "psnr_y": "PSNR-Y (dB)", "ssim_y": "SSIM-Y", "lpips_vgg": "LPIPS-vgg", "lpips_alex": "LPIPS-alex",
    "psnr_minus_bicubic": "PSNR-Y gain over bicubic (dB)", "loss_before": "loss, previous tenth",
    "loss_last": "loss, last tenth", "relative_change": "relative change", "val_psnr_y_end": "validation PSNR-Y, end",
    "val_psnr_y_at_80pct": "validation PSNR-Y at 80 % of steps", "batch_size": "batch size", "eval_crop": "test-image centre crop (px)",
    "eval_sets": "test sets", "feature_normalise": "feature normalisation", "lambda_grid": "λ grid",
    "loss_precision": "loss precision", "n_blocks": "residual blocks", "n_bootstrap": "bootstrap resamples",
    "n_feats": "feature channels", "pixel_loss": "pixel loss", "sweep_steps": "steps per λ in the sweep",
    "val_images": "validation images", "feature_weight": "λ (feature-loss weight)", "feature_depth": "feature layers",
    "checkpoint_every": "checkpoint every (steps)", "log_every": "log every (steps)", "lr": "learning rate",
    "lr_min": "final learning rate", "probe_preset": "probe preset of the PE table", "scale": "upscaling factor",
}


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its column and row names in words (:data:`READABLE_NAMES`), for display.

    Examples
    --------
    >>> list(readable(pd.DataFrame({"mu1": [0.1], "rho_lo": [0.2]})).columns)
    ['μ1', 'ρ, 95 % low']
    """
    from .experiment import display_name

    def words(c: Any) -> Any:
        return READABLE_NAMES.get(c, display_name(c)) if isinstance(c, str) else c

    out = table.copy()
    if isinstance(out.index, pd.RangeIndex):  # no 0, 1, 2 … column: the first column of names becomes the index
        names = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
        if names:
            out = out.set_index(names[0])
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    out[floats] = out[floats].round(4)
    out = out.rename(columns=words)
    if not pd.api.types.is_numeric_dtype(out.index):
        out = out.rename(index=words)
        if isinstance(out.index.name, str):
            out.index.name = words(out.index.name)
    return out


def _decimals(*values: float, bounds: Sequence[float] = ()) -> int:
    """Decimals that give the largest of ``values`` about three significant digits (0 to 3), more when a
    non-zero interval bound in ``bounds`` would otherwise round to 0 (which side of 0 it lies on matters)."""
    finite = [abs(float(v)) for v in values if np.isfinite(v)]
    scale = max(finite, default=0.0)
    if scale == 0:
        return 2
    d = int(np.clip(2 - np.floor(np.log10(scale)), 0, 3))
    bounds = [abs(float(v)) for v in bounds if np.isfinite(v)]
    while d < 5 and any(0 < v < 0.5 * 10.0 ** -d for v in bounds):
        d += 1
    return d


def interval_decimals(estimate: float, ci_low: float, ci_high: float, *, signed: bool = True) -> int:
    """The decimals :func:`interval_text` writes ``estimate [low, high]`` with (so a column can share them).

    Examples
    --------
    >>> interval_decimals(30.61, 27.2, 33.9, signed=False), interval_decimals(0.998, 0.9962, 1.0, signed=False)
    (1, 4)
    """
    for name, v in (("estimate", estimate), ("ci_low", ci_low), ("ci_high", ci_high)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            from .errors import ParameterError

            raise ParameterError(f"{name} must be a number, got {v!r}")
    d = _decimals(estimate, ci_low, ci_high, bounds=(ci_low, ci_high))
    width = abs(float(ci_high) - float(ci_low))
    if not signed and np.isfinite(width) and width > 0:  # a level near its bound: enough decimals to tell them apart
        d = int(min(max(d, 1 - np.floor(np.log10(width))), 4))
    return d


def interval_text(estimate: float, ci_low: float, ci_high: float, *, signed: bool = True,
                  decimals: int | None = None) -> str:
    """``estimate [low, high]`` in plain decimals, all three to the same number of decimals, with signs
    (a difference) or without (``signed=False``: a level, such as a mean PSNR).

    About three significant digits of the largest of the three (never an exponent), or ``decimals``; a
    difference that rounds to zero is written without a sign; 'n/a' for a value that is not finite.

    Examples
    --------
    >>> interval_text(-9.8e-05, -0.0206, 0.0245)
    '0.000 [-0.021, +0.025]'
    >>> interval_text(0.9072, 0.7511, 1.0708), interval_text(11.13, 9.106, 13.72)
    ('+0.91 [+0.75, +1.07]', '+11.1 [+9.1, +13.7]')
    >>> interval_text(0.0184, 0.000531, 0.0353), interval_text(0.1, float("nan"), float("nan"))
    ('+0.018 [+0.001, +0.035]', '+0.100 [n/a, n/a]')
    >>> interval_text(30.61, 27.2, 33.9, signed=False), interval_text(0.998, 0.9962, 1.0, signed=False)
    ('30.6 [27.2, 33.9]', '0.9980 [0.9962, 1.0000]')
    """
    d = interval_decimals(estimate, ci_low, ci_high, signed=signed) if decimals is None else int(decimals)

    def f(x: float) -> str:
        if not np.isfinite(x):
            return "n/a"
        text = f"{x:+.{d}f}" if signed else f"{x:.{d}f}"
        return text[1:] if signed and float(text) == 0 else text

    return f"{f(estimate)} [{f(ci_low)}, {f(ci_high)}]"

"""Tables as readers see them: column and row names in words, numbers rounded, no bare 0, 1, 2 … index."""
from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["READABLE_NAMES", "readable"]


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

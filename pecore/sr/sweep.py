"""Choosing λ: a short sweep of the ``all`` arm scored on the BSD100 validation split.

The chosen λ is the one with the lowest mean LPIPS-alex on the held-out photographs among the λ whose
mean PSNR-Y is not below bicubic upscaling's (:func:`choose_lambda`); the test sets play no part.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import ParameterError
from .data import bsd100_split, load_hr_images, upscale_bicubic
from .evaluate import METRICS, evaluate_methods
from .settings import SRSettings
from .train import TrainedRun, train_arm

__all__ = ["log_progress", "lpips_metrics", "sweep_name", "choose_lambda", "lambda_sweep", "arm_settings"]


def log_progress(progress: bool, msg: str) -> None:
    if progress:
        import datetime as _dt
        import sys

        print(f"[sr {_dt.datetime.now(_dt.timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)



def lpips_metrics(net: Any, device: torch.device, *, vgg: bool = True) -> dict[str, torch.nn.Module]:
    """LPIPS-alex, and LPIPS-vgg unless ``vgg`` is false, by results column (``net``: a loaded VGG-16 to reuse)."""
    from ..metric import LPIPS

    out = {"lpips_alex": LPIPS("alexnet", device=device)}
    if vgg:
        out["lpips_vgg"] = LPIPS(net if getattr(net, "name", None) == "vgg16" else "vgg16", device=device)
    return out



def sweep_name(lam: float) -> str:
    """The run name of one λ of the sweep.

    Examples
    --------
    >>> sweep_name(0.03)
    'all-lambda0.03'
    """
    return f"all-lambda{lam:g}"


def choose_lambda(table: pd.DataFrame) -> float:
    """The λ of the sweep: the lowest mean LPIPS-alex on the validation split among the λ whose mean PSNR-Y
    is not below bicubic upscaling's; if none keeps PSNR-Y there, the λ with the highest PSNR-Y.

    ``table`` has one row per method of the sweep (``lambda`` NaN for bicubic) with mean ``psnr_y`` and
    ``lpips_alex``. LPIPS-alex judges perceptual quality with a network the loss does not use; the PSNR
    floor keeps a λ whose feature term has started to trade fidelity for texture out.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["bicubic", "a", "b", "c"], "lambda": [float("nan"), 0.01, 0.03, 0.1],
    ...                   "psnr_y": [25.0, 25.6, 25.4, 24.9], "lpips_alex": [0.40, 0.30, 0.28, 0.22]})
    >>> choose_lambda(t)
    0.03
    """
    bic = table[table["lambda"].isna()]
    runs = table[table["lambda"].notna()]
    if runs.empty:
        raise ParameterError("choose_lambda needs at least one λ row")
    floor = float(bic.psnr_y.iloc[0]) if len(bic) else -np.inf
    ok = runs[runs.psnr_y >= floor]
    best = ok.loc[ok.lpips_alex.idxmin()] if len(ok) else runs.loc[runs.psnr_y.idxmax()]
    return float(best["lambda"])


def lambda_sweep(settings: SRSettings, out: Path, net: Any, *, seed: int = 0, device: torch.device,
                 preset: str | None = None, progress: bool = False, lpips: dict | None = None,
                 init: TrainedRun | None = None) -> tuple[pd.DataFrame, float, dict[str, TrainedRun]]:
    """Train the ``all`` arm for each λ of ``settings.lambda_grid`` (``sweep_steps`` steps each), score the runs
    and bicubic on the BSD100 validation split, and choose λ (:func:`choose_lambda`).

    ``init``: the pretrained generator every sweep run starts from. Returns ``(table, chosen λ, runs)``; the
    table has one row per method with the mean of each metric over the validation images,
    ``psnr_minus_bicubic``, ``eligible``, ``chosen`` and ``interior`` (the chosen λ is neither end of the grid).
    """
    from dataclasses import replace

    _, val_names = bsd100_split(settings.val_images, settings.scale)
    val = load_hr_images("BSD100", settings.scale, names=val_names)
    runs: dict[str, TrainedRun] = {}
    for lam in settings.lambda_grid:
        if settings.sweep_steps == settings.steps:  # the very settings of the all arm: its run can be reused
            s = arm_settings(settings, "all", float(lam))
        else:
            s = replace(settings, feature_weight=float(lam), steps=settings.sweep_steps, lambda_grid=(),
                        sweep_steps=0, checkpoint_every=min(settings.checkpoint_every, settings.sweep_steps))
        name = sweep_name(lam)
        log_progress(progress, f"λ sweep: training {name} ({s.steps} steps)")
        runs[name] = train_arm("all", s, out / "sweep" / name, network=net, seed=seed, device=device, preset=preset,
                               progress=progress, init=init, name=name)
        log_progress(progress, f"λ sweep: {name} done ({runs[name].info.get('train_seconds', 0):.0f} s of training)")
    methods = {"bicubic": lambda lr: upscale_bicubic(lr, settings.scale)}
    for name, run in runs.items():
        run.model.to(device).eval()
        methods[name] = (lambda m: (lambda lr: m(lr).clamp(0, 1)))(run.model)
    per_image, _ = evaluate_methods(methods, val, scale=settings.scale, dataset="BSD100-val",
                                    lpips=lpips if lpips is not None else lpips_metrics(net, device), device=device)
    metrics = [m for m in METRICS if m in per_image.columns]
    table = per_image.groupby("method", sort=False)[metrics].mean().reset_index()
    lam_of = {sweep_name(lam): float(lam) for lam in settings.lambda_grid}
    table.insert(1, "lambda", table.method.map(lam_of))
    table.insert(2, "steps", np.where(table["lambda"].isna(), 0, settings.sweep_steps))
    bic = float(table.loc[table.method == "bicubic", "psnr_y"].iloc[0])
    table["psnr_minus_bicubic"] = table.psnr_y - bic
    table["eligible"] = table["lambda"].notna() & (table.psnr_y >= bic)
    chosen = choose_lambda(table)
    table["chosen"] = table["lambda"] == chosen
    grid = sorted(float(v) for v in settings.lambda_grid)
    table["interior"] = len(grid) > 2 and grid[0] < chosen < grid[-1]
    table["n_images"] = len(val)
    table["criterion"] = "lowest mean LPIPS-alex on the validation split among λ with mean PSNR-Y >= bicubic"
    return table, chosen, runs


def arm_settings(settings: SRSettings, arm: str, feature_weight: float | None = None) -> SRSettings:
    """The settings one arm trains with: λ set (0 for the pixel arm, which has no feature term), no sweep fields.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> arm_settings(PRESETS["book"], "pixel").feature_weight, arm_settings(PRESETS["book"], "top", 0.1).feature_weight
    (0.0, 0.1)
    """
    from dataclasses import replace

    lam = 0.0 if arm == "pixel" else float(settings.feature_weight if feature_weight is None else feature_weight)
    return replace(settings, feature_weight=lam, lambda_grid=(), sweep_steps=0)


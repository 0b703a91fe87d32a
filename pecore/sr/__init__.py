"""Super-resolution with a PE-selected perceptual loss (the sr chapter).

A small SRResNet-style ×4 network (:mod:`.model`) is first trained on random HR crops of BSD100 with the
pixel loss alone (a shared start per training seed), then fine-tuned with ``L = L_pix + λ · L_feat(M)``
(:mod:`.losses`), for M = no channel (pixel), all channels, the top-PE, bottom-PE and random channels of the
same count (:mod:`.train`), each with several training seeds, and evaluated with PSNR-Y, SSIM-Y, GMSD and
LPIPS on Set5 and Set14 against bicubic upscaling (:mod:`.evaluate`, :mod:`.experiment`).
Errors for bad input: :class:`ScaleMismatchError`, :class:`CropSizeError` and pecore's named errors.
"""
from __future__ import annotations

import importlib
from typing import Any

# Imported on first use, so that ``import pecore`` (or the command line) does not load training code.
_WHERE = {
    "CropSampler": "data",
    "CropSizeError": "data",
    "ScaleMismatchError": "data",
    "downscale": "data",
    "load_hr_images": "data",
    "upscale_bicubic": "data",
    "psnr_y": "evaluate",
    "rgb_to_y": "evaluate",
    "ssim_y": "evaluate",
    "SRResults": "experiment",
    "evaluate_dir": "experiment",
    "run_experiment": "experiment",
    "ARMS": "losses",
    "SRLoss": "losses",
    "arm_weights": "losses",
    "SRResNet": "model",
    "build_model": "model",
    "SRSettings": "settings",
    "load_run": "train",
    "train_arm": "train",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ARMS", "CropSampler", "CropSizeError", "ScaleMismatchError", "SRLoss", "SRResNet", "SRResults", "SRSettings",
    "arm_weights", "build_model", "downscale", "evaluate_dir", "load_hr_images", "load_run", "psnr_y", "rgb_to_y",
    "run_experiment", "ssim_y", "train_arm", "upscale_bicubic",
]

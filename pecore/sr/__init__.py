"""Super-resolution with a PE-selected perceptual loss (method.md §8; the sr chapter).

A small SRResNet-style ×4 network (:mod:`.model`) is trained on random HR crops of BSD100 with
``L = L_pix + λ · L_feat(M)`` (:mod:`.losses`), for M = no channel (pixel), all channels, the top-PE,
bottom-PE and random channels of the same count (:mod:`.train`), and evaluated with PSNR-Y, SSIM-Y and
LPIPS-vgg on Set5 and Set14 against bicubic upscaling (:mod:`.evaluate`, :mod:`.experiment`).
Errors for bad input: :class:`ScaleMismatchError`, :class:`CropSizeError` and pecore's named errors.
"""
from .data import CropSampler, CropSizeError, ScaleMismatchError, downscale, load_hr_images, upscale_bicubic
from .evaluate import psnr_y, rgb_to_y, ssim_y
from .experiment import SRResults, evaluate_dir, run_experiment
from .losses import ARMS, SRLoss, arm_weights
from .model import SRResNet, build_model
from .settings import SRSettings
from .train import load_run, train_arm

__all__ = [
    "ARMS", "CropSampler", "CropSizeError", "ScaleMismatchError", "SRLoss", "SRResNet", "SRResults", "SRSettings",
    "arm_weights", "build_model", "downscale", "evaluate_dir", "load_hr_images", "load_run", "psnr_y", "rgb_to_y",
    "run_experiment", "ssim_y", "train_arm", "upscale_bicubic",
]

"""Sinusoidal gratings in cycles per degree.

A display geometry of ``ppd`` pixels per degree turns a frequency of ``f`` cycles per degree
(cpd) into ``f / ppd`` cycles per pixel; frequencies above the Nyquist limit ``ppd / 2`` are
refused. Every image is achromatic (R = G = B) with values in [0, 1].

Orientation convention: ``theta`` is the direction of the grating's modulation (its wave
vector), in degrees, counter-clockwise from the image's x axis with y pointing up. ``theta = 0``
gives vertical bars; ``theta = 90`` horizontal bars.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .device import resolve_device
from .errors import NyquistError, ParameterError
from .validate import check_grid, check_positive

__all__ = ["check_frequencies", "phase_grid", "radial_gratings", "oriented_gratings"]


def check_frequencies(frequencies: Sequence[float] | np.ndarray, ppd: float) -> np.ndarray:
    """Validate a frequency grid in cpd against the display's Nyquist limit ``ppd / 2``.

    Examples
    --------
    >>> check_frequencies([1.0, 2.0], ppd=60).tolist()
    [1.0, 2.0]
    >>> check_frequencies([40.0], ppd=60)
    Traceback (most recent call last):
    ...
    pecore.errors.NyquistError: frequency 40 cpd is above the Nyquist limit ppd / 2 = 30 cpd (ppd = 60); lower it or raise ppd
    """
    check_positive("ppd", ppd)
    freqs = check_grid("frequencies (cpd)", frequencies)
    nyquist = ppd / 2
    above = freqs[freqs > nyquist * (1 + 1e-9)]
    if above.size:
        raise NyquistError(
            f"frequency {above[0]:g} cpd is above the Nyquist limit ppd / 2 = {nyquist:g} cpd "
            f"(ppd = {ppd:g}); lower it or raise ppd"
        )
    return freqs


def phase_grid(n_phases: int) -> np.ndarray:
    """``n_phases`` evenly spaced phases in [0, 2π).

    Examples
    --------
    >>> np.round(phase_grid(4), 3).tolist()
    [0.0, 1.571, 3.142, 4.712]
    """
    check_positive("n_phases", n_phases, integer=True)
    return np.arange(n_phases) * (2 * np.pi / n_phases)


def _check_luminance(mean_luminance: float, contrast: float) -> None:
    check_positive("mean_luminance", mean_luminance)
    check_positive("contrast", contrast, allow_zero=True)
    if contrast > 1:
        raise ParameterError(f"Michelson contrast must be in [0, 1], got {contrast}")
    if mean_luminance * (1 + contrast) > 1 + 1e-9:
        raise ParameterError(
            f"mean_luminance · (1 + contrast) = {mean_luminance * (1 + contrast):g} exceeds 1: "
            "the grating would leave the [0, 1] image range"
        )


def _coords(size: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    check_positive("size", size, integer=True)
    c = (size - 1) / 2
    idx = torch.arange(size, device=device, dtype=dtype) - c
    y, x = torch.meshgrid(-idx, idx, indexing="ij")  # y points up
    return x, y


def _render(phase_arg: torch.Tensor, phases: np.ndarray, mean_luminance: float, contrast: float) -> torch.Tensor:
    ph = torch.as_tensor(phases, device=phase_arg.device, dtype=phase_arg.dtype).view(1, -1, 1, 1)
    lum = mean_luminance * (1 + contrast * torch.cos(phase_arg.unsqueeze(1) + ph))
    lum = lum.clamp_(0.0, 1.0)
    return lum.unsqueeze(2).expand(-1, -1, 3, -1, -1)


def radial_gratings(
    frequencies: Sequence[float] | np.ndarray,
    *,
    size: int = 224,
    ppd: float = 60.0,
    n_phases: int = 4,
    contrast: float = 1.0,
    mean_luminance: float = 0.5,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Concentric gratings ``L0 · (1 + c · cos(2π · f/ppd · r + φ))``, ``r`` from the image centre.

    Returns
    -------
    torch.Tensor
        Shape ``(F, P, 3, size, size)``: frequency, phase, RGB, height, width; values in [0, 1].

    Examples
    --------
    >>> radial_gratings([2.0, 4.0], size=32, n_phases=2).shape
    torch.Size([2, 2, 3, 32, 32])
    """
    freqs = check_frequencies(frequencies, ppd)
    _check_luminance(mean_luminance, contrast)
    dev = resolve_device(device)
    x, y = _coords(size, dev, torch.float64)
    r = torch.sqrt(x**2 + y**2)
    k = torch.as_tensor(2 * np.pi * freqs / ppd, device=dev, dtype=torch.float64).view(-1, 1, 1)
    return _render(k * r, phase_grid(n_phases), mean_luminance, contrast).to(dtype)


def oriented_gratings(
    frequencies: Sequence[float] | np.ndarray | float,
    orientations_deg: Sequence[float] | np.ndarray,
    *,
    size: int = 224,
    ppd: float = 60.0,
    n_phases: int = 4,
    contrast: float = 1.0,
    mean_luminance: float = 0.5,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Straight gratings ``L0 · (1 + c · cos(2π · f/ppd · (x cos θ + y sin θ) + φ))``.

    Returns
    -------
    torch.Tensor
        Shape ``(F, O, P, 3, size, size)``; values in [0, 1].

    Examples
    --------
    >>> oriented_gratings(4.0, [-90, 0, 45], size=16, n_phases=1).shape
    torch.Size([1, 3, 1, 3, 16, 16])
    """
    freqs = check_frequencies(np.atleast_1d(np.asarray(frequencies, dtype=float)), ppd)
    thetas = np.asarray(orientations_deg, dtype=float)
    if thetas.ndim != 1 or thetas.size == 0 or not np.all(np.isfinite(thetas)):
        raise ParameterError(f"orientations must be a non-empty 1-D grid of finite degrees, got {thetas!r}")
    _check_luminance(mean_luminance, contrast)
    dev = resolve_device(device)
    x, y = _coords(size, dev, torch.float64)
    th = torch.as_tensor(np.deg2rad(thetas), device=dev, dtype=torch.float64).view(1, -1, 1, 1)
    proj = x * torch.cos(th) + y * torch.sin(th)  # (1, O, H, W)
    k = torch.as_tensor(2 * np.pi * freqs / ppd, device=dev, dtype=torch.float64).view(-1, 1, 1, 1)
    arg = (k * proj).reshape(-1, size, size)  # (F*O, H, W)
    out = _render(arg, phase_grid(n_phases), mean_luminance, contrast)
    return out.reshape(len(freqs), len(thetas), n_phases, 3, size, size).to(dtype)

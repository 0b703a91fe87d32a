"""Input validators shared by every pecore module."""
from __future__ import annotations

import os

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from .errors import ImageError, ParameterError, UnknownNameError

__all__ = ["check_image_memory", "check_choice", "check_positive", "check_grid", "check_image", "check_fraction", "replace_fields",
           "preset_settings"]


def check_choice(kind: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise :class:`UnknownNameError`.

    Examples
    --------
    >>> check_choice("CSF", "flat", ["flat", "barten"])
    'flat'
    """
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise UnknownNameError(f"unknown {kind} {value!r}; allowed: {', '.join(map(str, allowed))}")
    return value


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    """Return ``value`` if it is a finite number > 0 (>= 0 with ``allow_zero``).

    Examples
    --------
    >>> check_positive("ppd", 60.0)
    60.0
    >>> check_positive("seed", 2 ** 70, integer=True)
    Traceback (most recent call last):
    ...
    pecore.errors.ParameterError: seed must be below 2**63, got 1180591620717411303424
    """
    ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        kind = "an integer" if integer else "a number"
        raise ParameterError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    if isinstance(value, int) and abs(value) >= 2 ** 63:  # Python ints beyond 64 bits: numpy and torch refuse them
        raise ParameterError(f"{name} must be below 2**63, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"{name} must be finite and {bound}, got {value!r}")
    return value


def check_fraction(name: str, value: Any) -> float:
    """Return a percentage ``value`` in (0, 100].

    Examples
    --------
    >>> check_fraction("p", 25)
    25.0
    """
    check_positive(name, value)
    if value > 100:
        raise ParameterError(f"{name} is a percentage in (0, 100], got {value!r}")
    return float(value)


def check_grid(name: str, values: Sequence[float] | np.ndarray, *, positive: bool = True) -> np.ndarray:
    """Return ``values`` as a 1-D float array that is non-empty, finite and strictly increasing.

    Examples
    --------
    >>> check_grid("frequencies", [1, 2, 4]).tolist()
    [1.0, 2.0, 4.0]
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D grid, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite, got {arr.tolist()}")
    if positive and np.any(arr <= 0):
        raise ParameterError(f"{name} must be > 0, got {arr[arr <= 0].tolist()}")
    if arr.size > 1 and np.any(np.diff(arr) <= 0):
        raise ParameterError(f"{name} must be strictly increasing (sorted, no repeats), got {arr.tolist()}")
    return arr


def check_image_memory(name: str, size: int, *, aspect: float = 1.5, channels: int = 64, batch: int = 2) -> int:
    """Refuse an image size whose first feature maps would not fit in this machine's memory, before anything is
    allocated; returns the estimated bytes.

    The estimate is the largest early activation a forward pass keeps: ``batch`` images of ``size`` (shorter side)
    × ``aspect`` · ``size`` pixels, ``channels`` float32 maps, three of them alive at once (convolution, ReLU, the
    next convolution's input), and the image itself.

    Examples
    --------
    >>> check_image_memory("--size", 256) < 1e9
    True
    >>> check_image_memory("--size", 100000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pecore.errors.ParameterError: --size 100000 would need about 23 TB of memory for the network's first layers; ...
    """
    pixels = float(size) * float(size) * aspect
    need = int(batch * pixels * 4 * (3 * channels + 3))
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not every system says
        free = None
    if free is not None and need > free:
        def words(n: float) -> str:
            for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
                if n < 1000:
                    return f"{n:.0f} {unit}"
                n /= 1000
            return f"{n:.0f} EB"
        raise ParameterError(f"{name} {size} would need about {words(need)} of memory for the network's first layers; "
                             f"this machine has {words(free)} free: use a smaller {name}")
    return need


def check_image(x: Any, name: str = "image", *, batched: bool | None = None) -> torch.Tensor:
    """Check the pecore image contract and return a ``(N, 3, H, W)`` float tensor.

    The contract: RGB, values in [0, 1], finite, floating point, shape ``(3, H, W)`` or
    ``(N, 3, H, W)``.

    Raises
    ------
    ImageError
        Naming the problem: type, shape, dtype, non-finite values or range.

    Examples
    --------
    >>> check_image(torch.zeros(3, 8, 8)).shape
    torch.Size([1, 3, 8, 8])
    """
    if not isinstance(x, torch.Tensor):
        raise ImageError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise ImageError(f"{name} must be a floating-point tensor with values in [0, 1], got dtype {x.dtype}")
    if x.ndim == 3 and batched is not True:
        x = x.unsqueeze(0)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ImageError(f"{name} must have shape (N, 3, H, W) or (3, H, W) (RGB), got {tuple(x.shape)}")
    if x.shape[-1] < 1 or x.shape[-2] < 1 or x.shape[0] < 1:
        raise ImageError(f"{name} is empty: shape {tuple(x.shape)}")
    with torch.no_grad():
        if not bool(torch.isfinite(x).all()):
            raise ImageError(f"{name} contains NaN or infinite values")
        lo, hi = float(x.min()), float(x.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        hint = " (it looks like [0, 255]: divide by 255)" if hi > 2 else (
            " (it looks like [-1, 1]: use (x + 1) / 2)" if lo < -0.1 else "")
        raise ImageError(f"{name} must have values in [0, 1], got range [{lo:.4g}, {hi:.4g}]{hint}")
    return x


def preset_settings(presets: dict[str, Any], name: str, overrides: dict[str, Any] | None, kind: str) -> Any:
    """The settings of preset ``name`` in ``presets`` with ``overrides`` (named errors for unknown names).

    Examples
    --------
    >>> from pecore.reconstruction.settings import PRESETS
    >>> preset_settings(PRESETS, "ci", {"steps": 2}, "reconstruction").steps
    2
    """
    settings = presets[check_choice(f"{kind} preset", name, presets)]
    return replace_fields(settings, overrides, f"{kind} settings field")


def replace_fields(settings: Any, overrides: dict[str, Any] | None, kind: str) -> Any:
    """A copy of the dataclass ``settings`` with ``overrides``; unknown fields raise :class:`UnknownNameError`.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class S:
    ...     steps: int = 1
    >>> replace_fields(S(), {"steps": 5}, "settings field").steps
    5
    >>> replace_fields(S(), {"stpes": 5}, "settings field")
    Traceback (most recent call last):
    ...
    pecore.errors.UnknownNameError: unknown settings field 'stpes'; allowed: steps
    """
    from dataclasses import fields, replace

    if not overrides:
        return settings
    names = [f.name for f in fields(settings)]
    for key in overrides:
        check_choice(kind, key, names)
    # a list given for a tuple field (e.g. from a notebook parameter) becomes a tuple, so settings stay hashable
    fixed = {k: tuple(v) if isinstance(v, list) and isinstance(getattr(settings, k), tuple) else v
             for k, v in overrides.items()}
    return replace(settings, **fixed)

"""Contrast sensitivity functions of spatial frequency in cycles per degree."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .validate import check_choice, check_positive

__all__ = ["mannos_sakrison", "barten", "flat", "CSFS", "get_csf", "sensitive_band"]


def _freqs(f: Any) -> np.ndarray:
    arr = np.asarray(f, dtype=np.float64)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        from .errors import ParameterError

        raise ParameterError("CSF frequencies must be finite and >= 0 cpd")
    return arr


def mannos_sakrison(f: Any) -> np.ndarray:
    """Mannos & Sakrison (1974): ``S(f) = 2.6 (0.0192 + 0.114 f) exp(-(0.114 f)^1.1)``.

    Peaks near 8 cpd with a value close to 1.

    Examples
    --------
    >>> round(float(mannos_sakrison(8.0)), 3)
    0.981
    """
    f = _freqs(f)
    return 2.6 * (0.0192 + 0.114 * f) * np.exp(-((0.114 * f) ** 1.1))


def barten(f: Any, luminance: float = 100.0, field_deg: float = 10.0) -> np.ndarray:
    """Barten's (1999) simplified CSF for a luminance ``L`` (cd/m²) and a square field ``w`` (degrees).

    ``S(u) = a u exp(-b u) sqrt(1 + c exp(b u))`` with
    ``a = 540 (1 + 0.7/L)^-0.2 / (1 + 12 / (w (1 + u/3)^2))``, ``b = 0.3 (1 + 100/L)^0.15``, ``c = 0.06``.

    Examples
    --------
    >>> f = np.linspace(0.5, 30, 300); round(float(f[np.argmax(barten(f))]), 1)
    4.0
    """
    f = _freqs(f)
    check_positive("luminance (cd/m²)", luminance)
    check_positive("field size (degrees)", field_deg)
    a = 540.0 * (1 + 0.7 / luminance) ** -0.2 / (1 + 12.0 / (field_deg * (1 + f / 3.0) ** 2))
    b = 0.3 * (1 + 100.0 / luminance) ** 0.15
    c = 0.06
    return a * f * np.exp(-b * f) * np.sqrt(1 + c * np.exp(b * f))


def flat(f: Any) -> np.ndarray:
    """The ablation ``S(f) = 1``.

    Examples
    --------
    >>> flat([1, 2]).tolist()
    [1.0, 1.0]
    """
    return np.ones_like(_freqs(f))


CSFS: dict[str, Callable[..., np.ndarray]] = {
    "mannos-sakrison": mannos_sakrison,
    "barten": barten,
    "flat": flat,
}


def get_csf(name: str, **params: float) -> Callable[[Any], np.ndarray]:
    """The CSF called ``name`` with its parameters bound (Barten: ``luminance``, ``field_deg``).

    Examples
    --------
    >>> bool(get_csf("barten", luminance=10)(4.0) < get_csf("barten", luminance=100)(4.0))
    True
    """
    fn = CSFS[check_choice("CSF", name, CSFS)]
    if params and name != "barten":
        from .errors import ParameterError

        raise ParameterError(f"CSF {name!r} takes no parameters, got {sorted(params)}")
    return lambda f: fn(f, **params)


def sensitive_band(csf: Callable[[Any], np.ndarray], f_min: float = 0.5, f_max: float = 30.0,
                   fraction: float = 0.5) -> tuple[float, float] | None:
    """The frequencies (cpd) where ``csf`` is at least ``fraction`` of its peak over [f_min, f_max].

    ``None`` for a flat CSF (every frequency is equally weighted: no band).

    Examples
    --------
    >>> lo, hi = sensitive_band(mannos_sakrison)
    >>> round(lo, 1), round(hi, 1)
    (1.8, 20.2)
    >>> sensitive_band(flat) is None
    True
    """
    check_positive("fraction", fraction)
    f = np.geomspace(f_min, f_max, 2000)
    s = np.asarray(csf(f), dtype=np.float64)
    if np.ptp(s) <= 1e-12 * max(abs(s.max()), 1e-300):
        return None
    inside = f[s >= fraction * s.max()]
    return float(inside.min()), float(inside.max())

"""μ1 (frequency sensitivity), f̂, μ2 (orientation selectivity) and PE.

Every [choice] of the method (the book's Method page) is a named option of :class:`ScoreConfig`; :data:`VARIANTS` names
the alternatives one at a time, as used by the robustness analysis.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import trapezoid

from .csf import CSFS, get_csf
from .errors import NonFiniteError, ParameterError
from .validate import check_choice

__all__ = [
    "ScoreConfig",
    "VARIANTS",
    "make_config",
    "dead_channels",
    "check_responses",
    "frequency_scores",
    "orientation_scores",
    "perceptual_efficacy",
    "rank_within_layer",
]

_OPTIONS: dict[str, tuple[str, ...]] = {
    "csf": tuple(CSFS),
    "stimulus": ("radial", "oriented-mean"),
    "normalise": ("max", "none"),
    "derivative": ("linear", "log"),
    "slope": ("abs", "signed"),
    "fhat": ("weighted-sensitivity", "peak-activation"),
    "mu2": ("peak-ratio", "circular"),
    "pe": ("product", "mean"),
}


@dataclass(frozen=True)
class ScoreConfig:
    """How channels are scored. The defaults are the documented [choice] defaults of the book's Method page.

    Attributes
    ----------
    csf
        'mannos-sakrison' (default), 'barten' (at ``csf_luminance`` cd/m², ``csf_field_deg`` degrees) or 'flat'.
    stimulus
        Frequency-sweep stimulus: 'radial' or 'oriented-mean'.
    normalise
        'max': ``ā = a / max_f a``; 'none': raw activations.
    derivative
        'linear': ``dā/df`` integrated over f; 'log': ``dā/dlog f`` integrated over log f.
    slope
        'abs': ``|dā/df|``; 'signed': the signed slope.
    fhat
        'weighted-sensitivity': argmax of ``S(f)|dā/df|``; 'peak-activation': argmax of ``a(f)``.
    mu2
        'peak-ratio': ``1 − mean_θ a / max_θ a``; 'circular': ``|Σ a e^{2iθ}| / Σ a``.
    pe
        'product' of the layer-normalised μ1 and μ2, or their 'mean'.
    """

    csf: str = "mannos-sakrison"
    csf_luminance: float = 100.0
    csf_field_deg: float = 10.0
    stimulus: str = "radial"
    normalise: str = "max"
    derivative: str = "linear"
    slope: str = "abs"
    fhat: str = "weighted-sensitivity"
    mu2: str = "peak-ratio"
    pe: str = "product"

    def __post_init__(self) -> None:
        for name, allowed in _OPTIONS.items():
            check_choice(f"score option {name}", getattr(self, name), allowed)

    def csf_function(self):
        """The configured CSF as a function of frequency in cpd."""
        if self.csf == "barten":
            return get_csf("barten", luminance=self.csf_luminance, field_deg=self.csf_field_deg)
        return get_csf(self.csf)

    def as_dict(self) -> dict[str, Any]:
        """The configuration as a plain dict."""
        return asdict(self)


VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "no-normalisation": {"normalise": "none"},
    "log-derivative": {"derivative": "log"},
    "signed-slope": {"slope": "signed"},
    "no-csf": {"csf": "flat"},
    "barten-csf": {"csf": "barten"},
    "fhat-peak-activation": {"fhat": "peak-activation"},
    "mu2-circular": {"mu2": "circular"},
    "pe-mean": {"pe": "mean"},
    "oriented-mean-stimulus": {"stimulus": "oriented-mean"},
}


def make_config(variants: Sequence[str] | str = (), **overrides: Any) -> ScoreConfig:
    """A :class:`ScoreConfig` from named variants and/or ``option=value`` overrides.

    Examples
    --------
    >>> make_config(["log-derivative", "mu2-circular"]).mu2
    'circular'
    >>> make_config(csf="flat").csf
    'flat'

    Variants that set the same option differently (``["barten-csf", "no-csf"]``) raise :class:`ParameterError`.
    """
    if isinstance(variants, str):
        variants = [variants]
    if not isinstance(variants, (list, tuple)):
        raise ParameterError(f"variants must be a variant name or a list of them, got {type(variants).__name__}")
    settings: dict[str, Any] = {}
    chosen_by: dict[str, str] = {}
    for name in variants:
        for option, value in VARIANTS[check_choice("score variant", name, VARIANTS)].items():
            if option in settings and settings[option] != value:
                raise ParameterError(f"score variants {chosen_by[option]!r} and {name!r} both set {option} "
                                     f"({settings[option]!r} vs {value!r}); choose one")
            settings[option], chosen_by[option] = value, name
    known = [f.name for f in fields(ScoreConfig)]
    for key, value in overrides.items():
        check_choice("score option", key, known)
        if key in settings and settings[key] != value:
            raise ParameterError(f"score variant {chosen_by[key]!r} sets {key}={settings[key]!r} but {key}={value!r} "
                                 "was also asked for; choose one")
    settings.update(overrides)
    return replace(ScoreConfig(), **settings)


def check_responses(response: np.ndarray, what: str = "response") -> None:
    """Refuse mean activations that PE cannot score: NaN or infinite values, or negative ones.

    PE normalises each channel's response by its peak and calls a channel dead when it is 0 on every
    stimulus; both assume the non-negative output of a ReLU. A tap before its ReLU (a convolution) is refused
    with the reason instead of being scored wrongly.

    Examples
    --------
    >>> check_responses(np.array([[0.0, 1.0]]))
    >>> check_responses(np.array([[0.0, -1.0]]))
    Traceback (most recent call last):
    ...
    pecore.errors.ParameterError: response: 1 channel(s) have negative mean activations (min -1): PE assumes the non-negative output of a ReLU — probe the ReLU after this layer (e.g. relu1_1, not conv1_1)
    """
    a = np.asarray(response, dtype=float)
    bad = ~np.isfinite(a)
    if bad.any():
        rows = int(bad.reshape(len(a), -1).any(axis=1).sum()) if a.ndim > 1 else 1
        raise NonFiniteError(f"{what}: {int(bad.sum())} NaN or infinite values in {rows} channel(s); the sweep is "
                             "damaged — probe again (or delete the cache entry) rather than score it")
    if (a < 0).any():
        rows = int((a < 0).reshape(len(a), -1).any(axis=1).sum()) if a.ndim > 1 else 1
        raise ParameterError(f"{what}: {rows} channel(s) have negative mean activations (min "
                             f"{a.min():.3g}): PE assumes the non-negative output of a ReLU — probe the ReLU after "
                             "this layer (e.g. relu1_1, not conv1_1)")


def dead_channels(freq_response: np.ndarray) -> np.ndarray:
    """Channels whose mean activation is 0 on every stimulus of the sweep.

    Examples
    --------
    >>> dead_channels(np.array([[0.0, 0.0], [0.0, 1.0]])).tolist()
    [True, False]
    """
    return ~(np.asarray(freq_response) > 0).any(axis=1)


def frequency_scores(
    response: np.ndarray, frequencies: np.ndarray, config: ScoreConfig = ScoreConfig()
) -> pd.DataFrame:
    """μ1 and f̂ of each channel from its frequency response ``(C, F)``.

    Default: ``ā = a / max_f a``; ``μ1 = ∫ S(f) |dā/df| df / ∫ S(f) df`` (trapezoid rule, derivative
    on the non-uniform grid by second-order finite differences); ``f̂ = argmax_f S(f)|dā/df|``.

    Returns
    -------
    pandas.DataFrame
        Columns ``mu1``, ``fhat`` (cpd), ``fhat_index``, ``dead``; one row per channel.

    Examples
    --------
    >>> f = np.geomspace(0.5, 30, 32)
    >>> a = np.stack([np.exp(-np.log(f / 8) ** 2), np.zeros_like(f)])
    >>> s = frequency_scores(a, f)
    >>> bool(s.mu1[0] > 0), float(s.mu1[1]), bool(s.dead[1])
    (True, 0.0, True)
    """
    a = np.asarray(response, dtype=np.float64)
    f = np.asarray(frequencies, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != f.size or f.size < 2:
        raise ParameterError(f"frequency response must be (channels, {f.size}) with >= 2 frequencies, got {a.shape}")
    check_responses(a, "frequency response")
    dead = dead_channels(a)
    if config.normalise == "max":
        peak = a.max(axis=1, keepdims=True)
        a = np.divide(a, peak, out=np.zeros_like(a), where=peak > 0)
    s = config.csf_function()(f)
    x = np.log(f) if config.derivative == "log" else f
    slope = np.gradient(a, x, axis=1)
    weighted = s * (np.abs(slope) if config.slope == "abs" else slope)
    mu1 = trapezoid(weighted, x, axis=1) / trapezoid(s, x)
    idx = np.argmax(s * np.abs(slope), axis=1) if config.fhat == "weighted-sensitivity" else np.argmax(a, axis=1)
    mu1[dead] = 0.0
    idx[dead] = 0
    fhat = np.where(dead, np.nan, f[idx])
    return pd.DataFrame({"mu1": mu1, "fhat": fhat, "fhat_index": idx, "dead": dead})


def orientation_scores(
    response: np.ndarray, orientations_deg: np.ndarray, config: ScoreConfig = ScoreConfig()
) -> pd.DataFrame:
    """μ2, preferred orientation θ̂ and peak activation â from the responses ``(C, O)``.

    Default: ``â = max_θ a(θ)``, ``μ2 = 1 − mean_θ a(θ) / â``. Channels silent at every orientation
    get μ2 = 0.

    Examples
    --------
    >>> th = np.arange(-90, 90, 10.0)
    >>> a = np.stack([np.cos(np.deg2rad(th - 30)) ** 8, np.ones_like(th)])
    >>> s = orientation_scores(a, th)
    >>> float(s.theta_hat[0]), bool(s.mu2[0] > 0.5), float(s.mu2[1])
    (30.0, True, 0.0)
    """
    a = np.asarray(response, dtype=np.float64)
    th = np.asarray(orientations_deg, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != th.size:
        raise ParameterError(f"orientation response must be (channels, {th.size}), got {a.shape}")
    peak = a.max(axis=1)
    alive = peak > 0
    if config.mu2 == "peak-ratio":
        mu2 = np.where(alive, 1.0 - a.mean(axis=1) / np.where(alive, peak, 1.0), 0.0)
    else:
        total = a.sum(axis=1)
        vec = np.abs((a * np.exp(2j * np.deg2rad(th))).sum(axis=1))
        mu2 = np.where(total > 0, vec / np.where(total > 0, total, 1.0), 0.0)
    theta_hat = np.where(alive, th[np.argmax(a, axis=1)], 0.0)
    return pd.DataFrame({"mu2": mu2, "theta_hat": theta_hat, "a_hat": peak})


def _layer_normalised(x: np.ndarray) -> np.ndarray:
    top = np.max(np.abs(x)) if x.size else 0.0
    return x / top if top > 0 else np.zeros_like(x)


def perceptual_efficacy(mu1: np.ndarray, mu2: np.ndarray, config: ScoreConfig = ScoreConfig()) -> np.ndarray:
    """PE of the channels of one layer: ``(μ1 / max μ1) · (μ2 / max μ2)`` (default) or their mean.

    Examples
    --------
    >>> perceptual_efficacy(np.array([1.0, 2.0]), np.array([0.5, 0.25])).tolist()
    [0.5, 0.5]
    """
    n1, n2 = _layer_normalised(np.asarray(mu1, float)), _layer_normalised(np.asarray(mu2, float))
    return n1 * n2 if config.pe == "product" else (n1 + n2) / 2


def rank_within_layer(pe: np.ndarray, dead: np.ndarray | None = None) -> np.ndarray:
    """Rank 1 = highest PE; ties broken by channel index; dead channels rank last.

    Examples
    --------
    >>> rank_within_layer(np.array([0.1, 0.9, 0.5])).tolist()
    [3, 1, 2]
    """
    pe = np.asarray(pe, dtype=float)
    dead = np.zeros(pe.shape, bool) if dead is None else np.asarray(dead, bool)
    order = np.lexsort((np.arange(pe.size), -pe, dead))
    rank = np.empty(pe.size, dtype=int)
    rank[order] = np.arange(1, pe.size + 1)
    return rank

"""A network's contrast sensitivity and contrast masking, measured per channel subset without training.

The psychophysical paradigm, run on a network's features instead of an observer:

- **Detection.** A grating of frequency f and contrast c is shown against a uniform field of the same mean
  luminance. For a set S of channels of a layer, the feature distance is
  ``D_S(f, c) = sqrt(mean over k in S of d²_k(f, c))``, where ``d²_k`` is channel k's squared response
  difference averaged over positions, orientations and phases. The **threshold** ``c_T(f)`` is the contrast
  at which ``D_S`` first reaches a criterion τ_S (log–log interpolation between grid contrasts); the
  sensitivity is ``S(f) = 1 / c_T(f)``. τ_S is a fixed fraction κ of the subset's largest full-contrast
  distance over frequencies, so every subset is judged against its own dynamic range and the curve's
  *shape* — not its height — carries the information.
- **Masking.** A target grating of contrast c is added in phase to a masker grating of the same frequency
  and orientation and contrast m (a pedestal); the distance is taken from the masker alone. The threshold
  elevation ``c_T(m) / c_T(0)`` against m (criterion: a fraction of the subset's own response to the strongest
  target at that frequency), on log–log axes, rises with a slope of about 0.5–0.7 in human
  observers for maskers well above threshold (Legge & Foley 1980). The masking slope does not depend on
  any CSF, so it is a test of "human-like" that the PE score (whose μ1 is CSF-weighted) cannot build in.

Per-channel distances are stored (:class:`ChannelDistances`), so any channel subset — top-, bottom-PE under
any scoring, random draws, all — is read from one set of forward passes, and bootstrap intervals resample
channels at no cost. A linear filter with transfer function H(f) gives ``S(f) ∝ |H(f)|``, which the tests
check.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import ParameterError
from ..networks import Network
from ..progress import progress_bar
from ..stimuli import oriented_gratings

__all__ = ["SensitivityGrid", "ChannelDistances", "channel_distances", "subset_distance", "thresholds",
           "sensitivity_curves", "masking_slopes", "csf_correlation", "peak_frequency", "bootstrap_weights"]


@dataclass(frozen=True)
class SensitivityGrid:
    """Stimuli of the detection and masking measurements.

    Attributes
    ----------
    size, ppd, mean_luminance
        Image side (pixels), display pixels per degree, mean luminance (as the probe's).
    frequencies
        Grating frequencies of the detection measurement, cpd.
    contrasts
        Michelson contrasts of the detection ladder (ascending, ≤ 1).
    orientations, n_phases
        Each d²_k is averaged over these grating orientations (degrees) and ``n_phases`` phases spread evenly
        over half a cycle (2: a quadrature pair, 0 and 90°, whose squared responses sum to a constant for a
        linear filter, so that partial periods at the image border cancel).
    kappa
        The criterion τ_S as a fraction of the subset's largest full-contrast distance.
    mask_frequency
        Frequency of target and masker, cpd.
    maskers
        Masker contrasts (the first must be 0: the unmasked threshold).
    targets
        Target contrasts of the masking ladder (ascending; masker + target ≤ 1).
    batch_size
        Images per forward pass.
    """

    size: int = 224
    ppd: float = 60.0
    mean_luminance: float = 0.5
    frequencies: tuple[float, ...] = tuple(np.round(np.geomspace(0.5, 24.0, 14), 4))
    contrasts: tuple[float, ...] = tuple(np.round(np.geomspace(1e-3, 1.0, 16), 6))
    orientations: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)
    n_phases: int = 2
    kappa: float = 0.1
    mask_frequency: float = 4.0
    maskers: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32)
    targets: tuple[float, ...] = tuple(np.round(np.geomspace(1e-3, 0.6, 16), 6))
    batch_size: int = 32

    def __post_init__(self) -> None:
        c, t, m = np.asarray(self.contrasts), np.asarray(self.targets), np.asarray(self.maskers)
        if c.size < 2 or np.any(np.diff(c) <= 0) or c[0] <= 0 or c[-1] > 1:
            raise ParameterError(f"contrasts must ascend within (0, 1] with at least 2 levels, got {self.contrasts}")
        if t.size < 2 or np.any(np.diff(t) <= 0) or t[0] <= 0:
            raise ParameterError(f"targets must ascend above 0 with at least 2 levels, got {self.targets}")
        if m.size < 1 or m[0] != 0 or np.any(m < 0):
            raise ParameterError(f"maskers must start with 0 (the unmasked threshold), got {self.maskers}")
        if m.max() + t.max() > 1:
            raise ParameterError(f"the largest masker ({m.max()}) plus the largest target ({t.max()}) exceeds "
                                 "contrast 1; lower one of them")
        if not 0 < self.kappa < 1:
            raise ParameterError(f"kappa must lie in (0, 1) (a fraction of the largest distance), got {self.kappa}")
        if len(self.frequencies) < 3:
            raise ParameterError("a sensitivity curve needs at least 3 frequencies")

    def as_dict(self) -> dict[str, Any]:
        """The grid as a plain dict (lists, for JSON)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class ChannelDistances:
    """Per-channel squared feature distances of one network.

    ``detection[layer]``: ``(C, F, n_contrasts)``, grating against uniform field; ``masking[layer]``:
    ``(C, n_maskers, n_targets)``, masker + target against masker alone.
    """

    network: str
    grid: SensitivityGrid
    detection: dict[str, np.ndarray]
    masking: dict[str, np.ndarray]
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        """The measured layers."""
        return list(self.detection)


def _features_d2(net: Network, layers: Sequence[str], images: torch.Tensor, reference: torch.Tensor,
                 batch_size: int) -> dict[str, torch.Tensor]:
    """Mean over positions of (f(image) − f(reference))² for each image: ``(N, C)`` per layer.

    ``reference`` holds R images (R divides N); image i is compared with reference ``i % R``. The references'
    features are computed once.
    """
    n_ref = reference.shape[0]
    out: dict[str, list[torch.Tensor]] = {k: [] for k in layers}
    with torch.inference_mode():
        ref = {k: v.float() for k, v in net.extractor(reference, list(layers)).items()}
        for start in range(0, images.shape[0], batch_size):
            x = images[start:start + batch_size]
            idx = torch.arange(start, start + x.shape[0], device=x.device) % n_ref
            feats = net.extractor(x, list(layers))
            for k in layers:
                diff = feats[k].float() - ref[k][idx]
                out[k].append(diff.pow(2).mean(dim=(2, 3)).cpu())
    return {k: torch.cat(v) for k, v in out.items()}


def channel_distances(net: Network, grid: SensitivityGrid = SensitivityGrid(), *, layers: Sequence[str] | None = None,
                      progress: bool = True) -> ChannelDistances:
    """Measure every channel's squared feature distance on the detection and masking ladders.

    Examples
    --------
    >>> from torch import nn
    >>> net = Network.from_module(nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU()), {"relu": 1}, normalize=None)
    >>> g = SensitivityGrid(size=32, ppd=8, frequencies=(0.5, 1, 2), contrasts=(0.01, 0.1, 1), maskers=(0, 0.1),
    ...                     targets=(0.01, 0.1), mask_frequency=1, orientations=(0,), n_phases=1)
    >>> d = channel_distances(net, g, progress=False)
    >>> d.detection["relu"].shape, d.masking["relu"].shape
    ((2, 3, 3), (2, 2, 2))
    """
    layers = net.extractor.check_layers(list(layers) if layers is not None else list(net.taps))
    dev = net.device
    L0 = grid.mean_luminance
    uniform = torch.full((1, 3, grid.size, grid.size), L0, device=dev)
    contrasts = torch.as_tensor(grid.contrasts, dtype=torch.float32, device=dev).view(-1, 1, 1, 1, 1)
    n_views = len(grid.orientations) * grid.n_phases
    det: dict[str, list[np.ndarray]] = {k: [] for k in layers}
    freqs = list(grid.frequencies)
    bar = progress_bar(total=len(freqs) + len(grid.maskers), desc=f"{net.name} contrast sensitivity",
                       disable=not progress)
    def gratings(f: float) -> torch.Tensor:  # full-contrast gratings, phases over half a cycle: (views, 3, H, W)
        g = oriented_gratings(f, grid.orientations, size=grid.size, ppd=grid.ppd, n_phases=2 * grid.n_phases,
                              mean_luminance=L0, device=dev)[:, :, :grid.n_phases]
        return g.reshape(n_views, 3, grid.size, grid.size)

    for f in freqs:
        g1 = gratings(f)
        imgs = (L0 + contrasts * (g1.unsqueeze(0) - L0)).reshape(-1, 3, grid.size, grid.size)  # (Nc·views, ...)
        d2 = _features_d2(net, layers, imgs, uniform, grid.batch_size)
        for k in layers:
            det[k].append(d2[k].reshape(len(grid.contrasts), n_views, -1).mean(dim=1).T.numpy())  # (C, Nc)
        bar.update(1)
    g1 = gratings(grid.mask_frequency)
    targets = torch.as_tensor(grid.targets, dtype=torch.float32, device=dev).view(-1, 1, 1, 1, 1)
    mask: dict[str, list[np.ndarray]] = {k: [] for k in layers}
    for m in grid.maskers:
        masker = (L0 + m * (g1 - L0))  # (views, 3, H, W): image i of a target ladder is compared with view i % views
        imgs = (L0 + (m + targets) * (g1.unsqueeze(0) - L0)).reshape(-1, 3, grid.size, grid.size)
        d2 = _features_d2(net, layers, imgs, masker if m > 0 else uniform, grid.batch_size)
        for k in layers:
            mask[k].append(d2[k].reshape(len(grid.targets), n_views, -1).mean(dim=1).T.numpy())  # (C, Nt)
        bar.update(1)
    bar.close()
    return ChannelDistances(net.name, grid, {k: np.stack(v, axis=1) for k, v in det.items()},
                            {k: np.stack(v, axis=1) for k, v in mask.items()}, dict(net.identity))


def bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n)`` resampling weights (counts / n) of a channel bootstrap; row 0 is the sample itself.

    Examples
    --------
    >>> w = bootstrap_weights(4, 3, np.random.default_rng(0))
    >>> w.shape, w.sum(axis=1).round(6).tolist(), w[0].tolist()
    ((3, 4), [1.0, 1.0, 1.0], [0.25, 0.25, 0.25, 0.25])
    """
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float) / n
    w[0] = 1.0 / n
    return w


def subset_distance(d2: np.ndarray, channels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``D_S`` over the last two axes of ``d2[channels]`` (``(C, A, B)`` → ``(A, B)``, or ``(n_boot, A, B)`` with
    bootstrap ``weights`` of shape ``(n_boot, len(channels))``).

    Examples
    --------
    >>> subset_distance(np.ones((3, 2, 2)) * 4, np.array([0, 2])).tolist()
    [[2.0, 2.0], [2.0, 2.0]]
    """
    sub = d2[np.asarray(channels, dtype=int)]
    if weights is None:
        return np.sqrt(sub.mean(axis=0))
    return np.sqrt(np.tensordot(weights, sub, axes=(1, 0)))


def thresholds(distance: np.ndarray, contrasts: Sequence[float], tau: np.ndarray | float) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """The contrast at which ``distance`` (``(..., n_contrasts)``, rising with contrast) first reaches ``tau``.

    Log–log interpolation between the two grid contrasts around the crossing. Returns ``(c_T, censored)``:
    where the distance never reaches τ, ``c_T`` is the largest contrast and ``censored`` is True (the true
    threshold is higher); where it is reached at the lowest contrast already, ``c_T`` is that contrast.

    Examples
    --------
    >>> c = np.array([0.01, 0.1, 1.0])
    >>> t, cens = thresholds(np.array([[0.01, 0.1, 1.0], [0.001, 0.01, 0.1]]), c, 0.05)
    >>> np.round(t, 4).tolist(), cens.tolist()
    ([0.05, 0.5], [False, False])
    >>> thresholds(np.array([0.001, 0.002, 0.003]), c, 0.05)[1].tolist()
    True
    """
    d = np.asarray(distance, dtype=float)
    c = np.asarray(contrasts, dtype=float)
    tau = np.broadcast_to(np.asarray(tau, dtype=float), d.shape[:-1])[..., None]
    above = d >= tau
    first = np.argmax(above, axis=-1)
    reached = above.any(axis=-1)
    i1 = np.clip(first, 1, len(c) - 1)
    i0 = i1 - 1
    d0 = np.take_along_axis(d, i0[..., None], -1)[..., 0]
    d1 = np.take_along_axis(d, i1[..., None], -1)[..., 0]
    lc0, lc1 = np.log(c[i0]), np.log(c[i1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ld0, ld1, lt = np.log(np.maximum(d0, 1e-300)), np.log(np.maximum(d1, 1e-300)), np.log(tau[..., 0])
        frac = np.where(ld1 > ld0, (lt - ld0) / (ld1 - ld0), 1.0)
    t = np.exp(lc0 + np.clip(frac, 0, 1) * (lc1 - lc0))
    t = np.where(first == 0, c[0], t)
    t = np.where(reached, t, c[-1])
    return t, ~reached


def sensitivity_curves(det: np.ndarray, channels: np.ndarray, grid: SensitivityGrid,
                       weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sensitivity ``1 / c_T(f)`` of a channel subset (``(F,)``, or ``(n_boot, F)`` with weights), and the
    censored mask (threshold above the largest contrast: sensitivity is then a bound, 1 / largest contrast).

    τ_S = κ · the subset's largest full-contrast distance over frequencies (per bootstrap sample).
    """
    D = subset_distance(det, channels, weights)  # (..., F, Nc)
    tau = grid.kappa * D[..., -1].max(axis=-1)  # (...,)
    t, cens = thresholds(D, grid.contrasts, tau[..., None])
    return 1.0 / t, cens


def masking_slopes(mask: np.ndarray, channels: np.ndarray, grid: SensitivityGrid,
                   weights: np.ndarray | None = None, *, kappa: float = 0.02,
                   min_points: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The masking slope of a channel subset and its threshold-versus-masker curve.

    The criterion is relative to the subset's own response at the masking frequency: τ = ``kappa`` × its
    distance for the strongest target alone (no masker), so every subset that responds there gets an
    unmasked threshold, whatever its peak frequency. The slope is the least-squares slope of log c_T(m) on
    log m over maskers at least twice the unmasked threshold whose threshold is not censored; NaN with fewer
    than ``min_points`` such maskers.

    Returns ``(slope (...,), c_T (..., n_maskers))``.
    """
    Dm = subset_distance(mask, channels, weights)  # (..., M, Nt)
    tau = kappa * Dm[..., 0, -1]
    t, cens = thresholds(Dm, grid.targets, tau[..., None])
    m = np.asarray(grid.maskers, dtype=float)
    flat_t, flat_c = t.reshape(-1, len(m)), cens.reshape(-1, len(m))
    use = (m[None, :] >= 2 * flat_t[:, :1]) & ~flat_c & (m[None, :] > 0)
    w = use.astype(float)
    x = np.log(np.where(m > 0, m, 1.0))[None, :]
    y = np.log(flat_t)
    n = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm, ym = (w * x).sum(1, keepdims=True) / n, (w * y).sum(1, keepdims=True) / n
        slopes = (w * (x - xm) * (y - ym)).sum(1) / (w * (x - xm) ** 2).sum(1)
    slopes = np.where(n[:, 0] >= min_points, slopes, np.nan)
    return slopes.reshape(t.shape[:-1]), t


def csf_correlation(sensitivity: np.ndarray, frequencies: Sequence[float], csf: Callable[[Any], np.ndarray]) -> np.ndarray:
    """Pearson correlation of log sensitivity with the log CSF over frequencies (last axis).

    Examples
    --------
    >>> from pecore.csf import mannos_sakrison
    >>> f = np.geomspace(0.5, 24, 8)
    >>> float(np.round(csf_correlation(mannos_sakrison(f) * 3, f, mannos_sakrison), 6))
    1.0
    """
    ls = np.log(np.asarray(sensitivity, dtype=float))
    lc = np.log(np.maximum(csf(np.asarray(frequencies, dtype=float)), 1e-12))
    a = ls - ls.mean(axis=-1, keepdims=True)
    b = lc - lc.mean()
    den = np.sqrt((a ** 2).sum(axis=-1) * (b ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=-1) / np.where(den > 0, den, 1.0), np.nan)


def peak_frequency(sensitivity: np.ndarray, frequencies: Sequence[float]) -> np.ndarray:
    """The grid frequency of largest sensitivity (last axis).

    Examples
    --------
    >>> float(peak_frequency(np.array([1.0, 3.0, 2.0]), [1, 2, 4]))
    2.0
    """
    return np.asarray(frequencies, dtype=float)[np.argmax(sensitivity, axis=-1)]

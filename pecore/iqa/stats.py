"""Agreement with human scores: SROCC, KROCC, PLCC after a 4-parameter logistic fit, 2AFC.

Bootstrap intervals resample *reference images* (every distortion of a scene moves together). A
resample is a vector of multiplicities (how often each row was drawn); every statistic here accepts
such weights and gives exactly what it would give on the data with rows repeated, so thousands of
resamples are a few matrix products rather than thousands of calls.

Sign convention: a prediction and a human score agree when both say the same image is better. A
distance (lower is better) against MOS (higher is better) is negated first; against DMOS (lower is
better) it is used as is. A positive correlation always means agreement.

Length: every statistic here shares the weighted (multiplicity) form of the bootstrap and the sign
convention; split across modules, those private helpers would have to be imported back and forth.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..validate import check_choice, check_positive

__all__ = [
    "STATISTICS",
    "agreement_sign",
    "logistic4",
    "fit_logistic4",
    "srocc",
    "krocc",
    "plcc",
    "bootstrap_weights",
    "correlations",
    "paired_difference",
    "two_afc",
]

STATISTICS = ("srocc", "krocc", "plcc")


def _vec(name: str, v: Any) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 1 or a.size < 3:
        raise ParameterError(f"{name} must be a 1-D array of at least 3 values, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return a


def _pair(x: Any, y: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    x, y = _vec("x", x), _vec("y", y)
    if x.shape != y.shape:
        raise ParameterError(f"x and y must have the same length, got {x.size} and {y.size}")
    single = weights is None
    w = np.ones((1, x.size)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w, single = w[None], True
    if w.ndim != 2 or w.shape[1] != x.size:
        raise ParameterError(f"weights must have shape ({x.size},) or (B, {x.size}), got {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ParameterError("weights must be finite and >= 0")
    return x, y, w, single


def _out(v: np.ndarray, single: bool) -> float | np.ndarray:
    return float(v[0]) if single else v


def agreement_sign(pred_higher_is_better: bool, human_higher_is_better: bool) -> int:
    """+1 when prediction and human score point the same way, else -1 (multiply the prediction by it).

    Examples
    --------
    >>> agreement_sign(False, True), agreement_sign(False, False)
    (-1, 1)
    """
    return 1 if bool(pred_higher_is_better) == bool(human_higher_is_better) else -1


def _wpearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation along the last axis (broadcasting)."""
    sw = w.sum(-1, keepdims=True)
    ma, mb = (w * a).sum(-1, keepdims=True) / sw, (w * b).sum(-1, keepdims=True) / sw
    da, db = a - ma, b - mb
    cov = (w * da * db).sum(-1)
    var = (w * da * da).sum(-1) * (w * db * db).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)


def _wranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average ranks of ``x`` (M, n) in the sample with row i repeated w[b, i] times: (B, M, n)."""
    B, (M, n) = w.shape[0], x.shape
    out = np.empty((B, M, n))
    for m in range(M):
        order = np.argsort(x[m], kind="mergesort")
        xs = x[m, order]
        start = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
        inv = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1
        gw = np.add.reduceat(w[:, order], start, axis=1)
        grank = np.cumsum(gw, axis=1) - gw + (gw + 1) / 2
        out[:, m, order] = grank[:, inv]
    return out


def srocc(x: Any, y: Any, weights: Any = None) -> float | np.ndarray:
    """Spearman rank correlation (ties get average ranks), optionally for many row weightings.

    Parameters
    ----------
    x, y
        1-D arrays of equal length (at least 3).
    weights
        ``None``, ``(n,)`` or ``(B, n)`` row multiplicities (see :func:`bootstrap_weights`): the
        result equals the statistic on the data with each row repeated that many times.

    Returns
    -------
    float or ndarray
        A float, or ``(B,)`` for ``(B, n)`` weights. NaN when a variable is constant.

    Examples
    --------
    >>> srocc([1, 2, 3, 4], [10, 20, 40, 30])
    0.8
    """
    x, y, w, single = _pair(x, y, weights)
    rx, ry = _wranks(x[None], w)[:, 0], _wranks(y[None], w)[:, 0]
    return _out(_wpearson(rx, ry, w), single)


def krocc(x: Any, y: Any, weights: Any = None) -> float | np.ndarray:
    """Kendall's tau-b, optionally for many row weightings (as :func:`srocc`).

    Examples
    --------
    >>> round(krocc([1, 2, 3, 4], [10, 20, 40, 30]), 4)
    0.6667
    """
    x, y, w, single = _pair(x, y, weights)
    sx, sy = np.sign(x[:, None] - x[None]), np.sign(y[:, None] - y[None])
    s, tx, ty = sx * sy, (sx == 0).astype(float), (sy == 0).astype(float)
    total = w.sum(1)
    n0 = total * (total - 1) / 2
    num = np.einsum("bi,ij,bj->b", w, s, w) / 2
    n1 = (np.einsum("bi,ij,bj->b", w, tx, w) - total) / 2
    n2 = (np.einsum("bi,ij,bj->b", w, ty, w) - total) / 2
    den = (n0 - n1) * (n0 - n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)
    return _out(tau, single)


def logistic4(x: Any, b1: float, b2: float, b3: float, b4: float) -> np.ndarray:
    """The 4-parameter logistic ``b2 + (b1 − b2) / (1 + exp(−(x − b3) / b4))`` (VQEG).

    ``b1`` and ``b2`` are the upper and lower asymptotes (for ``b4 > 0``), ``b3`` the midpoint and
    ``b4`` the scale.

    Examples
    --------
    >>> logistic4([0.0], 4.0, 2.0, 0.0, 1.0).tolist()
    [3.0]
    """
    z = np.clip(-(np.asarray(x, dtype=np.float64) - b3) / b4, -60, 60)
    return b2 + (b1 - b2) / (1 + np.exp(z))


def _lm_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_iter: int, start: np.ndarray | None = None
                 ) -> np.ndarray:
    """Weighted least-squares fits of logistic4, Levenberg–Marquardt, batched: ``(B, 4)``.

    ``x`` is ``(n,)`` or ``(B, n)`` (one predictor per fit), ``y`` is ``(n,)``, ``w`` is ``(B, n)``.
    """
    B = w.shape[0]
    X = np.broadcast_to(x, (B, x.shape[-1]))
    if start is not None:
        p = np.repeat(np.asarray(start, dtype=np.float64).reshape(-1, 4), B if np.size(start) == 4 else 1, axis=0)
    else:
        sign = np.sign(np.nan_to_num(_wpearson(X, y[None], w)))
        sign = np.where(sign == 0, 1.0, sign)
        p = np.stack([np.full(B, y.max()), np.full(B, y.min()), np.zeros(B), sign * 1.0], axis=1)

    def model(p, xx):
        b1, b2, b3, b4 = (p[:, i, None] for i in range(4))
        s = 1 / (1 + np.exp(np.clip(-(xx - b3) / b4, -60, 60)))
        return b1, b2, b3, b4, s

    def cost(p, xx, ww):
        b1, b2, _, _, s = model(p, xx)
        return (ww * (b2 + (b1 - b2) * s - y[None]) ** 2).sum(1)

    lam = np.full(B, 1e-2)
    c = cost(p, X, w)
    eye = np.eye(4)[None]
    active = np.arange(B)
    for _ in range(n_iter):
        pa, wa, la, xa = p[active], w[active], lam[active], X[active]
        b1, b2, b3, b4, s = model(pa, xa)
        r = b2 + (b1 - b2) * s - y[None]
        ds = (b1 - b2) * s * (1 - s)
        J = np.stack([s, 1 - s, -ds / b4, -ds * (xa - b3) / b4**2], axis=2)  # (B, n, 4)
        Jw = J * wa[..., None]
        JtJ = Jw.transpose(0, 2, 1) @ J
        g = (Jw * r[..., None]).sum(1)
        A = JtJ + la[:, None, None] * eye * (np.diagonal(JtJ, axis1=1, axis2=2)[:, :, None] + 1e-9)
        try:
            step = -np.linalg.solve(A, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = -np.stack([np.linalg.lstsq(m, gg, rcond=None)[0] for m, gg in zip(A, g)])
        trial = pa + step
        trial[:, 3] = np.where(np.abs(trial[:, 3]) < 1e-6, np.sign(pa[:, 3]) * 1e-6, trial[:, 3])
        ct, ca = cost(trial, xa, wa), c[active]
        better = np.isfinite(ct) & (ct < ca)
        gain = np.where(better, (ca - ct) / np.maximum(ca, 1e-300), 0.0)
        p[active] = np.where(better[:, None], trial, pa)
        c[active] = np.where(better, ct, ca)
        lam[active] = np.where(better, la / 3, la * 4).clip(1e-9, 1e9)
        # a fit is done when it improves by a negligible amount or cannot improve any more (a nearly
        # linear relation slides towards an infinitely wide logistic: its correlation no longer moves)
        done = (better & (gain < 1e-6)) | (np.abs(step).max(1) < 1e-8) | (lam[active] >= 1e7)
        active = active[~done]
        if active.size == 0:
            break
    return p


def _standardise(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, s = v.mean(-1, keepdims=True), v.std(-1, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    return (v - m) / s, m, s


def _fit_rows(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_iter: int) -> np.ndarray:
    """Logistic fits in standardised units for predictors ``x`` (S, n) and weights (S, n) or (B, n)."""
    xs, _, _ = _standardise(x)
    ys, _, _ = _standardise(y)
    if x.shape[0] == 1 and w.shape[0] > 1:
        # resamples start from the fit to all the data: they are near it and converge in a few steps
        start = _lm_logistic(xs[0], ys, np.ones((1, x.shape[1])), n_iter)[0]
        return _lm_logistic(xs[0], ys, w, n_iter, start)
    return _lm_logistic(xs, ys, np.broadcast_to(w, (x.shape[0], x.shape[1])).copy(), n_iter)


def fit_logistic4(x: Any, y: Any, weights: Any = None, *, n_iter: int = 100) -> np.ndarray:
    """Least-squares fit of :func:`logistic4` mapping ``x`` to ``y``: ``(b1, b2, b3, b4)``.

    Fitted on standardised data (Levenberg–Marquardt) and returned in the original units; with
    ``(B, n)`` weights, ``(B, 4)`` fits in one batched run.

    Examples
    --------
    >>> x = np.linspace(-3, 3, 50)
    >>> np.round(fit_logistic4(x, logistic4(x, 5.0, 1.0, 0.5, 0.8)), 3).tolist()
    [5.0, 1.0, 0.5, 0.8]
    """
    x, y, w, single = _pair(x, y, weights)
    p = _fit_rows(x[None], y, w, n_iter)
    _, mx, sx = _standardise(x)
    _, my, sy = _standardise(y)
    mx, sx, my, sy = float(mx[0]), float(sx[0]), float(my[0]), float(sy[0])
    out = np.stack([my + sy * p[:, 0], my + sy * p[:, 1], mx + sx * p[:, 2], sx * p[:, 3]], axis=1)
    return out[0] if single else out


def _plcc_rows(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """PLCC after a logistic fit for predictors (S, n) with weights (S or B, n): (max(S, B),)."""
    p = _fit_rows(x, y, w, 100)
    xs, _, _ = _standardise(x)
    ys, _, _ = _standardise(y)
    X = np.broadcast_to(xs, (p.shape[0], x.shape[1]))
    fitted = logistic4(X, p[:, 0, None], p[:, 1, None], p[:, 2, None], p[:, 3, None])
    r = _wpearson(fitted, ys[None], w)
    # a degenerate fit (a flat logistic) falls back to the linear correlation
    return np.where(np.isfinite(r), r, _wpearson(X, ys[None], w))


def plcc(x: Any, y: Any, weights: Any = None, *, logistic: bool = True) -> float | np.ndarray:
    """Pearson correlation of ``y`` with ``x`` mapped by a fitted 4-parameter logistic (or linear).

    The logistic is refitted for every weighting, as a bootstrap requires.

    Examples
    --------
    >>> x = np.linspace(0, 1, 20)
    >>> round(plcc(x, 1 / (1 + np.exp(-10 * (x - 0.5)))), 6), round(plcc(x, x ** 3, logistic=False), 3)
    (1.0, 0.912)
    """
    x, y, w, single = _pair(x, y, weights)
    if not logistic:
        return _out(_wpearson(x[None], y[None], w), single)
    return _out(_plcc_rows(x[None], y, w), single)


def bootstrap_weights(groups: Sequence[Any] | np.ndarray | None, n: int, n_boot: int = 1000,
                      seed: int = 0) -> np.ndarray:
    """Row multiplicities ``(n_boot, n)`` of a bootstrap that resamples whole groups.

    Each resample draws as many groups as there are, with replacement; every row of a drawn group
    counts once per draw. With ``groups=None`` each row is its own group.

    Examples
    --------
    >>> w = bootstrap_weights(["a", "a", "b"], 3, n_boot=4, seed=0)
    >>> w.shape, bool((w[:, 0] == w[:, 1]).all()), w.sum(1).tolist() in ([3.0] * 4, w.sum(1).tolist())
    ((4, 3), True, True)
    """
    check_positive("n_boot", n_boot, integer=True)
    labels = np.arange(n) if groups is None else np.asarray(groups)
    if labels.shape != (n,):
        raise ParameterError(f"groups must have one label per row ({n}), got shape {labels.shape}")
    _, inv = np.unique(labels, return_inverse=True)
    g = inv.max() + 1
    counts = np.random.default_rng(seed).multinomial(g, np.full(g, 1.0 / g), size=n_boot).astype(np.float64)
    return counts[:, inv]


def _stat(name: str, x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float | np.ndarray:
    return {"srocc": srocc, "krocc": krocc, "plcc": plcc}[name](x, y, w)


def correlations(pred: Any, human: Any, *, pred_higher_is_better: bool, human_higher_is_better: bool,
                 groups: Sequence[Any] | None = None, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
                 stats: Sequence[str] = STATISTICS) -> dict[str, float]:
    """Agreement of a prediction with human scores, with bootstrap intervals over groups.

    Parameters
    ----------
    pred
        ``(n,)`` predictions, or ``(S, n)`` for S repeats (random-subset seeds): then the estimate is
        the mean over repeats, ``*_sd`` their standard deviation, and the interval is that of the
        mean (each resample scores every repeat).
    human
        ``(n,)`` human scores.
    pred_higher_is_better, human_higher_is_better
        Directions (a distance: ``False``; MOS: ``True``; DMOS: ``False``). See :func:`agreement_sign`.
    groups
        Row labels resampled together (reference image names); ``None``: rows.
    n_boot
        Number of resamples (0: no interval).
    level
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``srocc, srocc_lo, srocc_hi, srocc_sd, krocc, ..., plcc, ..., n, n_groups``.

    Examples
    --------
    >>> rng = np.random.default_rng(0); q = rng.random(40)
    >>> r = correlations(-q + 0.1 * rng.random(40), q, pred_higher_is_better=False, human_higher_is_better=True,
    ...                  n_boot=200)
    >>> r["srocc"] > 0.9, r["srocc_lo"] <= r["srocc"] <= r["srocc_hi"]
    (True, True)
    """
    for s in stats:
        check_choice("statistic", s, STATISTICS)
    human = _vec("human scores", human)
    p = np.asarray(pred, dtype=np.float64)
    p = p[None] if p.ndim == 1 else p
    if p.ndim != 2 or p.shape[1] != human.size:
        raise ParameterError(f"pred must have shape ({human.size},) or (S, {human.size}), got {np.shape(pred)}")
    if not (0 < level < 1):
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    p = p * agreement_sign(pred_higher_is_better, human_higher_is_better)
    w = bootstrap_weights(groups, human.size, n_boot, seed) if n_boot else None
    out: dict[str, float] = {"n": int(human.size),
                             "n_groups": int(len(np.unique(np.asarray(groups)))) if groups is not None else int(human.size)}
    a = (1 - level) / 2
    for s in stats:
        if s == "plcc":  # one batched logistic fit per repeat
            point = _plcc_rows(p, human, np.ones_like(p))
        else:
            point = np.array([_stat(s, row, human, None) for row in p])
        out[s] = float(np.nanmean(point))
        out[f"{s}_sd"] = float(np.nanstd(point, ddof=1)) if len(point) > 1 else float("nan")
        if w is not None:
            boots = np.nanmean(np.stack([_stat(s, row, human, w) for row in p]), axis=0)
            boots = boots[np.isfinite(boots)]
            lo, hi = (np.quantile(boots, [a, 1 - a]) if boots.size else (np.nan, np.nan))
            out[f"{s}_lo"], out[f"{s}_hi"] = float(lo), float(hi)
        else:
            out[f"{s}_lo"] = out[f"{s}_hi"] = float("nan")
    return out


def paired_difference(pred_a: Any, pred_b: Any, human: Any, *, pred_higher_is_better: bool,
                      human_higher_is_better: bool, groups: Sequence[Any] | None = None, stat: str = "srocc",
                      n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """``stat(a) − stat(b)`` with a paired bootstrap interval (both scored on the same resamples).

    A paired interval is narrower than comparing two separate intervals, because what the two
    predictions share (the same images) cancels. ``pred_a`` / ``pred_b`` may be ``(S, n)`` repeats,
    averaged per resample. ``p_le_0`` is the fraction of resamples with a difference ≤ 0.

    Examples
    --------
    >>> rng = np.random.default_rng(1); q = rng.random(60)
    >>> d = paired_difference(-q, -q + rng.random(60), q, pred_higher_is_better=False, human_higher_is_better=True,
    ...                       n_boot=200)
    >>> d["diff"] > 0, d["lo"] > 0
    (True, True)
    """
    check_choice("statistic", stat, STATISTICS)
    human = _vec("human scores", human)
    sign = agreement_sign(pred_higher_is_better, human_higher_is_better)
    rows = []
    for pred in (pred_a, pred_b):
        p = np.asarray(pred, dtype=np.float64)
        p = p[None] if p.ndim == 1 else p
        if p.ndim != 2 or p.shape[1] != human.size:
            raise ParameterError(f"predictions must have shape ({human.size},) or (S, {human.size}), got {np.shape(pred)}")
        rows.append(sign * p)
    w = bootstrap_weights(groups, human.size, n_boot, seed)
    point = [np.nanmean([_stat(stat, r, human, None) for r in p]) for p in rows]
    boots = [np.nanmean(np.stack([_stat(stat, r, human, w) for r in p]), axis=0) for p in rows]
    diff = boots[0] - boots[1]
    diff = diff[np.isfinite(diff)]
    a = (1 - level) / 2
    lo, hi = np.quantile(diff, [a, 1 - a]) if diff.size else (np.nan, np.nan)
    return {"diff": float(point[0] - point[1]), "lo": float(lo), "hi": float(hi),
            "p_le_0": float(np.mean(diff <= 0)) if diff.size else float("nan")}


def two_afc(d0: Any, d1: Any, judge: Any) -> float:
    """The 2AFC score of a distance: agreement with the fraction of people who preferred ``p1``.

    For each triplet the metric "chooses" the patch with the smaller distance to the reference; it
    scores ``judge`` when it picks p1, ``1 − judge`` when it picks p0, and 0.5 on a tie (as LPIPS).

    Examples
    --------
    >>> two_afc([0.2, 0.5, 0.3], [0.4, 0.1, 0.3], [0.0, 1.0, 0.7])
    0.8333333333333334
    """
    d0, d1 = np.asarray(d0, dtype=np.float64), np.asarray(d1, dtype=np.float64)
    j = np.asarray(judge, dtype=np.float64)
    if not (d0.shape == d1.shape == j.shape) or d0.ndim != 1 or d0.size == 0:
        raise ParameterError(f"d0, d1 and judge must be 1-D of equal length, got {d0.shape}, {d1.shape}, {j.shape}")
    if not (np.all(np.isfinite(d0)) and np.all(np.isfinite(d1)) and np.all(np.isfinite(j))):
        raise ParameterError("d0, d1 and judge must be finite")
    if np.any(j < 0) or np.any(j > 1):
        raise ParameterError("judge values are fractions of people preferring p1, in [0, 1]")
    score = np.where(d1 < d0, j, np.where(d0 < d1, 1 - j, 0.5))
    return float(score.mean())


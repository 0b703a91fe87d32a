"""Comparing channel rankings: Spearman ρ, top-set Jaccard overlap, bootstrap intervals (method.md §7)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .errors import ParameterError
from .selection import subset_size

__all__ = ["spearman", "top_jaccard", "bootstrap_interval", "bootstrap_mean", "ranking_agreement", "pe_vs_weights"]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman ρ of two score vectors; 0 when either is constant (never NaN).

    Examples
    --------
    >>> spearman(np.array([1, 2, 3]), np.array([10, 20, 25]))
    1.0
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError(f"spearman needs two vectors of the same length, got {a.shape} and {b.shape}")
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def top_jaccard(a: np.ndarray, b: np.ndarray, p: float = 25.0) -> float:
    """Jaccard overlap of the top-p % entries of two score vectors (ties broken by index).

    Examples
    --------
    >>> top_jaccard(np.array([4, 3, 2, 1]), np.array([4, 1, 3, 2]), p=50)
    0.3333333333333333
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    k = subset_size(a.size, p)
    ta = set(np.lexsort((np.arange(a.size), -a))[:k])
    tb = set(np.lexsort((np.arange(b.size), -b))[:k])
    return len(ta & tb) / len(ta | tb)


def bootstrap_interval(
    statistic: Callable[..., float], *arrays: np.ndarray, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
    groups: np.ndarray | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*arrays)``, resampling rows (or whole ``groups``).

    Examples
    --------
    >>> x = np.arange(50.0)
    >>> lo, hi = bootstrap_interval(lambda v: float(v.mean()), x, n_boot=200)
    >>> lo < 24.5 < hi
    True
    """
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    if groups is None:
        groups = np.arange(n)
    groups = np.asarray(groups)
    ids = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in ids]
    stats = []
    for _ in range(n_boot):
        pick = np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))])
        value = statistic(*(np.asarray(a)[pick] for a in arrays))
        if np.isfinite(value):
            stats.append(value)
    if not stats:
        return (float("nan"), float("nan"))
    alpha = (1 - level) / 2
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha))


def bootstrap_mean(values: np.ndarray, *, n_boot: int = 1000, level: float = 0.95,
                   seed: int = 0) -> tuple[float, float, float]:
    """Mean of a 1-D array and the percentile bootstrap interval of the mean (resampling its entries).

    The one resampling loop the chapters share; callers filter their values first.

    Examples
    --------
    >>> m, lo, hi = bootstrap_mean(np.array([1.0, 2.0, 3.0, 4.0]), n_boot=200)
    >>> m, lo <= m <= hi
    (2.5, True)
    """
    from .validate import check_positive

    v = np.asarray(values, dtype=np.float64).ravel()
    check_positive("n_boot", n_boot, integer=True)
    if not 0 < level < 1:
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    if v.size == 1:  # one value says nothing about its spread: no interval rather than a zero-width one
        return float(v[0]), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def ranking_agreement(reference: pd.DataFrame, others: Mapping[str, pd.DataFrame], p: float = 25.0) -> pd.DataFrame:
    """Per layer, Spearman ρ of PE and the top-p % Jaccard of each alternative against ``reference``.

    Returns
    -------
    pandas.DataFrame
        Columns ``variant, layer, spearman, jaccard_top``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": range(4), "pe": [0.1, 0.2, 0.3, 0.4]})
    >>> ranking_agreement(t, {"same": t}).loc[0, ["spearman", "jaccard_top"]].tolist()
    [1.0, 1.0]
    """
    rows = []
    for name, other in others.items():
        for layer, ref in reference.groupby("layer", sort=False):
            alt = other[other.layer == layer].set_index("channel").reindex(ref.channel)
            rows.append({"variant": name, "layer": layer, "spearman": spearman(ref.pe.to_numpy(), alt.pe.to_numpy()),
                         "jaccard_top": top_jaccard(ref.pe.to_numpy(), alt.pe.to_numpy(), p)})
    return pd.DataFrame(rows)


def pe_vs_weights(scores: pd.DataFrame, weights: Mapping[str, np.ndarray], *, n_boot: int = 1000,
                  seed: int = 0) -> pd.DataFrame:
    """Spearman ρ between PE and a per-channel weight (e.g. LPIPS's learned weights), per layer.

    The interval is a percentile bootstrap over channels; dead channels are left out.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": range(20), "pe": np.arange(20.0), "dead": False})
    >>> pe_vs_weights(t, {"l": np.arange(20.0)}, n_boot=50).spearman.tolist()
    [1.0]
    """
    rows = []
    for layer, w in weights.items():
        t = scores[scores.layer == layer].sort_values("channel")
        w = np.asarray(w, float).ravel()
        if len(t) != w.size:
            raise ParameterError(f"layer {layer}: {len(t)} channels scored but {w.size} weights given")
        live = ~t.dead.to_numpy(bool) if "dead" in t else np.ones(len(t), bool)
        pe, ww = t.pe.to_numpy()[live], w[live]
        lo, hi = bootstrap_interval(spearman, pe, ww, n_boot=n_boot, seed=seed)
        rows.append({"layer": layer, "n_channels": int(live.sum()), "spearman": spearman(pe, ww), "ci_low": lo,
                     "ci_high": hi})
    return pd.DataFrame(rows)

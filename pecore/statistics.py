"""The statistics every chapter shares: bootstrap intervals, per-group summaries and paired differences.

One implementation of each, with one meaning of each output column:

- :func:`bootstrap_mean` — a mean and the percentile bootstrap interval of the mean (non-finite values
  left out; one value gives no interval).
- :func:`bootstrap_interval` — the percentile bootstrap interval of any statistic, resampling rows or
  whole groups.
- :func:`summarise` — per group and measure: ``mean, ci_low, ci_high, n``.
- :func:`paired_differences` — per group and measure, the paired difference ``a − b`` between two arms:
  ``a, b, contrast, mean, ci_low, ci_high, n_pairs, better``, where ``better`` names the arm the interval
  favours, taking the measure's direction into account, or ``'neither'`` when the interval includes 0.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["clopper_pearson", "bootstrap_mean", "bootstrap_interval", "summarise", "paired_differences"]


def clopper_pearson(k: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of a share ``k / n``.

    Examples
    --------
    >>> [round(v, 3) for v in clopper_pearson(30, 60)]
    [0.368, 0.632]
    >>> clopper_pearson(0, 10)[0], clopper_pearson(10, 10)[1]
    (0.0, 1.0)
    """
    from scipy.stats import beta

    if not (isinstance(n, (int, np.integer)) and isinstance(k, (int, np.integer)) and 0 <= k <= n and n > 0):
        raise ParameterError(f"clopper_pearson needs counts 0 <= k <= n with n > 0, got k={k!r}, n={n!r}")
    a = (1 - level) / 2
    lo = float(beta.ppf(a, k, n - k + 1)) if k > 0 else 0.0
    hi = float(beta.ppf(1 - a, k + 1, n - k)) if k < n else 1.0
    return lo, hi


def bootstrap_mean(values: Sequence[float] | np.ndarray, *, n_boot: int = 1000, level: float = 0.95,
                   seed: int = 0) -> tuple[float, float, float]:
    """Mean of the finite entries of ``values`` and the percentile bootstrap interval of that mean.

    Returns ``(mean, ci_low, ci_high)``; no finite value gives three NaNs, one value gives no interval
    (NaN bounds) rather than a zero-width one.

    Examples
    --------
    >>> m, lo, hi = bootstrap_mean(np.array([1.0, 2.0, 3.0, 4.0]), n_boot=200)
    >>> m, lo <= m <= hi
    (2.5, True)
    >>> bootstrap_mean([3.0])
    (3.0, nan, nan)
    """
    from .validate import check_positive

    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    check_positive("n_boot", n_boot, integer=True)
    if not 0 < level < 1:
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    if v.size == 1:
        return float(v[0]), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


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
    groups = np.arange(n) if groups is None else np.asarray(groups)
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


def _check_columns(table: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks columns {missing}; it has {list(table.columns)}")


def summarise(table: pd.DataFrame, by: Sequence[str], measures: Sequence[str], *, n_boot: int = 1000,
              seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Mean and bootstrap interval of each measure per group, resampling the group's rows.

    Returns
    -------
    pandas.DataFrame
        One row per group and measure: ``*by, measure, mean, ci_low, ci_high, n`` (``n``: finite values).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "subset": ["top"] * 3, "psnr": [10.0, 11.0, 12.0]})
    >>> summarise(t, ["layer", "subset"], ["psnr"], n_boot=100)[["subset", "measure", "mean", "n"]].values.tolist()
    [['top', 'psnr', 11.0, 3]]
    """
    by = list(by)
    _check_columns(table, [*by, *measures])
    rows = []
    for key, grp in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in measures:
            values = grp[m].to_numpy(dtype=float)
            mean, lo, hi = bootstrap_mean(values, n_boot=n_boot, seed=seed, level=level)
            rows.append({**dict(zip(by, key)), "measure": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "n": int(np.isfinite(values).sum())})
    return pd.DataFrame(rows)


def paired_differences(table: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, arm: str, measures: Sequence[str],
                       pair_on: Sequence[str], by: Sequence[str] = (), higher_is_better: Mapping[str, bool],
                       n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Mean paired difference ``a − b`` of each measure between arms, with a bootstrap interval.

    Rows of one arm with the same ``pair_on`` key (e.g. several random draws of one image) are
    averaged first; only keys present in both arms are paired.

    Parameters
    ----------
    table
        One row per observation, a column per measure.
    pairs
        ``(a, b)`` arm names; the difference is ``a − b``.
    arm
        The column naming the arm (``'subset'``, ``'method'``).
    measures
        The measure columns.
    pair_on
        The columns that identify a pair (``('image', 'seed')``).
    by
        Group columns (``('layer',)``, ``('dataset',)``).
    higher_is_better
        Measure → direction, for the ``better`` column.

    Returns
    -------
    pandas.DataFrame
        ``*by, measure, a, b, contrast, mean, ci_low, ci_high, n_pairs, better``; ``better`` is the arm the
        interval favours or ``'neither'``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "image": [0, 1, 0, 1], "subset": ["top"] * 2 + ["bottom"] * 2,
    ...                   "psnr": [12.0, 13.0, 10.0, 10.5]})
    >>> r = paired_differences(t, [("top", "bottom")], arm="subset", measures=["psnr"], pair_on=["image"],
    ...                        by=["layer"], higher_is_better={"psnr": True}, n_boot=100).iloc[0]
    >>> float(r["mean"]), r["contrast"], r["better"]
    (2.25, 'top − bottom', 'top')
    """
    by, pair_on = list(by), list(pair_on)
    _check_columns(table, [arm, *by, *pair_on, *measures])
    groups = table.groupby(by, sort=False) if by else [((), table)]
    rows = []
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        for a, b in pairs:
            left = grp[grp[arm] == a].groupby(pair_on)[list(measures)].mean()
            right = grp[grp[arm] == b].groupby(pair_on)[list(measures)].mean()
            common = left.index.intersection(right.index)
            if len(common) == 0:
                continue
            for m in measures:
                d = (left.loc[common, m] - right.loc[common, m]).to_numpy(dtype=float)
                mean, lo, hi = bootstrap_mean(d, n_boot=n_boot, seed=seed, level=level)
                up = higher_is_better[m]
                better = (a if up else b) if lo > 0 else (b if up else a) if hi < 0 else "neither"
                rows.append({**dict(zip(by, key)), "measure": m, "a": a, "b": b, "contrast": f"{a} − {b}",
                             "mean": mean, "ci_low": lo, "ci_high": hi, "n_pairs": int(len(common)),
                             "better": better})
    return pd.DataFrame(rows)

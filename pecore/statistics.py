"""The statistics every chapter shares: bootstrap intervals, per-group summaries and paired differences.

One implementation of each, with one meaning of each output column:

- :func:`bootstrap_mean` — a mean and the percentile bootstrap interval of the mean (non-finite values
  left out; one value gives no interval).
- :func:`bootstrap_interval` — the percentile bootstrap interval of any statistic, resampling rows or
  whole groups.
- :func:`crossed_bootstrap_mean` — a mean and its interval when the rows come from several crossed
  sources of variance (images × training seeds × random draws): each source's levels are resampled on
  their own, so the interval widens when seeds (or draws) disagree, not only when images do.
- :func:`summarise` — per group and measure: ``mean, ci_low, ci_high, n``.
- :func:`paired_differences` — per group and measure, the paired difference ``a − b`` between two arms:
  ``a, b, contrast, mean, ci_low, ci_high, n_pairs, better``, where ``better`` names the arm the interval
  favours, taking the measure's direction into account, or ``'neither'`` when the interval includes 0.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["clopper_pearson", "percentile_interval", "bootstrap_mean", "bootstrap_interval", "crossed_bootstrap_mean", "summarise",
           "paired_differences"]


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


def percentile_interval(samples: Sequence[float] | np.ndarray, *, level: float = 0.95,
                        max_missing: float = 0.1) -> tuple[float, float]:
    """The percentile interval of bootstrap ``samples``; NaN when more than ``max_missing`` of them are not finite.

    Samples that cannot be computed (NaN) are dropped only while they are few: an interval over the
    resamples that happened to work would be narrower than the data allow.

    Examples
    --------
    >>> [round(x, 6) for x in percentile_interval(np.arange(101.0), level=0.9)]
    [5.0, 95.0]
    >>> percentile_interval([1.0, np.nan, np.nan])
    (nan, nan)
    """
    v = np.asarray(samples, dtype=float).ravel()
    ok = np.isfinite(v)
    if v.size == 0 or (1 - ok.mean()) > max_missing:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    return float(np.quantile(v[ok], a)), float(np.quantile(v[ok], 1 - a))


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


def crossed_bootstrap_mean(values: Sequence[float] | np.ndarray, factors: Mapping[str, Sequence[Any]], *,
                           n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile interval, resampling the levels of every factor independently.

    Each row of ``values`` belongs to one level of each factor (e.g. an image, a training seed, a random
    draw). One resample draws, for every factor, its levels with replacement; a row counts as many times
    as the product of its levels' draws (a two- or three-way crossed bootstrap; rows of levels drawn
    zero times drop out). With one factor whose levels are the rows this is :func:`bootstrap_mean`'s
    interval; with a second factor, disagreement between its levels widens the interval. A factor that splits
    the rows exactly as an earlier one does (they vary together) is resampled once, as that one.

    Returns ``(mean, ci_low, ci_high)``; NaN bounds when every factor has a single level.

    Raises
    ------
    ParameterError
        No factor, a factor whose length differs from ``values``, or a non-finite value.

    Examples
    --------
    >>> images, seeds = np.repeat(np.arange(6), 3), np.tile(np.arange(3), 6)
    >>> agree = np.full(18, 1.0) + 0.1 * images
    >>> disagree = agree + np.array([-1.0, 0.0, 1.0])[seeds]
    >>> a = crossed_bootstrap_mean(agree, {"image": images, "seed": seeds}, n_boot=500)
    >>> b = crossed_bootstrap_mean(disagree, {"image": images, "seed": seeds}, n_boot=500)
    >>> round(a[0], 3) == round(b[0], 3), (b[2] - b[1]) > 3 * (a[2] - a[1])
    (True, True)
    """
    from .validate import check_positive

    v = np.asarray(values, dtype=np.float64).ravel()
    check_positive("n_boot", n_boot, integer=True)
    if not 0 < level < 1:
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    if not factors:
        raise ParameterError("crossed_bootstrap_mean needs at least one factor (e.g. the image of each row)")
    if not np.isfinite(v).all():
        raise ParameterError(f"crossed_bootstrap_mean: {int((~np.isfinite(v)).sum())} non-finite value(s); "
                             "drop or mend them before resampling")
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    weights = np.ones((n_boot, v.size))
    varied = False
    seen: list[np.ndarray] = []
    for name, labels in factors.items():
        labels = np.asarray(labels)
        if labels.shape != v.shape:
            raise ParameterError(f"factor {name!r} labels {labels.size} rows, the values have {v.size}")
        levels, index = np.unique(labels, return_inverse=True)
        index = index.ravel()
        if any(_same_partition(index, other) for other in seen):
            continue  # varies together with a factor already resampled (e.g. draw k trained with seed k): one source
        seen.append(index)
        varied |= levels.size > 1
        counts = rng.multinomial(levels.size, np.full(levels.size, 1.0 / levels.size), size=n_boot)
        weights *= counts[:, index]
    if not varied:
        return float(v.mean()), float("nan"), float("nan")
    total = weights.sum(axis=1)
    keep = total > 0
    means = (weights[keep] @ v) / total[keep]
    a = (1 - level) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings of the same rows split them into the same groups."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


def _check_columns(table: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks columns {missing}; it has {list(table.columns)}")


def summarise(table: pd.DataFrame, by: Sequence[str], measures: Sequence[str], *, n_boot: int = 1000,
              seed: int = 0, level: float = 0.95, resample: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and bootstrap interval of each measure per group, resampling the group's rows (or, with
    ``resample``, the levels of those columns independently: :func:`crossed_bootstrap_mean`).

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
    _check_columns(table, [*by, *measures, *(resample or [])])
    rows = []
    for key, grp in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in measures:
            values = grp[m].to_numpy(dtype=float)
            if resample:
                ok = np.isfinite(values)
                mean, lo, hi = crossed_bootstrap_mean(values[ok], {c: grp[c].to_numpy()[ok] for c in resample},
                                                      n_boot=n_boot, seed=seed, level=level)
            else:
                mean, lo, hi = bootstrap_mean(values, n_boot=n_boot, seed=seed, level=level)
            rows.append({**dict(zip(by, key)), "measure": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "n": int(np.isfinite(values).sum())})
    return pd.DataFrame(rows)


def paired_differences(table: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, arm: str, measures: Sequence[str],
                       pair_on: Sequence[str], by: Sequence[str] = (), higher_is_better: Mapping[str, bool],
                       n_boot: int = 1000, seed: int = 0, level: float = 0.95,
                       resample: Sequence[str] | None = None, keep: Sequence[str] = ()) -> pd.DataFrame:
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
    resample
        ``None``: resample the pairs (rows of differences). Else the columns whose levels are resampled
        independently (:func:`crossed_bootstrap_mean`), e.g. ``('image', 'seed')`` so that the interval
        covers training seeds as well as images; each must be in ``pair_on`` or ``keep``.
    keep
        Columns an arm is *not* averaged over (e.g. ``'draw'`` of a random arm with several draws): its
        rows are paired with the other arm's on ``pair_on`` one by one, so the draws' spread enters the
        interval when ``resample`` names the column.
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
    by, pair_on, keep = list(by), list(pair_on), [k for k in keep if k not in pair_on]
    _check_columns(table, [arm, *by, *pair_on, *keep, *measures])
    if resample is not None:
        stray = [c for c in resample if c not in pair_on + keep]
        if stray or not resample:
            raise ParameterError(f"resample names {list(resample)}; each must be one of pair_on {pair_on} or "
                                 f"keep {keep}, and at least one")
    groups = table.groupby(by, sort=False) if by else [((), table)]
    rows = []
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        for a, b in pairs:
            sides = []
            for name, suffix in ((a, "_a"), (b, "_b")):
                g = grp[grp[arm] == name]
                kept = [k for k in keep if g[k].nunique() > 1]
                sides.append(g.groupby(pair_on + kept)[list(measures)].mean().reset_index()
                             .rename(columns={m: m + suffix for m in measures}))
            merged = sides[0].merge(sides[1], on=pair_on, suffixes=("", "_b_key"))
            if merged.empty:
                continue
            for k in keep:  # a column kept on one side only; the other side was averaged over it
                if k not in merged and k + "_b_key" in merged:
                    merged[k] = merged.pop(k + "_b_key")
            n_pairs = int(merged[pair_on].drop_duplicates().shape[0])
            for m in measures:
                d = (merged[m + "_a"] - merged[m + "_b"]).to_numpy(dtype=float)
                if resample is None:
                    mean, lo, hi = bootstrap_mean(d, n_boot=n_boot, seed=seed, level=level)
                else:
                    ok = np.isfinite(d)
                    factors = {c: merged[c].to_numpy()[ok] if c in merged else np.zeros(int(ok.sum()))
                               for c in resample}
                    mean, lo, hi = crossed_bootstrap_mean(d[ok], factors, n_boot=n_boot, seed=seed, level=level)
                up = higher_is_better[m]
                better = (a if up else b) if lo > 0 else (b if up else a) if hi < 0 else "neither"
                rows.append({**dict(zip(by, key)), "measure": m, "a": a, "b": b, "contrast": f"{a} − {b}",
                             "mean": mean, "ci_low": lo, "ci_high": hi, "n_pairs": n_pairs,
                             "better": better})
    return pd.DataFrame(rows)

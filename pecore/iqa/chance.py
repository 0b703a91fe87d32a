"""The top- and bottom-PE subsets against chance: where each falls among many random subsets of the same size.

A top-PE subset that agrees with people no better than a typical random subset of the same size says nothing
about PE. :func:`chance_placement` draws ``n_random`` random subsets of each size in each layer (and all layers
together), scores every one against the human scores, and places the top- and bottom-PE subsets in that
distribution: their **percentile** (the share of random subsets that agree less, ties counted half). The
interval of the percentile resamples reference scenes: on each resample every subset, random ones included,
is scored again and the percentile recomputed — so it holds the variance of the scenes and of the random draws.

The paper predicts top-PE subsets above the median random subset (percentile > 50) and bottom-PE subsets
below it.

Examples
--------
>>> from pecore.iqa.terms import PairTerms
>>> rng = np.random.default_rng(0)
>>> human = rng.random(30); groups = np.repeat(np.arange(6), 5)
>>> good = np.outer(human, np.ones(4)); noise = rng.random((30, 12))
>>> terms = PairTerms("n", ["l"], {"l": np.c_[good, noise]})     # channels 0..3 track the scores
>>> table = pd.DataFrame({"layer": "l", "channel": range(16), "pe": [1.0] * 4 + [0.0] * 12, "dead": False})
>>> t = chance_placement(terms, table, human, groups, human_higher_is_better=False, ps=(25.0,), n_random=50,
...                      n_boot=100)
>>> t.set_index("subset").percentile.round().to_dict()
{'top': 100.0, 'bottom': 14.0}
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..validate import check_positive
from .stats import _wpearson, _wranks, agreement_sign, bootstrap_weights
from .terms import PairTerms

__all__ = ["chance_placement", "placement_percentile"]


def placement_percentile(value: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Percent of ``null`` (last axis) below ``value``, ties counted half: ``(…,)`` from ``(…,)`` and ``(…, R)``.

    NaNs in ``null`` are left out; an all-NaN null or a NaN value gives NaN.

    Examples
    --------
    >>> placement_percentile(np.array(0.5), np.array([0.1, 0.5, 0.9, 0.2])).item()
    62.5
    """
    value, null = np.asarray(value, float), np.asarray(null, float)
    ok = np.isfinite(null)
    below = ((null < value[..., None]) & ok).sum(-1) + 0.5 * ((null == value[..., None]) & ok).sum(-1)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 100.0 * below / n
    return np.where((n > 0) & np.isfinite(value), out, np.nan)


def _sroccs(preds: np.ndarray, human: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted SROCC of every prediction row (M, n) for every weighting (B, n): (B, M)."""
    ry = _wranks(human[None], w)[:, 0]  # (B, n)
    rx = _wranks(preds, w)  # (B, M, n)
    return _wpearson(rx, ry[:, None, :], w[:, None, :])


def chance_placement(terms: PairTerms, table: pd.DataFrame, human: np.ndarray, groups: np.ndarray, *,
                     human_higher_is_better: bool, ps: Sequence[float], n_random: int = 200, n_boot: int = 1000,
                     seed: int = 0, level: float = 0.95, layer_sets: dict[str, list[str]] | None = None,
                     chunk: int = 50) -> pd.DataFrame:
    """The top- and bottom-PE subsets placed among ``n_random`` random subsets of the same size (SROCC).

    Parameters
    ----------
    terms
        Per-channel distance terms of every pair (:mod:`pecore.iqa.terms`).
    table
        The channel scores (layer, channel, pe, dead).
    human, groups
        Human scores and the reference scene of each pair (the unit the bootstrap resamples).
    ps
        Subset sizes, percent of each layer's channels.
    n_random
        Random subsets per layer set and size (seeds ``seed .. seed + n_random − 1``, as the grid's).
    n_boot
        Resamples of the reference scenes for the percentile's interval.

    Returns
    -------
    pandas.DataFrame
        One row per (layers, p, subset ∈ {top, bottom}): ``srocc`` of the subset; ``random_median``,
        ``random_lo`` and ``random_hi`` (the central ``level`` range of the random subsets' SROCC);
        ``percentile`` with ``percentile_lo`` / ``percentile_hi``; ``n_channels``, ``n_random``, ``n_scenes``.
    """
    from .experiment import subset_predictions

    check_positive("n_random", n_random, integer=True)
    check_positive("n_boot", n_boot, integer=True)
    sign = agreement_sign(False, human_higher_is_better)
    human = np.asarray(human, float)
    layer_sets = layer_sets or {**{k: [k] for k in terms.layers}, "all": list(terms.layers)}
    wb = bootstrap_weights(groups, human.size, n_boot, seed)
    w1 = np.ones((1, human.size))
    a = (1 - level) / 2
    n_scenes = int(len(np.unique(np.asarray(groups))))
    rows = []
    for label, layers in layer_sets.items():
        for p in ps:
            random, n_ch = subset_predictions(terms, table, layers, "random", p, range(seed, seed + n_random))
            ranked = {s: subset_predictions(terms, table, layers, s, p)[0] for s in ("top", "bottom")}
            preds = sign * np.concatenate([ranked["top"], ranked["bottom"], random])  # (2 + R, n)
            point = _sroccs(preds, human, w1)[0]
            boots = np.concatenate([_sroccs(preds, human, wb[i:i + chunk]) for i in range(0, n_boot, chunk)])
            pct_boot = placement_percentile(boots[:, :2].T, boots[None, :, 2:])  # (2, B)
            for k, subset in enumerate(("top", "bottom")):
                pb = pct_boot[k][np.isfinite(pct_boot[k])]
                lo, hi = np.quantile(pb, [a, 1 - a]) if pb.size else (np.nan, np.nan)
                rq = np.nanquantile(point[2:], [a, 0.5, 1 - a])
                rows.append({"network": terms.network, "layers": label, "p": float(p), "subset": subset,
                             "n_channels": n_ch, "srocc": float(point[k]), "random_median": float(rq[1]),
                             "random_lo": float(rq[0]), "random_hi": float(rq[2]),
                             "percentile": float(placement_percentile(point[k], point[2:])),
                             "percentile_lo": float(lo), "percentile_hi": float(hi),
                             "n_random": int(n_random), "n_scenes": n_scenes})
    return pd.DataFrame(rows)

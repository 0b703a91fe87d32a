"""Comparing channel rankings: Spearman ρ, top-set Jaccard overlap, agreement tables."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .errors import ParameterError
from .selection import subset_size
from .statistics import bootstrap_interval

__all__ = ["spearman", "top_jaccard", "chance_jaccard", "ranking_agreement", "top_set_survival", "survival_text",
           "pe_vs_weights", "pe_vs_weights_verdicts"]


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


def chance_jaccard(n: int, p: float = 25.0) -> float:
    """The expected Jaccard overlap of two top-``p`` % sets of ``n`` channels drawn at random (the chance level of
    :func:`top_jaccard`): with ``k`` channels each, ``E|A ∩ B| = k² / n`` and the overlap ``≈ k / (2n − k)``.

    Examples
    --------
    >>> round(chance_jaccard(128), 3), round(chance_jaccard(512), 3)
    (0.143, 0.143)
    """
    from .selection import subset_size

    k = subset_size(int(n), p)
    inter = k * k / n
    return float(inter / (2 * k - inter)) if k else float("nan")


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


def top_set_survival(reference: pd.DataFrame, others: Mapping[str, pd.DataFrame], layers: Sequence[str],
                     p: float = 25.0) -> pd.DataFrame:
    """How much of the top-p % set of each layer (as the experiments choose it: live channels,
    :func:`pecore.selection.select_channels`) stays in the top-p % set under each other scoring.

    ``share`` is the fraction of the reference top set that the other top set keeps; by chance (two top sets
    drawn at random from the same live channels) it is about p / 100 — ``chance``.

    Returns
    -------
    pandas.DataFrame
        Columns ``variant, layer, n_top, kept, share, chance``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": range(8), "pe": np.arange(8.0), "dead": False})
    >>> flipped = t.assign(pe=-t.pe)
    >>> top_set_survival(t, {"same": t, "flipped": flipped}, ["l"], p=50)[["variant", "share", "chance"]].values.tolist()
    [['same', 1.0, 0.5], ['flipped', 0.0, 0.5]]
    """
    from .selection import select_channels

    rows = []
    for layer in layers:
        ref = set(select_channels(reference, layer, "top", p).tolist())
        live = int((~reference[reference.layer == layer].dead.astype(bool)).sum()) if "dead" in reference \
            else int((reference.layer == layer).sum())
        for name, other in others.items():
            kept = len(ref & set(select_channels(other, layer, "top", p).tolist()))
            rows.append({"variant": name, "layer": layer, "n_top": len(ref), "kept": kept,
                         "share": kept / len(ref) if ref else float("nan"),
                         "chance": len(ref) / live if live else float("nan")})
    return pd.DataFrame(rows, columns=["variant", "layer", "n_top", "kept", "share", "chance"])


def survival_text(survival: pd.DataFrame, p: float = 25.0) -> str:
    """One line on a claim's top sets from :func:`top_set_survival`: the share kept over all its layers, as the
    median and range over the other scorings, against chance.

    Examples
    --------
    >>> s = pd.DataFrame({"variant": ["a", "b"], "layer": "relu2_2", "n_top": 32, "kept": [8, 24], "share": [0.25, 0.75],
    ...                   "chance": 0.25})
    >>> survival_text(s)
    'top-25 % sets of relu2_2 kept under the other 2 scorings: median 50 % (25–75 %; chance 25 %); at or below chance: relu2_2 under a (25 %)'
    """
    if survival.empty:
        return ""
    pooled = survival.groupby("variant", sort=False)[["kept", "n_top"]].sum()
    share = 100 * pooled.kept / pooled.n_top
    chance = 100 * float((survival.chance * survival.n_top).sum() / survival.n_top.sum())
    layers = ", ".join(dict.fromkeys(survival.layer))
    text = (f"top-{p:g} % sets of {layers} kept under the other {len(share)} scorings: median {share.median():.0f} % "
            f"({share.min():.0f}–{share.max():.0f} %; chance {chance:.0f} %)")
    per_layer = 100 * survival.kept / survival.n_top
    low = survival[per_layer <= 100 * survival.chance]
    if len(low):
        from .experiment import display_name

        text += "; at or below chance: " + ", ".join(f"{r.layer} under {display_name(r.variant)} ({100 * r.share:.0f} %)"
                                                    for r in low.itertuples())
    return text


def pe_vs_weights(pe_table: pd.DataFrame, weights: Mapping[str, np.ndarray], *, n_boot: int = 1000,
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
        t = pe_table[pe_table.layer == layer].sort_values("channel")
        w = np.asarray(w, float).ravel()
        if len(t) != w.size:
            raise ParameterError(f"layer {layer}: {len(t)} channels scored but {w.size} weights given")
        live = ~t.dead.to_numpy(bool) if "dead" in t else np.ones(len(t), bool)
        pe, ww = t.pe.to_numpy()[live], w[live]
        lo, hi = bootstrap_interval(spearman, pe, ww, n_boot=n_boot, seed=seed)
        rows.append({"layer": layer, "n_channels": int(live.sum()), "spearman": spearman(pe, ww), "ci_low": lo,
                     "ci_high": hi})
    return pd.DataFrame(rows)


def pe_vs_weights_verdicts(agreement: pd.DataFrame) -> list:
    """Verdicts on "the learned weights favour high-PE channels" from :func:`pe_vs_weights` rows.

    One :class:`pecore.experiment.Verdict` per row (scope ``'network layer'`` when a ``network`` column
    is present), judged from the bootstrap interval of Spearman ρ (predicted > 0).

    Examples
    --------
    >>> a = pd.DataFrame({"layer": ["l1", "l2"], "n_channels": 64, "spearman": [0.4, -0.3],
    ...                   "ci_low": [0.2, -0.5], "ci_high": [0.6, -0.1]})
    >>> [v.verdict for v in pe_vs_weights_verdicts(a)]
    ['supported', 'contradicted']
    """
    from .experiment import Verdict

    out = []
    for r in agreement.itertuples():
        scope = f"{r.network} {r.layer}" if hasattr(r, "network") else str(r.layer)
        out.append(Verdict.from_interval("the learned weights favour high-PE channels", scope,
                                         "Spearman ρ(PE, weight)", r.spearman, r.ci_low, r.ci_high,
                                         n=int(r.n_channels)))
    return out

"""The channel-level test of the IQA chapter: does a channel's PE predict how well that channel alone agrees with
people? Each channel's SROCC against the human scores, and per layer Spearman ρ(PE, that SROCC), with an interval
that resamples reference scenes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..validate import check_choice
from .stats import _wpearson, _wranks, agreement_sign, bootstrap_weights, srocc
from .terms import PairTerms

__all__ = ["channel_level"]


def _layer_table(table: pd.DataFrame, layer: str) -> pd.DataFrame:
    rows = table[table.layer == layer]
    if rows.empty:
        check_choice("layer of the channel scores", layer, sorted(table.layer.unique()))
    return rows


def channel_level(terms: PairTerms, table: pd.DataFrame, human: np.ndarray, groups: np.ndarray, *,
                  human_higher_is_better: bool, n_boot: int = 200, seed: int = 0, level: float = 0.95,
                  chunk: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each channel's SROCC against the human scores, and per layer Spearman ρ(PE, that SROCC).

    A channel alone is a distance (lower is better); its SROCC is signed so that positive means it
    agrees with people. Dead channels (and channels whose terms are constant) have no SROCC and are
    left out of ρ. The interval of ρ resamples reference images: every resample recomputes every
    channel's SROCC, then ρ.

    Returns
    -------
    channels
        One row per channel: layer, channel, pe, dead, srocc.
    summary
        One row per layer: rho, rho_lo, rho_hi, n_channels (live channels used).
    """
    sign = agreement_sign(False, human_higher_is_better)
    w1 = np.ones((1, human.size))
    ry1 = _wranks(human[None], w1)[:, 0]
    rows, summary = [], []
    wb = bootstrap_weights(groups, human.size, n_boot, seed) if n_boot else None
    for layer in terms.layers:
        t = _layer_table(table, layer).sort_values("channel")
        if t.channel.tolist() != list(range(terms.terms[layer].shape[1])):
            raise ParameterError(f"the channel scores of {layer} do not list channels 0..{terms.terms[layer].shape[1] - 1} "
                                 f"once each: are they scores of {terms.network}?")
        x = sign * terms.terms[layer].T  # (C, n)
        const = np.ptp(x, axis=1) == 0
        dead = t.dead.to_numpy(bool) if "dead" in t else np.zeros(len(t), bool)
        ok = ~const & ~dead
        s = np.full(len(x), np.nan)
        s[ok] = _wpearson(_wranks(x[ok], w1)[0], ry1, w1)
        pe = t.pe.to_numpy(float)
        for c, (ch, pv, d, v) in enumerate(zip(t.channel, pe, dead, s)):
            rows.append({"network": terms.network, "layer": layer, "channel": int(ch), "pe": pv, "dead": bool(d),
                         "srocc": v})
        rho = srocc(pe[ok], s[ok]) if ok.sum() >= 3 else np.nan
        lo = hi = np.nan
        if wb is not None and ok.sum() >= 3:
            boots = []
            for start in range(0, n_boot, chunk):
                wc = wb[start:start + chunk]
                ry = _wranks(human[None], wc)[:, 0]  # (b, n)
                rx = _wranks(x[ok], wc)  # (b, C, n)
                sc = _wpearson(rx, ry[:, None, :], wc[:, None, :])  # (b, C)
                for row in sc:
                    good = np.isfinite(row)
                    boots.append(srocc(pe[ok][good], row[good]) if good.sum() >= 3 else np.nan)
            boots = np.asarray(boots)
            boots = boots[np.isfinite(boots)]
            if boots.size:
                lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
        summary.append({"network": terms.network, "layer": layer, "rho": rho, "rho_lo": float(lo), "rho_hi": float(hi),
                        "n_channels": int(ok.sum()), "n_dead_or_constant": int((~ok).sum()),
                        "srocc_median": float(np.nanmedian(s)) if ok.any() else np.nan})
    return pd.DataFrame(rows), pd.DataFrame(summary)

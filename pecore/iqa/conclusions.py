"""The IQA chapter's conclusions: do higher-PE channels predict human judgments better? Judged from intervals."""
from __future__ import annotations

import numpy as np  # noqa: F401  (the doctests use it)
import pandas as pd  # noqa: F401  (the doctests use it)

from ..experiment import Verdict
from .experiment import IQAResult

__all__ = ["conclusions"]


def conclusions(result: IQAResult, *, min_scenes: int = 4) -> list[Verdict]:
    """The paper's claim — higher-PE channels predict human judgments better — judged from intervals.

    For all layers together and each layer alone, at each p: the paired SROCC difference top − bottom and
    top − random (bootstrap over reference scenes; predicted > 0). Per layer: Spearman ρ between each
    live channel's PE and its own SROCC (bootstrap over reference scenes too: the channels stay fixed and every
    channel's SROCC is recomputed on each resample of scenes; predicted > 0). ``n`` is the number of reference
    scenes for every test, the units the intervals resample.

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": 25.0, "top_minus_bottom_diff": 0.1,
    ...                    "top_minus_bottom_lo": 0.02, "top_minus_bottom_hi": 0.2}])
    >>> s = pd.DataFrame([{"layer": "relu2_2", "rho": -0.2, "rho_lo": -0.3, "rho_hi": -0.1, "n_channels": 120}])
    >>> r = IQAResult(g, pd.DataFrame(), s, pd.DataFrame(), {"dataset": {"reference_images": 5}})
    >>> [(v.scope, v.verdict) for v in conclusions(r)]
    [('all layers, p = 25 %', 'supported'), ('relu2_2', 'contradicted')]
    """
    n_ref = int(result.provenance.get("dataset", {}).get("reference_images") or 0)
    out = []
    g = result.grid
    top = g[(g.subset == "top") & (g.layers != "-")] if "subset" in g else g.iloc[0:0]
    order = sorted(top.layers.unique(), key=lambda l: (l != "all", l))
    for layers in order:
        for _, r in top[top.layers == layers].sort_values("p").iterrows():
            for other in ("bottom", "random"):
                d, lo, hi = (r.get(f"top_minus_{other}_{c}", np.nan) for c in ("diff", "lo", "hi"))
                if not np.isfinite(d):
                    continue
                scope = f"{'all layers' if layers == 'all' else layers}, p = {r.p:g} %"
                arm = "bottom-PE channels" if other == "bottom" else f"{other} channels"
                out.append(Verdict.from_interval(f"top-PE channels predict human scores better than {arm}", scope,
                                                 f"SROCC top − {other}", d, lo, hi, n=n_ref, min_n=min_scenes))
    for _, r in result.channel_summary.iterrows():
        if np.isfinite(r.get("rho", np.nan)):
            out.append(Verdict.from_interval("a channel's PE predicts its own agreement with humans", str(r.layer),
                                             "Spearman ρ(PE, single-channel SROCC)", r.rho, r.rho_lo, r.rho_hi,
                                             n=n_ref, min_n=min_scenes,
                                             note=f"{int(r.get('n_channels', 0))} live channels"))
    return out

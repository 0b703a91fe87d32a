"""The IQA chapter's conclusions: do higher-PE channels predict human judgments better? Judged from intervals."""
from __future__ import annotations

import numpy as np  # noqa: F401  (the doctests use it)
import pandas as pd  # noqa: F401  (the doctests use it)

from ..experiment import MIN_IMAGES, Verdict
from .experiment import IQAResult

__all__ = ["MIN_SCENES", "conclusions"]

#: every interval of the chapter resamples reference scenes: the book's threshold on images
#: (:data:`pecore.experiment.MIN_IMAGES`) applies to them
MIN_SCENES = MIN_IMAGES


def conclusions(result: IQAResult, *, min_scenes: int = MIN_SCENES) -> list[Verdict]:
    """The paper's claim — higher-PE channels predict human judgments better — judged from intervals.

    For all layers together and each layer alone, at each p:

    - the paired SROCC difference top − bottom (predicted > 0);
    - the top-PE subset's percentile among the random subsets of its size, minus 50 (predicted > 0), and the
      bottom-PE subset's (predicted < 0) — :func:`pecore.iqa.chance.chance_placement`.

    Per layer: Spearman ρ between each live channel's PE and its own SROCC (predicted > 0). Every interval
    resamples the reference scenes (the random subsets are redrawn within each resample's scoring), so ``n`` is
    the number of scenes for every test; below ``min_scenes`` a test reads 'too few data' whatever its interval.

    Examples
    --------
    >>> g = pd.DataFrame([{"layers": "all", "subset": "top", "p": 25.0, "top_minus_bottom_diff": 0.1,
    ...                    "top_minus_bottom_lo": 0.02, "top_minus_bottom_hi": 0.2}])
    >>> s = pd.DataFrame([{"layer": "relu2_2", "rho": -0.2, "rho_lo": -0.3, "rho_hi": -0.1, "n_channels": 120}])
    >>> c = pd.DataFrame([{"layers": "all", "p": 25.0, "subset": "top", "percentile": 80.0, "percentile_lo": 60.0,
    ...                    "percentile_hi": 95.0, "n_random": 200}])
    >>> r = IQAResult(g, pd.DataFrame(), s, pd.DataFrame(), {"dataset": {"reference_images": 12}}, c)
    >>> [(v.scope, v.measure, v.verdict) for v in conclusions(r)]  # doctest: +NORMALIZE_WHITESPACE
    [('all layers, p = 25 %', 'SROCC top − bottom', 'supported'),
     ('all layers, p = 25 %', 'percentile among random subsets − 50', 'supported'),
     ('relu2_2', 'Spearman ρ(PE, single-channel SROCC)', 'contradicted')]
    >>> {v.verdict for v in conclusions(r, min_scenes=20)}
    {'too few data'}
    """
    n_ref = int(result.provenance.get("dataset", {}).get("reference_images") or 0)
    out = []
    g = result.grid
    chance = result.chance if result.chance is not None else pd.DataFrame()
    top = g[(g.subset == "top") & (g.layers != "-")] if "subset" in g else g.iloc[0:0]
    order = sorted(top.layers.unique(), key=lambda l: (l != "all", l))
    for layers in order:
        for _, r in top[top.layers == layers].sort_values("p").iterrows():
            scope = f"{'all layers' if layers == 'all' else layers}, p = {r.p:g} %"
            d, lo, hi = (r.get(f"top_minus_bottom_{c}", np.nan) for c in ("diff", "lo", "hi"))
            if np.isfinite(d):
                out.append(Verdict.from_interval("top-PE channels predict human scores better than bottom-PE channels",
                                                 scope, "SROCC top − bottom", d, lo, hi, n=n_ref, min_n=min_scenes))
            if chance.empty:
                continue
            for _, c in chance[(chance.layers == layers) & (chance.p == r.p)].iterrows():
                top_side = c.subset == "top"
                test = (f"the {c.subset}-PE subset agrees with people {'better' if top_side else 'worse'} than the "
                        f"median random subset of its size")
                out.append(Verdict.from_interval(test, scope, "percentile among random subsets − 50",
                                                 c.percentile - 50, c.percentile_lo - 50, c.percentile_hi - 50,
                                                 n=n_ref, min_n=min_scenes, predicted=1 if top_side else -1,
                                                 note=f"among {int(c.n_random)} random subsets"))
    for _, r in result.channel_summary.iterrows():
        if np.isfinite(r.get("rho", np.nan)):
            out.append(Verdict.from_interval("a channel's PE predicts its own agreement with humans", str(r.layer),
                                             "Spearman ρ(PE, single-channel SROCC)", r.rho, r.rho_lo, r.rho_hi,
                                             n=n_ref, min_n=min_scenes,
                                             note=f"{int(r.get('n_channels', 0))} live channels"))
    return out

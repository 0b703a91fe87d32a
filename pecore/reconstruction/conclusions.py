"""The reconstruction chapter's conclusions: the paper's claim judged from paired top − bottom intervals."""
from __future__ import annotations

import numpy as np  # noqa: F401  (the doctests use it)
import pandas as pd  # noqa: F401  (the doctests use it)

from ..experiment import Verdict
from .experiment import ReconstructionResult

__all__ = ["CLAIM_PARTS", "conclusions"]


#: the paper's claim in parts: (measure column, the part it tests, the predicted sign of top − bottom)
CLAIM_PARTS = (
    ("structure", "top-PE keeps edges in place better", +1),
    ("ssim_lowpass", "top-PE keeps the large-scale layout better", +1),
    ("colour_de2000", "bottom-PE keeps colour better", +1),  # ΔE: lower is better, so top − bottom > 0
    ("colour_de2000_blur", "bottom-PE keeps the colour of regions better", +1),
)


def conclusions(result: ReconstructionResult, *, n_boot: int | None = None, min_pairs: int = 4) -> list[Verdict]:
    """The paper's claim, tested per layer from the paired top − bottom differences.

    The claim [paper]: images rebuilt from top-PE channels keep structure better, those from bottom-PE
    channels keep colour better. Each part of :data:`CLAIM_PARTS` is judged from the 95 % bootstrap
    interval of the paired difference (:func:`pecore.experiment.judge`); fewer than ``min_pairs`` image ×
    seed pairs give 'too few data'.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "image": list(range(6)) * 2, "seed": 0,
    ...                   "subset": ["top"] * 6 + ["bottom"] * 6,
    ...                   "structure": [0.8, 0.82, 0.79, 0.81, 0.8, 0.83] + [0.5, 0.52, 0.49, 0.51, 0.5, 0.53]})
    >>> r = ReconstructionResult(t, np.zeros(0), {}, {}, {}, {"parameters": {"n_boot": 200}})
    >>> [(v.scope, v.verdict) for v in conclusions(r)]
    [('l', 'supported')]
    """
    contrasts = result.contrasts(pairs=(("top", "bottom"),), n_boot=n_boot)
    out = []
    if contrasts.empty:
        return out
    for layer, grp in contrasts.groupby("layer", sort=False):
        g = grp.set_index("measure")
        for measure_name, part, sign in CLAIM_PARTS:
            if measure_name not in g.index:
                continue
            r = g.loc[measure_name]
            out.append(Verdict.from_interval(part, str(layer), measure_name, r["mean"], r.ci_low, r.ci_high,
                                             n=int(r.n_pairs), predicted=sign, min_n=min_pairs))
    return out

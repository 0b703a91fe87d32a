"""The reconstruction chapter's conclusions: the paper's claim judged from paired top − bottom intervals,
with the controls that tell a real effect from the budget.

Every interval resamples the three sources of variance of the design independently (a crossed bootstrap,
:func:`pecore.statistics.crossed_bootstrap_mean`): photographs, noise starts (inits) and, where a random
subset takes part, its draws. A verdict (:func:`pecore.experiment.judge`) is read from the chapter's main
prior (the first λ_TV of the run) and is **robust** only when

- the verdict is the same, and not 'undecided', under every prior (λ_TV on and off), and
- under every prior, the mean difference of every init on its own lies on the verdict's side of 0.

A layer whose runs met the convergence criterion in fewer than :data:`MIN_CONVERGED` of cases gets
'provisional' in its verdicts' notes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import statistics
from ..claims import CLAIMS, row_qualifier, row_verdict
from ..experiment import MIN_IMAGES, Verdict, judge
from .experiment import CONVERGED_BELOW, ReconstructionResult
from .measures import BANDS, HIGHER_IS_BETTER, MEASURES

__all__ = ["CLAIM_PARTS", "PRIMARY", "RESAMPLED", "MIN_CONVERGED", "primary_reading", "contrasts", "n_photographs", "robustness", "conclusions", "band_table",
           "convergence_summary", "init_spread"]

#: the paper's claim in parts: (measure column, the part it tests, the predicted sign of top − bottom)
CLAIM_PARTS = (
    ("structure", "top-PE keeps edges in place better", +1),
    ("ssim_lowpass", "top-PE keeps the large-scale layout better", +1),
    ("ssim_lowpass16", "top-PE keeps the coarsest layout better", +1),
    ("colour_de2000", "bottom-PE keeps colour better", +1),  # ΔE: lower is better, so top − bottom > 0
    ("colour_de2000_blur", "bottom-PE keeps the colour of regions better", +1),
)
#: the measure that decides the claim (named before the stored run was made; the claims page's, one source)
PRIMARY = next(c.primary for c in CLAIMS if c.key == "reconstruction")
#: the sources of variance every interval resamples
RESAMPLED = ("image", "seed", "draw")
#: the share of runs of a layer that must meet the convergence criterion for its verdicts not to be provisional
MIN_CONVERGED = 0.9


def contrasts(result: ReconstructionResult,
              pairs: Sequence[tuple[str, str]] = (("top", "bottom"), ("top", "random"), ("bottom", "random"),
                                                  ("top", "all"), ("bottom", "all")),
              *, measures: Sequence[str] = MEASURES, n_boot: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Paired ``a − b`` per layer, prior (``tv_weight``) and measure: the same photograph and init under both
    subsets, random draws kept apart, photographs × inits × draws resampled.

    Returns the columns of :func:`pecore.statistics.paired_differences` (``layer, tv_weight, measure, a, b,
    contrast, mean, ci_low, ci_high, n_pairs, better``).
    """
    t = result.table
    n_boot = n_boot or int(result.provenance.get("parameters", {}).get("n_boot", 1000))
    have = set(t.subset)
    measures = [m for m in measures if m in t.columns]
    return statistics.paired_differences(t, [(a, b) for a, b in pairs if a in have and b in have], arm="subset",
                                         measures=measures, pair_on=["image", "seed"], keep=["draw"],
                                         resample=list(RESAMPLED), by=["layer", "tv_weight"],
                                         higher_is_better=HIGHER_IS_BETTER, n_boot=n_boot, seed=seed)


def _per_init_means(t: pd.DataFrame, a: str, b: str, measure: str) -> pd.Series:
    """Mean ``a − b`` of one measure per (layer, prior, init), random draws averaged."""
    keys = ["layer", "tv_weight", "image", "seed"]
    left = t[t.subset == a].groupby(keys)[measure].mean()
    right = t[t.subset == b].groupby(keys)[measure].mean()
    d = (left - right).dropna()
    return d.groupby(level=["layer", "tv_weight", "seed"]).mean()


def n_photographs(result: ReconstructionResult, layer: str) -> int:
    """How many photographs the runs of ``layer`` invert: the independent units of its intervals.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": ["l", "l", "l"], "image": [0, 0, 1]})
    >>> n_photographs(ReconstructionResult(t, np.zeros(0), {}, {}, {}, {}), "l")
    2
    """
    t = result.table
    return int(t[t.layer == layer].image.nunique())


def robustness(result: ReconstructionResult, *, a: str = "top", b: str = "bottom",
               parts: Sequence[tuple[str, str, int]] = CLAIM_PARTS, n_boot: int | None = None,
               seed: int = 0, min_images: int = MIN_IMAGES) -> pd.DataFrame:
    """Per layer and part of the claim: the verdict under each prior, whether every init agrees, and 'robust'.

    Returns one row per layer and measure: ``layer, measure, claim, predicted, verdict_<λ>`` for each prior,
    ``inits_agree`` ('yes', or which init and prior disagree), ``robust`` (bool).

    Examples
    --------
    >>> rows = [{"layer": "l", "tv_weight": tv, "image": i, "seed": s, "draw": 0, "subset": sub,
    ...          "structure": (0.8 if sub == "top" else 0.5) + 0.01 * i + 0.001 * s}
    ...         for tv in (0.5, 0.0) for i in range(12) for s in range(3) for sub in ("top", "bottom")]
    >>> r = ReconstructionResult(pd.DataFrame(rows), np.zeros(0), {}, {}, {}, {"parameters": {"n_boot": 200}})
    >>> robustness(r, parts=[CLAIM_PARTS[0]])[["verdict_0.5", "verdict_0", "inits_agree", "robust"]].values.tolist()
    [['supported', 'supported', 'yes', True]]
    """
    t = result.table
    diffs = contrasts(result, [(a, b)], measures=[m for m, _, _ in parts], n_boot=n_boot, seed=seed)
    priors = [float(v) for v in dict.fromkeys(t.tv_weight)]
    rows = []
    for layer in dict.fromkeys(t.layer):
        for measure, claim, sign in parts:
            if measure not in t.columns:
                continue
            verdicts = {}
            for tv in priors:
                r = diffs[(diffs.layer == layer) & (diffs.tv_weight == tv) & (diffs.measure == measure)]
                verdicts[tv] = judge(float(r.ci_low.iloc[0]), float(r.ci_high.iloc[0]), predicted=sign,
                                     n=n_photographs(result, layer), min_n=min_images) if len(r) else "too few data"
            main = verdicts[priors[0]]
            direction = sign if main == "supported" else -sign if main == "contradicted" else 0
            per_init = _per_init_means(t[t.layer == layer], a, b, measure)
            against = [f"init {s} at λ_TV = {tv:g}" for (_, tv, s), v in per_init.items() if direction and v * direction <= 0]
            same = len(set(verdicts.values())) == 1 and main in ("supported", "contradicted")
            rows.append({"layer": layer, "measure": measure, "claim": claim, "predicted": sign,
                         **{f"verdict_{tv:g}": v for tv, v in verdicts.items()},
                         "inits_agree": "yes" if direction and not against else
                         ("not judged" if not direction else "no: " + ", ".join(against)),
                         "robust": bool(same and direction and not against)})
    return pd.DataFrame(rows)


def convergence_summary(result: ReconstructionResult, threshold: float = CONVERGED_BELOW) -> pd.DataFrame:
    """Per layer and prior: runs, runs converged (objective change over the last 10 % of steps below
    ``threshold``) and their share; the last row per layer pools its priors.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "tv_weight": [0.5, 0.5, 0.0, 0.0], "rel_change_last10": [0.001, 0.02, 0.0, 0.0]})
    >>> r = ReconstructionResult(t, np.zeros(0), {}, {}, {}, {})
    >>> convergence_summary(r)[["prior", "converged", "share"]].values.tolist()
    [['λ_TV = 0.5', 1, 0.5], ['λ_TV = 0', 2, 1.0], ['both', 3, 0.75]]
    """
    rows = []
    t = result.table
    for layer, g in t.groupby("layer", sort=False):
        parts = [(f"λ_TV = {tv:g}", h) for tv, h in g.groupby("tv_weight", sort=False)]
        for label, h in parts + [("both" if len(parts) == 2 else "all priors", g)]:
            ok = h.rel_change_last10.to_numpy(float) < threshold
            rows.append({"layer": layer, "prior": label, "runs": int(len(h)), "converged": int(ok.sum()),
                         "share": float(ok.mean())})
    return pd.DataFrame(rows)


def _provisional_layers(result: ReconstructionResult) -> set[str]:
    c = convergence_summary(result)
    pooled = c.groupby("layer", sort=False).tail(1)
    return set(pooled[pooled.share < MIN_CONVERGED].layer)


def conclusions(result: ReconstructionResult, *, n_boot: int | None = None, min_images: int = MIN_IMAGES) -> list[Verdict]:
    """The paper's claim per layer, from the paired top − bottom interval under the main prior.

    The claim [paper]: images rebuilt from top-PE channels keep structure better, those from bottom-PE
    channels keep colour better. Each part of :data:`CLAIM_PARTS` is judged from the 95 % interval of the
    paired difference over photographs × inits × draws (:func:`contrasts`); ``n`` is the number of photographs,
    and fewer than ``min_images`` (:data:`pecore.experiment.MIN_IMAGES`) give 'too few data'. The note says whether the verdict is robust (:func:`robustness`) and whether the layer's
    runs converged.

    Examples
    --------
    >>> rows = [{"layer": "l", "tv_weight": tv, "image": i, "seed": s, "draw": 0, "subset": sub,
    ...          "rel_change_last10": 0.001, "structure": (0.8 if sub == "top" else 0.5) + 0.01 * i}
    ...         for tv in (0.5, 0.0) for i in range(12) for s in range(2) for sub in ("top", "bottom")]
    >>> r = ReconstructionResult(pd.DataFrame(rows), np.zeros(0), {}, {}, {}, {"parameters": {"n_boot": 200}})
    >>> [(v.scope, v.verdict, v.note) for v in conclusions(r)]
    [('l', 'supported', 'robust')]
    """
    t = result.table
    if not {"top", "bottom"} <= set(t.subset):
        return []
    main = float(next(iter(dict.fromkeys(t.tv_weight))))
    diffs = contrasts(result, [("top", "bottom")], measures=[m for m, _, _ in CLAIM_PARTS], n_boot=n_boot)
    robust = robustness(result, n_boot=n_boot).set_index(["layer", "measure"])
    provisional = _provisional_layers(result)
    out = []
    for layer in dict.fromkeys(t.layer):
        g = diffs[(diffs.layer == layer) & (diffs.tv_weight == main)].set_index("measure")
        for measure_name, part, sign in CLAIM_PARTS:
            if measure_name not in g.index:
                continue
            r = g.loc[measure_name]
            rb = robust.loc[(layer, measure_name)]
            note = "robust" if rb.robust else "not robust"
            if layer in provisional:
                note += "; provisional (fewer than 90 % of the layer's runs converged)"
            out.append(Verdict.from_interval(part, str(layer), measure_name, r["mean"], r.ci_low, r.ci_high,
                                             n=n_photographs(result, layer), predicted=sign, min_n=min_images,
                                             note=note))
    return out


def band_table(result: ReconstructionResult, *, a: str = "top", b: str = "bottom",
               n_boot: int | None = None) -> pd.DataFrame:
    """What each subset keeps per band of spatial frequency: ``a − b`` of the luma band correlations per layer
    and prior, with intervals (photographs × inits × draws resampled) and the subset the interval favours.

    A description of what is kept at each scale, not a test of the paper's claim (which names no band).
    """
    bands = [c for c in BANDS if c in result.table.columns]
    d = contrasts(result, [(a, b)], measures=bands, n_boot=n_boot)
    return d[["layer", "tv_weight", "measure", "mean", "ci_low", "ci_high", "n_pairs", "better"]]


def init_spread(result: ReconstructionResult, measures: Sequence[str] = ("structure", "ssim_lowpass",
                                                                        "colour_de2000_blur")) -> pd.DataFrame:
    """Between-init spread: per layer, prior, subset and measure, the standard deviation over inits of the same
    photograph (and draw), averaged over photographs — how much the noise start alone moves a measure.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "tv_weight": 0.5, "subset": "top", "draw": 0, "image": [0, 0, 1, 1],
    ...                   "seed": [0, 1, 0, 1], "structure": [0.5, 0.7, 0.4, 0.4]})
    >>> r = ReconstructionResult(t, np.zeros(0), {}, {}, {}, {})
    >>> round(float(init_spread(r, ["structure"]).init_sd.iloc[0]), 4)
    0.0707
    """
    t = result.table
    rows = []
    for (layer, tv, subset), g in t.groupby(["layer", "tv_weight", "subset"], sort=False):
        for m in measures:
            if m not in g.columns:
                continue
            sd = g.groupby(["image", "draw"])[m].std(ddof=1)
            rows.append({"layer": layer, "tv_weight": float(tv), "subset": subset, "measure": m,
                         "init_sd": float(np.nanmean(sd.to_numpy(float))) if sd.notna().any() else float("nan")})
    return pd.DataFrame(rows)


def primary_reading(verdicts: list[Verdict]) -> str:
    """The claim's word from the primary measure's tests alone, as the claims page decides its row (Markdown).

    Examples
    --------
    >>> v = Verdict.from_interval("top-PE keeps the large-scale layout better", "l", PRIMARY, -0.03, -0.06, -0.01, n=15,
    ...                           note="robust")
    >>> primary_reading([v])
    'Decided by the primary measure, low-pass SSIM (top − bottom; named before the stored run was made): **contradicted** (l contradicted).'
    """
    from ..experiment import display_name

    tests = [v for v in verdicts if v.measure == PRIMARY]
    if not tests:
        return ""
    word = row_verdict([v.verdict for v in tests]) + row_qualifier(pd.DataFrame(
        {"verdict": [v.verdict for v in tests], "note": [v.note for v in tests]}))
    per = ", ".join(f"{v.scope} {v.verdict}" for v in tests)
    return (f"Decided by the primary measure, {display_name(PRIMARY)} (top − bottom; named before the stored run was "
            f"made): **{word}** ({per}).")

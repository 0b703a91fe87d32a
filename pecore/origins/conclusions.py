"""Chapter 09's conclusions: where PE comes from, and whether high-PE channels see like humans.

**Where PE comes from.** Per architecture family and depth, the median PE of a network trained on ImageNet,
of one trained from scratch on human similarity judgments (ST-LPIPS), and of randomly initialised networks
(several seeds: the architecture alone). Intervals resample channels and, for the random baseline, seeds
(a seed is drawn with replacement, then its channels) — the spread of the architecture baseline is part of
every interval that uses it.

**Whether high-PE channels see like humans.** Per network and depth, the contrast sensitivity curve of the
top-PE, bottom-PE, random (matched size, several draws) and all channels (:mod:`pecore.origins.sensitivity`):
its shape against the Mannos–Sakrison CSF (Pearson r of log sensitivities over frequency) and its
contrast-masking slope against the human slope. Intervals resample channels and, for random subsets, draws.
Two things make the CSF-shape test circular: μ1 weights each channel's frequency response by the
Mannos–Sakrison CSF, so top-PE channels are chosen for CSF-like tuning. The chapter therefore runs it also
on subsets ranked by PE with a *flat* CSF, and adds the masking test, which no CSF enters.

The verdicts use the one rule of the book (:func:`pecore.experiment.judge`); the claims page reads them.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..compare import chance_jaccard, spearman, top_jaccard
from ..csf import get_csf, sensitive_band
from ..experiment import Verdict, display_name
from ..selection import select_channels, subset_size
from ..statistics import percentile_interval
from .experiment import OriginsResult
from .sensitivity import bootstrap_weights, csf_correlation, masking_slopes, peak_frequency, sensitivity_curves
from .settings import OBJECTIVES

__all__ = ["pe_by_network", "objective_contrasts", "top_overlap", "fhat_band_share", "subsets_of",
           "subset_statistics", "sensitivity_table", "sensitivity_contrasts", "verdicts", "reading", "survey_agreement", "SUBSET_NAMES",
           "CLAIM_ORIGIN", "CLAIM_HUMANLIKE", "MIN_CHANNELS", "ORIGIN_TESTS"]

CLAIM_ORIGIN = "origin"
CLAIM_HUMANLIKE = "humanlike"
#: a subset with fewer channels than this gives 'too few data'
MIN_CHANNELS = 8
#: subsets of the sensitivity measurements, in table order: name → (ranking column, subset)
SUBSET_NAMES = {"top": ("pe", "top"), "bottom": ("pe", "bottom"), "random": ("pe", "random"), "all": ("pe", "all"),
                "top, flat-CSF PE": ("pe_flat", "top"), "bottom, flat-CSF PE": ("pe_flat", "bottom")}
#: the contrasts that test "PE comes from training, not from the architecture alone"
ORIGIN_TESTS = ("ImageNet − random init", "human judgments − random init")
_STATS = ("r", "r_barten", "peak", "slope")
_CONTRASTS = (("ImageNet − random init", OBJECTIVES[0], OBJECTIVES[2]),
              ("human judgments − random init", OBJECTIVES[1], OBJECTIVES[2]),
              ("human judgments − ImageNet", OBJECTIVES[1], OBJECTIVES[0]))


def _median_boot(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(values), (n_boot, len(values)))
    out = np.median(values[idx], axis=1)
    out[0] = np.median(values)
    return out


def _pooled_boot(groups: list[np.ndarray], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Median of the pooled channels of groups drawn with replacement (seeds), each group's channels resampled."""
    if len(groups) == 1:
        return _median_boot(groups[0], n_boot, rng)
    out = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, len(groups), len(groups))
        out[b] = np.median(np.concatenate([g[rng.integers(0, len(g), len(g))] for g in (groups[i] for i in pick)]))
    out[0] = np.median(np.concatenate(groups))
    return out


def pe_by_network(result: OriginsResult, *, n_boot: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Median μ1, μ2, PE of the live channels per network and depth, the PE median's interval over channels,
    and the share of dead channels (no response to any grating: their PE is 0 by convention, not measured).

    Examples
    --------
    >>> from pecore.origins.experiment import chapter_result
    >>> t = pe_by_network(chapter_result("book"), n_boot=50)
    >>> {"label", "depth", "pe", "pe_low", "pe_high", "dead_share"} <= set(t.columns)
    True
    """
    n_boot = n_boot or result.settings.n_boot
    rng = np.random.default_rng(seed)
    rows = []
    for (label, depth), g in result.tables.groupby(["label", "depth"], sort=False):
        live = g[~g.dead.astype(bool)]
        boot = _median_boot(live.pe.to_numpy(float), n_boot, rng) if len(live) else np.full(n_boot, np.nan)
        lo, hi = percentile_interval(boot)
        rows.append({"label": label, "objective": g.objective.iloc[0], "family": g.family.iloc[0], "depth": depth,
                     "layer": g.layer.iloc[0], "n": len(live), "mu1": live.mu1.median(), "mu2": live.mu2.median(),
                     "pe": live.pe.median(), "pe_low": lo, "pe_high": hi, "dead_share": float(g.dead.mean())})
    return pd.DataFrame(rows)


def objective_contrasts(result: OriginsResult, *, n_boot: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Differences of median PE (live channels) between training objectives, per family and depth, with intervals.

    The random-initialisation side resamples seeds, then channels; the trained side resamples channels.
    Columns: ``family, depth, layer, contrast, estimate, ci_low, ci_high, n, n_seeds, verdict`` (claim: the
    first objective gives higher PE; ``depth`` is the VGG-16 name of the depth, ``layer`` the family's own).
    """
    n_boot = n_boot or result.settings.n_boot
    rng = np.random.default_rng(seed)
    t = result.tables
    rows = []
    for (family, depth), g in t.groupby(["family", "depth"], sort=False):
        live = g[~g.dead.astype(bool)]
        by_obj = {o: [h.pe.to_numpy(float) for _, h in live[live.objective == o].groupby("label", sort=False)]
                  for o in OBJECTIVES}
        boots = {o: _pooled_boot(v, n_boot, rng) for o, v in by_obj.items() if v}
        for name, a, b in _CONTRASTS:
            if a not in boots or b not in boots:
                continue
            diff = boots[a] - boots[b]
            lo, hi = percentile_interval(diff)
            n = min(sum(len(x) for x in by_obj[a]), sum(len(x) for x in by_obj[b]))
            layer = g.layer.iloc[0]  # the family's own name for this depth
            v = Verdict.from_interval(f"PE: {name}", f"{family} {layer}", "pe", diff[0], lo, hi, n=n,
                                      min_n=MIN_CHANNELS)
            rows.append({"family": family, "depth": depth, "layer": layer, "contrast": name, "estimate": diff[0],
                         "ci_low": lo,
                         "ci_high": hi, "n": n, "n_seeds": len(by_obj[OBJECTIVES[2]]), "verdict": v.verdict})
    return pd.DataFrame(rows)


def top_overlap(result: OriginsResult, p: float | None = None) -> pd.DataFrame:
    """Jaccard of each network's top-p % channels with the ImageNet network's at the same depth, and chance.

    Channel k of an independently trained network has nothing to do with channel k of another, so overlap
    at chance is what this must show for ST-LPIPS and random networks: a check of the bookkeeping, not a
    finding. What the top sets *are* is compared through f̂ (:func:`fhat_band_share`).
    """
    p = p or result.settings.p
    t = result.tables
    rows = []
    for (family, depth), g in t.groupby(["family", "depth"], sort=False):
        ref = g[g.objective == OBJECTIVES[0]].sort_values("channel")
        for label, h in g[g.objective != OBJECTIVES[0]].groupby("label", sort=False):
            h = h.sort_values("channel")
            rows.append({"family": family, "layer": h.layer.iloc[0], "label": label,
                         "jaccard": top_jaccard(ref.pe.to_numpy(), h.pe.to_numpy(), p),
                         "chance": chance_jaccard(len(h), p)})
    return pd.DataFrame(rows)


def fhat_band_share(result: OriginsResult, *, csf: str = "mannos-sakrison", p: float | None = None) -> pd.DataFrame:
    """Share of the top-p % and of all live channels whose preferred frequency f̂ lies in the CSF's sensitive band."""
    p = p or result.settings.p
    lo, hi = sensitive_band(get_csf(csf))
    rows = []
    for (label, depth), g in result.tables.groupby(["label", "depth"], sort=False):
        g = g[~g.dead.astype(bool)]
        top = g.nlargest(subset_size(len(g), p), "pe") if len(g) else g
        inside = lambda x: float(((x.fhat >= lo) & (x.fhat <= hi)).mean())  # noqa: E731
        rows.append({"label": label, "objective": g.objective.iloc[0], "family": g.family.iloc[0], "depth": depth,
                     "layer": g.layer.iloc[0] if len(g) else depth, "top_in_band": inside(top), "all_in_band": inside(g), "band_low": lo, "band_high": hi})
    return pd.DataFrame(rows)


def subsets_of(table: pd.DataFrame, layer: str, name: str, p: float, n_draws: int) -> list[np.ndarray]:
    """The channel sets of subset ``name`` (:data:`SUBSET_NAMES`) of one network's layer, chosen among its live
    channels (p % of them; 'all': every live channel): one set, or one per random draw."""
    column, subset = SUBSET_NAMES[name]
    live = table[~table.dead.astype(bool)]  # p % of the live channels: a network may leave most of a layer silent
    scored = live.assign(pe=live[column])
    if subset == "random":
        return [select_channels(scored, layer, "random", p, seed=s) for s in range(n_draws)]
    return [select_channels(scored, layer, subset, p)]


def _subset_stats(det: np.ndarray, mask: np.ndarray, sets: list[np.ndarray], grid, n_boot: int,
                  rng: np.random.Generator, csf, barten, mask_kappa: float) -> dict[str, np.ndarray]:
    """Bootstrap samples (row 0: the estimate) of r (Mannos–Sakrison), r_barten, peak frequency and masking
    slope of one subset; for
    several sets (random draws) each sample first draws a set."""
    per_set = []
    for ch in sets:
        w = bootstrap_weights(len(ch), n_boot, rng)
        S, _ = sensitivity_curves(det, ch, grid, w)
        slope, _ = masking_slopes(mask, ch, grid, w, kappa=mask_kappa)
        per_set.append({"r": csf_correlation(S, grid.frequencies, csf),
                        "r_barten": csf_correlation(S, grid.frequencies, barten),
                        "peak": peak_frequency(S, grid.frequencies), "slope": slope, "curve": S})
    if len(per_set) == 1:
        return per_set[0]
    pick = rng.integers(0, len(per_set), n_boot)
    out = {k: np.array([per_set[j][k][b] for b, j in enumerate(pick)]) for k in _STATS}
    for k in _STATS:
        first = np.array([s[k][0] for s in per_set], dtype=float)
        out[k][0] = np.mean(first[np.isfinite(first)]) if np.isfinite(first).any() else np.nan
    out["curve"] = np.array([per_set[j]["curve"][b] for b, j in enumerate(pick)])
    out["curve"][0] = np.exp(np.mean([np.log(s["curve"][0]) for s in per_set], axis=0))
    return out


def subset_statistics(result: OriginsResult, n_boot: int, seed: int = 0
                      ) -> dict[tuple[str, str, str], dict[str, np.ndarray]]:
    """Bootstrap samples of every subset's statistics, keyed ``(label, depth, subset)``: ``r`` (CSF shape),
    ``peak``, ``slope`` (masking), ``curve`` (sensitivity per frequency) and ``n`` (channels); row 0 of each is
    the estimate. Computed once and passed to :func:`sensitivity_table` and :func:`sensitivity_contrasts`."""
    s = result.settings
    csf, barten = get_csf("mannos-sakrison"), get_csf("barten")
    rng = np.random.default_rng(seed)
    out = {}
    for label, dist in result.distances.items():
        t = result.tables[result.tables.label == label]
        for depth, g in t.groupby("depth", sort=False):
            layer = g.layer.iloc[0]
            for name in SUBSET_NAMES:
                sets = subsets_of(g, layer, name, s.p, s.n_draws)
                out[(label, depth, name)] = _subset_stats(dist.detection[layer], dist.masking[layer], sets, s.grid,
                                                          n_boot, rng, csf, barten, s.mask_kappa)
                out[(label, depth, name)]["n"] = np.array([len(sets[0])])
    return out


def sensitivity_table(result: OriginsResult, *, n_boot: int | None = None, seed: int = 0,
                      stats: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per network, depth and subset: CSF-shape r (Mannos–Sakrison; ``r_barten``: Barten), peak frequency and
    masking slope with intervals; and the
    curves (estimate and 95 % band per frequency), for the figures.

    Returns ``(table, curves)``; ``curves`` has ``label, depth, subset, frequency, sensitivity, low, high``.
    """
    n_boot = n_boot or result.settings.n_boot
    stats = stats or subset_statistics(result, n_boot, seed)
    freqs = result.settings.grid.frequencies
    rows, curves = [], []
    for (label, depth, name), st in stats.items():
        row = {"label": label, "depth": depth, "subset": name, "n": int(st["n"][0])}
        for k in _STATS:
            row[k] = float(st[k][0])
            row[f"{k}_low"], row[f"{k}_high"] = percentile_interval(st[k])
        rows.append(row)
        for i, f in enumerate(freqs):
            lo, hi = percentile_interval(st["curve"][:, i])
            curves.append({"label": label, "depth": depth, "subset": name, "frequency": f,
                           "sensitivity": float(st["curve"][0, i]), "low": lo, "high": hi})
    return pd.DataFrame(rows), pd.DataFrame(curves)


#: the tests of "high-PE channels see like humans": (name, statistic of two subsets' samples, subsets, circular?)
_HUMANLIKE_TESTS = (
    ("CSF shape, top − bottom", "r", ("top", "bottom"), True),
    ("CSF shape, top − random", "r", ("top", "random"), True),
    ("CSF shape (flat-CSF ranking), top − bottom", "r", ("top, flat-CSF PE", "bottom, flat-CSF PE"), False),
    ("masking closer to human, top vs bottom", "slope", ("top", "bottom"), False),
    ("masking closer to human, top vs random", "slope", ("top", "random"), False),
)


def sensitivity_contrasts(result: OriginsResult, *, n_boot: int | None = None, seed: int = 0,
                          stats: dict | None = None) -> pd.DataFrame:
    """The tests of "high-PE channels see like humans", per network and depth.

    CSF shape: ``r(a) − r(b)`` (predicted > 0). Masking: ``|slope(b) − h| − |slope(a) − h|`` with h the human
    slope (predicted > 0: a is closer to human). Columns ``label, depth, test, circular, estimate, ci_low,
    ci_high, n, verdict``.
    """
    n_boot = n_boot or result.settings.n_boot
    stats = stats or subset_statistics(result, n_boot, seed)
    h = result.settings.human_masking_slope
    rows = []
    for label in result.distances:
        for depth in dict.fromkeys(d for (lab, d, _) in stats if lab == label):
            for test, key, (a, b), circular in _HUMANLIKE_TESTS:
                sa, sb = stats[(label, depth, a)][key], stats[(label, depth, b)][key]
                diff = sa - sb if key == "r" else np.abs(sb - h) - np.abs(sa - h)
                lo, hi = percentile_interval(diff)
                n = int(min(stats[(label, depth, a)]["n"][0], stats[(label, depth, b)]["n"][0]))
                v = Verdict.from_interval(test, f"{label} {depth}", key, diff[0], lo, hi, n=n, min_n=MIN_CHANNELS)
                rows.append({"label": label, "depth": depth, "test": test, "circular": circular,
                             "estimate": float(diff[0]), "ci_low": lo, "ci_high": hi, "n": n, "verdict": v.verdict})
    return pd.DataFrame(rows)


def verdicts(contrasts: pd.DataFrame, tests: pd.DataFrame, *, network: str = "vgg16") -> dict[str, list[Verdict]]:
    """The claims-page verdicts: ``origin`` (ImageNet − random init, every family and depth) and ``humanlike``
    (every test of ``network``'s layers), as :class:`~pecore.experiment.Verdict` lists."""
    origin = [Verdict(f"PE: {r.contrast}", f"{r.family} {r.layer}", "pe", r.estimate, r.ci_low, r.ci_high, int(r.n),
                      r.verdict, "") for r in contrasts.itertuples() if r.contrast in ORIGIN_TESTS]
    human = [Verdict(r.test, f"{r.label} {r.depth}", "slope" if "masking" in r.test else "r", r.estimate, r.ci_low,
                     r.ci_high, int(r.n), r.verdict, "circular: μ1 is CSF-weighted" if r.circular else "")
             for r in tests[tests.label == network].itertuples()]
    return {CLAIM_ORIGIN: origin, CLAIM_HUMANLIKE: human}


def _count(t: pd.DataFrame, verdict: str) -> str:
    return f"{int((t.verdict == verdict).sum())} of {len(t)}"


def reading(contrasts: pd.DataFrame, tests: pd.DataFrame, *, network: str = "vgg16") -> str:
    """The chapter's findings in sentences, every number counted from the tables (no verdict typed).

    Examples
    --------
    >>> c = pd.DataFrame({"family": ["vgg16"], "depth": ["relu1_2"], "contrast": ["ImageNet − random init"],
    ...                   "verdict": ["supported"]})
    >>> t = pd.DataFrame({"label": ["vgg16"], "depth": ["relu1_2"], "test": ["CSF shape, top − bottom"],
    ...                   "circular": [True], "verdict": ["supported"]})
    >>> reading(c, t).split(". ")[0]
    'Across families and layers, the median PE of a trained network lies above the random-initialisation baseline for ImageNet training in 1 of 1 tests'
    """
    parts = []
    by = {name: contrasts[contrasts.contrast == name] for name in dict.fromkeys(contrasts.contrast)}
    im, hu = by.get(ORIGIN_TESTS[0]), by.get(ORIGIN_TESTS[1])
    first = "Across families and layers, the median PE of a trained network lies above the random-initialisation baseline"
    bits = []
    if im is not None and len(im):
        bits.append(f"for ImageNet training in {_count(im, 'supported')} tests")
    if hu is not None and len(hu):
        bits.append(f"for training on human judgments in {_count(hu, 'supported')}")
    if bits:
        below = sum(int((x.verdict == "contradicted").sum()) for x in (im, hu) if x is not None)
        parts.append(f"{first} {' and '.join(bits)}" + (f"; it lies below it in {below}" if below else "") + ".")
    cmp = by.get("human judgments − ImageNet")
    if cmp is not None and len(cmp):
        parts.append(f"Human-judgment training gives higher median PE than ImageNet training in "
                     f"{_count(cmp, 'supported')} layers and lower in {_count(cmp, 'contradicted')}.")
    t = tests[tests.label == network]
    for name in dict.fromkeys(t.test):
        g = t[t.test == name]
        parts.append(f"{display_name(network)}, {name}{' (circular)' if bool(g.circular.iloc[0]) else ''}: supported "
                     f"in {_count(g, 'supported')} layers, contradicted in {_count(g, 'contradicted')}"
                     + (f", too few data in {_count(g, 'too few data')}" if (g.verdict == "too few data").any() else "")
                     + ".")
    return " ".join(parts)


def survey_agreement(survey: pd.DataFrame, paper: pd.DataFrame, columns: Sequence[str] = ("pe", "mu1", "mu2")
                     ) -> pd.DataFrame:
    """Spearman ρ per layer between the same network's scores on the survey and on the paper grid.

    Examples
    --------
    >>> from pecore.probe_result import read_pe_table
    >>> from pecore.stored import stored_results
    >>> a = read_pe_table(stored_results("probe", "vgg16", "survey") / "pe_table.csv")
    >>> b = read_pe_table(stored_results("probe", "vgg16", "paper") / "pe_table.csv")
    >>> float(survey_agreement(a, b).set_index("layer").loc["relu1_2", "pe"]) > 0.99
    True
    """
    m = survey.merge(paper, on=["layer", "channel"], suffixes=("_survey", "_paper"))
    return pd.DataFrame([{"layer": layer, **{c: spearman(g[f"{c}_survey"].to_numpy(), g[f"{c}_paper"].to_numpy())
                                             for c in columns}}
                         for layer, g in m.groupby("layer", sort=False)])

"""Orientation statistics of a PE table: which channels have a measured orientation tuning, whether θ̂
clusters near the cardinal axes more often than chance, and how many selective channels sit near the grid's
Nyquist limit (the orientation chapter's readings)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, UnknownNameError
from .experiment import Verdict
from .statistics import clopper_pearson

__all__ = ["CARDINAL_AXES", "silent_at_fhat", "tuning_measured", "layer_summary", "axis_preference", "axis_table", "axis_reading", "share_near_nyquist",
           "depth_trend"]


#: the two cardinal axes of a grating's direction of modulation, in words (θ = 0°: vertical bars)
CARDINAL_AXES = {0.0: "0° (vertical bars)", 90.0: "90° (horizontal bars)"}


def silent_at_fhat(table: pd.DataFrame) -> pd.Series:
    """Live channels that give no activation to any straight grating at their f̂ (peak â = 0).

    Such a channel answers the radial gratings (so it is not dead and has a μ1 and an f̂) but not the
    oriented ones at f̂: its μ2 is 0 and its θ̂ is 0° by convention, not by measurement, so orientation
    statistics leave it out. A table without ``a_hat`` has none.

    Examples
    --------
    >>> t = pd.DataFrame({"dead": [False, False, True], "a_hat": [0.5, 0.0, 0.0]})
    >>> silent_at_fhat(t).tolist()
    [False, True, False]
    """
    dead = table.dead.astype(bool) if "dead" in table else pd.Series(False, index=table.index)
    if "a_hat" not in table:
        return pd.Series(False, index=table.index)
    return ~dead & ~(table.a_hat.astype(float) > 0)


def tuning_measured(table: pd.DataFrame) -> pd.Series:
    """Channels whose orientation tuning is measured: live and answering some straight grating at their f̂
    (not dead, not :func:`silent_at_fhat`). μ2 and θ̂ statistics use these.

    Examples
    --------
    >>> t = pd.DataFrame({"dead": [False, False, True], "a_hat": [0.5, 0.0, 0.0]})
    >>> tuning_measured(t).tolist()
    [True, False, False]
    """
    dead = table.dead.astype(bool) if "dead" in table else pd.Series(False, index=table.index)
    return ~dead & ~silent_at_fhat(table)


def layer_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per layer: live channels, how many of them are silent at f̂, the median f̂ of the live channels and the
    median μ2 of the channels whose tuning is measured (:func:`tuning_measured`).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "dead": [False, False, True], "a_hat": [0.5, 0.0, 0.0],
    ...                   "fhat": [2.0, 4.0, np.nan], "mu2": [0.6, 0.0, 0.0]})
    >>> layer_summary(t).iloc[0].tolist()
    [2.0, 1.0, 3.0, 0.6]
    """
    live = table[~table.dead.astype(bool)]
    measured = table[tuning_measured(table)]
    by = dict(sort=False)
    out = pd.DataFrame({"live channels": live.groupby("layer", **by).size(),
                        "of them silent at f̂": silent_at_fhat(live).groupby(live.layer, **by).sum(),
                        "median f̂ (cpd)": live.groupby("layer", **by).fhat.median().round(2),
                        "median μ2": measured.groupby("layer", **by).mu2.median().round(3)})
    out.index.name = "layer"
    return out


def axis_preference(table: pd.DataFrame, orientations: Sequence[float], *, axes: Sequence[float] = (0.0, 90.0),
                    window: float = 7.5, level: float = 0.95) -> tuple[pd.DataFrame, list[Verdict]]:
    """Per layer and cardinal axis, the share of channels whose θ̂ lies near that axis, against chance.

    Each axis is tested on its own, so a preference for one (say 0°, vertical bars) is never reported as one
    for both. Channels: live and not :func:`silent_at_fhat`. θ̂ is near an axis when within ``window`` degrees
    of it (θ and θ + 180° are the same grating). Chance is the share of the probed ``orientations`` near the
    axis (θ̂ can take only those). The interval of a share is Clopper–Pearson's; the verdict on "θ̂ lies near
    this axis more often than chance" is :func:`pecore.experiment.judge` of the interval minus chance.

    Returns
    -------
    (pandas.DataFrame, list of pecore.experiment.Verdict)
        Columns ``layer, axis, n, k, share, ci_low, ci_high, chance, verdict``, one row and one verdict per
        layer and axis.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "dead": False, "a_hat": 1.0, "theta_hat": [0.0] * 30 + [45.0] * 30})
    >>> rows, verdicts = axis_preference(t, np.arange(-90, 90, 5.0))
    >>> rows[["axis", "k", "verdict"]].values.tolist()
    [[0.0, 30, 'supported'], [90.0, 0, 'contradicted']]
    >>> round(float(rows.chance[0]), 4)
    0.0833
    """
    orientations = np.asarray(orientations, dtype=float)

    def near(values: np.ndarray, axis: float) -> np.ndarray:
        return np.abs((np.asarray(values, dtype=float) - axis + 90.0) % 180.0 - 90.0) < window

    rows, verdicts = [], []
    usable = table[tuning_measured(table)]
    for layer, g in usable.groupby("layer", sort=False):
        n = len(g)
        for axis in axes:
            chance = float(near(orientations, axis).mean())
            k = int(near(g.theta_hat.to_numpy(), axis).sum())
            lo, hi = clopper_pearson(k, n, level=level)
            v = Verdict.from_interval(f"θ̂ lies near {CARDINAL_AXES.get(float(axis), f'{axis:g}°')} more often "
                                      "than chance", str(layer), "share of θ̂ near the axis − chance",
                                      k / max(n, 1) - chance, lo - chance, hi - chance, n=n)
            verdicts.append(v)
            rows.append({"layer": layer, "axis": float(axis), "n": n, "k": k, "share": k / n if n else np.nan,
                         "ci_low": lo, "ci_high": hi, "chance": chance, "verdict": v.verdict})
    return pd.DataFrame(rows, columns=["layer", "axis", "n", "k", "share", "ci_low", "ci_high", "chance",
                                       "verdict"]), verdicts


def _axis_words(axis: float) -> str:
    return f"{axis:g}°"


def _layer_axis_reading(g: pd.DataFrame) -> str:
    above = [_axis_words(a) for a, v in zip(g.axis, g.verdict) if v == "supported"]
    below = [_axis_words(a) for a, v in zip(g.axis, g.verdict) if v == "contradicted"]
    text = ("both axes" if len(above) == len(g) and len(g) > 1 else f"{' and '.join(above)} only" if above
            else "neither")
    return text + (f" ({' and '.join(below)} below chance)" if below else "")


def axis_table(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`axis_preference` rows as a table for the page: one row per layer, each axis's share with its
    interval, chance, and which axes lie above chance by their intervals ('both axes', '0° only', 'neither').

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "dead": False, "a_hat": 1.0, "theta_hat": [0.0] * 30 + [45.0] * 30})
    >>> axis_table(axis_preference(t, np.arange(-90, 90, 5.0))[0]).iloc[0].astype(str).tolist()
    ['60', '0.50 [0.37, 0.63]', '0.00 [0.00, 0.06]', '0.083', '0° only (90° below chance)']
    """
    out = []
    for layer, g in rows.groupby("layer", sort=False):
        rec: dict[str, Any] = {"layer": layer, "channels tested": int(g.n.iloc[0])}
        for r in g.itertuples():
            rec[f"share near {CARDINAL_AXES.get(r.axis, _axis_words(r.axis))} [95 %]"] = \
                f"{r.share:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"
        rec["chance"] = ", ".join(dict.fromkeys(f"{c:.3f}" for c in g.chance))
        rec["above chance"] = _layer_axis_reading(g)
        out.append(rec)
    return pd.DataFrame(out).set_index("layer")


def axis_reading(rows: pd.DataFrame) -> str:
    """One sentence from :func:`axis_preference` rows: which layers show θ̂ near both cardinal axes more often
    than chance (a cardinal preference), near only one, or near neither — never stronger than the verdicts.

    Examples
    --------
    >>> rows = pd.DataFrame({"layer": ["a", "a", "b", "b"], "axis": [0.0, 90.0] * 2,
    ...                      "verdict": ["supported", "supported", "supported", "undecided"]})
    >>> axis_reading(rows)
    'Near both cardinal axes more often than chance (a cardinal preference): a. Near only one axis: b (0°, vertical bars).'
    """
    both, one, neither, below = [], [], [], []
    for layer, g in rows.groupby("layer", sort=False):
        up = [a for a, v in zip(g.axis, g.verdict) if v == "supported"]
        below += [f"{layer} ({_axis_words(a)})" for a, v in zip(g.axis, g.verdict) if v == "contradicted"]
        if len(up) == len(g) and len(g) > 1:
            both.append(str(layer))
        elif up:
            one.append(f"{layer} ({', '.join(CARDINAL_AXES.get(a, _axis_words(a)).replace(' (', ', ').rstrip(')') for a in up)})")
        else:
            neither.append(str(layer))
    parts = []
    if both:
        parts.append(f"Near both cardinal axes more often than chance (a cardinal preference): {', '.join(both)}.")
    if one:
        parts.append(f"Near only one axis: {'; '.join(one)}.")
    if neither:
        parts.append(f"Near neither axis more often than chance: {', '.join(neither)}.")
    if below:
        parts.append(f"Less often than chance: {', '.join(below)}.")
    return " ".join(parts)


def share_near_nyquist(table: pd.DataFrame, layer: str, *, score: str = "mu2", p: float = 10.0,
                       ppd: float = 60.0, pixels_per_cycle: float = 3.0) -> dict[str, Any]:
    """How many of a layer's top-p % channels by ``score`` have f̂ close to the grid's Nyquist limit.

    Close means above ``ppd / pixels_per_cycle`` cycles per degree (20 cpd at 60 ppd: a grating of fewer than
    three pixels per cycle, where the pixel grid shapes a response as much as the frequency does; the Nyquist
    limit is ``ppd / 2``). Channels: live and not :func:`silent_at_fhat`.

    Returns
    -------
    dict
        ``n_top`` (channels in the top set), ``n_near`` (of them with f̂ above the limit), ``share_top``,
        ``share_layer`` (the share among all the layer's channels counted), ``f_limit``, ``nyquist``.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "dead": False, "a_hat": 1.0, "mu2": np.arange(10.0),
    ...                   "fhat": [5.0] * 8 + [25.0, 28.0]})
    >>> out = share_near_nyquist(t, "l", p=20)
    >>> out["n_top"], out["n_near"], out["share_layer"], out["f_limit"]
    (2, 2, 0.2, 20.0)
    """
    from .selection import subset_size

    t = table[(table.layer == layer) & tuning_measured(table)]
    if t.empty:
        raise UnknownNameError(f"share_near_nyquist: no live channel of layer {layer!r} in the table")
    limit = float(ppd) / float(pixels_per_cycle)
    top = t.nlargest(subset_size(len(t), p), score)
    n_near = int((top.fhat > limit).sum())
    return {"n_top": len(top), "n_near": n_near, "share_top": n_near / len(top),
            "share_layer": float((t.fhat > limit).mean()), "f_limit": limit, "nyquist": float(ppd) / 2}


def depth_trend(values: pd.Series, *, unit: str = "cpd", decimals: int = 2) -> str:
    """How a per-layer value changes with depth, in words that say no more than the numbers show.

    ``values`` is indexed by layer, shallowest first (a column of a per-layer table). The phrase names the first
    and the last layer's value, the overall fall or rise as a ratio, and, when the change is not the same way at
    every step, each step that goes the other way. Values are compared as shown, rounded to ``decimals``.

    Parameters
    ----------
    values
        One number per layer, in depth order (e.g. the median f̂ of each layer); layers without one (NaN) are
        left out.
    unit
        Appended to every value shown.
    decimals
        Decimals shown and compared.

    Returns
    -------
    str
        A predicate for a sentence whose subject is the value, e.g. "The median f̂ " + ``depth_trend(...)``.

    Examples
    --------
    >>> f = pd.Series([8.73, 5.1, 3.2, 2.09, 2.23], index=["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"])
    >>> depth_trend(f)
    'falls 3.9-fold with depth, from 8.73 cpd (relu1_2) to 2.23 cpd (relu5_3), but not at every step: relu4_3 2.09 cpd → relu5_3 2.23 cpd'
    >>> depth_trend(pd.Series([4.0, 2.0, 1.0], index=["a", "b", "c"]))
    'falls 4.0-fold with depth, at every step, from 4.00 cpd (a) to 1.00 cpd (c)'
    >>> depth_trend(pd.Series([3.09, 4.86, 3.09], index=["a", "b", "c"]))
    'is 3.09 cpd in both a and c, but not in between: from 3.09 cpd (a) to 4.86 cpd (b)'
    >>> depth_trend(pd.Series([2.0, 2.0], index=["a", "b"]))
    'is the same in every layer (2.00 cpd)'
    """
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.isna().sum() > pd.Series(values).isna().sum():
        raise ParameterError(f"depth_trend needs one number per layer, got {list(pd.Series(values))!r}")
    v = pd.Series(np.round(numbers.to_numpy(dtype=float), decimals), index=list(numbers.index)).dropna()
    layers, x = list(v.index), v.to_numpy()
    if len(x) < 2:
        return "cannot be compared across layers (fewer than two layers have a value)"

    def shown(i: int) -> str:
        return f"{x[i]:.{decimals}f} {unit}"

    if np.all(x == x[0]):
        return f"is the same in every layer ({shown(0)})"
    span = f"from {shown(0)} ({layers[0]}) to {shown(-1)} ({layers[-1]})"
    if x[-1] == x[0]:
        lo, hi = int(np.argmin(x)), int(np.argmax(x))
        return (f"is {shown(0)} in both {layers[0]} and {layers[-1]}, but not in between: from {shown(lo)} "
                f"({layers[lo]}) to {shown(hi)} ({layers[hi]})")
    falls = x[-1] < x[0]
    low, high = sorted((x[0], x[-1]))
    verb = ("falls" if falls else "rises") + (f" {high / low:.1f}-fold" if low > 0 else "") + " with depth"
    against = [i for i, d in enumerate(np.diff(x)) if (d > 0 if falls else d < 0)]
    if not against:
        return f"{verb}, at every step, {span}"
    turns = "; ".join(f"{layers[i]} {shown(i)} → {layers[i + 1]} {shown(i + 1)}" for i in against)
    return f"{verb}, {span}, but not at every step: {turns}"

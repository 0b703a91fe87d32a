"""What the SR results say: verdicts from paired intervals, the conclusion's text, the chapter's tables.

Everything here reads a finished :class:`~pecore.sr.results.SRResults`; nothing computes a network.
The conclusion reads LPIPS-alex first (:data:`METRIC_ORDER`): a perceptual distance from a network
the feature loss never uses.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .evaluate import POOLED_NAME
from .results import SRResults, plateau_table

__all__ = ["METRIC_ORDER", "conclusion_text", "top_verdicts", "claim_verdict", "training_check",
           "conclusion_markdown", "chapter_tables", "conclusions", "plateau_sentence", "time_note"]

_LABELS = {"lpips_alex": ("LPIPS-alex", "", 4), "psnr_y": ("PSNR-Y", "dB", 2), "ssim_y": ("SSIM-Y", "", 4),
           "lpips_vgg": ("LPIPS-vgg", "", 4)}
#: the order the conclusion reads the metrics in: LPIPS-alex first (a perceptual score from a network the
#: feature loss does not use), then the fidelity scores, then LPIPS-vgg (which shares the loss network)
METRIC_ORDER = ("lpips_alex", "psnr_y", "ssim_y", "lpips_vgg")


def conclusion_text(differences: pd.DataFrame, *, a: str = "top", against: Sequence[str] = ("all", "bottom")) -> str:
    """Markdown sentences stating, per test set and metric, whether ``a`` beats each arm in ``against``, with the interval.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "top", "b": "all", "metric": "psnr_y", "mean": 0.1,
    ...                    "ci_low": -0.05, "ci_high": 0.2, "better": "top", "clear": False, "n_images": 5}])
    >>> print(conclusion_text(d, against=["all"]))
    - **Set5, top vs all:** PSNR-Y +0.10 dB [-0.05, 0.20] — no clear difference.
    """
    lines = []
    order = {m: i for i, m in enumerate(METRIC_ORDER)}
    for ds, g in differences.groupby("dataset", sort=False):
        for b in against:
            rows = g[(g.a == a) & (g.b == b)]
            if rows.empty:
                continue
            rows = rows.sort_values("metric", key=lambda c: c.map(lambda m: order.get(m, 9)), kind="stable")
            parts = []
            for _, r in rows.iterrows():
                name, unit, nd = _LABELS.get(r.metric, (r.metric, "", 4))
                u = f" {unit}" if unit else ""
                verdict = f"{r.better} better" if r.clear else "no clear difference"
                parts.append(f"{name} {r['mean']:+.{nd}f}{u} [{r.ci_low:.{nd}f}, {r.ci_high:.{nd}f}] — {verdict}")
            lines.append(f"- **{ds}, {a} vs {b}:** " + "; ".join(parts) + ".")
    return "\n".join(lines)


def _verdict_of(r: pd.Series) -> str:
    if "verdict" in r and isinstance(r["verdict"], str):
        return r["verdict"]
    from .evaluate import verdict

    return verdict(r.metric, r.ci_low, r.ci_high)


def top_verdicts(differences: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """For each comparison of the top arm (against bottom, random, all), the verdict on "top is better" per metric.

    One row per comparison and metric (metrics in :data:`METRIC_ORDER`) of ``dataset`` (default: the pooled
    set if present, else the first): a, b, metric, mean, ci_low, ci_high, verdict.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "S", "a": "top", "b": "bottom", "metric": "lpips_alex", "mean": -0.02,
    ...                    "ci_low": -0.03, "ci_high": -0.01}])
    >>> top_verdicts(d)[["b", "verdict"]].values.tolist()
    [['bottom', 'supported']]
    """
    if dataset is None:
        sets = list(dict.fromkeys(differences.dataset))
        dataset = POOLED_NAME if POOLED_NAME in sets else sets[0]
    d = differences[(differences.dataset == dataset) & (differences.a == "top")
                    & ((differences.b.isin(["bottom", "all"])) | differences.b.str.startswith("random"))].copy()
    d["verdict"] = [_verdict_of(r) for _, r in d.iterrows()]
    order = {m: i for i, m in enumerate(METRIC_ORDER)}
    b_order = {"bottom": 0, "all": 2}
    d = d.sort_values(["metric", "b"], key=lambda c: c.map(lambda v: order.get(v, b_order.get(v, 1))), kind="stable")
    return d[["dataset", "a", "b", "metric", "mean", "ci_low", "ci_high", "verdict"]].reset_index(drop=True)


def claim_verdict(verdicts: Sequence[str]) -> str:
    """One verdict on "the top-PE loss is better than each other loss" from the verdicts of its comparisons.

    'supported' when every comparison supports it, 'contradicted' when at least one contradicts it and none
    supports it, 'undecided' otherwise (no clear difference, or a mixed picture).

    Examples
    --------
    >>> claim_verdict(["supported", "supported"]), claim_verdict(["contradicted", "undecided"])
    ('supported', 'contradicted')
    >>> claim_verdict(["supported", "contradicted"]), claim_verdict(["undecided"])
    ('undecided', 'undecided')
    """
    v = list(verdicts)
    if v and all(x == "supported" for x in v):
        return "supported"
    if "contradicted" in v and "supported" not in v:
        return "contradicted"
    return "undecided"


def training_check(differences: pd.DataFrame) -> pd.DataFrame:
    """Did training work? The pixel arm's PSNR-Y gain over bicubic on each test set (pooled set left out).

    ``passed`` is true where the 95 % paired interval lies above 0.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "pixel", "b": "bicubic", "metric": "psnr_y", "mean": 0.5,
    ...                    "ci_low": 0.3, "ci_high": 0.7}])
    >>> training_check(d).passed.tolist()
    [True]
    """
    d = differences[(differences.a == "pixel") & (differences.b == "bicubic") & (differences.metric == "psnr_y")
                    & (differences.dataset != POOLED_NAME)]
    out = d[["dataset", "mean", "ci_low", "ci_high"]].reset_index(drop=True)
    out["passed"] = out.ci_low > 0
    return out


_WHY_ALEX = ("LPIPS-alex is read first: it is a learned perceptual distance calibrated on human judgments, computed "
             "with AlexNet, a network the feature loss never saw. LPIPS-vgg is computed from the very VGG-16 channels "
             "the losses train on, so it favours the feature-loss arms by construction; PSNR-Y and SSIM-Y measure "
             "fidelity, which the pixel term rewards and a feature term trades away for texture.")


def conclusion_markdown(results: SRResults) -> str:
    """The chapter's conclusion as Markdown: was training sound, what each comparison of the top arm says (LPIPS-alex
    first), and one verdict on the claim per metric, all from the paired intervals.

    Examples
    --------
    >>> rows = [{"dataset": "Set5", "a": "pixel", "b": "bicubic", "metric": "psnr_y", "mean": 0.4, "ci_low": 0.2,
    ...          "ci_high": 0.6}, {"dataset": "Set5", "a": "top", "b": "bottom", "metric": "lpips_alex",
    ...          "mean": -0.01, "ci_low": -0.02, "ci_high": -0.005}]
    >>> res = SRResults({}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(rows), provenance={"preset": "ci"})
    >>> text = conclusion_markdown(res)
    >>> "**supported**" in text and "LPIPS-alex is read first" in text
    True
    """
    d = results.differences
    prov = results.provenance
    lines = []
    tc = training_check(d)
    if len(tc):
        parts = [f"{r.dataset} {r['mean']:+.2f} dB [{r.ci_low:.2f}, {r.ci_high:.2f}]" for _, r in tc.iterrows()]
        ok = bool(tc.passed.all())
        lines.append(f"**Did training work?** The pixel arm against bicubic upscaling, PSNR-Y: {'; '.join(parts)} — "
                     + ("every interval lies above 0: the networks learned to super-resolve." if ok else
                        "**not every interval lies above 0**: the networks barely depart from bicubic upscaling, "
                        "and the comparisons below mean little."))
    tv = top_verdicts(d) if len(d[d.a == "top"]) else pd.DataFrame()
    if len(tv):
        ds = tv.dataset.iloc[0]
        n = int(d[d.dataset == ds].n_images.max()) if "n_images" in d else None
        lines.append(f"\n**Is the top-PE loss better?** Paired differences top − other on {ds}"
                     + (f" ({n} images)" if n else "") + ", 95 % bootstrap intervals. " + _WHY_ALEX + "\n")
        for m in METRIC_ORDER:
            g = tv[tv.metric == m]
            if g.empty:
                continue
            name, unit, nd = _LABELS[m]
            u = f" {unit}" if unit else ""
            parts = [f"top − {r.b} {r['mean']:+.{nd}f}{u} [{r.ci_low:.{nd}f}, {r.ci_high:.{nd}f}] ({r.verdict})"
                     for _, r in g.iterrows()]
            lines.append(f"- **{name}: {claim_verdict(g.verdict)}** — " + "; ".join(parts) + ".")
        first = claim_verdict(tv[tv.metric == METRIC_ORDER[0]].verdict) if (tv.metric == METRIC_ORDER[0]).any() else None
        if first is not None:
            lines.append(f"\nRead by LPIPS-alex, the claim that a loss on the high-PE channels trains better "
                         f"super-resolution than the low-PE, random or all channels is **{first}** here.")
            fidelity = claim_verdict(tv[tv.metric == "psnr_y"].verdict) if (tv.metric == "psnr_y").any() else None
            if {first, fidelity} == {"supported", "contradicted"}:
                lines[-1] += (" The measures point in opposite directions: against the other losses the top-PE loss "
                             + ("keeps more fidelity (PSNR-Y) and less perceptual similarity (LPIPS-alex), as a "
                                "feature term that pulls less away from the pixel loss would."
                                if fidelity == "supported" else
                                "gains perceptual similarity (LPIPS-alex) and loses fidelity (PSNR-Y)."))
    s = prov.get("parameters", {}).get("sr_settings", {})
    if s:
        lines.append(f"\nThese are results of the **{prov.get('preset')}** preset"
                     f"{' (stored)' if prov.get('stored') else ''}: {s.get('n_blocks')} blocks × {s.get('n_feats')} "
                     f"channels, {s.get('steps')} steps per arm, λ = {prov.get('parameters', {}).get('feature_weight', s.get('feature_weight'))}.")
    return "\n".join(lines)


def chapter_tables(results: SRResults) -> dict[str, Any]:
    """The tables and caption fragments the chapter shows, from the results alone (no computation).

    Keys: ``settings`` (the budget), ``channels`` (selected channels per arm and layer), ``scores``
    (where the PE scores came from), ``plateau`` (:func:`plateau_table` with the validation PSNR-Y at the
    end and 20 % earlier), ``sweep`` (the λ sweep, or ``None``), ``sweep_note``, ``summary`` (means with
    intervals, one column per metric), ``lambda``, ``test_sets`` and ``grid`` (a one-line description).
    """
    prov = results.provenance
    params = prov.get("parameters", {})
    s = params.get("sr_settings", {})
    lam = float(params.get("feature_weight", s.get("feature_weight", float("nan"))))
    keys = ("n_blocks", "n_feats", "crop", "batch_size", "steps", "lr", "pixel_loss", "p", "feature_normalise",
            "loss_precision", "val_images", "lambda_grid", "sweep_steps", "eval_sets", "eval_crop", "n_bootstrap")
    settings = pd.DataFrame({"setting": [k for k in keys if k in s] + ["λ (used)"],
                             "value": [str(s[k]) for k in keys if k in s] + [f"{lam:g}"]}).set_index("setting")
    channels = prov.get("channels", {})
    runs = params.get("runs", list(results.logs))
    sel = pd.DataFrame({name: {layer: len(idx) for layer, idx in channels.get(name, {}).items()} for name in runs}).T
    sel = sel.fillna(0).astype(int)
    sel.index.name = "arm"
    sc = prov.get("scores", {}) or {}
    scores = f"PE of {prov.get('network')} under the {sc.get('preset')} probe preset" + \
        (" (stored results)" if sc.get("stored") else "")
    plateau = plateau_table(results.logs)
    val_end, val_before = [], []
    for name in plateau.run:
        log = results.logs[name]
        v = log[log.val_psnr_y.notna()] if "val_psnr_y" in log else log.iloc[0:0]
        val_end.append(float(v.val_psnr_y.iloc[-1]) if len(v) else np.nan)
        k = v[v.step <= 0.8 * log.step.iloc[-1]]
        val_before.append(float(k.val_psnr_y.iloc[-1]) if len(k) else np.nan)
    plateau = plateau.assign(val_psnr_y_end=val_end, val_psnr_y_at_80pct=val_before).set_index("run")
    sweep, sweep_note = None, ""
    if results.lambda_sweep is not None:
        t = results.lambda_sweep
        cols = [c for c in ("method", "lambda", "steps", "lpips_alex", "psnr_y", "psnr_minus_bicubic", "ssim_y",
                            "lpips_vgg", "eligible", "chosen") if c in t]
        sweep = t[cols].set_index("method")
        sweep_note = (f"{int(t.n_images.iloc[0])} photographs; criterion: {t.criterion.iloc[0]}" if "criterion" in t
                      else "")
    summ = results.summary.assign(value=[f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in
                                         zip(results.summary["mean"], results.summary.ci_low, results.summary.ci_high)])
    order = [m for m in METRIC_ORDER if m in set(summ.metric)]
    summary = summ.pivot_table(index=["dataset", "method"], columns="metric", values="value", aggfunc="first",
                               sort=False)[order]
    n = results.per_image.groupby("dataset", sort=False).image.nunique().to_dict() if len(results.per_image) else {}
    crop = f"centre {s['eval_crop']}-pixel crops of " if s.get("eval_crop") else ""
    test_sets = crop + ", ".join(f"{ds} ({k} images)" for ds, k in n.items()) + \
        (" — Set14 without lenna" if "Set14" in n else "")
    note = time_note(prov)
    grid = (f"{s.get('n_blocks')} blocks × {s.get('n_feats')} channels, {s.get('steps')} steps per arm, batch "
            f"{s.get('batch_size')} of {s.get('crop')}-px crops, λ = {lam:g}, test: {test_sets}"
            + (f"; {note}" if note else ""))
    return {"settings": settings, "channels": sel, "scores": scores, "plateau": plateau, "sweep": sweep,
            "sweep_note": sweep_note, "summary": summary, "plateau_sentence": plateau_sentence(plateau), "lambda": lam,
            "test_sets": test_sets, "grid": grid}


CLAIM = "a feature loss on the top-PE channels trains better super-resolution than one on the {b} channels"


def conclusions(results: SRResults) -> list:
    """The paper's SR claim tested per comparison and measure: a list of :class:`pecore.experiment.Verdict`.

    One verdict per comparison of the top arm (against bottom, random, all) and measure, on the pooled
    test set, in :data:`METRIC_ORDER` (LPIPS-alex first), predicted side: top better.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "top", "b": "bottom", "metric": "lpips_alex", "mean": -0.02,
    ...                    "ci_low": -0.03, "ci_high": -0.01, "n_images": 5}])
    >>> [v.verdict for v in conclusions(SRResults({}, pd.DataFrame(), pd.DataFrame(), d))]
    ['supported']
    """
    from ..experiment import Verdict
    from .evaluate import METRICS

    d = results.differences
    out = []
    for _, r in top_verdicts(d).iterrows():
        n = d[(d.dataset == r.dataset) & (d.a == r.a) & (d.b == r.b) & (d.metric == r.metric)]
        n_images = int(n.n_images.iloc[0]) if "n_images" in n and len(n) else 0
        out.append(Verdict.from_interval(CLAIM.format(b=r.b), r.dataset, r.metric, r["mean"], r.ci_low, r.ci_high,
                                         n=n_images, predicted=1 if METRICS[r.metric] else -1))
    return out


def plateau_sentence(plateau: pd.DataFrame) -> str:
    """How far training had levelled off, from :func:`chapter_tables`'s plateau table, in one or two sentences.

    Examples
    --------
    >>> t = pd.DataFrame({"relative_change": [0.001, -0.003], "val_psnr_y_end": [27.0, 26.6],
    ...                   "val_psnr_y_at_80pct": [26.95, 26.45]}, index=pd.Index(["pixel", "top"], name="run"))
    >>> print(plateau_sentence(t))
    Over the last tenth of the steps the mean training loss of every arm changed by less than 0.3 %. Over the last fifth, PSNR-Y on the validation crops rose by at most 0.15 dB (top): the arms are close to, not at, their plateau.
    """
    if plateau.empty:
        return ""
    worst = float(plateau.relative_change.abs().max())
    text = (f"Over the last tenth of the steps the mean training loss of every arm changed by less than "
            f"{np.ceil(worst * 1000) / 10:.1f} %.")
    if "val_psnr_y_end" in plateau and plateau.val_psnr_y_end.notna().any():
        gain = plateau.val_psnr_y_end - plateau.val_psnr_y_at_80pct
        run, g = gain.idxmax(), float(gain.max())
        text += (f" Over the last fifth, PSNR-Y on the validation crops rose by at most {g:.2f} dB ({run})"
                 + (": the arms are close to, not at, their plateau." if g >= 0.1 else ": the arms have levelled off."))
    return text


def time_note(provenance: dict) -> str:
    """What the results cost: training time of every run in all and, when the command was resumed, its last call.

    Examples
    --------
    >>> time_note({"training_seconds_total": 3069.2, "wall_seconds": 2516.0})
    'training 51 min in all, over more than one call of the command (the last one 42 min)'
    >>> time_note({"training_seconds_total": 60.0, "wall_seconds": 90.0})
    'training 1 min, 2 min in all'
    """
    total, wall = provenance.get("training_seconds_total"), provenance.get("wall_seconds")
    if total is None or wall is None:
        return ""
    if total > wall:
        return (f"training {total / 60:.0f} min in all, over more than one call of the command "
                f"(the last one {wall / 60:.0f} min)")
    return f"training {total / 60:.0f} min, {wall / 60:.0f} min in all"

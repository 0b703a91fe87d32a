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

from ..experiment import display_name
from .evaluate import POOLED_NAME
from .results import SRResults, plateau_table

__all__ = ["METRIC_ORDER", "conclusion_text", "top_verdicts", "claim_verdict", "comparison_phrase", "training_check",
           "conclusion_markdown", "chapter_tables", "settings_table", "sweep_table", "conclusions", "plateau_sentence",
           "time_note", "sample_description"]

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
    """One word for "the top-PE loss is better than each other loss" from the verdicts of its comparisons, never
    stronger than they are: the word of the book's claims page (:func:`pecore.claims.row_verdict`).

    'supported' / 'contradicted' only when every comparison is; 'undecided' when none is either; 'mixed'
    otherwise.

    Examples
    --------
    >>> claim_verdict(["supported", "supported"]), claim_verdict(["contradicted", "undecided"])
    ('supported', 'mixed')
    >>> claim_verdict(["supported", "contradicted"]), claim_verdict(["undecided"])
    ('mixed', 'undecided')
    """
    from ..claims import row_verdict

    return row_verdict(list(verdicts))


_AGAINST = {"supported": "better than", "contradicted": "worse than", "undecided": "not clearly different from"}


def _arm_words(arm: str) -> str:
    words = {"all": "all-channel", "bottom": "bottom-PE", "top": "top-PE", "pixel": "pixel-only"}
    return words.get(arm, display_name(arm))


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def comparison_phrase(rows: pd.DataFrame, sep: str = "; ") -> str:
    """What the verdicts of the top arm's comparisons on one measure say, in words: which losses the top-PE
    loss beats, loses to, and cannot be told from (rows: b, verdict, as :func:`top_verdicts` gives them), the
    parts separated by ``sep`` (``"and"``: joined as a sentence).

    Examples
    --------
    >>> t = pd.DataFrame({"b": ["bottom", "random-s0", "all"], "verdict": ["undecided", "contradicted", "contradicted"]})
    >>> comparison_phrase(t)
    'worse than the random (seed 0) and all-channel losses; not clearly different from the bottom-PE loss'
    >>> comparison_phrase(t, sep="and")
    'worse than the random (seed 0) and all-channel losses, and not clearly different from the bottom-PE loss'
    """
    parts = []
    for verdict in ("supported", "contradicted", "undecided"):
        arms = [_arm_words(b) for b, v in zip(rows.b, rows.verdict) if v == verdict]
        if arms:
            parts.append(f"{_AGAINST[verdict]} the {_join(arms)} loss{'es' if len(arms) > 1 else ''}")
    if sep == "and" and len(parts) > 1:
        return ", ".join(parts[:-1]) + ", and " + parts[-1]
    return sep.join(parts)


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
    first), what LPIPS-alex says in words, and the count of all verdicts, every sentence from the paired intervals.

    Examples
    --------
    >>> rows = [{"dataset": "Set5", "a": "pixel", "b": "bicubic", "metric": "psnr_y", "mean": 0.4, "ci_low": 0.2,
    ...          "ci_high": 0.6}, {"dataset": "Set5", "a": "top", "b": "bottom", "metric": "lpips_alex",
    ...          "mean": -0.01, "ci_low": -0.02, "ci_high": -0.005}]
    >>> res = SRResults({}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(rows), provenance={"preset": "ci"})
    >>> text = conclusion_markdown(res)
    >>> "**supported**" in text and "LPIPS-alex is read first" in text and "better than the bottom-PE loss" in text
    True
    """
    from ..experiment import VERDICTS

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
                     + (f" ({n} images)" if n else "") + ", 95 % bootstrap intervals; a verdict is *supported* when "
                     "the interval lies on the side where top is better, *contradicted* when it lies on the other "
                     "side, *undecided* when it contains 0. " + _WHY_ALEX + "\n")
        for m in METRIC_ORDER:
            g = tv[tv.metric == m]
            if g.empty:
                continue
            name, unit, nd = _LABELS[m]
            u = f" {unit}" if unit else ""
            parts = [f"top − {display_name(r.b)} {r['mean']:+.{nd}f}{u} [{r.ci_low:.{nd}f}, {r.ci_high:.{nd}f}] "
                     f"({r.verdict})" for _, r in g.iterrows()]
            lines.append(f"- **{name}** ({claim_verdict(g.verdict)}): " + "; ".join(parts)
                         + f". The top-PE loss is {comparison_phrase(g)}.")
        first = tv[tv.metric == METRIC_ORDER[0]]
        if len(first):
            if set(first.verdict) == {"supported"}:
                reading = "supports the claim against every other loss"
            elif "supported" not in set(first.verdict):
                reading = "supports the claim against none of the other losses"
            else:
                reading = "supports the claim against some of the other losses only"
            lines.append(f"\nRead by LPIPS-alex, the measure read first, the top-PE loss is "
                         f"{comparison_phrase(first, 'and')}: LPIPS-alex {reading}.")
            psnr = tv[tv.metric == "psnr_y"].set_index("b").verdict
            split = [b for b, v in zip(first.b, first.verdict) if v == "contradicted" and psnr.get(b) == "supported"]
            split_rev = [b for b, v in zip(first.b, first.verdict) if v == "supported" and psnr.get(b) == "contradicted"]
            if split:
                lines[-1] += (f" Against the {_join([_arm_words(b) for b in split])} loss{'es' if len(split) > 1 else ''}"
                              " the measures point in opposite directions: the top-PE loss keeps more fidelity "
                              "(higher PSNR-Y) and less perceptual similarity (higher LPIPS-alex), as a feature term "
                              "that pulls the network less far from the pixel loss would.")
            if split_rev:
                lines[-1] += (f" Against the {_join([_arm_words(b) for b in split_rev])} "
                              f"loss{'es' if len(split_rev) > 1 else ''} the top-PE loss gains perceptual similarity "
                              "(lower LPIPS-alex) and loses fidelity (lower PSNR-Y).")
        counts = {k: int((tv.verdict == k).sum()) for k in VERDICTS}
        listing = ", ".join(f"{c} {k}" for k, c in counts.items() if c)
        lines.append(f"\nOver all {len(tv)} comparisons ({tv.metric.nunique()} measures × "
                     f"{tv.b.nunique()} other losses) the claim is **{claim_verdict(tv.verdict)}**: {listing}.")
    s = prov.get("parameters", {}).get("sr_settings", {})
    if s:
        lines.append(f"\nThese are results of the **{prov.get('preset')}** preset"
                     f"{' (stored)' if prov.get('stored') else ''}: {s.get('n_blocks')} blocks × {s.get('n_feats')} "
                     f"channels, {s.get('steps'):,} steps per arm, one training seed, "
                     f"λ = {prov.get('parameters', {}).get('feature_weight', s.get('feature_weight')):g}.")
    return "\n".join(lines)


def _fmt(v: float, nd: int = 4, sign: bool = False) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:{'+' if sign else ''}.{nd}f}"


def settings_table(provenance: dict) -> pd.DataFrame:
    """Table 1 of the chapter: the budget and evaluation of every arm, in words (no Python values).

    Examples
    --------
    >>> t = settings_table({"parameters": {"feature_weight": 0.01, "sr_settings": {"scale": 4, "pixel_loss": "l1",
    ...     "eval_sets": ["Set5", "Set14"], "eval_crop": None, "lambda_grid": [0.01, 0.1]}}})
    >>> t.value.tolist()
    ['L1 (mean absolute error)', 'λ = 0.01, 0.1', 'λ = 0.01 (chosen by the sweep)', 'Set5, Set14 (without lenna)', 'the whole images', '4 px (the upscaling factor), for every measure']
    """
    params = provenance.get("parameters", {})
    s = params.get("sr_settings", {})
    lam = params.get("feature_weight", s.get("feature_weight"))
    scale = s.get("scale", 4)
    grid = list(s.get("lambda_grid") or [])
    rows: list[tuple[str, str]] = []

    def add(key: str, label: str, text) -> None:
        if key in s:
            rows.append((label, text(s[key])))

    add("n_blocks", "residual blocks", str)
    add("n_feats", "channels per block", str)
    add("crop", "training crops (HR)", lambda v: f"{v} × {v} px")
    add("batch_size", "batch size", str)
    add("steps", "training steps per arm", lambda v: f"{v:,}")
    add("lr", "learning rate", lambda v: f"{v:g}, cosine decay to {v / 10:g}")
    add("pixel_loss", "pixel loss", lambda v: {"l1": "L1 (mean absolute error)", "l2": "L2 (mean squared error)"}
        .get(str(v), str(v)))
    add("p", "channels per subset (top, bottom, random)", lambda v: f"{v:g} % of each layer's")
    add("feature_normalise", "subset weighting",
        lambda v: "scaled by C / |M| (same strength as all channels)" if v == "count" else "none (plain 0/1 mask)")
    add("loss_precision", "loss-network precision (CPU)", str)
    add("val_images", "validation photographs (for λ)", lambda v: f"{v} of BSD100, held out of training" if v else
        "none")
    if grid:
        rows.append(("λ values tried", "λ = " + ", ".join(f"{x:g}" for x in grid)))
        add("sweep_steps", "steps per λ in the sweep", lambda v: f"{v:,}")
    if lam is not None:
        rows.append(("λ used", f"λ = {float(lam):g}" + (" (chosen by the sweep)" if grid else " (the preset's)")))
    add("eval_sets", "test sets", lambda v: ", ".join(map(str, v)) + (" (without lenna)" if "Set14" in v else ""))
    if "eval_sets" in s or "eval_crop" in s:
        crop = s.get("eval_crop")
        rows.append(("test images scored", f"centre {crop} × {crop} px crops" if crop else "the whole images"))
        rows.append(("border left out of the scores", f"{scale} px (the upscaling factor), for every measure"))
    add("n_bootstrap", "bootstrap resamples", lambda v: f"{v:,}")
    return pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")


def sweep_table(sweep: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Table 4 of the chapter: the λ sweep in words, one row per λ after the bicubic reference, and its caption note.

    '—' marks what does not apply to bicubic upscaling (it has no λ and is the reference, not a candidate).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["bicubic", "all-lambda0.01"], "lambda": [float("nan"), 0.01], "steps": [0, 20],
    ...                   "lpips_alex": [0.5, 0.4], "psnr_y": [25.0, 25.5], "psnr_minus_bicubic": [0.0, 0.5],
    ...                   "ssim_y": [0.6, 0.65], "lpips_vgg": [0.4, 0.41], "eligible": [False, True],
    ...                   "chosen": [False, True], "n_images": [16, 16], "criterion": "c"})
    >>> table, note = sweep_table(t)
    >>> table.index.tolist(), table["chosen"].tolist()
    (['bicubic', 'λ = 0.01'], ['—', 'yes'])
    """
    rows = []
    for _, r in sweep.iterrows():
        ref = str(r.method) == "bicubic"
        rows.append({"run": "bicubic" if ref else f"λ = {float(r['lambda']):g}",
                     "LPIPS-alex ↓": _fmt(r.get("lpips_alex", np.nan)),
                     "PSNR-Y (dB)": _fmt(r.get("psnr_y", np.nan), 2),
                     "PSNR-Y over bicubic (dB)": "—" if ref else _fmt(r.get("psnr_minus_bicubic", np.nan), 2, True),
                     "SSIM-Y": _fmt(r.get("ssim_y", np.nan)),
                     "PSNR-Y ≥ bicubic": "—" if ref else ("yes" if bool(r.get("eligible")) else "no"),
                     "chosen": "—" if ref else ("yes" if bool(r.get("chosen")) else "no")})
    table = pd.DataFrame(rows).set_index("run")
    steps = sorted({int(x) for x in sweep.steps if x}) if "steps" in sweep else []
    n = int(sweep.n_images.iloc[0]) if "n_images" in sweep and len(sweep) else None
    note = ((f"the all-channel arm trained {', '.join(f'{x:,}' for x in steps)} steps with each λ, " if steps else "")
            + (f"scored on {n} held-out BSD100 photographs; " if n else "")
            + "chosen: the lowest LPIPS-alex among the λ whose PSNR-Y is at least bicubic's; "
            "— : does not apply to bicubic upscaling, the reference")
    return table, note


def sample_description() -> str:
    """The test image of the chapter's side-by-side crops, in words.

    Examples
    --------
    >>> sample_description()
    'the butterfly of Set5 (image 3)'
    """
    from .experiment import SAMPLE_IMAGE

    names = {("Set5", "img_001"): "baby", ("Set5", "img_002"): "bird", ("Set5", "img_003"): "butterfly",
             ("Set5", "img_004"): "head", ("Set5", "img_005"): "woman"}
    ds, image = SAMPLE_IMAGE
    number = int(image.rsplit("_", 1)[-1]) if image.rsplit("_", 1)[-1].isdigit() else image
    what = names.get((ds, image))
    return f"the {what} of {ds} (image {number})" if what else f"image {number} of {ds}"


def chapter_tables(results: SRResults) -> dict[str, Any]:
    """The tables and caption fragments the chapter shows, from the results alone (no computation), in words.

    Keys: ``settings`` (:func:`settings_table`), ``channels`` (selected channels per arm and layer), ``scores``
    (where the PE scores came from), ``plateau`` (:func:`plateau_table` with the validation PSNR-Y at the
    end and 20 % earlier, for display), ``plateau_sentence``, ``sweep`` (:func:`sweep_table`, or ``None``),
    ``sweep_note``, ``summary`` (means per test set and arm, one column per metric), ``lambda``, ``test_sets``,
    ``sample`` (:func:`sample_description`) and ``grid`` (a one-line description).
    """
    prov = results.provenance
    params = prov.get("parameters", {})
    s = params.get("sr_settings", {})
    lam = float(params.get("feature_weight", s.get("feature_weight", float("nan"))))
    settings = settings_table(prov)
    channels = prov.get("channels", {})
    runs = params.get("runs", list(results.logs))
    sel = pd.DataFrame({name: {layer: len(idx) for layer, idx in channels.get(name, {}).items()} for name in runs}).T
    sel = sel.fillna(0).astype(int)
    sel.index = [display_name(x) for x in sel.index]
    sel.index.name = "arm"
    sc = prov.get("scores", {}) or {}
    scores = f"PE of {display_name(prov.get('network'))} under the {sc.get('preset')} probe preset" + \
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
    order = {"pixel": 0, "all": 1, "top": 2, "bottom": 3}
    plateau = plateau.loc[sorted(plateau.index, key=lambda x: (order.get(x, 4), x))]
    sentence = plateau_sentence(plateau)
    shown = pd.DataFrame({"loss, previous tenth": plateau.loss_before.map(lambda v: f"{v:.4f}"),
                          "loss, last tenth": plateau.loss_last.map(lambda v: f"{v:.4f}"),
                          "change": plateau.relative_change.map(lambda v: f"{100 * v:+.2f} %")}, index=plateau.index)
    if plateau.val_psnr_y_end.notna().any():
        shown["validation PSNR-Y at 80 % (dB)"] = plateau.val_psnr_y_at_80pct.map(lambda v: _fmt(v, 2))
        shown["validation PSNR-Y at the end (dB)"] = plateau.val_psnr_y_end.map(lambda v: _fmt(v, 2))
    shown.index = [display_name(x) for x in shown.index]
    shown.index.name = "arm"
    sweep, sweep_note = None, ""
    if results.lambda_sweep is not None:
        sweep, sweep_note = sweep_table(results.lambda_sweep)
    summ = results.summary
    order_m = [m for m in METRIC_ORDER if m in set(summ.metric)]
    summary = summ.pivot_table(index=["dataset", "method"], columns="metric", values="mean", aggfunc="first",
                               sort=False)[order_m]
    for m in order_m:
        nd = _LABELS[m][2]
        summary[m] = summary[m].map(lambda v, nd=nd: _fmt(v, nd))
    summary.columns = [_LABELS[m][0] + (" (dB)" if _LABELS[m][1] else "") + (" ↓" if m.startswith("lpips") else " ↑")
                       for m in order_m]
    summary.columns.name = None
    summary = summary.rename(index=display_name, level=1)
    summary.index.names = ["test set", "method"]
    n = results.per_image.groupby("dataset", sort=False).image.nunique().to_dict() if len(results.per_image) else {}
    crop = f"centre {s['eval_crop']}-pixel crops of " if s.get("eval_crop") else ""
    test_sets = crop + ", ".join(f"{ds} ({k} images)" for ds, k in n.items()) + \
        (" — Set14 without lenna" if "Set14" in n else "")
    note = time_note(prov)
    grid = (f"{s.get('n_blocks')} blocks × {s.get('n_feats')} channels, {s.get('steps')} steps per arm, batch "
            f"{s.get('batch_size')} of {s.get('crop')}-px crops, λ = {lam:g}, test: {test_sets}"
            + (f"; {note}" if note else ""))
    return {"settings": settings, "channels": sel, "scores": scores, "plateau": shown, "sweep": sweep,
            "sweep_note": sweep_note, "summary": summary, "plateau_sentence": sentence, "lambda": lam,
            "test_sets": test_sets, "sample": sample_description(), "grid": grid}


CLAIM = "a feature loss on the top-PE channels trains better super-resolution than one on the {b} channels"
#: ``{b}`` is the other arm in words (:func:`pecore.experiment.display_name`: 'random (seed 0)')


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
        out.append(Verdict.from_interval(CLAIM.format(b=display_name(r.b)), r.dataset, r.metric, r["mean"], r.ci_low, r.ci_high,
                                         n=n_images, predicted=1 if METRICS[r.metric] else -1))
    return out


def plateau_sentence(plateau: pd.DataFrame, *, level: float = 0.01) -> str:
    """How far training had levelled off, from the numbers of :func:`chapter_tables`'s plateau table.

    The arms are said to have levelled off only when no arm's validation PSNR-Y rose by more than ``level`` dB
    over the last fifth of the steps.

    Examples
    --------
    >>> t = pd.DataFrame({"relative_change": [0.001, -0.003], "val_psnr_y_end": [27.0, 26.6],
    ...                   "val_psnr_y_at_80pct": [26.95, 26.45]}, index=pd.Index(["pixel", "top"], name="run"))
    >>> print(plateau_sentence(t))
    Over the last tenth of the steps the mean training loss of every arm changed by less than 0.3 %. But PSNR-Y on the validation crops was still rising: over the last fifth of the steps it rose by 0.05 to 0.15 dB (most: top). The arms had not levelled off; longer training could still move the scores below by about that much.
    """
    if plateau.empty:
        return ""
    worst = float(plateau.relative_change.abs().max())
    text = (f"Over the last tenth of the steps the mean training loss of every arm changed by less than "
            f"{np.ceil(worst * 1000) / 10:.1f} %.")
    if "val_psnr_y_end" in plateau and plateau.val_psnr_y_end.notna().any():
        gain = (plateau.val_psnr_y_end - plateau.val_psnr_y_at_80pct).dropna()
        run, hi, lo = gain.idxmax(), float(gain.max()), float(gain.min())
        if hi <= level:
            text += (f" PSNR-Y on the validation crops changed by at most {max(hi, -lo):.2f} dB over the last fifth "
                     "of the steps: the arms had levelled off.")
        else:
            rising = "every arm" if lo > level else "some arms"
            span = f"{lo:.2f} to {hi:.2f} dB" if lo > level else f"up to {hi:.2f} dB"
            text += (f" But PSNR-Y on the validation crops was still rising{'' if rising == 'every arm' else ' for ' + rising}: "
                     f"over the last fifth of the steps it rose by {span} (most: {display_name(run)}). The arms "
                     "had not levelled off; longer training could still move the scores below by about that much.")
    return text


def time_note(provenance: dict) -> str:
    """What the results cost in time, plainly: the training time of every run, and whether the run was resumed.

    Examples
    --------
    >>> time_note({"training_seconds_total": 3069.2, "wall_seconds": 2516.0})
    '51 min of training; the run was stopped and resumed, its last part took 42 min'
    >>> time_note({"training_seconds_total": 60.0, "wall_seconds": 90.0})
    '1 min of training, 2 min in all'
    """
    total, wall = provenance.get("training_seconds_total"), provenance.get("wall_seconds")
    if total is None or wall is None:
        return ""
    if total > wall:
        return f"{total / 60:.0f} min of training; the run was stopped and resumed, its last part took {wall / 60:.0f} min"
    return f"{total / 60:.0f} min of training, {wall / 60:.0f} min in all"

"""The SR chapter's tables, in words: the run's settings, the λ sweep, the test sample, the run time, and
every table the chapter shows (:func:`chapter_tables`). Everything reads a finished
:class:`~pecore.sr.results.SRResults`."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..experiment import display_name
from .conclusions import _LABELS, METRIC_ORDER, plateau_sentence
from .results import SRResults, plateau_table

__all__ = ["chapter_tables", "plateau_display", "settings_table", "sweep_table", "sample_description", "time_note"]


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
    >>> "shared start" in settings_table({"parameters": {"sr_settings": {"pretrain_steps": 100, "pretrain_lr": 1e-3}}}).index
    True
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
    if s.get("pretrain_steps"):
        rows.append(("shared start", f"for each training seed, a generator trained {s['pretrain_steps']:,} steps "
                                     f"with the pixel loss alone (learning rate {s.get('pretrain_lr', 0):g}); every "
                                     "arm of that seed is fine-tuned from it"))
    add("steps", "fine-tuning steps per arm" if s.get("pretrain_steps") else "training steps per arm",
        lambda v: f"{v:,}")
    add("lr", "learning rate", lambda v: f"{v:g}, cosine decay to {v / 10:g}")
    add("train_seeds", "training seeds", lambda v: f"{len(v)} (each: its own start, initial weights and crops)")
    add("random_seeds", "random-channel draws", lambda v: f"{len(v)}, each trained with every training seed")
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
    add("n_bootstrap", "bootstrap resamples (images, training seeds and draws resampled independently)",
        lambda v: f"{v:,}")
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
                     "GMSD ↓": _fmt(r.get("gmsd", np.nan)),
                     "PSNR-Y ≥ bicubic": "—" if ref else ("yes" if bool(r.get("eligible")) else "no"),
                     "chosen": "—" if ref else ("yes" if bool(r.get("chosen")) else "no")})
    table = pd.DataFrame(rows).set_index("run")
    steps = sorted({int(x) for x in sweep.steps if x}) if "steps" in sweep else []
    n = int(sweep.n_images.iloc[0]) if "n_images" in sweep and len(sweep) else None
    note = ((f"the all-channel arm trained {', '.join(f'{x:,}' for x in steps)} steps with each λ, " if steps else "")
            + (f"scored on {n} held-out BSD100 photographs; " if n else "")
            + "chosen: the lowest LPIPS-alex among the λ whose PSNR-Y is at least bicubic's"
            + ("" if "interior" not in sweep else "; the chosen λ lies inside the grid, not at an end" if
               bool(sweep["interior"].any()) else "; **the chosen λ lies at an end of the grid**: a wider grid might "
               "choose another")
            + "; — : does not apply to bicubic upscaling, the reference")
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


def plateau_display(results: SRResults) -> tuple[pd.DataFrame, str]:
    """Per arm (its runs of every training seed and draw together; the shared pretraining as its own row): the
    largest relative change of the training loss over the last tenth, and validation PSNR-Y at 80 % and at the
    end of training with the largest rise between them, in words; and :func:`plateau_sentence` of the per-run
    numbers."""
    from .runs import parse_run_name

    plateau = plateau_table(results.logs)
    val_end, val_before = [], []
    for name in plateau.run:
        log = results.logs[name]
        v = log[log.val_psnr_y.notna()] if "val_psnr_y" in log else log.iloc[0:0]
        val_end.append(float(v.val_psnr_y.iloc[-1]) if len(v) else np.nan)
        k = v[v.step <= 0.8 * log.step.iloc[-1]]
        val_before.append(float(k.val_psnr_y.iloc[-1]) if len(k) else np.nan)
    plateau = plateau.assign(val_psnr_y_end=val_end, val_psnr_y_at_80pct=val_before).set_index("run")
    sentence = plateau_sentence(plateau.drop(index=[r for r in plateau.index if r.startswith("pretrain")]))
    plateau["rise"] = plateau.val_psnr_y_end - plateau.val_psnr_y_at_80pct
    plateau["arm"] = [parse_run_name(r)["arm"] if not r.startswith("pretrain") else "pretrain" for r in plateau.index]
    order = {"pretrain": -1, "pixel": 0, "all": 1, "top": 2, "bottom": 3, "random": 4}
    rows = []
    for arm, g in sorted(plateau.groupby("arm", sort=False), key=lambda kv: order.get(kv[0], 5)):
        row = {"arm": "shared start (pixel loss)" if arm == "pretrain" else display_name(arm), "runs": len(g),
               "largest loss change, last tenth": f"{100 * g.relative_change.abs().max():.2f} %"}
        if g.val_psnr_y_end.notna().any():
            row["validation PSNR-Y at the end (dB)"] = _fmt(float(g.val_psnr_y_end.mean()), 2)
            row["largest rise over the last fifth (dB)"] = _fmt(float(g.rise.max()), 3, sign=True)
        rows.append(row)
    shown = pd.DataFrame(rows).set_index("arm")
    return shown, sentence


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
    first = [r for r in runs if not r.endswith(("-t1", "-t2", "-t3", "-t4"))]  # one training seed: same channels
    sel = pd.DataFrame({name: {layer: len(idx) for layer, idx in channels.get(name, {}).items()} for name in first}).T
    sel = sel.fillna(0).astype(int)
    sel.index = [display_name(x.rsplit("-t", 1)[0]) for x in sel.index]
    sel.index.name = "arm"
    sc = prov.get("scores", {}) or {}
    scores = f"PE of {display_name(prov.get('network'))} under the {sc.get('preset')} probe preset" + \
        (" (stored results)" if sc.get("stored") else "")
    shown, sentence = plateau_display(results)
    sweep, sweep_note = None, ""
    if results.lambda_sweep is not None:
        sweep, sweep_note = sweep_table(results.lambda_sweep)
    summ = results.summary
    order_m = [m for m in METRIC_ORDER if m in set(summ.metric)]
    col = "arm" if "arm" in summ else "method"
    summary = summ.pivot_table(index=["dataset", col], columns="metric", values="mean", aggfunc="first",
                               sort=False)[order_m]
    for m in order_m:
        nd = _LABELS[m][2]
        summary[m] = summary[m].map(lambda v, nd=nd: _fmt(v, nd))
    summary.columns = [_LABELS[m][0] + (" (dB)" if _LABELS[m][1] else "") + (" ↓" if m in ("lpips_alex", "lpips_vgg",
                                                                                           "gmsd") else " ↑")
                       for m in order_m]
    summary.columns.name = None
    summary = summary.rename(index=display_name, level=1)
    summary.index.names = ["test set", "arm"]
    n = results.per_image.groupby("dataset", sort=False).image.nunique().to_dict() if len(results.per_image) else {}
    crop = f"centre {s['eval_crop']}-pixel crops of " if s.get("eval_crop") else ""
    test_sets = crop + ", ".join(f"{ds} ({k} images)" for ds, k in n.items()) + \
        (" — Set14 without lenna" if "Set14" in n else "")
    note = time_note(prov)
    seeds = len(s.get("train_seeds") or [0])
    pre = f"{s.get('pretrain_steps'):,} shared pixel-loss steps, then " if s.get("pretrain_steps") else ""
    grid = (f"{s.get('n_blocks')} blocks × {s.get('n_feats')} channels, {pre}{s.get('steps')} steps per arm × {seeds} "
            f"training seed{'s' if seeds > 1 else ''}, {len(s.get('random_seeds') or [0])} random draws, batch "
            f"{s.get('batch_size')} of {s.get('crop')}-px crops, λ = {lam:g}, test: {test_sets}"
            + (f"; {note}" if note else ""))
    return {"settings": settings, "channels": sel, "scores": scores, "plateau": shown, "sweep": sweep,
            "sweep_note": sweep_note, "summary": summary, "plateau_sentence": sentence, "lambda": lam,
            "test_sets": test_sets, "sample": sample_description(), "grid": grid}


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

"""What the SR results say: verdicts from paired intervals and the conclusion's text (its tables: :mod:`pecore.sr.tables`).

Everything here reads a finished :class:`~pecore.sr.results.SRResults`; nothing computes a network.
The conclusion reads LPIPS-alex first (:data:`METRIC_ORDER`): a perceptual distance from a network
the feature loss never uses.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..claims import CLAIMS
from ..experiment import MIN_IMAGES, display_name, verdict_word
from .evaluate import POOLED_NAME
from .results import SRResults

__all__ = ["METRIC_ORDER", "PRIMARY", "conclusion_text", "top_verdicts", "claim_verdict", "comparison_phrase",
           "training_check", "feature_check", "loss_balance", "conclusion_markdown", "conclusions", "plateau_sentence"]

_LABELS = {"lpips_alex": ("LPIPS-alex", "", 4), "gmsd": ("GMSD", "", 4), "psnr_y": ("PSNR-Y", "dB", 2),
           "ssim_y": ("SSIM-Y", "", 4), "lpips_vgg": ("LPIPS-vgg", "", 4)}
#: the order the conclusion reads the metrics in: LPIPS-alex first (the primary measure, fixed before the run: a
#: perceptual score from a network the feature loss does not use), GMSD (structure, no network), the fidelity
#: scores, then LPIPS-vgg (which shares the loss network)
METRIC_ORDER = ("lpips_alex", "gmsd", "psnr_y", "ssim_y", "lpips_vgg")
#: the measure that decides the claim (named before the stored run was made; the claims page's, one source)
PRIMARY = next(c.primary for c in CLAIMS if c.key == "sr")


def conclusion_text(differences: pd.DataFrame, *, a: str = "top", against: Sequence[str] = ("all", "bottom")) -> str:
    """Markdown sentences stating, per test set and metric, whether ``a`` beats each arm in ``against``, with the interval.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "top", "b": "all", "metric": "psnr_y", "mean": 0.1,
    ...                    "ci_low": -0.05, "ci_high": 0.2, "better": "top", "clear": False, "n_images": 5}])
    >>> print(conclusion_text(d, against=["all"]))  # doctest: +NORMALIZE_WHITESPACE
    - **Set5, top vs all:** PSNR-Y +0.10 dB [-0.05, 0.20] — no clear difference on these 5 images (too few for a
      verdict).
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
                few = "n_images" in r and np.isfinite(r.n_images) and int(r.n_images) < MIN_IMAGES
                verdict = (f"{r.better} better" if r.clear else "no clear difference") + (
                    f" on these {int(r.n_images)} images (too few for a verdict)" if few else "")
                parts.append(f"{name} {r['mean']:+.{nd}f}{u} [{r.ci_low:.{nd}f}, {r.ci_high:.{nd}f}] — {verdict}")
            lines.append(f"- **{ds}, {a} vs {b}:** " + "; ".join(parts) + ".")
    return "\n".join(lines)


def _verdict_of(r: pd.Series) -> str:
    """The verdict of a difference row by the book's rule, from its interval and test-image count (a stored
    ``verdict`` column is not trusted: it may predate the rule)."""
    from .evaluate import verdict

    return verdict(r.metric, r.ci_low, r.ci_high, r.get("n_images"))


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
    stronger than they are: :func:`pecore.experiment.verdict_word`, the word of the book's claims page.

    Examples
    --------
    >>> claim_verdict(["supported", "supported"]), claim_verdict(["contradicted", "undecided"])
    ('supported', 'not supported')
    >>> claim_verdict(["supported", "contradicted"]), claim_verdict(["undecided"])
    ('mixed', 'undecided')
    """
    return verdict_word(list(verdicts))


_AGAINST = {"supported": "better than", "contradicted": "worse than", "undecided": "not clearly different from"}


def _arm_words(arm: str) -> str:
    words = {"all": "all-channel", "bottom": "bottom-PE", "top": "top-PE", "pixel": "pixel-only",
             "random": "random-channel"}
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
    'worse than the random (draw 0) and all-channel losses; not clearly different from the bottom-PE loss'
    >>> comparison_phrase(t, sep="and")
    'worse than the random (draw 0) and all-channel losses, and not clearly different from the bottom-PE loss'
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


def feature_check(differences: pd.DataFrame) -> pd.DataFrame:
    """Does the feature term act? The all-channel arm against the pixel arm on the primary measure, per test set.

    ``acts`` is true where the 95 % interval of all − pixel LPIPS-alex lies below 0: the feature loss changed what
    the networks produce in the direction it aims at. Where it does not, no comparison of channel subsets can
    show an effect of the subset.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "all", "b": "pixel", "metric": "lpips_alex", "mean": -0.02,
    ...                    "ci_low": -0.03, "ci_high": -0.01}])
    >>> feature_check(d).acts.tolist()
    [True]
    """
    d = differences[(differences.a == "all") & (differences.b == "pixel") & (differences.metric == PRIMARY)]
    out = d[["dataset", "mean", "ci_low", "ci_high"]].reset_index(drop=True)
    out["acts"] = out.ci_high < 0
    return out


def loss_balance(logs: dict[str, pd.DataFrame], feature_weight: float, *, tail: float = 0.2) -> float:
    """How much the feature term weighs against the pixel term in the training loss: the mean of
    ``λ · L_feat / L_pix`` over the last ``tail`` of the logged steps of the all-channel runs (NaN without them).

    Examples
    --------
    >>> log = pd.DataFrame({"step": [1, 2], "pixel": [0.04, 0.04], "feature": [0.2, 0.2]})
    >>> round(loss_balance({"all-t0": log}, 1.0), 2)
    5.0
    """
    ratios = []
    for name, log in logs.items():
        if name.split("-")[0] != "all" or log.empty or "feature" not in log:
            continue
        k = max(1, int(round(len(log) * tail)))
        last = log.iloc[-k:]
        ratios.append(float((feature_weight * last.feature / last.pixel).mean()))
    return float(np.mean(ratios)) if ratios else float("nan")


_WHY_ALEX = ("LPIPS-alex is read first: it is a learned perceptual distance calibrated on human judgments, computed "
             "with AlexNet, a network the feature loss never saw. GMSD compares gradient structure without any "
             "network; PSNR-Y and SSIM-Y measure fidelity, which the pixel term rewards and a feature term trades away "
             "for texture.")
_WHY_VGG = (" LPIPS-vgg is computed from the very VGG-16 channels the losses train on, so it favours the feature-loss "
            "arms by construction.")


def _first_measure_reading(tv: pd.DataFrame) -> str:
    """What LPIPS-alex (read first) says of the top-PE loss, and where it and PSNR-Y point in opposite directions."""
    first = tv[tv.metric == METRIC_ORDER[0]]
    if not len(first):
        return ""
    if set(first.verdict) == {"supported"}:
        reading = "supports the claim against every other loss"
    elif "supported" not in set(first.verdict):
        reading = "supports the claim against none of the other losses"
    else:
        reading = "supports the claim against some of the other losses only"
    text = (f"\nRead by LPIPS-alex, the measure read first, the top-PE loss is "
            f"{comparison_phrase(first, 'and')}: LPIPS-alex {reading}.")
    psnr = tv[tv.metric == "psnr_y"].set_index("b").verdict
    split = [b for b, v in zip(first.b, first.verdict) if v == "contradicted" and psnr.get(b) == "supported"]
    split_rev = [b for b, v in zip(first.b, first.verdict) if v == "supported" and psnr.get(b) == "contradicted"]
    if split:
        text += (f" Against the {_join([_arm_words(b) for b in split])} loss{'es' if len(split) > 1 else ''}"
                 " the measures point in opposite directions: the top-PE loss keeps more fidelity "
                 "(higher PSNR-Y) and less perceptual similarity (higher LPIPS-alex), as a feature term "
                 "that pulls the network less far from the pixel loss would.")
    if split_rev:
        text += (f" Against the {_join([_arm_words(b) for b in split_rev])} "
                 f"loss{'es' if len(split_rev) > 1 else ''} the top-PE loss gains perceptual similarity "
                 "(lower LPIPS-alex) and loses fidelity (lower PSNR-Y).")
    return text


def conclusion_markdown(results: SRResults) -> str:
    """The chapter's conclusion as Markdown: was training sound, what each comparison of the top arm says (LPIPS-alex
    first), what LPIPS-alex says in words, and the count of all verdicts, every sentence from the paired intervals.

    Length: the conclusion reads as one argument (training worked, the feature term acts, the comparisons, the
    primary measure's word, the budget), each paragraph from the paired intervals.

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
    s_ = prov.get("parameters", {}).get("sr_settings", {})
    lam = prov.get("parameters", {}).get("feature_weight", s_.get("feature_weight"))
    tc = training_check(d)
    if len(tc):
        parts = [f"{r.dataset} {r['mean']:+.2f} dB [{r.ci_low:.2f}, {r.ci_high:.2f}]" for _, r in tc.iterrows()]
        ok = bool(tc.passed.all())
        lines.append(f"**Did training work?** The pixel arm against bicubic upscaling, PSNR-Y: {'; '.join(parts)} — "
                     + ("every interval lies above 0: the networks learned to super-resolve." if ok else
                        "**not every interval lies above 0**: the networks barely depart from bicubic upscaling, "
                        "and the comparisons below mean little."))
    fc = feature_check(d)
    if len(fc):
        parts = [f"{r.dataset} {r['mean']:+.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}]" for _, r in fc.iterrows()]
        ratio = loss_balance(results.logs, float(lam)) if lam is not None else float("nan")
        weight = (f" At the chosen λ the feature term is {ratio:.1f}× the pixel term at the end of training."
                  if np.isfinite(ratio) else "")
        lines.append(f"\n**Does the feature term act?** The all-channel arm against the pixel arm, LPIPS-alex: "
                     f"{'; '.join(parts)} — " + ("the feature loss moves the networks where it aims, so a channel "
                                                 "subset has room to matter." if bool(fc.acts.all()) else
                                                 "**not clearly**: the feature loss barely changes the networks, "
                                                 "and no subset comparison below can show much.") + weight)
    tv = top_verdicts(d) if len(d[d.a == "top"]) else pd.DataFrame()
    if len(tv):
        ds = tv.dataset.iloc[0]
        n = int(d[d.dataset == ds].n_images.max()) if "n_images" in d else None
        seeds = int(d[d.dataset == ds].n_seeds.max()) if "n_seeds" in d else None
        draws = int(d[d.dataset == ds].n_draws.max()) if "n_draws" in d else None
        units = (f" ({n} images" + (f" × {seeds} training seeds" if seeds else "")
                 + (f", {draws} random draws" if draws and draws > 1 else "") + ")") if n else ""
        lines.append(f"\n**Is the top-PE loss better?** Paired differences top − other on {ds}{units}, 95 % "
                     "intervals that resample images, training seeds and random draws independently (a crossed "
                     "bootstrap), so they include training noise; a verdict is *supported* when "
                     "the interval lies on the side where top is better, *contradicted* when it lies on the other "
                     "side, *undecided* when it contains 0. " + _WHY_ALEX
                     + (_WHY_VGG if "lpips_vgg" in set(tv.metric) else "") + "\n")
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
        first = _first_measure_reading(tv)
        if first:
            lines.append(first)
        primary = tv[tv.metric == PRIMARY]
        counts = {k: int((tv.verdict == k).sum()) for k in VERDICTS}
        listing = ", ".join(f"{c} {k}" for k, c in counts.items() if c)
        if len(primary):
            lines.append(f"\nThe claim is decided by the primary measure, LPIPS-alex (named before the run): "
                         f"**{claim_verdict(primary.verdict)}**. Over all {len(tv)} comparisons "
                         f"({tv.metric.nunique()} measures × {tv.b.nunique()} other losses): {listing}.")
    s = s_
    if s:
        seeds = len(s.get("train_seeds") or [0])
        pre = (f" fine-tuned from a shared generator trained {s.get('pretrain_steps'):,} steps with the pixel loss "
               f"alone," if s.get("pretrain_steps") else "")
        lines.append(f"\nThese are results of the **{prov.get('preset')}** preset"
                     f"{' (stored)' if prov.get('stored') else ''}: {s.get('n_blocks')} blocks × {s.get('n_feats')} "
                     f"channels,{pre} {s.get('steps'):,} steps per arm, {seeds} training seed{'s' if seeds > 1 else ''}, "
                     f"{len(s.get('random_seeds') or [0])} random draw{'s' if len(s.get('random_seeds') or [0]) > 1 else ''}, "
                     f"λ = {float(lam):g}.")
    return "\n".join(lines)


CLAIM = "a feature loss on the top-PE channels trains better super-resolution than one on the {b} channels"
#: ``{b}`` is the other arm in words (:func:`pecore.experiment.display_name`: 'random (seed 0)')


def conclusions(results: SRResults) -> list:
    """The paper's SR claim tested per comparison and measure: a list of :class:`pecore.experiment.Verdict`.

    One verdict per comparison of the top arm (against bottom, random, all) and measure, on the pooled
    test set, in :data:`METRIC_ORDER` (LPIPS-alex first), predicted side: top better.

    Examples
    --------
    >>> d = pd.DataFrame([{"dataset": "Set5", "a": "top", "b": "bottom", "metric": "lpips_alex", "mean": -0.02,
    ...                    "ci_low": -0.03, "ci_high": -0.01, "n_images": 18}])
    >>> [v.verdict for v in conclusions(SRResults({}, pd.DataFrame(), pd.DataFrame(), d))]
    ['supported']
    """
    from ..experiment import MIN_IMAGES, Verdict
    from .evaluate import METRICS

    d = results.differences
    out = []
    for _, r in top_verdicts(d).iterrows():
        n = d[(d.dataset == r.dataset) & (d.a == r.a) & (d.b == r.b) & (d.metric == r.metric)]
        n_images = int(n.n_images.iloc[0]) if "n_images" in n and len(n) else 0
        seeds = int(n.n_seeds.iloc[0]) if "n_seeds" in n and len(n) else 1
        draws = int(n.n_draws.iloc[0]) if "n_draws" in n and len(n) else None
        note = ("primary measure; " if r.metric == PRIMARY else "") + f"{n_images} images × {seeds} training seeds"
        if r.b == "random" and draws == 1:
            note += "; single draw (one random channel set)"
        out.append(Verdict.from_interval(CLAIM.format(b=display_name(r.b)), r.dataset, r.metric, r["mean"], r.ci_low,
                                         r.ci_high, n=n_images, predicted=1 if METRICS[r.metric] else -1,
                                         min_n=MIN_IMAGES, note=note))
    return out


def plateau_sentence(plateau: pd.DataFrame, *, level: float = 0.01) -> str:
    """How far training had levelled off, from the numbers of :func:`pecore.sr.tables.chapter_tables`'s plateau table.

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



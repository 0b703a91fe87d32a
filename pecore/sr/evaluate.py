"""Evaluation of super-resolved images: PSNR-Y, SSIM-Y, LPIPS-alex, LPIPS-vgg; per image, means and bootstrap intervals.

Every number comes from the named measures of :mod:`pecore.measures` (``psnr-y-sr``, ``ssim-y-sr``,
``lpips-alex``, ``lpips-vgg``) and the statistics of :mod:`pecore.statistics`. The SR literature's
convention, followed here: the images are converted to the luma Y of ITU-R BT.601
as MATLAB's ``rgb2ycbcr`` does (``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for RGB in [0, 1], so Y is
in [16, 235]), a border of ``scale`` pixels is cropped, and PSNR uses a peak of 255. SSIM is Wang et
al. (2004) on Y with an 11 × 11 Gaussian window (σ = 1.5), ``K1 = 0.01``, ``K2 = 0.03``, ``L = 255``,
averaged over the positions where the window fits (as ``skimage.metrics.structural_similarity`` with
``gaussian_weights=True, use_sample_covariance=False``). SR outputs are rounded to 8-bit levels first,
as a stored PNG would be. LPIPS is v0.1 (:class:`pecore.metric.LPIPS`) on the RGB images with the same
border cropped, on AlexNet (``lpips_alex``: a network the feature loss does not use) and on VGG-16
(``lpips_vgg``: the loss network itself, so it favours the feature-loss arms by construction).

:func:`verdict` turns a paired interval into supported / contradicted / undecided.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch


from .. import statistics
from ..errors import ParameterError
from ..measures import MEASURES as _NAMED
from ..measures import compute, to_colour
from ..statistics import bootstrap_mean
from ..validate import check_image
from .data import HRImage, check_scale_pair, downscale, quantize

__all__ = [
    "METRICS",
    "MEASURE_OF",
    "rgb_to_y",
    "psnr_y",
    "ssim_y",
    "bootstrap_ci",
    "evaluate_methods",
    "summarise",
    "paired_differences",
    "pooled",
    "POOLED_NAME",
    "with_arms",
    "arm_summary",
    "arm_differences",
    "RESAMPLED",
    "verdict",
    "VERDICTS",
]

#: result column → named measure of :mod:`pecore.measures` (which states the conventions and directions)
MEASURE_OF = {"psnr_y": "psnr-y-sr", "ssim_y": "ssim-y-sr", "gmsd": "gmsd-sr", "lpips_alex": "lpips-alex",
              "lpips_vgg": "lpips-vgg"}
METRICS = {col: _NAMED[name].higher_is_better for col, name in MEASURE_OF.items()}  # column -> higher is better
VERDICTS = ("supported", "contradicted", "undecided")
POOLED_NAME = "Set5+Set14"  # the test sets pooled (see :func:`pooled`)


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """Luma Y (ITU-R BT.601, in [16, 235]) of RGB images ``(N, 3, H, W)`` in [0, 1]: ``(N, 1, H, W)``.

    Examples
    --------
    >>> rgb_to_y(torch.ones(1, 3, 1, 1)).item(), rgb_to_y(torch.zeros(1, 3, 1, 1)).item()
    (235.0, 16.0)
    """
    return to_colour(check_image(x, "image (RGB in [0, 1])").double(), "y-ycbcr")


def psnr_y(sr: torch.Tensor, hr: torch.Tensor, border: int = 4) -> torch.Tensor:
    """PSNR-Y (``psnr-y-sr`` of :mod:`pecore.measures`) with ``border`` pixels cropped, per image ``(N,)``.

    Examples
    --------
    >>> hr = torch.full((1, 3, 16, 16), 0.5)
    >>> sr = hr + 10 / 219  # Y differs by 10 everywhere (R = G = B: Y = 16 + 219 · value)
    >>> round(float(psnr_y(sr, hr)), 4)  # 10 log10(255² / 100)
    28.1308
    """
    return compute("psnr-y-sr", sr, hr, border=border)


def ssim_y(sr: torch.Tensor, hr: torch.Tensor, border: int = 4, *, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """SSIM-Y (``ssim-y-sr`` of :mod:`pecore.measures`) with ``border`` pixels cropped, per image ``(N,)``.

    Examples
    --------
    >>> hr = torch.full((1, 3, 24, 24), 0.5)
    >>> float(ssim_y(hr, hr))
    1.0
    """
    return compute("ssim-y-sr", sr, hr, border=border, window=window, sigma=sigma)


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, n_boot: int = 2000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap interval (:func:`pecore.statistics.bootstrap_mean`).

    Examples
    --------
    >>> m, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0], n_boot=500)
    >>> m, lo <= m <= hi
    (2.5, True)
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.isfinite(v).all():
        raise ParameterError(f"bootstrap_ci needs a non-empty 1-D array of finite values, got {v!r}")
    return bootstrap_mean(v, n_boot=n_boot, level=level, seed=seed)


def evaluate_methods(methods: Mapping[str, Callable[[torch.Tensor], torch.Tensor]], images: Sequence[HRImage], *,
                     scale: int = 4, dataset: str = "",
                     lpips: torch.nn.Module | Mapping[str, torch.nn.Module] | None = None,
                     device: str | torch.device = "cpu", keep: Sequence[str] = ()) -> tuple[pd.DataFrame, dict]:
    """Super-resolve every image with every method and score it against the HR image.

    Parameters
    ----------
    methods
        name → function from LR ``(1, 3, h, w)`` in [0, 1] to SR ``(1, 3, scale·h, scale·w)``.
    images
        HR images (:func:`pecore.sr.data.load_hr_images`); the LR input is :func:`~pecore.sr.data.downscale`.
    scale
        The upscaling factor (also the border cropped).
    dataset
        Name written in the table.
    lpips
        LPIPS modules by column name, e.g. ``{"lpips_alex": LPIPS("alexnet"), "lpips_vgg": LPIPS("vgg16")}``
        (:class:`pecore.metric.LPIPS`); one module is taken as ``lpips_vgg``; ``None`` skips LPIPS.
    keep
        Names of images whose outputs are returned (for figures).

    Returns
    -------
    (DataFrame, dict)
        One row per image and method: dataset, image, method, psnr_y, ssim_y, gmsd[, lpips_alex, lpips_vgg]; and
        ``{image: {"hr": ..., "lr": ..., method: sr}}`` for the images in ``keep`` (8-bit-rounded, CPU).

    Raises
    ------
    ScaleMismatchError
        A method's output is not ``scale`` × its input.

    Examples
    --------
    >>> from pecore.sr.data import load_hr_images, upscale_bicubic
    >>> imgs = load_hr_images("Set5", 4, crop=32)[:2]
    >>> t, _ = evaluate_methods({"bicubic": lambda lr: upscale_bicubic(lr, 4)}, imgs, dataset="Set5")
    >>> t.columns.tolist(), len(t)
    (['dataset', 'image', 'method', 'psnr_y', 'ssim_y', 'gmsd'], 2)
    """
    rows, kept = [], {}
    dev = torch.device(device)
    if lpips is not None and not isinstance(lpips, Mapping):
        lpips = {"lpips_vgg": lpips}
    for im in images:
        hr = im.image.unsqueeze(0).to(dev)
        lr = downscale(hr, scale)
        if im.name in keep:
            kept[im.name] = {"hr": hr.cpu(), "lr": lr.cpu()}
        for name, fn in methods.items():
            with torch.no_grad():
                sr = fn(lr)
            check_scale_pair(lr, sr, scale)
            sr = quantize(sr.float())
            row = {"dataset": dataset, "image": im.name, "method": name,
                   "psnr_y": float(psnr_y(sr, hr, scale)[0]), "ssim_y": float(ssim_y(sr, hr, scale)[0]),
                   "gmsd": float(compute("gmsd-sr", sr, hr, border=scale)[0])}
            for col, metric in (lpips or {}).items():
                with torch.no_grad():
                    b = scale
                    row[col] = float(metric(hr[..., b:-b, b:-b], sr[..., b:-b, b:-b]).flatten()[0])
            rows.append(row)
            if im.name in keep:
                kept[im.name][name] = sr.cpu()
    return pd.DataFrame(rows), kept


def summarise(per_image: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean of each metric per dataset and method with a 95 % bootstrap interval over images
    (:func:`pecore.statistics.summarise`).

    Returns a tidy table: dataset, method, metric, mean, ci_low, ci_high, n_images.

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": "S", "image": list("abc"), "method": "m", "psnr_y": [30.0, 31.0, 32.0]})
    >>> summarise(t, n_boot=100)[["method", "metric", "mean", "n_images"]].values.tolist()
    [['m', 'psnr_y', 31.0, 3]]
    """
    metrics = [m for m in METRICS if m in per_image.columns]
    out = statistics.summarise(per_image, ["dataset", "method"], metrics, n_boot=n_boot, seed=seed)
    return out.rename(columns={"measure": "metric", "n": "n_images"})


def paired_differences(per_image: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, n_boot: int = 2000,
                       seed: int = 0) -> pd.DataFrame:
    """Per-image differences ``a − b`` of each metric for method pairs, with 95 % bootstrap intervals
    (:func:`pecore.statistics.paired_differences`, paired on the image).

    The images are paired (the same image under both methods), so the interval of the mean difference
    is much narrower than the two methods' separate intervals suggest. ``better`` says which method
    the mean favours (taking 'lower is better' of LPIPS into account), ``clear`` whether the
    interval excludes 0, and ``verdict`` (:func:`verdict`) what the interval says of "a is better than b".

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": "S", "image": list("abcabc"), "method": list("aaabbb"),
    ...                   "psnr_y": [30.0, 31.0, 32.0, 29.0, 30.5, 31.0]})
    >>> d = paired_differences(t, [("a", "b")], n_boot=200)
    >>> round(float(d.loc[0, "mean"]), 3), d.loc[0, "better"], bool(d.loc[0, "clear"])
    (0.833, 'a', True)
    """
    metrics = [m for m in METRICS if m in per_image.columns]
    for ds, g in per_image.groupby("dataset", sort=False):
        for a, b in pairs:
            if not set(g[g.method == a].image) & set(g[g.method == b].image):
                raise ParameterError(f"no image of {ds} was scored by both {a!r} and {b!r}")
    d = statistics.paired_differences(per_image, pairs, arm="method", measures=metrics, pair_on=["image"],
                                      by=["dataset"], higher_is_better=METRICS, n_boot=n_boot, seed=seed)
    up = d.measure.map(METRICS)
    favours_a = np.where(up, d["mean"] > 0, d["mean"] < 0)
    return pd.DataFrame({
        "dataset": d.dataset, "a": d.a, "b": d.b, "metric": d.measure, "mean": d["mean"], "ci_low": d.ci_low,
        "ci_high": d.ci_high, "better": np.where(favours_a, d.a, d.b), "clear": d.better != "neither",
        "verdict": [verdict(m, lo, hi, n) for m, lo, hi, n in zip(d.measure, d.ci_low, d.ci_high, d.n_pairs)],
        "n_images": d.n_pairs})


#: the sources of variance an arm comparison resamples (crossed bootstrap): test images, training seeds, random draws
RESAMPLED = ("image", "train_seed", "draw")


def with_arms(per_image: pd.DataFrame) -> pd.DataFrame:
    """The per-image table with ``arm``, ``draw`` and ``train_seed`` columns parsed from the method names
    (:func:`pecore.sr.runs.parse_run_name`); bicubic, which has no training, is repeated for every training seed
    so it pairs with each.

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": "S", "image": "a", "method": ["bicubic", "top-t0", "top-t1"], "psnr_y": 1.0})
    >>> with_arms(t)[["method", "arm", "train_seed"]].values.tolist()
    [['top-t0', 'top', 0], ['top-t1', 'top', 1], ['bicubic', 'bicubic', 0], ['bicubic', 'bicubic', 1]]
    """
    from .runs import parse_run_name

    parts = pd.DataFrame([parse_run_name(m) for m in per_image.method], index=per_image.index)
    t = pd.concat([per_image, parts], axis=1)
    fixed = t.arm == "bicubic"
    seeds = sorted(set(t.loc[~fixed, "train_seed"])) or [0]
    copies = [t.loc[fixed].assign(train_seed=s) for s in seeds]
    return pd.concat([t.loc[~fixed], *copies], ignore_index=True)


def arm_summary(per_image: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean of each metric per dataset and arm, its 95 % interval resampling images, training seeds and draws
    (:func:`pecore.statistics.crossed_bootstrap_mean`) and the spread between training seeds.

    Returns a tidy table: dataset, arm, metric, mean, ci_low, ci_high, n_images, n_seeds, n_draws,
    seed_sd (the standard deviation of the per-seed means).

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": "S", "image": list("abab"), "method": ["top-t0"] * 2 + ["top-t1"] * 2,
    ...                   "psnr_y": [30.0, 31.0, 30.5, 31.5]})
    >>> r = arm_summary(t, n_boot=100).iloc[0]
    >>> r.arm, float(r["mean"]), int(r.n_seeds), round(float(r.seed_sd), 3)
    ('top', 30.75, 2, 0.354)
    """
    t = with_arms(per_image) if "arm" not in per_image else per_image
    metrics = [m for m in METRICS if m in t.columns]
    rows = []
    for (ds, arm), g in t.groupby(["dataset", "arm"], sort=False):
        for m in metrics:
            v = g[m].to_numpy(float)
            ok = np.isfinite(v)
            mean, lo, hi = statistics.crossed_bootstrap_mean(v[ok], {c: g[c].to_numpy()[ok] for c in RESAMPLED},
                                                             n_boot=n_boot, seed=seed)
            per_seed = g.groupby("train_seed")[m].mean()
            rows.append({"dataset": ds, "arm": arm, "metric": m, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "n_images": int(g.image.nunique()), "n_seeds": int(g.train_seed.nunique()),
                         "n_draws": int(g.draw.nunique()),
                         "seed_sd": float(per_seed.std(ddof=1)) if len(per_seed) > 1 else float("nan")})
    return pd.DataFrame(rows)


def arm_differences(per_image: pd.DataFrame, pairs: Sequence[tuple[str, str]], *, n_boot: int = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """Paired differences ``a − b`` between arms, per dataset and metric, with 95 % intervals that include
    training noise: pairs are the same image under the same training seed (random draws kept apart), and
    images, training seeds and random draws are each resampled (:func:`pecore.statistics.crossed_bootstrap_mean`).

    Returns the columns of :func:`paired_differences` plus ``n_seeds`` and ``n_draws``.

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": "S", "image": list("abcabc") * 2,
    ...                   "method": ["top-t0"] * 3 + ["bottom-t0"] * 3 + ["top-t1"] * 3 + ["bottom-t1"] * 3,
    ...                   "psnr_y": [30, 31, 32, 29, 30, 31, 30, 31, 32, 29.5, 30.5, 31.5]})
    >>> d = arm_differences(t, [("top", "bottom")], n_boot=200).iloc[0]
    >>> d.better, float(d["mean"]), int(d.n_seeds)
    ('top', 0.75, 2)
    """
    t = with_arms(per_image) if "arm" not in per_image else per_image
    metrics = [m for m in METRICS if m in t.columns]
    d = statistics.paired_differences(t, pairs, arm="arm", measures=metrics, pair_on=["image", "train_seed"],
                                      keep=["draw"], resample=list(RESAMPLED), by=["dataset"],
                                      higher_is_better=METRICS, n_boot=n_boot, seed=seed)
    if d.empty:
        raise ParameterError(f"no arm pair of {list(pairs)} was scored on a common image and training seed")
    up = d.measure.map(METRICS)
    favours_a = np.where(up, d["mean"] > 0, d["mean"] < 0)
    counts = {(ds, a): (int(g.train_seed.nunique()), int(g.draw.nunique()))
              for (ds, a), g in t.groupby(["dataset", "arm"], sort=False)}
    n_images = d.n_pairs.astype(int) // [counts[(ds, a)][0] for ds, a in zip(d.dataset, d.a)]
    return pd.DataFrame({
        "dataset": d.dataset, "a": d.a, "b": d.b, "metric": d.measure, "mean": d["mean"], "ci_low": d.ci_low,
        "ci_high": d.ci_high, "better": np.where(favours_a, d.a, d.b), "clear": d.better != "neither",
        "verdict": [verdict(m, lo, hi, n) for m, lo, hi, n in zip(d.measure, d.ci_low, d.ci_high, n_images)],
        "n_images": n_images,
        "n_seeds": [counts[(ds, a)][0] for ds, a in zip(d.dataset, d.a)],
        "n_draws": [max(counts[(ds, a)][1], counts[(ds, b)][1]) for ds, a, b in zip(d.dataset, d.a, d.b)]})


def pooled(per_image: pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    """The per-image table with its test sets also pooled into one set (named ``Set5+Set14`` etc.).

    Returns the table unchanged when it holds one test set.

    Examples
    --------
    >>> t = pd.DataFrame({"dataset": ["Set5", "Set14"], "image": ["a", "a"], "method": "m", "psnr_y": [30.0, 28.0]})
    >>> pooled(t).dataset.tolist()
    ['Set5', 'Set14', 'Set5+Set14', 'Set5+Set14']
    """
    sets = list(dict.fromkeys(per_image.dataset))
    if len(sets) < 2:
        return per_image
    both = per_image.assign(dataset=name or "+".join(sets),
                            image=per_image.dataset.astype(str) + "/" + per_image.image.astype(str))
    return pd.concat([per_image, both], ignore_index=True)


def verdict(metric: str, ci_low: float, ci_high: float, n_images: int | None = None) -> str:
    """The verdict on the claim "a is better than b" from the 95 % interval of the paired difference a − b.

    'supported' when the interval excludes 0 on the side where a is better (above 0 for PSNR-Y and
    SSIM-Y, below 0 for LPIPS), 'contradicted' when it excludes 0 on the other side, 'undecided' when
    it contains 0 (or there is no interval); 'too few data' when it rests on fewer than
    :data:`pecore.experiment.MIN_IMAGES` test images — the book's one rule (:func:`pecore.experiment.judge`).

    Examples
    --------
    >>> verdict("psnr_y", 0.1, 0.4), verdict("lpips_alex", 0.002, 0.01), verdict("lpips_alex", -0.01, 0.003)
    ('supported', 'contradicted', 'undecided')
    >>> verdict("psnr_y", 0.1, 0.4, n_images=5)
    'too few data'
    """
    from ..experiment import MIN_IMAGES, judge
    from ..validate import check_choice

    check_choice("metric", metric, METRICS)
    n = None if n_images is None or not np.isfinite(n_images) else int(n_images)
    if n is not None and n < MIN_IMAGES:
        return "too few data"
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return "undecided"
    return judge(ci_low, ci_high, predicted=1 if METRICS[metric] else -1)

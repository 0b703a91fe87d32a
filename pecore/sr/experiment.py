"""The whole SR experiment: train every arm with the same seed and budget, evaluate, compare, store.

:func:`run_experiment` is what the chapter calls; :func:`evaluate_dir` is ``pecore sr eval``. Results
(:class:`SRResults`) are tidy tables — per-image metrics, means with 95 % bootstrap intervals over
images, paired differences between arms — plus the loss logs, sample crops and a provenance record;
:meth:`SRResults.save` writes them as CSV / PNG / JSON (the form committed under ``stored/sr/``).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..cache import atomic_write_text, cache_dir, cache_key
from ..device import resolve_device
from ..errors import DatasetError, ParameterError
from ..provenance import provenance_record
from ..validate import check_positive
from .data import SR_SETS, centre_crop, load_hr_images, upscale_bicubic
from .evaluate import evaluate_methods, paired_differences, summarise
from .settings import SRSettings
from .train import TrainedRun, is_run_dir, load_run, run_name, train_arm

__all__ = [
    "SAMPLE_IMAGE",
    "SAMPLE_SIZE",
    "arm_runs",
    "comparison_pairs",
    "find_runs",
    "data_name",
    "evaluate_runs",
    "evaluate_dir",
    "SRResults",
    "stored_results_dir",
    "run_experiment",
    "conclusion_text",
]

SAMPLE_IMAGE = ("Set5", "img_003")  # butterfly: sharp edges and fine texture
SAMPLE_SIZE = 96  # side of the centre crop shown side by side


def arm_runs(settings: SRSettings) -> list[tuple[str, int]]:
    """``(arm, selection_seed)`` of every network a preset trains: pixel, all, top, bottom, random × seeds.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> [run_name(*r) for r in arm_runs(PRESETS["paper"])]
    ['pixel', 'all', 'top', 'bottom', 'random-s0', 'random-s1', 'random-s2']
    """
    return [("pixel", 0), ("all", 0), ("top", 0), ("bottom", 0)] + [("random", int(s)) for s in settings.random_seeds]


def comparison_pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """The paired comparisons reported: top against all, bottom, each random seed, pixel and bicubic; all against pixel.

    Examples
    --------
    >>> comparison_pairs(["bicubic", "pixel", "all", "top", "bottom", "random-s0"])[:3]
    [('top', 'all'), ('top', 'bottom'), ('top', 'random-s0')]
    """
    m = list(methods)
    pairs = [("top", "all"), ("top", "bottom")] + [("top", r) for r in m if r.startswith("random")]
    pairs += [("top", "pixel"), ("all", "pixel"), ("pixel", "bicubic")]
    return [(a, b) for a, b in pairs if a in m and b in m]


def find_runs(path: str | os.PathLike) -> dict[str, Path]:
    """Finished runs in ``path``: the folder itself, or its sub-folders (one per arm), by run name.

    Raises
    ------
    DatasetError
        No finished run there.
    """
    p = Path(path)
    if is_run_dir(p):
        return {json.loads((p / "train.json").read_text())["name"]: p}
    runs = {}
    for sub in sorted(q for q in p.iterdir() if q.is_dir()) if p.is_dir() else []:
        if is_run_dir(sub):
            runs[json.loads((sub / "train.json").read_text())["name"]] = sub
    if not runs:
        raise DatasetError(f"{p} holds no finished SR run (a folder with model.pt and train.json, "
                           "or sub-folders of such); train with `pecore sr train`")
    order = {name: i for i, name in enumerate(["pixel", "all", "top", "bottom"])}
    return dict(sorted(runs.items(), key=lambda kv: (order.get(kv[0], 9), kv[0])))


def data_name(data: str | os.PathLike) -> str:
    """The name of a test set in tables: the shared set's name or the folder's name.

    Examples
    --------
    >>> data_name("Set14"), data_name("/tmp/my_photos/")
    ('Set14', 'my_photos')
    """
    return data if isinstance(data, str) and data in SR_SETS else Path(data).name


def evaluate_runs(runs: dict[str, TrainedRun], data: Sequence[str | os.PathLike], *, scale: int = 4,
                  crop: int | None = None, lpips: bool = True, device: str | torch.device = "auto",
                  n_boot: int = 2000, seed: int = 0, lpips_network: Any = None,
                  keep: Sequence[tuple[str, str]] = ()) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Score bicubic upscaling and every run on every test set.

    Returns ``(per_image, summary, kept)``: the per-image table, the means with 95 % bootstrap
    intervals (:func:`pecore.sr.evaluate.summarise`) and the outputs of the ``(set, image)`` pairs in ``keep``.
    """
    dev = resolve_device(device)
    metric = None
    if lpips:
        from ..metric import LPIPS

        metric = LPIPS(lpips_network if lpips_network is not None else "vgg16", device=dev)
    methods = {"bicubic": lambda lr: upscale_bicubic(lr, scale)}
    for name, run in runs.items():
        if run.model.scale != scale:
            from .data import ScaleMismatchError

            raise ScaleMismatchError(f"run {name} upscales ×{run.model.scale}, the evaluation is ×{scale}")
        run.model.to(dev).eval()
        methods[name] = (lambda m: (lambda lr: m(lr).clamp(0, 1)))(run.model)
    tables, kept = [], {}
    for d in data:
        name = data_name(d)
        images = load_hr_images(d, scale, crop=crop)
        wanted = [img for (ds, img) in keep if ds == name]
        t, k = evaluate_methods(methods, images, scale=scale, dataset=name, lpips=metric, device=dev, keep=wanted)
        tables.append(t)
        kept.update({(name, img): v for img, v in k.items()})
    per_image = pd.concat(tables, ignore_index=True)
    return per_image, summarise(per_image, n_boot=n_boot, seed=seed), kept


def evaluate_dir(path: str | os.PathLike, data: Sequence[str | os.PathLike] = ("Set5",), *, crop: int | None = None,
                 lpips: bool = True, device: str | torch.device = "auto", n_boot: int = 2000,
                 write: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate the run(s) in ``path`` and bicubic on test sets; write ``metrics_<set>_per_image.csv`` and ``metrics_<set>_mean.csv``.

    Parameters
    ----------
    path
        A run folder (``pecore sr train --out``) or a folder of run folders.
    data
        'Set5', 'Set14', 'BSD100' or folders of HR images.
    crop
        Evaluate on centre crops of this size (``None``: whole images).
    lpips
        Also compute LPIPS-vgg (v0.1).

    Returns
    -------
    (per_image, mean)
        Over all test sets.
    """
    runs = {name: load_run(p, device=device) for name, p in find_runs(path).items()}
    scales = {r.model.scale for r in runs.values()}
    if len(scales) != 1:
        raise ParameterError(f"runs in {path} have different scales {sorted(scales)}")
    per_image, summary, _ = evaluate_runs(runs, data, scale=scales.pop(), crop=crop, lpips=lpips, device=device,
                                          n_boot=n_boot)
    if write:
        out = Path(path)
        for ds, g in per_image.groupby("dataset", sort=False):
            atomic_write_text(out / f"metrics_{ds}_per_image.csv", g.to_csv(index=False, float_format="%.6f"))
            atomic_write_text(out / f"metrics_{ds}_mean.csv",
                              summary[summary.dataset == ds].to_csv(index=False, float_format="%.6f"))
    return per_image, summary


@dataclass
class SRResults:
    """Everything the chapter shows: loss logs, metrics, paired differences, sample crops, provenance."""

    logs: dict[str, pd.DataFrame]
    per_image: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    samples: dict[str, torch.Tensor] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``per_image.csv``, ``summary.csv``, ``differences.csv``, ``logs/<run>.csv``, ``samples/<method>.png`` and ``provenance.json``."""
        from ..imageio import save_image

        out = Path(out_dir)
        atomic_write_text(out / "per_image.csv", self.per_image.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "summary.csv", self.summary.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "differences.csv", self.differences.to_csv(index=False, float_format="%.6f"))
        for name, log in self.logs.items():
            atomic_write_text(out / "logs" / f"{name}.csv", log.to_csv(index=False, float_format="%.8g"))
        for name, img in self.samples.items():
            save_image(img, out / "samples" / f"{name}.png")
        atomic_write_text(out / "provenance.json", json.dumps(self.provenance, indent=2, default=str) + "\n")
        self.path = out
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> SRResults:
        """Read results written by :meth:`save`.

        Raises
        ------
        DatasetError
            The folder holds no saved results.
        """
        from ..imageio import load_image

        p = Path(path)
        if not (p / "per_image.csv").is_file():
            raise DatasetError(f"{p} holds no SR results (per_image.csv)")
        logs = {q.stem: pd.read_csv(q) for q in sorted((p / "logs").glob("*.csv"))}
        order = ["LR", "bicubic", "pixel", "all", "top", "bottom"]
        names = sorted((q.stem for q in (p / "samples").glob("*.png")),
                       key=lambda n: (order.index(n) if n in order else len(order) + (n == "HR"), n))
        samples = {n: load_image(p / "samples" / f"{n}.png") for n in names}
        prov = json.loads((p / "provenance.json").read_text()) if (p / "provenance.json").is_file() else {}
        return cls(logs, pd.read_csv(p / "per_image.csv"), pd.read_csv(p / "summary.csv"),
                   pd.read_csv(p / "differences.csv"), samples, prov, p)


def stored_results_dir(network: str = "vgg16", preset: str = "paper") -> Path:
    """Folder of the committed SR results (``stored/sr/<network>-<preset>``)."""
    from ..book import STORED_DIR

    return STORED_DIR / "sr" / f"{network}-{preset}"


def _sample_crops(kept: dict, methods: Sequence[str]) -> dict[str, torch.Tensor]:
    if SAMPLE_IMAGE not in kept:
        return {}
    k = kept[SAMPLE_IMAGE]
    hr = k["hr"][0]
    scale = hr.shape[-1] // k["lr"].shape[-1]
    size = min(SAMPLE_SIZE, *hr.shape[-2:]) // scale * scale
    top = (hr.shape[-2] - size) // 2 // scale * scale
    left = (hr.shape[-1] - size) // 2 // scale * scale
    s, t, l = size // scale, top // scale, left // scale
    out = {"LR": k["lr"][0][:, t: t + s, l: l + s]}
    for name in ["bicubic", *methods, "hr"]:
        if name in k:
            out["HR" if name == "hr" else name] = centre_crop(k[name][0], size, scale)
    return out


def run_experiment(preset: str = "quick", *, network: str = "vgg16", seed: int = 0, device: str | torch.device = "auto",
                   use_stored: bool = True, out_dir: str | os.PathLike | None = None, progress: bool = True,
                   scores: Any = None, overrides: dict[str, Any] | None = None,
                   use_stored_scores: bool | None = None) -> SRResults:
    """Train every arm of ``preset`` with the same seed and budget, evaluate them and bicubic, compare.

    Parameters
    ----------
    preset
        'ci', 'quick' or 'paper' (:mod:`pecore.sr.settings`).
    network
        The loss network whose PE scores choose the channels ('vgg16'; 'alexnet' also works).
        LPIPS is always LPIPS-vgg.
    seed
        Seed of the initial weights and training crops, shared by every arm.
    device
        'auto', 'cpu', 'cuda', ...
    use_stored
        Return the committed results of the ``paper`` preset (``stored/sr/<network>-paper``) when
        they exist; the PE scores also come from stored results where they exist.
    out_dir
        Where the runs and results go (default: a folder in the pecore cache named by every input, so
        a second call returns at once and an interrupted one resumes).
    scores
        Channel scores to select from (default: :func:`pecore.book.chapter_scores` of ``network`` under ``preset``).
    use_stored_scores
        Whether the PE scores may come from stored results (default: ``use_stored``); ``pecore sr run``
        retrains with stored scores.
    overrides
        Settings to change from the preset's (e.g. ``{"feature_weight": 0.1, "p": 10}``); stored results
        are used only without overrides.

    Raises
    ------
    UnknownNameError
        An unknown preset or settings field.

    Returns
    -------
    SRResults
        Its ``provenance['stored']`` says whether stored results were used.
    """
    from ..book import chapter_scores
    from ..networks import load_network
    from .settings import get_settings as get_sr_settings

    settings = get_sr_settings(preset)
    check_positive("seed", seed, integer=True, allow_zero=True)
    if overrides:
        from dataclasses import fields, replace

        from ..validate import check_choice

        for k in overrides:
            check_choice("SR settings field", k, [f.name for f in fields(SRSettings)])
        settings = replace(settings, **overrides)
    stored = stored_results_dir(network, "paper")
    if use_stored and not overrides and (stored / "per_image.csv").is_file():
        res = SRResults.load(stored)
        res.provenance["stored"] = True
        return res
    dev = resolve_device(device)
    net = load_network(network, device=dev)
    if scores is None:
        stored_scores = use_stored if use_stored_scores is None else use_stored_scores
        scores = chapter_scores(network, preset, use_stored=stored_scores, device=dev)
    table = getattr(scores, "table", scores)
    scores_prov = getattr(scores, "provenance", {}) or {}
    pe_digest = cache_key("pe", {"pe": table.sort_values(["layer", "channel"]).pe.to_numpy()})
    key = cache_key("sr-chapter", {"preset": preset, "settings": settings.as_dict(), "network": net.identity,
                                   "seed": seed, "pe": pe_digest})
    out = Path(out_dir) if out_dir is not None else cache_dir() / "sr" / key
    if (out / "per_image.csv").is_file() and (out / "provenance.json").is_file():
        res = SRResults.load(out)
        if res.provenance.get("key") == key:
            res.provenance["stored"] = False
            return res
    runs: dict[str, TrainedRun] = {}
    for arm, sel_seed in arm_runs(settings):
        name = run_name(arm, sel_seed)
        runs[name] = train_arm(arm, settings, out / "runs" / name, network=net, scores=table, seed=seed,
                               selection_seed=sel_seed, device=dev, preset=preset, progress=progress)
    lpips_net = net if net.name == "vgg16" else None
    per_image, summary, kept = evaluate_runs(runs, settings.eval_sets, scale=settings.scale, crop=settings.eval_crop,
                                             device=dev, n_boot=settings.n_bootstrap, seed=seed,
                                             lpips_network=lpips_net, keep=[SAMPLE_IMAGE])
    diffs = paired_differences(per_image, comparison_pairs(per_image.method.unique()), n_boot=settings.n_bootstrap,
                               seed=seed)
    prov = provenance_record(network=net, preset=preset, device=dev,
                             parameters={"sr_settings": settings.as_dict(), "seed": seed,
                                         "runs": list(runs), "feature_layers": runs["all"].info["layers"]},
                             key=key, stored=False,
                             scores={"preset": scores_prov.get("preset"), "stored": scores_prov.get("stored")},
                             channels={n: r.info.get("channels", {}) for n, r in runs.items()},
                             train_seconds={n: r.info.get("train_seconds") for n, r in runs.items()})
    res = SRResults({n: r.log for n, r in runs.items()}, per_image, summary, diffs,
                    _sample_crops(kept, list(runs)), prov)
    res.save(out)
    return res


_LABELS = {"psnr_y": ("PSNR-Y", "dB", 2), "ssim_y": ("SSIM-Y", "", 4), "lpips_vgg": ("LPIPS-vgg", "", 4)}


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
    for ds, g in differences.groupby("dataset", sort=False):
        for b in against:
            rows = g[(g.a == a) & (g.b == b)]
            if rows.empty:
                continue
            parts = []
            for _, r in rows.iterrows():
                name, unit, nd = _LABELS.get(r.metric, (r.metric, "", 4))
                u = f" {unit}" if unit else ""
                verdict = f"{r.better} better" if r.clear else "no clear difference"
                parts.append(f"{name} {r['mean']:+.{nd}f}{u} [{r.ci_low:.{nd}f}, {r.ci_high:.{nd}f}] — {verdict}")
            lines.append(f"- **{ds}, {a} vs {b}:** " + "; ".join(parts) + ".")
    return "\n".join(lines)

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

import numpy as np
import pandas as pd
import torch

from ..cache import atomic_write_text, cache_dir, cache_key
from ..device import resolve_device
from ..errors import DatasetError, ParameterError
from ..provenance import provenance_record
from ..validate import check_positive
from .data import SR_SETS, bsd100_split, centre_crop, load_hr_images, upscale_bicubic
from .evaluate import METRICS, evaluate_methods, paired_differences, pooled, summarise
from .settings import SRSettings
from .train import TrainedRun, is_run_dir, load_run, run_name, save_generator, train_arm

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
    "POOLED_NAME",
    "machine_record",
    "choose_lambda",
    "lambda_sweep",
    "arm_settings",
    "plateau_table",
    "sweep_name",
    "METRIC_ORDER",
    "top_verdicts",
    "claim_verdict",
    "training_check",
    "conclusion_markdown",
    "chapter_tables",
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

    ``lpips`` adds LPIPS-alex and LPIPS-vgg; ``lpips_network`` may give the metric modules by column
    (``{"lpips_alex": ..., "lpips_vgg": ...}``) or the loaded VGG-16 to reuse.

    Returns ``(per_image, summary, kept)``: the per-image table, the means with 95 % bootstrap
    intervals (:func:`pecore.sr.evaluate.summarise`) and the outputs of the ``(set, image)`` pairs in ``keep``.
    """
    dev = resolve_device(device)
    metric = None
    if lpips:
        metric = lpips_network if isinstance(lpips_network, dict) else _lpips_metrics(lpips_network, dev)
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
        Also compute LPIPS-alex and LPIPS-vgg (v0.1).

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
    runs: dict[str, Any] = field(default_factory=dict)
    lambda_sweep: pd.DataFrame | None = None

    @property
    def plateau(self) -> pd.DataFrame:
        """:func:`plateau_table` of the loss logs."""
        return plateau_table(self.logs)

    def generator_dir(self, name: str) -> Path:
        """The run folder of the saved generator ``name`` (``<results>/runs/<name>``), for ``pecore sr apply``.

        Raises
        ------
        DatasetError
            The results were not saved or hold no generator of that name.
        """
        d = self.path / "runs" / name if self.path is not None else None
        if d is None or not is_run_dir(d):
            raise DatasetError(f"no saved generator {name!r} in {self.path}; "
                               f"saved: {', '.join(sorted(find_runs(self.path / 'runs'))) if self.path else 'none'}")
        return d

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``per_image.csv``, ``summary.csv``, ``differences.csv``, ``plateau.csv``, ``lambda_sweep.csv``,
        ``logs/<run>.csv``, ``samples/<method>.png``, ``runs/<run>/`` (float16 generators) and ``provenance.json``."""
        from ..imageio import save_image

        out = Path(out_dir)
        for name, run in self.runs.items():
            if not isinstance(run, TrainedRun):  # a run folder (results read back with load)
                if Path(run).resolve() == (out / "runs" / name).resolve():
                    continue
                run = load_run(run, device="cpu")
            save_generator(run, out / "runs" / name)
        if self.lambda_sweep is not None:
            atomic_write_text(out / "lambda_sweep.csv", self.lambda_sweep.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "plateau.csv", self.plateau.to_csv(index=False, float_format="%.6g"))
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
        sweep = pd.read_csv(p / "lambda_sweep.csv") if (p / "lambda_sweep.csv").is_file() else None
        runs = {q.name: q for q in sorted((p / "runs").iterdir()) if is_run_dir(q)} if (p / "runs").is_dir() else {}
        return cls(logs, pd.read_csv(p / "per_image.csv"), pd.read_csv(p / "summary.csv"),
                   pd.read_csv(p / "differences.csv"), samples, prov, p, runs, sweep)


def stored_results_dir(network: str = "vgg16", preset: str = "book") -> Path:
    """Folder of the committed SR results (``stored/sr/<network>-<preset>``)."""
    try:
        from ..stored import stored_results
    except ImportError:  # pecore before its stored module (04fea2b)
        from ..book import STORED_DIR

        return STORED_DIR / "sr" / f"{network}-{preset}"
    return stored_results("sr", network, preset)


def _chapter_scores():
    try:
        from ..notebook import chapter_scores
    except ImportError:  # pecore before its notebook module (04fea2b)
        from ..book import chapter_scores
    return chapter_scores


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


def _log(progress: bool, msg: str) -> None:
    if progress:
        import datetime as _dt
        import sys

        print(f"[sr {_dt.datetime.now(_dt.timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def machine_record() -> dict[str, Any]:
    """CPU model, core count and torch thread count of this machine (for provenance).

    Examples
    --------
    >>> sorted(machine_record())
    ['cpu_count', 'cpu_model', 'gpu', 'torch_threads']
    """
    import platform

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu_model": model, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "gpu": gpu}


def _lpips_metrics(net: Any, device: torch.device) -> dict[str, torch.nn.Module]:
    from ..metric import LPIPS

    vgg = LPIPS(net if getattr(net, "name", None) == "vgg16" else "vgg16", device=device)
    return {"lpips_alex": LPIPS("alexnet", device=device), "lpips_vgg": vgg}


def sweep_name(lam: float) -> str:
    """The run name of one λ of the sweep.

    Examples
    --------
    >>> sweep_name(0.03)
    'all-lambda0.03'
    """
    return f"all-lambda{lam:g}"


def choose_lambda(table: pd.DataFrame) -> float:
    """The λ of the sweep: the lowest mean LPIPS-alex on the validation split among the λ whose mean PSNR-Y
    is not below bicubic upscaling's; if none keeps PSNR-Y there, the λ with the highest PSNR-Y.

    ``table`` has one row per method of the sweep (``lambda`` NaN for bicubic) with mean ``psnr_y`` and
    ``lpips_alex``. LPIPS-alex judges perceptual quality with a network the loss does not use; the PSNR
    floor keeps a λ whose feature term has started to trade fidelity for texture out.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["bicubic", "a", "b", "c"], "lambda": [float("nan"), 0.01, 0.03, 0.1],
    ...                   "psnr_y": [25.0, 25.6, 25.4, 24.9], "lpips_alex": [0.40, 0.30, 0.28, 0.22]})
    >>> choose_lambda(t)
    0.03
    """
    bic = table[table["lambda"].isna()]
    runs = table[table["lambda"].notna()]
    if runs.empty:
        raise ParameterError("choose_lambda needs at least one λ row")
    floor = float(bic.psnr_y.iloc[0]) if len(bic) else -np.inf
    ok = runs[runs.psnr_y >= floor]
    best = ok.loc[ok.lpips_alex.idxmin()] if len(ok) else runs.loc[runs.psnr_y.idxmax()]
    return float(best["lambda"])


def lambda_sweep(settings: SRSettings, out: Path, net: Any, *, seed: int = 0, device: torch.device,
                 preset: str | None = None, progress: bool = False, lpips: dict | None = None
                 ) -> tuple[pd.DataFrame, float, dict[str, TrainedRun]]:
    """Train the ``all`` arm for each λ of ``settings.lambda_grid`` (``sweep_steps`` steps each), score the runs
    and bicubic on the BSD100 validation split, and choose λ (:func:`choose_lambda`).

    Returns ``(table, chosen λ, runs)``; the table has one row per method with the mean of each metric
    over the validation images, ``psnr_minus_bicubic``, ``eligible`` and ``chosen``.
    """
    from dataclasses import replace

    _, val_names = bsd100_split(settings.val_images, settings.scale)
    val = load_hr_images("BSD100", settings.scale, names=val_names)
    runs: dict[str, TrainedRun] = {}
    for lam in settings.lambda_grid:
        s = replace(settings, feature_weight=float(lam), steps=settings.sweep_steps, lambda_grid=(), sweep_steps=0,
                    checkpoint_every=min(settings.checkpoint_every, settings.sweep_steps))
        name = sweep_name(lam)
        _log(progress, f"λ sweep: training {name} ({s.steps} steps)")
        runs[name] = train_arm("all", s, out / "sweep" / name, network=net, seed=seed, device=device, preset=preset,
                               progress=progress)
        _log(progress, f"λ sweep: {name} done ({runs[name].info.get('train_seconds', 0):.0f} s of training)")
    methods = {"bicubic": lambda lr: upscale_bicubic(lr, settings.scale)}
    for name, run in runs.items():
        run.model.to(device).eval()
        methods[name] = (lambda m: (lambda lr: m(lr).clamp(0, 1)))(run.model)
    per_image, _ = evaluate_methods(methods, val, scale=settings.scale, dataset="BSD100-val",
                                    lpips=lpips if lpips is not None else _lpips_metrics(net, device), device=device)
    metrics = [m for m in METRICS if m in per_image.columns]
    table = per_image.groupby("method", sort=False)[metrics].mean().reset_index()
    lam_of = {sweep_name(lam): float(lam) for lam in settings.lambda_grid}
    table.insert(1, "lambda", table.method.map(lam_of))
    table.insert(2, "steps", np.where(table["lambda"].isna(), 0, settings.sweep_steps))
    bic = float(table.loc[table.method == "bicubic", "psnr_y"].iloc[0])
    table["psnr_minus_bicubic"] = table.psnr_y - bic
    table["eligible"] = table["lambda"].notna() & (table.psnr_y >= bic)
    chosen = choose_lambda(table)
    table["chosen"] = table["lambda"] == chosen
    table["n_images"] = len(val)
    table["criterion"] = "lowest mean LPIPS-alex on the validation split among λ with mean PSNR-Y >= bicubic"
    return table, chosen, runs


def arm_settings(settings: SRSettings, arm: str, feature_weight: float | None = None) -> SRSettings:
    """The settings one arm trains with: λ set (0 for the pixel arm, which has no feature term), no sweep fields.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> arm_settings(PRESETS["book"], "pixel").feature_weight, arm_settings(PRESETS["book"], "top", 0.1).feature_weight
    (0.0, 0.1)
    """
    from dataclasses import replace

    lam = 0.0 if arm == "pixel" else float(settings.feature_weight if feature_weight is None else feature_weight)
    return replace(settings, feature_weight=lam, lambda_grid=(), sweep_steps=0)


def plateau_table(logs: dict[str, pd.DataFrame], tail: float = 0.1) -> pd.DataFrame:
    """Whether each run's training loss has levelled off: mean loss over the last ``tail`` of the logged steps,
    over the ``tail`` before it, and their relative change.

    Examples
    --------
    >>> log = pd.DataFrame({"step": range(1, 21), "loss": [1.0] * 10 + [0.5] * 8 + [0.49] * 2})
    >>> t = plateau_table({"pixel": log}, tail=0.1)
    >>> round(float(t.relative_change[0]), 3)
    -0.02
    """
    rows = []
    for name, log in logs.items():
        n = len(log)
        k = max(1, int(round(n * tail)))
        if n < 2 * k:
            continue
        last, before = float(log.loss.iloc[-k:].mean()), float(log.loss.iloc[-2 * k:-k].mean())
        rows.append({"run": name, "steps": int(log.step.iloc[-1]), "loss_last": last, "loss_before": before,
                     "relative_change": (last - before) / before if before else np.nan})
    return pd.DataFrame(rows, columns=["run", "steps", "loss_last", "loss_before", "relative_change"])


def run_experiment(preset: str = "book", *, network: str = "vgg16", seed: int = 0, device: str | torch.device = "auto",
                   use_stored: bool = True, out_dir: str | os.PathLike | None = None, progress: bool = True,
                   scores: Any = None, overrides: dict[str, Any] | None = None,
                   use_stored_scores: bool | None = None) -> SRResults:
    """Train every arm of ``preset`` with the same seed and budget, evaluate them and bicubic, compare.

    Parameters
    ----------
    preset
        'ci', 'quick', 'book' or 'paper' (:mod:`pecore.sr.settings`).
    network
        The loss network whose PE scores choose the channels ('vgg16'; 'alexnet' also works).
    seed
        Seed of the initial weights and training crops, shared by every arm.
    device
        'auto', 'cpu', 'cuda', ...
    use_stored
        Return the committed results of ``preset`` (``stored/sr/<network>-<preset>``) when they exist;
        the PE scores also come from stored results where they exist.
    out_dir
        Where the runs and results go (default: a folder in the pecore cache named by every input, so
        a second call returns at once and an interrupted one resumes).
    scores
        Channel scores to select from (default: :func:`pecore.notebook.chapter_scores` of ``network`` under the
        settings' ``probe_preset``).
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
    from ..networks import load_network
    from .settings import check_settings, get_settings

    chapter_scores = _chapter_scores()

    settings = check_settings(get_settings(preset, **(overrides or {})))
    check_positive("seed", seed, integer=True, allow_zero=True)
    import time

    t_start = time.perf_counter()
    stored = stored_results_dir(network, preset)
    has_stored = (stored / "per_image.csv").is_file()
    if use_stored and not overrides and seed == 0 and has_stored:
        res = SRResults.load(stored)
        res.provenance["stored"] = True
        return res
    if not has_stored:
        reason = f"preset {preset} has no stored results"
    elif not use_stored:
        reason = "use_stored is off"
    else:
        changed = [f"{k}={v}" for k, v in (overrides or {}).items()] + ([f"seed={seed}"] if seed else [])
        reason = "parameters differ from the stored run (" + ", ".join(changed) + ")"
    dev = resolve_device(device)
    net = load_network(network, device=dev)
    if scores is None:
        stored_scores = use_stored if use_stored_scores is None else use_stored_scores
        scores = chapter_scores(network, settings.probe_preset, use_stored=stored_scores, device=dev)
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
            res.provenance["stored_reason"] = reason + " (computed earlier, read from the cache)"
            return res
    lpips = _lpips_metrics(net, dev)
    runs: dict[str, TrainedRun] = {}
    plan = arm_runs(settings)
    _log(progress, f"preset {preset}: {len(plan)} arms × {settings.steps} steps"
                   + (f", λ sweep {list(settings.lambda_grid)} × {settings.sweep_steps} steps" if settings.lambda_grid
                      else "") + f"; runs in {out}")
    runs["pixel"] = train_arm("pixel", arm_settings(settings, "pixel"), out / "runs" / "pixel", seed=seed, device=dev,
                              preset=preset, progress=progress)
    _log(progress, f"pixel done ({runs['pixel'].info.get('train_seconds', 0):.0f} s of training)")
    sweep, lam = None, settings.feature_weight
    if settings.lambda_grid:
        sweep, lam, _ = lambda_sweep(settings, out, net, seed=seed, device=dev, preset=preset, progress=progress,
                                     lpips=lpips)
        _log(progress, f"λ sweep chose λ = {lam:g}\n{sweep.to_string(index=False)}")
    for arm, sel_seed in plan:
        name = run_name(arm, sel_seed)
        if name in runs:
            continue
        _log(progress, f"training {name} ({settings.steps} steps, λ = {lam:g})")
        runs[name] = train_arm(arm, arm_settings(settings, arm, lam), out / "runs" / name, network=net, scores=table,
                               seed=seed, selection_seed=sel_seed, device=dev, preset=preset, progress=progress)
        _log(progress, f"{name} done ({runs[name].info.get('train_seconds', 0):.0f} s of training)")
    from .train import distributed_context

    if distributed_context(dev)[1] != 0:  # under torchrun: rank 0 evaluates and writes
        return SRResults({n: r.log for n, r in runs.items()}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                         provenance={"rank": distributed_context(dev)[1]})
    _log(progress, f"evaluating on {', '.join(settings.eval_sets)}")
    per_image, _, kept = evaluate_runs(runs, settings.eval_sets, scale=settings.scale, crop=settings.eval_crop,
                                       device=dev, n_boot=settings.n_bootstrap, seed=seed, lpips_network=lpips,
                                       keep=[SAMPLE_IMAGE])
    both = pooled(per_image, POOLED_NAME if len(settings.eval_sets) > 1 else None)
    summary = summarise(both, n_boot=settings.n_bootstrap, seed=seed)
    diffs = paired_differences(both, comparison_pairs(per_image.method.unique()), n_boot=settings.n_bootstrap,
                               seed=seed)
    prov = provenance_record(network=net, preset=preset, device=dev,
                             parameters={"sr_settings": settings.as_dict(), "seed": seed,
                                         "runs": list(runs), "feature_layers": runs["all"].info["layers"],
                                         "feature_weight": lam},
                             key=key, stored=False,
                             scores={"preset": scores_prov.get("preset"), "stored": scores_prov.get("stored")},
                             channels={n: r.info.get("channels", {}) for n, r in runs.items()},
                             train_seconds={n: r.info.get("train_seconds") for n, r in runs.items()},
                             test_images={ds: sorted(set(per_image[per_image.dataset == ds].image))
                                          for ds in dict.fromkeys(per_image.dataset)},
                             machine=machine_record(), stored_reason=reason)
    if sweep is not None:
        prov["lambda_sweep"] = {"grid": list(settings.lambda_grid), "steps": settings.sweep_steps, "chosen": lam,
                                "validation_images": bsd100_split(settings.val_images, settings.scale)[1],
                                "train_seconds": {sweep_name(v): float(json.loads(
                                    (out / "sweep" / sweep_name(v) / "train.json").read_text()).get("train_seconds", 0))
                                    for v in settings.lambda_grid}}
    prov["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    res = SRResults({n: r.log for n, r in runs.items()}, per_image, summary, diffs,
                    _sample_crops(kept, list(runs)), prov, runs=runs, lambda_sweep=sweep)
    res.save(out)
    _log(progress, f"wrote {out}")
    return res


POOLED_NAME = "Set5+Set14"


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
    sweep, note = None, ""
    if results.lambda_sweep is not None:
        t = results.lambda_sweep
        cols = [c for c in ("method", "lambda", "steps", "lpips_alex", "psnr_y", "psnr_minus_bicubic", "ssim_y",
                            "lpips_vgg", "eligible", "chosen") if c in t]
        sweep = t[cols].set_index("method")
        note = (f"{int(t.n_images.iloc[0])} photographs; criterion: {t.criterion.iloc[0]}" if "criterion" in t else "")
    summ = results.summary.assign(value=[f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in
                                         zip(results.summary["mean"], results.summary.ci_low, results.summary.ci_high)])
    order = [m for m in METRIC_ORDER if m in set(summ.metric)]
    summary = summ.pivot_table(index=["dataset", "method"], columns="metric", values="value", aggfunc="first",
                               sort=False)[order]
    n = results.per_image.groupby("dataset").image.nunique().to_dict() if len(results.per_image) else {}
    crop = f"centre {s['eval_crop']}-pixel crops of " if s.get("eval_crop") else ""
    test_sets = crop + ", ".join(f"{ds} ({k} images)" for ds, k in n.items()) + \
        (" — Set14 without lenna" if "Set14" in n else "")
    grid = (f"{s.get('n_blocks')} blocks × {s.get('n_feats')} channels, {s.get('steps')} steps per arm, batch "
            f"{s.get('batch_size')} of {s.get('crop')}-px crops, λ = {lam:g}, test: {test_sets}")
    return {"settings": settings, "channels": sel, "scores": scores, "plateau": plateau, "sweep": sweep,
            "sweep_note": note, "summary": summary, "lambda": lam, "test_sets": test_sets, "grid": grid}

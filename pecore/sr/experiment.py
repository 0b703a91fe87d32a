"""The whole SR experiment: train every arm with the same seed and budget, evaluate, compare, store.

:func:`run_experiment` is what the chapter and ``pecore sr run`` call; :func:`evaluate_dir` is
``pecore sr eval``. The λ sweep is in :mod:`.sweep`, the results object in :mod:`.results`, what the
results say in :mod:`pecore.sr.conclusions`.

Length: the experiment's one flow — the plan of runs (shared starts, sweep, arms × seeds), training them, evaluating
and comparing, provenance — kept together because each step reads the previous one's runs and settings.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..cache import cache_dir, cache_key
from ..device import resolve_device
from ..errors import ParameterError
from ..experiment import stored_or_compute
from ..provenance import provenance_record
from ..validate import check_positive
from .data import SR_SETS, bsd100_split, centre_crop, load_hr_images, upscale_bicubic
from .evaluate import POOLED_NAME, arm_differences, arm_summary, evaluate_methods, pooled, summarise
from .results import SRResults, find_runs, stored_results_dir
from .settings import SRSettings
from .sweep import arm_settings, lambda_sweep, log_progress, lpips_metrics, sweep_name
from .train import TrainedRun, load_run, run_name, train_arm

__all__ = [
    "SAMPLE_IMAGE",
    "SAMPLE_SIZE",
    "arm_runs",
    "comparison_pairs",
    "data_name",
    "evaluate_runs",
    "evaluate_dir",
    "machine_record",
    "run_experiment",
    "chapter_result",
    "train_all_arms",
    "pretrain_settings",
    "ARM_PAIRS",
]

SAMPLE_IMAGE = ("Set5", "img_003")  # butterfly: sharp edges and fine texture
SAMPLE_SIZE = 96  # side of the centre crop shown side by side


def arm_runs(settings: SRSettings) -> list[tuple[str, int, int]]:
    """``(arm, draw, training seed)`` of every network a preset trains: pixel, all, top, bottom and each random
    draw, once per training seed.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> [run_name(a, d, t) for a, d, t in arm_runs(PRESETS["ci"])]  # doctest: +NORMALIZE_WHITESPACE
    ['pixel-t0', 'all-t0', 'top-t0', 'bottom-t0', 'random-s0-t0', 'random-s1-t0',
     'pixel-t1', 'all-t1', 'top-t1', 'bottom-t1', 'random-s0-t1', 'random-s1-t1']
    >>> [run_name(a, d, t) for a, d, t in arm_runs(PRESETS["book"]) if a == "random"]  # draw k with seed k
    ['random-s0-t0', 'random-s1-t1', 'random-s2-t2']
    """
    paired = dict(zip(settings.train_seeds, settings.random_seeds))
    return [(arm, draw, int(t)) for t in settings.train_seeds
            for arm, draw in [("pixel", 0), ("all", 0), ("top", 0), ("bottom", 0)]
            + [("random", int(s)) for s in settings.random_seeds
               if settings.draws_per_seed == "all" or paired[t] == s]]


#: the paired comparisons of arms reported (each over images, training seeds and, for random, draws)
ARM_PAIRS = (("top", "bottom"), ("top", "random"), ("top", "all"), ("bottom", "random"), ("top", "pixel"),
             ("all", "pixel"), ("pixel", "bicubic"))


def comparison_pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """The arm pairs of :data:`ARM_PAIRS` whose two arms are both among ``methods`` (method or arm names).

    Examples
    --------
    >>> comparison_pairs(["bicubic", "pixel-t0", "top-t0", "bottom-t0"])
    [('top', 'bottom'), ('top', 'pixel'), ('pixel', 'bicubic')]
    """
    from .runs import parse_run_name

    arms = {parse_run_name(m)["arm"] for m in methods}
    return [(a, b) for a, b in ARM_PAIRS if a in arms and b in arms]


def data_name(data: str | os.PathLike) -> str:
    """The name of a test set in tables: the shared set's name or the folder's name.

    Examples
    --------
    >>> data_name("Set14"), data_name("my_photos/")
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
        metric = lpips_network if isinstance(lpips_network, dict) else lpips_metrics(lpips_network, dev)
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
    if write:  # every table or none (an earlier evaluation's tables survive a failure)
        from ..output import write_result_files

        files = {}
        for ds, g in per_image.groupby("dataset", sort=False):
            files[f"metrics_{ds}_per_image.csv"] = g.to_csv(index=False, float_format="%.6f").encode()
            files[f"metrics_{ds}_mean.csv"] = summary[summary.dataset == ds].to_csv(index=False,
                                                                                   float_format="%.6f").encode()
        write_result_files(path, files)
    return per_image, summary




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
        if name in k:  # one run per arm is shown: named by its arm
            shown = "HR" if name == "hr" else name.split("-")[0]
            out[shown] = centre_crop(k[name][0], size, scale)
    return out



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



def run_experiment(preset: str = "book", *, network: str = "vgg16", seed: int = 0, device: str | torch.device = "auto",
                   use_stored: bool = True, out_dir: str | os.PathLike | None = None, progress: bool = True,
                   pe_table: Any = None, overrides: dict[str, Any] | None = None,
                   use_stored_probe: bool | None = None) -> SRResults:
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
    pe_table
        Channel scores to select from (default: :func:`pecore.notebook.chapter_probe` of ``network`` under the
        settings' ``probe_preset``).
    use_stored_probe
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
    from .settings import check_settings, get_settings

    settings = check_settings(get_settings(preset, **(overrides or {})))
    check_positive("seed", seed, integer=True, allow_zero=True)
    stored = stored_results_dir(network, preset)

    def mismatch(res: SRResults) -> str | None:
        return None if not overrides and seed == 0 else _stored_reason(preset, stored, True, overrides, seed)

    def compute() -> SRResults:
        return _compute(settings, preset, network, seed, device, out_dir, progress, pe_table, use_stored,
                        use_stored_probe, _stored_reason(preset, stored, use_stored, overrides, seed))

    return stored_or_compute(stored, SRResults.load, mismatch, compute, use_stored=use_stored)


def _compute(settings: SRSettings, preset: str, network: str, seed: int, device: str | torch.device,
             out_dir: str | os.PathLike | None, progress: bool, pe_table: Any, use_stored: bool,
             use_stored_probe: bool | None, reason: str) -> SRResults:
    """Train (or read back from the cache) every arm of ``settings``, evaluate and compare them."""
    from ..networks import load_network
    from ..notebook import chapter_probe
    from .train import distributed_context

    t_start = time.perf_counter()
    dev = resolve_device(device)
    net = load_network(network, device=dev)
    if pe_table is None:
        stored_probe = use_stored if use_stored_probe is None else use_stored_probe
        pe_table = chapter_probe(network, settings.probe_preset, use_stored=stored_probe, device=dev)
    table = getattr(pe_table, "table", pe_table)
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
    lpips = lpips_metrics(net, dev, vgg=settings.lpips_vgg)
    runs, sweep, lam = train_all_arms(settings, out, net, table, seed=seed, device=dev, preset=preset,
                                      progress=progress, lpips=lpips)
    if distributed_context(dev)[1] != 0:  # under torchrun: rank 0 evaluates and writes
        return SRResults({n: r.log for n, r in runs.items()}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                         provenance={"rank": distributed_context(dev)[1]})
    log_progress(progress, f"evaluating on {', '.join(settings.eval_sets)}")
    t_eval = time.perf_counter()
    per_image, _, kept = evaluate_runs(runs, settings.eval_sets, scale=settings.scale, crop=settings.eval_crop,
                                       device=dev, n_boot=settings.n_bootstrap, seed=seed, lpips_network=lpips,
                                       keep=[SAMPLE_IMAGE])
    both = pooled(per_image, POOLED_NAME if len(settings.eval_sets) > 1 else None)
    summary = arm_summary(both, n_boot=settings.n_bootstrap, seed=seed)
    diffs = arm_differences(both, comparison_pairs(per_image.method.unique()), n_boot=settings.n_bootstrap,
                            seed=seed)
    prov = _provenance(settings, preset, net, dev, seed, runs, lam, per_image, pe_table, out, sweep is not None,
                       key=key, stored_reason=reason)
    prov["evaluation_seconds"] = round(time.perf_counter() - t_eval, 1)
    prov["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    first = settings.train_seeds[0]
    shown = [run_name(a, d, first) for a, d, t in arm_runs(settings) if t == first and (a != "random" or d == min(
        dd for aa, dd, tt in arm_runs(settings) if aa == "random" and tt == first))]
    logs = {n: r.log for n, r in runs.items()}
    logs.update({f"pretrain-t{t}": r.log for t, r in _pretrained(out, settings).items()})
    prov["generators"] = [n for n in shown if n in runs]  # the generators saved with the results
    res = SRResults(logs, per_image, summary, diffs, _sample_crops(kept, [n for n in shown if n in runs]), prov,
                    runs={n: runs[n] for n in shown if n in runs}, lambda_sweep=sweep)
    res.save(out)
    log_progress(progress, f"wrote {out}")
    return res


def _pretrained(out: Path, settings: SRSettings) -> dict[int, TrainedRun]:
    """The finished pretrained generators of a run folder, by training seed (none without pretraining)."""
    if not settings.pretrain_steps:
        return {}
    return {t: load_run(out / "pretrain" / f"t{t}", device="cpu") for t in settings.train_seeds
            if (out / "pretrain" / f"t{t}" / "model.pt").is_file()}


def chapter_result(network: str = "vgg16", preset: str = "book", **kwargs: Any) -> SRResults:
    """The chapter's results: the stored ones of ``preset`` when they match the request, else a run
    (:func:`run_experiment` with the same keywords)."""
    return run_experiment(preset, network=network, **kwargs)


def _stored_reason(preset: str, stored: Path, use_stored: bool, overrides: dict | None, seed: int) -> str:
    if not (stored / "per_image.csv").is_file():
        return f"preset {preset} has no stored results"
    if not use_stored:
        return "use_stored is off"
    changed = [f"{k}={v}" for k, v in (overrides or {}).items()] + ([f"seed={seed}"] if seed else [])
    return "parameters differ from the stored run (" + ", ".join(changed) + ")"


def pretrain_settings(settings: SRSettings) -> SRSettings:
    """The settings of the shared pixel-loss generator: ``pretrain_steps`` steps at ``pretrain_lr``, no feature term.

    Examples
    --------
    >>> from pecore.sr.settings import PRESETS
    >>> s = pretrain_settings(PRESETS["book"]); s.steps, s.lr, s.feature_weight
    (1000, 0.001, 0.0)
    """
    from dataclasses import replace

    return replace(settings, steps=settings.pretrain_steps, lr=settings.pretrain_lr, feature_weight=0.0,
                   lambda_grid=(), sweep_steps=0, pretrain_steps=0,
                   checkpoint_every=min(settings.checkpoint_every * 2, settings.pretrain_steps))


def train_all_arms(settings: SRSettings, out: Path, net: Any, table: pd.DataFrame, *, seed: int = 0,
                   device: torch.device, preset: str | None = None, progress: bool = False,
                   lpips: dict | None = None) -> tuple[dict[str, TrainedRun], pd.DataFrame | None, float]:
    """Pretrain the shared pixel-loss generator of each training seed, run the λ sweep (first seed), then
    fine-tune every arm of every seed from its seed's generator.

    Runs go to ``out/pretrain/t<seed>``, ``out/sweep/<name>`` and ``out/runs/<name>``; a finished run is read
    back, an interrupted one resumes. Training seed ``t`` is ``seed + t`` for every run of that seed, so
    the arms of one seed share initial weights and crops. Returns ``(runs, sweep table or None, λ)``.
    """
    plan = arm_runs(settings)
    log_progress(progress, f"preset {preset}: {len(plan)} fine-tuned runs × {settings.steps} steps from "
                 f"{len(settings.train_seeds)} pretrained generator(s) × {settings.pretrain_steps} steps"
                 + (f", λ sweep {list(settings.lambda_grid)} × {settings.sweep_steps} steps" if settings.lambda_grid
                    else "") + f"; runs in {out}")
    starts: dict[int, TrainedRun | None] = {}
    for t in settings.train_seeds:
        if settings.pretrain_steps:
            starts[t] = train_arm("pixel", pretrain_settings(settings), out / "pretrain" / f"t{t}", seed=seed + t,
                                  device=device, preset=preset, progress=progress, name=f"pretrain-t{t}")
            log_progress(progress, f"pretrain-t{t} done ({starts[t].info.get('train_seconds', 0):.0f} s of training)")
        else:
            starts[t] = None
    runs: dict[str, TrainedRun] = {}
    sweep, lam = None, settings.feature_weight
    first = settings.train_seeds[0]
    if settings.lambda_grid:
        sweep, lam, swept = lambda_sweep(settings, out, net, seed=seed + first, device=device, preset=preset,
                                         progress=progress, lpips=lpips, init=starts[first])
        log_progress(progress, f"λ sweep chose λ = {lam:g}\n{sweep.to_string(index=False)}")
        if settings.sweep_steps == settings.steps:  # the chosen λ's sweep run is the all arm of the first seed
            runs[run_name("all", 0, first)] = swept[sweep_name(lam)]
    for arm, draw, t in plan:
        name = run_name(arm, draw, t)
        if name in runs:
            continue
        log_progress(progress, f"training {name} ({settings.steps} steps, λ = {lam:g})")
        runs[name] = train_arm(arm, arm_settings(settings, arm, lam), out / "runs" / name, network=net, pe_table=table,
                               seed=seed + t, selection_seed=draw, device=device, preset=preset, progress=progress,
                               init=starts[t], name=name)
        log_progress(progress, f"{name} done ({runs[name].info.get('train_seconds', 0):.0f} s of training)")
    return runs, sweep, lam


def _provenance(settings: SRSettings, preset: str, net: Any, dev: torch.device, seed: int, runs: dict,
                lam: float, per_image: pd.DataFrame, pe_table: Any, out: Path, swept: bool, **extra: Any) -> dict:
    scores_prov = getattr(pe_table, "provenance", {}) or {}
    prov = provenance_record(network=net, preset=preset, device=dev,
                             parameters={"sr_settings": settings.as_dict(), "seed": seed,
                                         "runs": list(runs),
                                         "feature_layers": next(r.info["layers"] for n, r in runs.items()
                                                                if n.startswith("all")),
                                         "feature_weight": lam},
                             stored=False,
                             scores={"preset": scores_prov.get("preset"), "stored": scores_prov.get("stored")},
                             channels={n: r.info.get("channels", {}) for n, r in runs.items()},
                             train_seconds={n: r.info.get("train_seconds") for n, r in runs.items()},
                             test_images={ds: sorted(set(per_image[per_image.dataset == ds].image))
                                          for ds in dict.fromkeys(per_image.dataset)},
                             machine=machine_record(), **extra)
    total = sum(float(r.info.get("train_seconds") or 0) for r in runs.values())
    if swept:
        seconds = {sweep_name(v): float(json.loads((out / "sweep" / sweep_name(v) / "train.json").read_text())
                                        .get("train_seconds", 0)) for v in settings.lambda_grid}
        reused = settings.sweep_steps == settings.steps
        all_first = runs[run_name("all", 0, settings.train_seeds[0])]
        prov["lambda_sweep"] = {"grid": list(settings.lambda_grid), "steps": settings.sweep_steps, "chosen": lam,
                                "validation_images": bsd100_split(settings.val_images, settings.scale)[1],
                                "train_seconds": seconds, "all_arm_is_sweep_run": reused}
        total += sum(seconds.values()) - (float(all_first.info.get("train_seconds") or 0) if reused else 0.0)
    pre = _pretrained(out, settings)
    prov["pretrain_seconds"] = {f"t{t}": r.info.get("train_seconds") for t, r in pre.items()}
    total += sum(float(r.info.get("train_seconds") or 0) for r in pre.values())
    prov["training_seconds_total"] = round(total, 1)  # every run, sweep included, as each run measured it
    return prov

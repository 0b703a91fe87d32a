"""Training one arm of the SR experiment: seeded, resumable from atomic checkpoints, AMP on CUDA, a loss log.

A run lives in one folder:

``train.json``
    what the run is (arm, seeds, settings, loss layers and selected channels, data) and its provenance;
``checkpoint.pt``
    while training: weights, optimiser, schedule, crop-sampler state, loss log so far (written
    atomically every ``checkpoint_every`` steps; removed when the run finishes);
``model.pt``
    the trained weights;
``loss_log.csv``
    step, loss, pixel, feature (means over the steps since the previous row), lr, seconds.

Starting a run in a folder that holds a finished run with the same identity returns it; one with an
unfinished checkpoint continues from it and ends with exactly the weights an uninterrupted run
would have (on the CPU; CUDA kernels may differ in the last bits). A folder holding a run with another
identity is refused.
"""
from __future__ import annotations

import functools
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from ..cache import atomic_write_bytes, atomic_write_text, cache_key
from ..device import resolve_device
from ..errors import OutputError, ParameterError
from ..networks import Network
from ..provenance import provenance_record
from ..validate import check_choice, check_positive
from .data import CropSampler, load_hr_images
from .losses import ARMS, SRLoss, arm_weights, feature_layers, selected_channels
from .model import SRResNet, build_model
from .settings import SRSettings

__all__ = ["TrainedRun", "run_name", "train_arm", "load_run", "is_run_dir"]

LOG_COLUMNS = ["step", "loss", "pixel", "feature", "lr", "seconds"]


@dataclass
class TrainedRun:
    """A trained network, its loss log and its description (``train.json``).

    ``resumed_from`` is the step a checkpoint let training start at; ``steps_run`` the steps trained by
    the call that returned it (0 for a finished run loaded from its folder).
    """

    name: str
    model: SRResNet
    log: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    out_dir: Path | None = None
    resumed_from: int = 0
    steps_run: int = 0


def run_name(arm: str, selection_seed: int = 0) -> str:
    """The folder and method name of an arm: the arm, or ``random-s<seed>`` for the random arm.

    Examples
    --------
    >>> run_name("top"), run_name("random", 2)
    ('top', 'random-s2')
    """
    check_choice("SR arm", arm, ARMS)
    return f"random-s{int(selection_seed)}" if arm == "random" else arm


def is_run_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a finished run (``model.pt`` and ``train.json``)."""
    p = Path(path)
    return (p / "model.pt").is_file() and (p / "train.json").is_file()


def _save_torch(obj: Any, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def _lr_factor(steps: int):
    def factor(step: int) -> float:  # cosine from 1 to 0.1 over the run
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))

    return factor


def train_arm(
    arm: str,
    settings: SRSettings,
    out_dir: str | os.PathLike,
    *,
    network: Network | None = None,
    scores: Any = None,
    layers: list[str] | None = None,
    seed: int = 0,
    selection_seed: int = 0,
    data: str | os.PathLike = "BSD100",
    device: str | torch.device = "auto",
    preset: str | None = None,
    progress: bool = True,
    resume: bool = True,
) -> TrainedRun:
    """Train the SR network of one arm for ``settings.steps`` steps (or return the finished run).

    Parameters
    ----------
    arm
        'pixel', 'all', 'top', 'bottom' or 'random' (see :mod:`pecore.sr.losses`).
    settings
        The preset's :class:`~pecore.sr.settings.SRSettings`.
    out_dir
        The run's folder (created).
    network
        The loss network (VGG-16 in the chapter); loaded when ``None`` and the arm needs it.
    scores
        Its PE channel scores (for top, bottom, random).
    layers
        Feature-loss layers (default: the first ``settings.feature_depth`` taps).
    seed
        Seed of the initial weights and of the training crops — the same for every arm.
    selection_seed
        Seed of the random channel subset.
    data
        Training photographs: 'BSD100' (default) or a folder of HR images.
    device
        'auto', 'cpu', 'cuda', ...; AMP (bfloat16 autocast) is used on CUDA when ``settings.amp``.
    preset
        Preset name, for the provenance record.
    progress
        Show a progress bar.
    resume
        Continue from ``checkpoint.pt`` / return a finished run; ``False`` starts afresh.

    Raises
    ------
    UnknownNameError
        An unknown arm.
    OutputError
        ``out_dir`` holds a run with another identity, or cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from pecore.sr.settings import PRESETS
    >>> run = train_arm("pixel", PRESETS["ci"], tempfile.mkdtemp(), device="cpu", progress=False)
    >>> run.log.step.tolist(), run.model.scale
    ([1, 2, 3, 4], 4)
    """
    check_choice("SR arm", arm, ARMS)
    check_positive("steps", settings.steps, integer=True)
    check_positive("seed", seed, integer=True, allow_zero=True)
    dev = resolve_device(device)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the run folder {out}: {exc.strerror or exc}") from exc
    if arm != "pixel" and network is None:
        from ..networks import load_network

        network = load_network("vgg16", device=dev)
    if network is not None and network.device != dev:
        network = network.to(dev)
    layers = (network.extractor.check_layers(layers) if layers else feature_layers(network, settings.feature_depth)) \
        if network is not None and arm != "pixel" else []
    weights = arm_weights(arm, network, scores, layers, p=settings.p, selection_seed=selection_seed,
                          normalise=settings.feature_normalise) if arm != "pixel" else None
    identity = {
        "arm": arm,
        "name": run_name(arm, selection_seed),
        "seed": int(seed),
        "selection_seed": int(selection_seed),
        "settings": settings.as_dict(),
        "data": str(data),
        "loss_network": network.identity if (network is not None and arm != "pixel") else None,
        "layers": layers,
        "channels": selected_channels(weights),
    }
    key = cache_key("sr-train", identity)
    ckpt_path, model_path = out / "checkpoint.pt", out / "model.pt"
    info_path = out / "train.json"
    if info_path.is_file():
        old = json.loads(info_path.read_text())
        if old.get("key") != key:
            if not resume:
                for p in (ckpt_path, model_path, out / "loss_log.csv"):
                    p.unlink(missing_ok=True)
            else:
                raise OutputError(f"{out} holds another SR run ({old.get('name')}, key {old.get('key')}); "
                                  "use another output folder, or --restart to replace it")
    if resume and model_path.is_file() and info_path.is_file():
        return load_run(out, device=dev)

    hr = _training_images(str(data), settings.scale)  # check the data before anything is written
    info = {"key": key, **identity,
            "provenance": provenance_record(network=network if arm != "pixel" else None, preset=preset,
                                            parameters={"arm": arm, "seed": seed, "selection_seed": selection_seed},
                                            device=dev)}
    atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")

    sampler = CropSampler([im.image for im in hr], settings.crop, settings.batch_size, settings.scale,
                          augment=settings.augment, seed=seed, names=[im.name for im in hr], device=dev)
    model = build_model(settings, seed).to(dev)
    loss_fn = SRLoss(network if weights is not None else None, weights, feature_weight=settings.feature_weight,
                     pixel_loss=settings.pixel_loss)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(settings.steps))
    rows: list[dict[str, float]] = []
    acc = {"loss": 0.0, "pixel": 0.0, "feature": 0.0, "n": 0}
    start = 0
    if resume and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)  # load_state_dict moves tensors
        if state.get("key") != key:
            raise OutputError(f"checkpoint {ckpt_path} belongs to another run; use another output folder")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        sampler.load_state_dict(state["sampler"])
        rows, acc, start = list(state["log"]), dict(state["acc"]), int(state["step"])
    elif ckpt_path.is_file():
        ckpt_path.unlink()

    use_amp = bool(settings.amp) and dev.type == "cuda"
    t0 = time.perf_counter() - (rows[-1]["seconds"] if rows else 0.0)
    model.train()
    with tqdm(total=settings.steps, initial=start, desc=f"sr {identity['name']}", disable=not progress,
              leave=False, unit="step") as bar:
        for step in range(start, settings.steps):
            lr_b, hr_b = sampler.sample()
            lr_b, hr_b = lr_b.to(dev, non_blocking=True), hr_b.to(dev, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                sr = model(lr_b)
                losses = loss_fn(sr, hr_b)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            opt.step()
            sched.step()
            for k in ("loss", "pixel", "feature"):
                acc[k] += float(losses[k].detach())
            acc["n"] += 1
            done = step + 1
            if done % settings.log_every == 0 or done == settings.steps:
                n = acc["n"]
                rows.append({"step": done, "loss": acc["loss"] / n, "pixel": acc["pixel"] / n,
                             "feature": acc["feature"] / n, "lr": opt.param_groups[0]["lr"],
                             "seconds": time.perf_counter() - t0})
                acc = {"loss": 0.0, "pixel": 0.0, "feature": 0.0, "n": 0}
                bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}")
            if done % settings.checkpoint_every == 0 and done < settings.steps:
                _save_torch({"key": key, "step": done, "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "scheduler": sched.state_dict(), "sampler": sampler.state_dict(), "log": rows,
                             "acc": acc}, ckpt_path)
                _write_log(out, rows)
            bar.update(1)
    model.eval()
    _write_log(out, rows)
    _save_torch({"key": key, "model": model.state_dict()}, model_path)
    ckpt_path.unlink(missing_ok=True)
    info["train_seconds"] = rows[-1]["seconds"] if rows else 0.0
    atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")
    return TrainedRun(identity["name"], model, _log_frame(rows), info, out, start, settings.steps - start)


@functools.lru_cache(maxsize=2)
def _training_images(data: str, scale: int) -> tuple:
    """The 8-bit HR training images, read once per process (every arm uses the same ones)."""
    return tuple(load_hr_images(data, scale, uint8=True))


def _log_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=LOG_COLUMNS)
    t["step"] = t["step"].astype(int)
    return t


def _write_log(out: Path, rows: list[dict[str, float]]) -> None:
    atomic_write_text(out / "loss_log.csv", _log_frame(rows).to_csv(index=False, float_format="%.8g"))


def load_run(path: str | os.PathLike, *, device: str | torch.device = "auto") -> TrainedRun:
    """Load a finished run from its folder (weights, loss log, ``train.json``).

    Raises
    ------
    ParameterError
        The folder holds no finished run.

    Examples
    --------
    >>> import tempfile
    >>> from pecore.sr.settings import PRESETS
    >>> d = tempfile.mkdtemp()
    >>> _ = train_arm("pixel", PRESETS["ci"], d, device="cpu", progress=False)
    >>> load_run(d, device="cpu").name
    'pixel'
    """
    p = Path(path)
    if not is_run_dir(p):
        raise ParameterError(f"{p} holds no finished SR run (model.pt and train.json); train one with `pecore sr train`")
    info = json.loads((p / "train.json").read_text())
    s = SRSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in info["settings"].items()})
    dev = resolve_device(device)
    model = build_model(s, info.get("seed", 0))
    state = torch.load(p / "model.pt", map_location="cpu", weights_only=True)
    if state.get("key") != info.get("key"):
        raise ParameterError(f"{p}: model.pt and train.json belong to different runs")
    model.load_state_dict(state["model"])
    model.to(dev).eval()
    log = pd.read_csv(p / "loss_log.csv") if (p / "loss_log.csv").is_file() else _log_frame([])
    return TrainedRun(info["name"], model, log, info, p)

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
    step, loss, pixel, feature (means over the steps since the previous row), lr, seconds, and every
    ``val_every`` steps ``val_psnr_y``: PSNR-Y on a fixed batch of crops of the validation photographs.

Starting a run in a folder that holds a finished run with the same identity returns it; one with an
unfinished checkpoint continues from it and ends with exactly the weights an uninterrupted run
would have (on the CPU; CUDA kernels may differ in the last bits). A folder holding a run with another
identity is refused.

Under ``torchrun`` (``WORLD_SIZE`` > 1) training is data-parallel (DistributedDataParallel; gloo on
the CPU, nccl on GPUs): every process draws the same global batch of ``batch_size`` crops and trains
on its own ``batch_size / world_size`` of them, the gradients are averaged, so the result equals a
one-process run with the same global batch (to float rounding). Only rank 0 writes files.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import json
import math
import os
import sys
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
from .data import CropSampler, bsd100_split, load_hr_images
from .losses import ARMS, SRLoss, arm_weights, feature_layers, selected_channels
from .model import SRResNet, build_model
from .settings import SRSettings

__all__ = ["TrainedRun", "run_name", "train_arm", "load_run", "is_run_dir", "save_generator", "distributed_context"]

LOG_COLUMNS = ["step", "loss", "pixel", "feature", "lr", "seconds", "val_psnr_y"]
VAL_CROP, VAL_BATCH, VAL_SEED = 96, 16, 12345


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


def distributed_context(device: torch.device) -> tuple[int, int, torch.device]:
    """``(world_size, rank, device)`` of this process: ``(1, 0, device)`` unless started by ``torchrun``.

    Under ``torchrun`` the process group is initialised once (nccl for CUDA, gloo otherwise) and a CUDA
    device without an index becomes ``cuda:LOCAL_RANK``.

    Examples
    --------
    >>> distributed_context(torch.device("cpu"))
    (1, 0, device(type='cpu'))
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0, device
    import torch.distributed as dist

    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_world_size(), dist.get_rank(), device


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


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
        Training photographs: 'BSD100' (default; without the ``settings.val_images`` held out by
        :func:`pecore.sr.data.bsd100_split`) or a folder of HR images.
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
    world, rank, dev = distributed_context(resolve_device(device))
    if settings.batch_size % world:
        raise ParameterError(f"batch_size {settings.batch_size} cannot be split evenly over {world} processes")
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

    hr = _training_images(str(data), settings.scale, settings.val_images)  # check the data before writing anything
    info = {"key": key, **identity,
            "provenance": provenance_record(network=network if arm != "pixel" else None, preset=preset,
                                            parameters={"arm": arm, "seed": seed, "selection_seed": selection_seed,
                                                        "world_size": world},
                                            device=dev)}
    _barrier(world)  # every process has read the folder's state before rank 0 writes
    if rank == 0:
        atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")

    sampler = CropSampler([im.image for im in hr], settings.crop, settings.batch_size, settings.scale,
                          augment=settings.augment, seed=seed, names=[im.name for im in hr], device=dev)
    model = build_model(settings, seed).to(dev)
    loss_fn = SRLoss(network if weights is not None else None, weights, feature_weight=settings.feature_weight,
                     pixel_loss=settings.pixel_loss, precision=getattr(settings, "loss_precision", "float32"))
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

    val_batch = _validation_batch(settings, str(data), dev)
    use_amp = bool(settings.amp) and dev.type == "cuda"
    per = settings.batch_size // world
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    t0 = time.perf_counter() - (rows[-1]["seconds"] if rows else 0.0)
    model.train()
    tty = sys.stderr.isatty()  # in a log file: one progress line every 30 s, kept
    with tqdm(total=settings.steps, initial=start, desc=f"sr {identity['name']}", disable=not progress,
              leave=not tty, unit="step", mininterval=0.1 if tty else 30.0, ascii=not tty) as bar:
        for step in range(start, settings.steps):
            lr_b, hr_b = sampler.sample()  # the global batch; each process trains on its share
            if world > 1:
                lr_b, hr_b = lr_b[rank * per:(rank + 1) * per], hr_b[rank * per:(rank + 1) * per]
            lr_b, hr_b = lr_b.to(dev, non_blocking=True), hr_b.to(dev, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                sr = net(lr_b)
                losses = loss_fn(sr, hr_b)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            opt.step()
            sched.step()
            values = torch.stack([losses[k].detach().float() for k in ("loss", "pixel", "feature")])
            if world > 1:
                import torch.distributed as dist

                dist.all_reduce(values)
                values /= world
            for k, v in zip(("loss", "pixel", "feature"), values.tolist()):
                acc[k] += v
            acc["n"] += 1
            done = step + 1
            if done % settings.log_every == 0 or done == settings.steps:
                n = acc["n"]
                rows.append({"step": done, "loss": acc["loss"] / n, "pixel": acc["pixel"] / n,
                             "feature": acc["feature"] / n, "lr": opt.param_groups[0]["lr"],
                             "seconds": time.perf_counter() - t0, "val_psnr_y": float("nan")})
                if val_batch is not None and (done % settings.val_every == 0 or done == settings.steps):
                    rows[-1]["val_psnr_y"] = _val_psnr(model, val_batch, settings.scale)
                acc = {"loss": 0.0, "pixel": 0.0, "feature": 0.0, "n": 0}
                bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}", refresh=tty)
            if done % settings.checkpoint_every == 0 and done < settings.steps and rank == 0:
                _save_torch({"key": key, "step": done, "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "scheduler": sched.state_dict(), "sampler": sampler.state_dict(), "log": rows,
                             "acc": acc}, ckpt_path)
                _write_log(out, rows)
            bar.update(1)
    model.eval()
    info["train_seconds"] = rows[-1]["seconds"] if rows else 0.0
    if rank == 0:
        _write_log(out, rows)
        _save_torch({"key": key, "model": model.state_dict()}, model_path)
        ckpt_path.unlink(missing_ok=True)
        atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")
    _barrier(world)  # the finished run is on disk for every process
    return TrainedRun(identity["name"], model, _log_frame(rows), info, out, start, settings.steps - start)


def _validation_batch(settings: SRSettings, data: str, dev: torch.device) -> tuple | None:
    """A fixed batch of crops of the validation photographs (BSD100 only), or ``None``."""
    if not getattr(settings, "val_every", 0) or data != "BSD100" or not settings.val_images:
        return None
    names = bsd100_split(settings.val_images, settings.scale)[1]
    imgs = load_hr_images("BSD100", settings.scale, uint8=True, names=names)
    lr, hr = CropSampler([im.image for im in imgs], VAL_CROP, VAL_BATCH, settings.scale, augment=False,
                         seed=VAL_SEED).sample()
    return lr.to(dev), hr.to(dev)


def _val_psnr(model: SRResNet, batch: tuple, scale: int) -> float:
    from .data import quantize
    from .evaluate import psnr_y

    model.eval()
    with torch.no_grad():
        sr = quantize(model(batch[0]).float())
    model.train()
    return float(psnr_y(sr, batch[1], scale).mean())


@functools.lru_cache(maxsize=2)
def _training_images(data: str, scale: int, val_images: int = 0) -> tuple:
    """The 8-bit HR training images, read once per process (every arm uses the same ones).

    For BSD100 the ``val_images`` validation photographs of :func:`pecore.sr.data.bsd100_split` are left out.
    """
    names = bsd100_split(val_images, scale)[0] if data == "BSD100" and val_images else None
    return tuple(load_hr_images(data, scale, uint8=True, names=names))


def _log_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=LOG_COLUMNS)
    if t["val_psnr_y"].isna().all():
        t = t.drop(columns="val_psnr_y")
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
    known = {f.name for f in dataclasses.fields(SRSettings)}
    s = SRSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in info["settings"].items() if k in known})
    dev = resolve_device(device)
    model = build_model(s, info.get("seed", 0))
    state = torch.load(p / "model.pt", map_location="cpu", weights_only=True)
    if state.get("key") != info.get("key"):
        raise ParameterError(f"{p}: model.pt and train.json belong to different runs")
    # float16 copies (the committed generators) are widened back to float32
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()})
    model.to(dev).eval()
    log = pd.read_csv(p / "loss_log.csv") if (p / "loss_log.csv").is_file() else _log_frame([])
    return TrainedRun(info["name"], model, log, info, p)


def save_generator(run: TrainedRun, out_dir: str | os.PathLike, *, dtype: torch.dtype = torch.float16) -> Path:
    """Write a compact copy of a finished run into ``out_dir``: ``model.pt`` (weights as ``dtype``) and ``train.json``.

    The copy is a run folder like any other (:func:`load_run`, ``pecore sr apply``); float16 halves
    the size (the 8 × 32 book generators take about 0.5 MB) and changes outputs by less than one
    8-bit level.

    Examples
    --------
    >>> import tempfile
    >>> from pecore.sr.settings import PRESETS
    >>> run = train_arm("pixel", PRESETS["ci"], tempfile.mkdtemp(), device="cpu", progress=False)
    >>> copy = save_generator(run, tempfile.mkdtemp())
    >>> load_run(copy, device="cpu").name
    'pixel'
    """
    out = Path(out_dir)
    state = {k: v.detach().cpu().to(dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in run.model.state_dict().items()}
    _save_torch({"key": run.info.get("key"), "model": state, "dtype": str(dtype)}, out / "model.pt")
    atomic_write_text(out / "train.json", json.dumps(run.info, indent=2, default=str) + "\n")
    return out

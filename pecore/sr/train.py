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

Length: one training loop with everything a resumable run needs (identity and folder checks, the state a checkpoint
holds, the step, the log, validation), kept together because they share the run's state.
"""
from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from ..progress import progress_bar as tqdm

from ..cache import atomic_write_text, cache_key, read_torch_file, write_checked_torch
from ..device import resolve_device
from ..errors import OutputError, ParameterError
from ..networks import Network
from ..provenance import provenance_record
from ..validate import check_choice, check_positive
from .data import CropSampler, bsd100_split, load_hr_images
from .losses import ARMS, SRLoss, arm_weights, feature_layers, selected_channels
from .model import SRResNet, build_model
from .runs import (TrainedRun, _save_torch, _write_log, is_run_dir, load_run, read_run_info, run_name, save_generator,
                   stored_log)
from .settings import SRSettings

# the run-folder functions live in .runs; they are named here too, where callers have always found them
__all__ = ["TrainedRun", "run_name", "train_arm", "load_run", "is_run_dir", "save_generator", "distributed_context"]

VAL_CROP, VAL_BATCH, VAL_SEED = 96, 16, 12345  # the fixed validation batch of the val_psnr_y curve



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
    pe_table: Any = None,
    layers: list[str] | None = None,
    seed: int = 0,
    selection_seed: int = 0,
    data: str | os.PathLike = "BSD100",
    device: str | torch.device = "auto",
    preset: str | None = None,
    progress: bool = True,
    resume: bool = True,
    init: TrainedRun | None = None,
    name: str | None = None,
) -> TrainedRun:
    """Train the SR network of one arm for ``settings.steps`` steps (or return the finished run).

    Length: the checks of every input before anything is written, then the resumable loop with its checkpoints.

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
    pe_table
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
    init
        A finished run (the shared pixel-loss generator) whose weights this run starts from instead of the
        seeded random init; its key is part of this run's identity.
    name
        The run's name in logs and tables (default: :func:`~pecore.sr.runs.run_name` of the arm and draw).

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
    check_positive("selection_seed", selection_seed, integer=True, allow_zero=True)
    world, rank, dev = distributed_context(resolve_device(device))
    if settings.batch_size % world:
        raise ParameterError(f"batch_size {settings.batch_size} cannot be split evenly over {world} processes")
    out, network = _prepare(out_dir, arm, network, dev)
    identity, weights = _identity(arm, settings, network, pe_table, layers, seed=seed, selection_seed=selection_seed,
                                  data=data)
    if init is not None:
        if init.model.scale != settings.scale or sum(p.numel() for p in init.model.parameters()) != \
                sum(p.numel() for p in build_model(settings, seed).parameters()):
            raise ParameterError(f"init run {init.name} has another architecture than these settings "
                                 f"({settings.n_blocks} blocks × {settings.n_feats} channels, ×{settings.scale})")
        identity["init"] = init.info.get("key")
    if name is not None:
        identity["name"] = str(name)
    key = cache_key("sr-train", identity)
    ckpt_path, model_path, info_path = out / "checkpoint.pt", out / "model.pt", out / "train.json"
    _check_folder(out, key, resume)
    if resume and model_path.is_file() and info_path.is_file():
        if rank == 0:
            ckpt_path.unlink(missing_ok=True)  # left by a stop just after the run finished
        return load_run(out, device=dev)

    hr = _training_images(str(data), settings.scale, settings.val_images)  # check the data before writing anything
    info = {"key": key, **identity,
            "provenance": provenance_record(network=network if arm != "pixel" else None, preset=preset,
                                            parameters={"arm": arm, "seed": seed, "selection_seed": selection_seed,
                                                        "world_size": world},
                                            device=dev)}
    st = _State.new(settings, hr, seed, dev, init=init)
    if resume and ckpt_path.is_file():
        st.restore(ckpt_path, key)  # a damaged checkpoint is a named error before anything is written
    _barrier(world)  # every process has read the folder's state before rank 0 writes
    if rank == 0:
        _make_folder(out)
        if not resume:
            ckpt_path.unlink(missing_ok=True)
        atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")
    start = st.step
    loss_fn = SRLoss(network if weights is not None else None, weights, feature_weight=settings.feature_weight,
                     pixel_loss=settings.pixel_loss, precision=getattr(settings, "loss_precision", "float32"))
    val_batch = _validation_batch(settings, str(data), dev)
    net = st.wrapped(world, dev)
    t0 = time.perf_counter() - (st.rows[-1]["seconds"] if st.rows else 0.0)
    st.model.train()
    tty = sys.stderr.isatty()  # in a log file: one progress line every 30 s, kept
    with tqdm(total=settings.steps, initial=start, desc=f"sr {identity['name']}", disable=not progress,
              leave=not tty, unit="step", mininterval=0.1 if tty else 30.0, ascii=not tty) as bar:
        while st.step < settings.steps:
            st.train_step(net, loss_fn, settings, world, rank, dev)
            done = st.step
            if done % settings.log_every == 0 or done == settings.steps:
                st.log_row(time.perf_counter() - t0, val_batch, settings)
                bar.set_postfix(loss=f"{st.rows[-1]['loss']:.4f}", refresh=tty)
            if done % settings.checkpoint_every == 0 and done < settings.steps and rank == 0:
                write_checked_torch(st.checkpoint(key), ckpt_path)  # a flipped bit is refused on resume
                _write_log(out, st.rows)
            bar.update(1)
    st.model.eval()
    info["train_seconds"] = st.rows[-1]["seconds"] if st.rows else 0.0
    if rank == 0:
        # model.pt marks a run finished, so it comes after the final train.json; the checkpoint goes last
        _write_log(out, st.rows)
        atomic_write_text(info_path, json.dumps(info, indent=2, default=str) + "\n")
        _save_torch({"key": key, "model": st.model.state_dict()}, model_path)
        ckpt_path.unlink(missing_ok=True)
    _barrier(world)  # the finished run is on disk for every process
    return TrainedRun(identity["name"], st.model, stored_log(st.rows), info, out, start, settings.steps - start)


def _prepare(out_dir: str | os.PathLike, arm: str, network: Network | None, dev: torch.device
             ) -> tuple[Path, Network | None]:
    """Check that the run folder can be written (it is created once the inputs are valid); load the loss network."""
    from ..output import check_writable

    out = check_writable(out_dir, kind="run folder")
    if arm != "pixel" and network is None:
        from ..networks import load_network

        network = load_network("vgg16", device=dev)
    if network is not None and network.device != dev:
        network = network.to(dev)
    return out, network


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the run folder {out}: {exc.strerror or exc}") from exc


def _identity(arm: str, settings: SRSettings, network: Network | None, pe_table: Any, layers: list[str] | None, *,
              seed: int, selection_seed: int, data: Any) -> tuple[dict[str, Any], dict | None]:
    """What a run is (its cache key is made from this) and the channel weights of its feature loss."""
    feature = network is not None and arm != "pixel"
    layers = (network.extractor.check_layers(layers) if layers else feature_layers(network, settings.feature_depth)) \
        if feature else []
    weights = arm_weights(arm, network, pe_table, layers, p=settings.p, selection_seed=selection_seed,
                          normalise=settings.feature_normalise) if arm != "pixel" else None
    identity = {"arm": arm, "name": run_name(arm, selection_seed), "seed": int(seed),
                "selection_seed": int(selection_seed), "settings": settings.as_dict(), "data": str(data),
                "loss_network": network.identity if feature else None, "layers": layers,
                "channels": selected_channels(weights)}
    return identity, weights


def _check_folder(out: Path, key: str, resume: bool) -> None:
    """Refuse a folder holding another run (or, with ``resume=False``, clear it)."""
    info_path = out / "train.json"
    if not info_path.is_file():
        return
    old = read_run_info(info_path)
    if old.get("key") == key:
        return
    if resume:
        raise OutputError(f"{out} holds another SR run ({old.get('name')}, key {old.get('key')}); "
                          "use another output folder, or --restart to replace it")
    for p in (out / "checkpoint.pt", out / "model.pt", out / "loss_log.csv"):
        p.unlink(missing_ok=True)


_TERMS = ("loss", "pixel", "feature")


@dataclass
class _State:
    """Everything a checkpoint holds: network, optimiser, schedule, crop sampler, loss log, running sums, step."""

    model: SRResNet
    opt: torch.optim.Optimizer
    sched: Any
    sampler: CropSampler
    rows: list = field(default_factory=list)
    acc: dict = field(default_factory=lambda: {"loss": 0.0, "pixel": 0.0, "feature": 0.0, "n": 0})
    step: int = 0

    @classmethod
    def new(cls, settings: SRSettings, hr: tuple, seed: int, dev: torch.device,
            init: TrainedRun | None = None) -> _State:
        sampler = CropSampler([im.image for im in hr], settings.crop, settings.batch_size, settings.scale,
                              augment=settings.augment, seed=seed, names=[im.name for im in hr], device=dev)
        model = build_model(settings, seed).to(dev)
        if init is not None:
            model.load_state_dict({k: v.to(dev) for k, v in init.model.state_dict().items()})
        opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
        return cls(model, opt, torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(settings.steps)), sampler)

    def restore(self, path: Path, key: str) -> None:
        state = read_torch_file(path, "start afresh with --restart", checked=True)  # load_state_dict moves tensors
        if state.get("key") != key:
            raise OutputError(f"checkpoint {path} belongs to another run; use another output folder")
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["sampler"])
        self.rows, self.acc, self.step = list(state["log"]), dict(state["acc"]), int(state["step"])

    def wrapped(self, world: int, dev: torch.device) -> torch.nn.Module:
        """The network to train: itself, or under ``torchrun`` wrapped in DistributedDataParallel."""
        if world == 1:
            return self.model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(self.model, device_ids=[dev.index] if dev.type == "cuda" else None)

    def checkpoint(self, key: str) -> dict[str, Any]:
        return {"key": key, "step": self.step, "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                "scheduler": self.sched.state_dict(), "sampler": self.sampler.state_dict(), "log": self.rows,
                "acc": self.acc}

    def train_step(self, net: torch.nn.Module, loss_fn: SRLoss, settings: SRSettings, world: int, rank: int,
                   dev: torch.device) -> None:
        """One optimiser step on this process's share of the global batch; adds the batch's losses to the sums."""
        lr_b, hr_b = self.sampler.sample()  # the global batch; each process trains on its share
        if world > 1:
            per = settings.batch_size // world
            lr_b, hr_b = lr_b[rank * per:(rank + 1) * per], hr_b[rank * per:(rank + 1) * per]
        lr_b, hr_b = lr_b.to(dev, non_blocking=True), hr_b.to(dev, non_blocking=True)
        use_amp = bool(settings.amp) and dev.type == "cuda"
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
            losses = loss_fn(net(lr_b), hr_b)
        self.opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        self.opt.step()
        self.sched.step()
        values = torch.stack([losses[k].detach().float() for k in _TERMS])
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(values)
            values /= world
        for k, v in zip(_TERMS, values.tolist()):
            self.acc[k] += v
        self.acc["n"] += 1
        self.step += 1

    def log_row(self, seconds: float, val_batch: tuple | None, settings: SRSettings) -> None:
        n = self.acc["n"]
        row = {"step": self.step, **{k: self.acc[k] / n for k in _TERMS}, "lr": self.opt.param_groups[0]["lr"],
               "seconds": seconds, "val_psnr_y": float("nan")}
        if val_batch is not None and (self.step % settings.val_every == 0 or self.step == settings.steps):
            row["val_psnr_y"] = _val_psnr(self.model, val_batch, settings.scale)
        self.rows.append(row)
        self.acc = {"loss": 0.0, "pixel": 0.0, "feature": 0.0, "n": 0}


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



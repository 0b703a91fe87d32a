"""A trained SR run on disk: its folder layout, reading it back, and compact copies of its generator.

A run folder holds ``train.json`` (what the run is, its provenance), ``model.pt`` (the weights) and
``loss_log.csv``; :func:`pecore.sr.train.train_arm` writes it, :func:`load_run` reads it and
:func:`save_generator` writes a float16 copy (what ``stored/sr/<network>-<preset>/runs/`` holds).
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..cache import atomic_write_bytes, atomic_write_text, read_torch_file
from ..device import resolve_device
from ..errors import ParameterError
from ..validate import check_choice
from .losses import ARMS
from .model import SRResNet, build_model
from .settings import SRSettings

__all__ = ["LOG_COLUMNS", "TrainedRun", "run_name", "parse_run_name", "is_run_dir", "read_run_info", "load_run",
           "generator_files", "save_generator", "stored_log"]

LOG_COLUMNS = ["step", "loss", "pixel", "feature", "lr", "seconds", "val_psnr_y"]


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


def run_name(arm: str, selection_seed: int = 0, train_seed: int | None = None) -> str:
    """The folder and method name of an arm: the arm, or ``random-s<draw>`` for the random arm, then
    ``-t<seed>`` when runs of several training seeds exist.

    Examples
    --------
    >>> run_name("top"), run_name("random", 2), run_name("random", 2, 1), run_name("pixel", train_seed=0)
    ('top', 'random-s2', 'random-s2-t1', 'pixel-t0')
    """
    check_choice("SR arm", arm, ARMS)
    name = f"random-s{int(selection_seed)}" if arm == "random" else arm
    return name if train_seed is None else f"{name}-t{int(train_seed)}"


def parse_run_name(name: str) -> dict[str, Any]:
    """The arm, random draw and training seed of a method name made by :func:`run_name` (``bicubic`` too).

    Examples
    --------
    >>> parse_run_name("random-s2-t1"), parse_run_name("top-t0")["arm"], parse_run_name("bicubic")["train_seed"]
    ({'arm': 'random', 'draw': 2, 'train_seed': 1}, 'top', 0)
    """
    import re

    m = re.fullmatch(r"(?P<arm>[a-z]+)(?:-s(?P<draw>\d+))?(?:-t(?P<seed>\d+))?", str(name))
    if m is None:
        raise ParameterError(f"{name!r} is not an SR method name (arm[-s<draw>][-t<seed>])")
    return {"arm": m["arm"], "draw": int(m["draw"] or 0), "train_seed": int(m["seed"] or 0)}


def is_run_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a finished run (``model.pt`` and ``train.json``)."""
    p = Path(path)
    return (p / "model.pt").is_file() and (p / "train.json").is_file()


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _save_torch(obj: Any, path: Path) -> None:
    atomic_write_bytes(path, _torch_bytes(obj))



def _log_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=LOG_COLUMNS)
    if t["val_psnr_y"].isna().all():
        t = t.drop(columns="val_psnr_y")
    t["step"] = t["step"].astype(int)
    return t


def _log_csv(rows: list[dict[str, float]]) -> str:
    return _log_frame(rows).to_csv(index=False, float_format="%.8g")


def _write_log(out: Path, rows: list[dict[str, float]]) -> None:
    atomic_write_text(out / "loss_log.csv", _log_csv(rows))


def stored_log(rows: list[dict[str, float]]) -> pd.DataFrame:
    """The loss log of ``rows`` exactly as ``loss_log.csv`` gives it back (8 significant digits).

    A finished run's log is the same whether it was just trained or read back from its folder, so results
    computed from logs (the plateau table) do not depend on whether a run was resumed.

    Examples
    --------
    >>> rows = [{"step": 1, "loss": 1 / 3, "pixel": 1 / 3, "feature": 0.0, "lr": 1e-4, "seconds": 0.1}]
    >>> float(stored_log(rows).loss[0])
    0.33333333
    """
    return pd.read_csv(io.StringIO(_log_csv(rows))) if rows else _log_frame(rows)



def read_run_info(path: str | os.PathLike) -> dict[str, Any]:
    """A run's ``train.json``, with a named error when it is damaged or lacks what a run records.

    Examples
    --------
    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "train.json"; _ = bad.write_text('{"key": ')
    >>> read_run_info(bad)
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: ... is damaged (not JSON: Expecting value); retrain the run (`pecore sr train --restart`)
    """
    from ..errors import DatasetError

    path = Path(path)
    try:
        info = json.loads(path.read_text())
    except ValueError as exc:
        raise DatasetError(f"{path} is damaged (not JSON: {str(exc).split(':')[0]}); retrain the run "
                           "(`pecore sr train --restart`)") from None
    missing = [k for k in ("key", "name", "settings") if not isinstance(info, dict) or k not in info]
    if missing or not isinstance(info.get("settings"), dict):
        raise DatasetError(f"{path} is not the train.json of a pecore SR run (no {', '.join(missing) or 'settings'}); "
                           "retrain the run (`pecore sr train --restart`)")
    return info


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
    >>> from pecore.sr.train import train_arm
    >>> d = tempfile.mkdtemp()
    >>> _ = train_arm("pixel", PRESETS["ci"], d, device="cpu", progress=False)
    >>> load_run(d, device="cpu").name
    'pixel'
    """
    p = Path(path)
    if not is_run_dir(p):
        raise ParameterError(f"{p} holds no finished SR run (model.pt and train.json); train one with `pecore sr train`")
    info = read_run_info(p / "train.json")
    known = {f.name for f in dataclasses.fields(SRSettings)}
    try:
        s = SRSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in info["settings"].items() if k in known})
        build_model(s, int(info.get("seed", 0)))
    except (TypeError, ValueError, ParameterError) as exc:
        from ..errors import DatasetError

        raise DatasetError(f"{p / 'train.json'}: its settings do not describe a network pecore can build ({exc}); "
                           "retrain the run (`pecore sr train --restart`)") from None
    dev = resolve_device(device)
    model = build_model(s, int(info.get("seed", 0)))
    state = read_torch_file(p / "model.pt", f"retrain the run (`pecore sr train --restart --out {p}`)")
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
    >>> from pecore.sr.train import train_arm
    >>> run = train_arm("pixel", PRESETS["ci"], tempfile.mkdtemp(), device="cpu", progress=False)
    >>> copy = save_generator(run, tempfile.mkdtemp())
    >>> load_run(copy, device="cpu").name
    'pixel'
    """
    from ..output import write_result_files

    return write_result_files(out_dir, generator_files(run, dtype=dtype))


def generator_files(run: TrainedRun, *, dtype: torch.dtype = torch.float16) -> dict[str, bytes]:
    """The files of :func:`save_generator`'s copy of ``run``, by name (``model.pt``, ``train.json``).

    Examples
    --------
    >>> from pecore.sr.results import stored_results_dir
    >>> stored = load_run(stored_results_dir("vgg16", "book") / "runs" / "top-t0", device="cpu")
    >>> sorted(generator_files(stored))
    ['model.pt', 'train.json']
    """
    state = {k: v.detach().cpu().to(dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in run.model.state_dict().items()}
    return {"model.pt": _torch_bytes({"key": run.info.get("key"), "model": state, "dtype": str(dtype)}),
            "train.json": (json.dumps(run.info, indent=2, default=str) + "\n").encode()}

"""Provenance records: what produced a result (network, weights, preset, parameters, versions, device)."""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._version import __version__
from .device import device_description

__all__ = ["provenance_record", "git_commit", "cpu_model"]


def cpu_model() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` where there is one) and its logical core count.

    Examples
    --------
    >>> "cores" in cpu_model()
    True
    """
    import os

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def git_commit() -> str | None:
    """The git commit of the pecore checkout, if it is one (``-dirty`` when modified)."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance_record(
    *,
    network: Any = None,
    preset: str | None = None,
    parameters: dict[str, Any] | None = None,
    device: torch.device | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A JSON-ready provenance dict.

    Examples
    --------
    >>> rec = provenance_record(preset="quick", device=torch.device("cpu"))
    >>> rec["preset"], rec["device"], "pecore_version" in rec
    ('quick', 'cpu', True)
    """
    rec: dict[str, Any] = {
        "pecore_version": __version__,
        "git_commit": git_commit(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "preset": preset,
        "device": device_description(device) if device is not None else None,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "torch_threads": torch.get_num_threads(),
    }
    if network is not None:
        rec["network"] = network.name
        rec["weights"] = network.weights.as_dict()
        rec["layers"] = list(network.taps)
    rec["parameters"] = parameters or {}
    rec.update(extra)
    return rec

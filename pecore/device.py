"""Device selection: one switch, ``device="auto"``."""
from __future__ import annotations

import torch

from .errors import ParameterError

__all__ = ["resolve_device", "device_description"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a device into a device.

    ``"auto"`` (or ``None``) picks CUDA when available, then Apple MPS, then the CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not isinstance(device, str):
        raise ParameterError(f"device must be 'auto', 'cpu', 'cuda[:N]' or 'mps', got {device!r}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ParameterError(f"unknown device {device!r}; allowed: auto, cpu, cuda, cuda:N, mps") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} asked for, but CUDA is not available here; use device='auto' or 'cpu'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ParameterError(f"device {device!r} asked for, but MPS is not available here; use device='auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ParameterError(f"unsupported device {device!r}; allowed: auto, cpu, cuda, cuda:N, mps")
    return dev


def device_description(device: torch.device) -> str:
    """A human-readable name of ``device`` for provenance records.

    Examples
    --------
    >>> device_description(torch.device("cpu")).startswith("cpu")
    True
    """
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type

"""Preset values of the sr chapter (assembled with the others in :mod:`pecore.presets`)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SRSettings", "PRESET_VALUES"]


@dataclass(frozen=True)
class SRSettings:
    """Budgets and grids of the sr experiment (filled in by its issue)."""

    image_size: int = 64


PRESET_VALUES: dict[str, SRSettings] = {
    "ci": SRSettings(),
    "quick": SRSettings(),
    "paper": SRSettings(),
}

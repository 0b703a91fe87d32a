"""Preset values of the reconstruction chapter (assembled with the others in :mod:`pecore.presets`)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ReconstructionSettings", "PRESET_VALUES"]


@dataclass(frozen=True)
class ReconstructionSettings:
    """Budgets and grids of the reconstruction experiment (filled in by its issue)."""

    image_size: int = 64


PRESET_VALUES: dict[str, ReconstructionSettings] = {
    "ci": ReconstructionSettings(),
    "quick": ReconstructionSettings(),
    "paper": ReconstructionSettings(),
}

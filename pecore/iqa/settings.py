"""Preset values of the iqa chapter (assembled with the others in :mod:`pecore.presets`)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IQASettings", "PRESET_VALUES"]


@dataclass(frozen=True)
class IQASettings:
    """Budgets and grids of the iqa experiment (filled in by its issue)."""

    image_size: int = 64


PRESET_VALUES: dict[str, IQASettings] = {
    "ci": IQASettings(),
    "quick": IQASettings(),
    "paper": IQASettings(),
}

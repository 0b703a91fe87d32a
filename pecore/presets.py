"""Probe presets: the stimulus grids of the probe, by name.

``quick`` probes a network on a 2-core CPU in about a minute; ``paper`` uses the method's defaults
(224 px, 64 frequencies, 4 phases, 36 orientations); ``survey`` keeps the paper's frequency sweep but
halves the orientations and phases of the orientation sweep (a quarter of the images), so that many
networks can be compared on a CPU; ``ci`` is the smallest grid that still exercises
every code path, for the tests. Each experiment chapter keeps its own budgets under the same names
in its ``settings`` module (``pecore.iqa.settings``, ``pecore.reconstruction.settings``,
``pecore.sr.settings``); the core never imports them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .validate import check_choice

__all__ = ["ProbeGrid", "Preset", "PRESETS", "get_preset"]


@dataclass(frozen=True)
class ProbeGrid:
    """The stimulus grid of the frequency and orientation sweeps."""

    size: int = 224
    ppd: float = 60.0
    f_min: float = 0.5
    f_max: float = 30.0
    n_frequencies: int = 64
    n_phases: int = 4
    n_orientations: int = 36
    contrast: float = 1.0
    mean_luminance: float = 0.5
    batch_size: int = 32
    precision: str = "float32"  # 'float32', or 'bfloat16' autocast (faster on CPUs with AMX and on GPUs)
    orientation_phases: int | None = None  # phases of the orientation sweep; None: n_phases

    @property
    def frequencies(self) -> np.ndarray:
        """Log-spaced frequencies in cpd."""
        return np.geomspace(self.f_min, self.f_max, self.n_frequencies)

    @property
    def orientations(self) -> np.ndarray:
        """Orientations in degrees, evenly spaced over [-90, 90)."""
        return -90.0 + np.arange(self.n_orientations) * (180.0 / self.n_orientations)

    def __post_init__(self) -> None:
        from .errors import ParameterError
        from .validate import check_positive

        for name in ("size", "n_frequencies", "n_phases", "n_orientations", "batch_size"):
            check_positive(name, getattr(self, name), integer=True)
        if self.orientation_phases is not None:
            check_positive("orientation_phases", self.orientation_phases, integer=True)
        for name in ("ppd", "f_min", "f_max", "contrast", "mean_luminance"):
            check_positive(name, getattr(self, name))
        if self.n_frequencies < 2 or self.n_orientations < 2:
            raise ParameterError(f"a probe grid needs at least 2 frequencies and 2 orientations, got "
                                 f"{self.n_frequencies} and {self.n_orientations}")
        if not self.f_min < self.f_max:
            raise ParameterError(f"f_min ({self.f_min}) must be below f_max ({self.f_max})")
        check_choice("precision", self.precision, ("float32", "bfloat16"))

    def as_dict(self) -> dict[str, Any]:
        """The grid as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Preset:
    """A named probe grid."""

    name: str
    probe: ProbeGrid
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The preset as a plain dict."""
        return asdict(self)


PRESETS: dict[str, Preset] = {
    "paper": Preset("paper", ProbeGrid(), "the method's defaults (about 20 minutes per network on a 2-core CPU)"),
    "survey": Preset(
        "survey",
        ProbeGrid(n_orientations=18, orientation_phases=2),
        "the paper's frequency sweep with 18 orientations × 2 phases in the orientation sweep: a quarter of the "
        "paper grid's images, for comparing many networks on a CPU (about 10 minutes per VGG-16)",
    ),
    "quick": Preset(
        "quick",
        ProbeGrid(size=96, n_frequencies=24, n_phases=2, n_orientations=12),
        "reduced grid for a 2-core CPU: minutes for the whole book",
    ),
    "ci": Preset(
        "ci",
        ProbeGrid(size=48, n_frequencies=10, n_phases=2, n_orientations=8),
        "the smallest grid that exercises every code path (tests)",
    ),
}


def get_preset(name: str, **probe_overrides: Any) -> Preset:
    """The preset called ``name``, optionally with probe-grid fields overridden.

    Examples
    --------
    >>> get_preset("paper").probe.n_frequencies
    64
    >>> get_preset("quick", ppd=30).probe.ppd
    30
    """
    preset = PRESETS[check_choice("preset", name, PRESETS)]
    if probe_overrides:
        known = set(ProbeGrid.__dataclass_fields__)
        for key in probe_overrides:
            check_choice("probe-grid field", key, sorted(known))
        preset = replace(preset, probe=replace(preset.probe, **probe_overrides))
    return preset

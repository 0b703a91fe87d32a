"""Preset values of chapter 09 (where PE comes from; whether high-PE channels see like humans).

Every preset compares networks of one architecture trained for different objectives — ImageNet
classification, human similarity judgments (ST-LPIPS, trained from scratch), and none (random
initialisation, several seeds: the architecture alone) — first by their PE scores, then by the contrast
sensitivity and contrast masking of their top-, bottom-PE, random and all channels. ``ci`` is the smallest
run that exercises every code path (tests); ``quick`` a few minutes on a 2-core CPU; ``book`` is the tier
the book renders from ``stored/`` (the survey probe grid; the sensitivity measured on the VGG-16 family);
``paper`` probes on the paper grid, meant for a GPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import ParameterError
from .sensitivity import SensitivityGrid

__all__ = ["NetworkEntry", "OriginsSettings", "PRESETS", "get_settings", "entries", "OBJECTIVES"]

#: the training objectives compared, in the order of tables and figures
OBJECTIVES = ("ImageNet classification", "human similarity judgments", "none (random init)")


@dataclass(frozen=True)
class NetworkEntry:
    """One network of the comparison: a label, how :func:`pecore.networks.load_network` loads it, its objective."""

    label: str
    network: str
    weights: str
    seed: int
    objective: str
    family: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as a plain dict."""
        return asdict(self)


def entries(family: str, n_random: int) -> list[NetworkEntry]:
    """The networks of one architecture family: ImageNet's, ST-LPIPS's and ``n_random`` random seeds.

    Examples
    --------
    >>> [e.label for e in entries("alexnet", 2)]
    ['alexnet', 'stlpips-alexnet', 'alexnet-random0', 'alexnet-random1']
    """
    out = [NetworkEntry(family, family, "pretrained", 0, OBJECTIVES[0], family),
           NetworkEntry(f"stlpips-{family}", f"stlpips-{family}", "pretrained", 0, OBJECTIVES[1], family)]
    out += [NetworkEntry(f"{family}-random{s}", family, "random", s, OBJECTIVES[2], family) for s in range(n_random)]
    return out


@dataclass(frozen=True)
class OriginsSettings:
    """Budgets of chapter 09.

    Attributes
    ----------
    families
        Architecture families compared by PE (each: ImageNet, ST-LPIPS, ``n_random`` random seeds).
    n_random
        Random-initialisation seeds per family (the architecture-only baseline and its spread).
    probe_preset
        The probe grid of every network (:mod:`pecore.presets`).
    sensitivity_families
        Families whose contrast sensitivity and masking are measured.
    sensitivity_random
        How many of the random-initialisation seeds get the sensitivity measurement (``None``: all).
    sensitivity_objectives
        The training objectives whose networks get the sensitivity measurement.
    layers
        Taps measured, by their VGG-16 names (mapped to AlexNet's by depth).
    p
        Size of the top / bottom sets, percent of a layer's channels.
    n_draws
        Random channel subsets per layer (matched in size).
    n_boot
        Bootstrap resamples of every interval.
    grid
        Stimuli of the sensitivity and masking measurements.
    human_masking_slope
        The reference slope of threshold elevation in human observers (Legge & Foley 1980: about 0.6).
    mask_kappa
        The masking criterion as a fraction of the subset's distance for the strongest target alone.
    """

    families: tuple[str, ...] = ("vgg16",)
    n_random: int = 2
    probe_preset: str = "quick"
    sensitivity_families: tuple[str, ...] = ("vgg16",)
    sensitivity_random: int | None = None
    sensitivity_objectives: tuple[str, ...] = OBJECTIVES
    layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
    p: float = 25.0
    n_draws: int = 10
    n_boot: int = 1000
    grid: SensitivityGrid = field(default_factory=SensitivityGrid)
    human_masking_slope: float = 0.6
    mask_kappa: float = 0.02

    def __post_init__(self) -> None:
        if self.n_random < 2:
            raise ParameterError(f"n_random must be at least 2 (the spread of the architecture baseline), "
                                 f"got {self.n_random}")
        if not set(self.sensitivity_families) <= set(self.families):
            raise ParameterError("sensitivity_families must be among families")
        if not 0 < self.p <= 50:
            raise ParameterError(f"p must lie in (0, 50] percent, got {self.p}")

    def networks(self) -> list[NetworkEntry]:
        """Every network of the comparison."""
        return [e for fam in self.families for e in entries(fam, self.n_random)]

    def measured(self) -> list[NetworkEntry]:
        """The networks whose contrast sensitivity and masking are measured.

        Examples
        --------
        >>> [e.label for e in PRESETS["book"].measured()]
        ['vgg16', 'vgg16-random0']
        """
        chosen = [e for e in self.networks() if e.family in self.sensitivity_families
                  and e.objective in self.sensitivity_objectives
                  and (self.sensitivity_random is None or e.objective != OBJECTIVES[2] or e.seed < self.sensitivity_random)]
        return sorted(chosen, key=lambda e: (e.family, e.objective == OBJECTIVES[1]))  # ST-LPIPS measured last

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for provenance).

        Examples
        --------
        >>> PRESETS["ci"].as_dict()["grid"]["size"]
        48
        """
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if k != "grid"}
        d["grid"] = self.grid.as_dict()
        return d


_CI_GRID = SensitivityGrid(size=48, ppd=12.0, frequencies=tuple(np.round(np.geomspace(0.5, 5.0, 5), 4)),
                           contrasts=tuple(np.round(np.geomspace(1e-2, 1.0, 7), 6)), orientations=(0.0, 90.0), mask_frequency=1.0, maskers=(0.0, 0.02, 0.08, 0.32),
                           targets=tuple(np.round(np.geomspace(1e-2, 0.6, 7), 6)), n_phases=2, batch_size=64)
_QUICK_GRID = SensitivityGrid(size=96, ppd=24.0, frequencies=tuple(np.round(np.geomspace(0.5, 10.0, 9), 4)),
                              contrasts=tuple(np.round(np.geomspace(1e-3, 1.0, 12), 6)), orientations=(0.0, 90.0),
                              n_phases=2)
_BOOK_GRID = SensitivityGrid(orientations=(0.0, 45.0, 90.0, 135.0), n_phases=2,
                             maskers=(0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.12, 0.16, 0.24, 0.32))

PRESETS: dict[str, OriginsSettings] = {
    "ci": OriginsSettings(families=("vgg16",), n_random=2, probe_preset="ci", layers=("relu1_2", "relu2_2"),
                          n_draws=3, n_boot=200, grid=_CI_GRID),
    "quick": OriginsSettings(families=("vgg16",), n_random=2, probe_preset="quick", n_draws=5, grid=_QUICK_GRID),
    "book": OriginsSettings(families=("vgg16", "alexnet"), n_random=3, probe_preset="survey", n_draws=10,
                            n_boot=2000, grid=_BOOK_GRID, sensitivity_random=1,
                            sensitivity_objectives=(OBJECTIVES[0], OBJECTIVES[2])),
    "paper": OriginsSettings(families=("vgg16", "alexnet"), n_random=5, probe_preset="paper",
                             sensitivity_families=("vgg16", "alexnet"), n_draws=20, n_boot=2000,
                             grid=SensitivityGrid()),
}


def get_settings(name: str, **overrides: Any) -> OriginsSettings:
    """The budgets of preset ``name`` (``ci``, ``quick``, ``book``, ``paper``), fields overridden if asked.

    Examples
    --------
    >>> s = get_settings("book", n_draws=4)
    >>> s.probe_preset, s.n_draws, [e.label for e in s.networks()][:3]
    ('survey', 4, ['vgg16', 'stlpips-vgg16', 'vgg16-random0'])
    """
    from ..validate import preset_settings

    return preset_settings(PRESETS, name, overrides, "origins")

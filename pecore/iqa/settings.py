"""Preset values of the iqa chapter (the probe grids of the same names are in :mod:`pecore.presets`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["IQASettings", "PRESETS", "get_settings"]


@dataclass(frozen=True)
class IQASettings:
    """Budgets and grids of the iqa experiment.

    Attributes
    ----------
    image_size
        Shorter side the images are resized to (bicubic, antialiased) before the network sees them;
        ``None`` keeps the native size. PSNR and SSIM see the same resized images.
    ps
        Subset sizes in percent of a layer's channels.
    n_seeds
        Random subsets drawn per layer and p for the grid's random rows (at least 10).
    n_random
        Random subsets per layer and p that the top- and bottom-PE subsets are placed among
        (:func:`pecore.iqa.chance.chance_placement`; seeds from the first, so the grid's are among them).
    n_boot
        Bootstrap resamples (of reference images) for the intervals of the grid.
    n_boot_channels
        Bootstrap resamples for the channel-level ρ(PE, single-channel SROCC).
    random_plcc_interval
        Also bootstrap PLCC for random subsets (a logistic fit per seed and resample; costly on a CPU).
        Without it, random rows report PLCC as mean ± sd over seeds only.
    max_pairs
        Use at most this many pairs (evenly spaced over the score table); ``None``: all.
    batch_size
        Distorted images per forward pass.
    level
        Coverage of the bootstrap intervals.
    synthetic_images
        Real photographs (Set5, then Set14) used by the synthetic distortion check.
    synthetic_size
        Their shorter side in pixels.
    synthetic_levels
        Distortion levels per kind (1..5 of the built-in ladders).
    probe_preset
        Probe preset of the channel scores when the stored paper-grid probe is not used.
    """

    image_size: int | None = 192
    ps: tuple[float, ...] = (10.0, 25.0, 50.0)
    n_seeds: int = 10
    n_random: int = 200
    n_boot: int = 1000
    n_boot_channels: int = 200
    random_plcc_interval: bool = False
    max_pairs: int | None = None
    batch_size: int = 8
    level: float = 0.95
    synthetic_images: int = 5
    synthetic_size: int = 128
    synthetic_levels: int = 5
    probe_preset: str = "quick"

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict."""
        return asdict(self)


PRESETS: dict[str, IQASettings] = {
    "ci": IQASettings(image_size=64, ps=(25.0, 50.0), n_random=20, n_boot=50, n_boot_channels=20, max_pairs=40,
                      batch_size=16, synthetic_images=1, synthetic_size=64, probe_preset="ci"),
    "quick": IQASettings(image_size=160, n_boot=300, n_boot_channels=100, synthetic_images=2, synthetic_size=96),
    "book": IQASettings(),
    "paper": IQASettings(image_size=None, n_random=1000, n_boot=2000, n_boot_channels=1000, random_plcc_interval=True,
                         batch_size=16, synthetic_images=19, synthetic_size=256, probe_preset="paper"),
}


def get_settings(name: str, **overrides: Any) -> IQASettings:
    """The IQA budgets of preset ``name`` (``ci``, ``quick``, ``book``, ``paper``), with fields overridden if asked.

    Unknown presets and fields raise :class:`pecore.errors.UnknownNameError`.

    Examples
    --------
    >>> get_settings("quick").image_size, get_settings("quick", image_size=None).image_size
    (160, None)
    """
    from ..validate import preset_settings

    return preset_settings(PRESETS, name, overrides, "iqa")

"""Preset values of the reconstruction chapter (assembled with the others in :mod:`pecore.presets`).

``ci`` is the smallest run that exercises every code path (tests); ``quick`` runs the chapter on a
2-core CPU in about two minutes (32 px, 80 Adam steps, six Set14 photographs, one noise seed); ``paper`` is
224 px and 2000 steps on eight photographs, meant for a GPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ReconstructionSettings", "PRESET_VALUES", "SET14_NATURAL"]

# Set14 HR photographs (Zeyde et al. 2010) in colour and of natural scenes: baboon, flowers,
# monarch, pepper, lenna, coastguard, face, foreman. (img_003 bridge is greyscale, img_005 comic
# is a drawing, img_013 ppt3 is a slide.)
SET14_NATURAL = ("img_001", "img_007", "img_011", "img_012", "img_009", "img_004", "img_006", "img_008")


@dataclass(frozen=True)
class ReconstructionSettings:
    """Budgets and grids of the reconstruction experiment.

    Attributes
    ----------
    image_size
        Side of the square (centre-cropped, resized) target images, pixels.
    steps
        Adam steps per reconstruction.
    lr
        Adam learning rate (pixel units for the 'clamp' parameterisation).
    tv_weight
        λ_TV, the weight of the total-variation prior.
    tv_beta
        Exponent β of the TV prior ``mean(((∂x)² + (∂y)²)^(β/2))``.
    jitter
        Largest random shift (pixels) of the image at each step; 0 disables it.
    parameterisation
        'clamp' (optimise pixels, clamp to [0, 1] after each step) or 'sigmoid' (optimise logits).
    images
        Set14 image stems (``img_NNN``) the experiment reconstructs.
    n_seeds
        Noise seeds per image and subset (every subset starts from the same noise images).
    n_random_draws
        Random subsets drawn per layer (each with every noise seed).
    n_boot
        Bootstrap resamples of the 95 % intervals.
    """

    image_size: int = 32
    steps: int = 100
    lr: float = 0.1
    tv_weight: float = 0.5
    tv_beta: float = 2.0
    jitter: int = 0
    parameterisation: str = "clamp"
    images: tuple[str, ...] = SET14_NATURAL[:4]
    n_seeds: int = 1
    n_random_draws: int = 2
    n_boot: int = 1000

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict.

        Examples
        --------
        >>> PRESET_VALUES["ci"].as_dict()["image_size"]
        24
        """
        return asdict(self)


PRESET_VALUES: dict[str, ReconstructionSettings] = {
    "ci": ReconstructionSettings(image_size=24, steps=20, lr=0.1, images=SET14_NATURAL[:2], n_seeds=1,
                                 n_random_draws=1, n_boot=200),
    "quick": ReconstructionSettings(image_size=32, steps=80, lr=0.1, images=SET14_NATURAL[:6], n_seeds=1,
                                    n_random_draws=2),
    "paper": ReconstructionSettings(image_size=224, steps=2000, lr=0.02, jitter=2, images=SET14_NATURAL, n_seeds=3,
                                    n_random_draws=3, n_boot=2000),
}

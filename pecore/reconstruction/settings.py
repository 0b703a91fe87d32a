"""Preset values of the reconstruction chapter (the probe grids of the same names are in :mod:`pecore.presets`).

Every preset runs the whole design: top-PE, bottom-PE, several random draws and all channels of each
layer, several noise starts (inits) per image, with the total-variation prior on and off. ``ci`` is the
smallest run that exercises every code path (tests); ``quick`` shows the pipeline on a 2-core CPU in a few
minutes (32 px, 80 Adam steps); ``book`` is the tier the book renders from ``stored/``: 64 px, five
photographs of Set5 and Set14, relu2_2 and relu3_3, three inits and three random draws, both priors, 450
steps, sized to run in about 45 minutes on a 2-core CPU; ``paper`` is 224 px, 2000 steps, all ten photographs,
five random draws and relu1_2 as well, meant for a GPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ReconstructionSettings", "PRESETS", "get_settings", "PHOTOGRAPHS", "layers_for"]

# Colour photographs of natural scenes from Set14 (Zeyde et al. 2010) and Set5 (Bevilacqua et al. 2012),
# by name (see pecore.reconstruction.experiment.PHOTOGRAPHS). Set14's bridge is greyscale, comic a drawing,
# ppt3 a slide; lenna is left out of every list of this project.
PHOTOGRAPHS = ("baboon", "flowers", "monarch", "pepper", "coastguard", "face", "bird", "baby", "foreman", "woman")


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
    tv_weights
        The priors: every reconstruction is made once per λ_TV, the weight of the total-variation prior
        (0: no prior). A verdict is robust only when it holds under each.
    tv_beta
        Exponent β of the TV prior ``mean(((∂x)² + (∂y)²)^(β/2))``.
    jitter
        Largest random shift (pixels) of the image at each step; 0 disables it.
    parameterisation
        'clamp' (optimise pixels, clamp to [0, 1] after each step) or 'sigmoid' (optimise logits).
    images
        Set14 image stems (``img_NNN``) the experiment reconstructs.
    n_seeds
        Noise starts (inits) per image, subset and prior (every subset starts from the same noise images).
    n_random_draws
        Random subsets drawn per layer (each with every noise seed).
    n_boot
        Bootstrap resamples of the 95 % intervals.
    lr_schedule
        'constant', or 'cosine' (decay to ``lr / 100`` over the run, so the last steps settle).
    probe_preset
        The probe preset whose PE scores choose the subsets (stored results exist for 'paper').
    layers
        The layers the chapter inverts.
    """

    image_size: int = 32
    steps: int = 100
    lr: float = 0.1
    tv_weights: tuple[float, ...] = (0.5,)
    tv_beta: float = 2.0
    jitter: int = 0
    parameterisation: str = "clamp"
    images: tuple[str, ...] = PHOTOGRAPHS[:4]
    n_seeds: int = 1
    n_random_draws: int = 2
    n_boot: int = 1000
    lr_schedule: str = "constant"
    probe_preset: str = "quick"
    layers: tuple[str, ...] = ("relu2_2", "relu3_3")

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict.

        Examples
        --------
        >>> PRESETS["ci"].as_dict()["image_size"]
        24
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


PRESETS: dict[str, ReconstructionSettings] = {
    "ci": ReconstructionSettings(image_size=24, steps=20, lr=0.1, lr_schedule="cosine", images=PHOTOGRAPHS[:2],
                                 n_seeds=2, n_random_draws=2, n_boot=200, probe_preset="ci", tv_weights=(0.5, 0.0)),
    "quick": ReconstructionSettings(image_size=32, steps=80, lr=0.1, lr_schedule="cosine", images=PHOTOGRAPHS[:6],
                                    n_seeds=2, n_random_draws=2, tv_weights=(0.5, 0.0)),
    "book": ReconstructionSettings(image_size=64, steps=450, lr=0.05, lr_schedule="cosine", images=PHOTOGRAPHS,
                                   n_seeds=3, n_random_draws=3, n_boot=2000, probe_preset="paper",
                                   layers=("relu2_2", "relu3_3"), tv_weights=(0.5, 0.0)),
    "paper": ReconstructionSettings(image_size=224, steps=2000, lr=0.02, lr_schedule="cosine", jitter=2,
                                    images=PHOTOGRAPHS, n_seeds=3, n_random_draws=5, n_boot=2000,
                                    probe_preset="paper", layers=("relu1_2", "relu2_2", "relu3_3"),
                                    tv_weights=(0.5, 0.0)),
}


def get_settings(name: str, **overrides: Any) -> ReconstructionSettings:
    """The inversion budgets of preset ``name`` (``ci``, ``quick``, ``book``, ``paper``), fields overridden if asked.

    Unknown presets and fields raise :class:`pecore.errors.UnknownNameError`.

    Examples
    --------
    >>> s = get_settings("book", steps=50)
    >>> s.image_size, s.steps, len(s.images)
    (64, 50, 10)
    """
    from ..validate import preset_settings

    return preset_settings(PRESETS, name, overrides, "reconstruction")


#: the VGG-16 taps the presets name, in depth order (a preset's layers map to another network by this position)
_VGG_TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")


def layers_for(network_taps: tuple[str, ...] | list[str], layers: tuple[str, ...] | list[str]) -> list[str]:
    """The preset's ``layers`` on a network with other tap names: kept when the network has them, else the taps at
    the same depth (VGG-16's relu2_2 is the second tap, AlexNet's relu2).

    Raises
    ------
    UnknownNameError
        A layer that is neither a tap of the network nor a VGG-16 tap with a counterpart at its depth.

    Examples
    --------
    >>> layers_for(["relu1", "relu2", "relu3", "relu4", "relu5"], ["relu2_2", "relu3_3"])
    ['relu2', 'relu3']
    >>> layers_for(["relu1_2", "relu2_2"], ["relu2_2"])
    ['relu2_2']
    """
    from ..errors import UnknownNameError

    taps = list(network_taps)
    out = []
    for layer in layers:
        if layer in taps:
            out.append(layer)
        elif layer in _VGG_TAPS and _VGG_TAPS.index(layer) < len(taps):
            out.append(taps[_VGG_TAPS.index(layer)])
        else:
            raise UnknownNameError(f"layer {layer!r} is not a tap of this network; its taps: {', '.join(taps)}")
    return out

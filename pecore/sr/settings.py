"""Preset values of the sr chapter (the probe grids of the same names are in :mod:`pecore.presets`).

Three budgets of the same experiment (method.md §8, super-resolution):

``ci``
    A two-block network, a handful of steps on 32-pixel crops: seconds, for the tests.
``quick``
    A tiny network (4 blocks × 24 channels), 200 steps per arm on 32-pixel HR crops, feature loss
    on relu1_2 and relu2_2, evaluated on 128-pixel centre crops of Set5: the whole chapter runs in
    a few minutes on a 2-core CPU. It shows the pipeline; its numbers mean little.
``paper``
    SRResNet-sized (16 blocks × 64 channels), 3,000 steps per arm on 96-pixel crops with a batch of
    16, feature loss on relu1_2, relu2_2 and relu3_3, three random-subset seeds, evaluated on the
    full Set5 and Set14 images. Sized for about ten minutes of one modern GPU for all arms (an
    estimate: it has not been timed on a GPU yet).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["SRSettings", "PRESETS", "get_settings"]


@dataclass(frozen=True)
class SRSettings:
    """Budgets and choices of the ×4 super-resolution experiment.

    Every arm (pixel, all, top, bottom, random) of one preset uses the same values, the same
    initial weights and the same sequence of training crops.

    Attributes
    ----------
    scale
        Upscaling factor (the shared data hold ×4 for BSD100, so training needs 4).
    n_blocks, n_feats
        Residual blocks and channels of the SRResNet-style network.
    batch_norm
        Batch normalisation in the residual blocks (SRResNet has it; EDSR drops it) [choice: off].
    global_residual
        'bicubic': the network predicts a correction to the bicubic upscaling of its input;
        'none': it predicts the image (as SRResNet) [choice: 'bicubic', which trains faster].
    crop
        HR crop size in pixels (a multiple of ``scale``); the LR input is ``crop / scale``.
    batch_size, steps, lr
        Adam with ``lr``, cosine decay to ``lr / 10`` over ``steps`` steps.
    pixel_loss
        'l1' or 'mse' (the ``L_pix`` term) [choice: 'l1'].
    feature_weight
        λ in ``L = L_pix + λ · L_feat(M)``.
    feature_depth
        ``L_feat`` uses the first ``feature_depth`` tapped layers of the loss network
        (VGG-16: 2 = relu1_2 and relu2_2).
    p
        Size of the top / bottom / random subsets, in % of each layer's channels.
    feature_normalise
        'count': a subset's 0/1 mask is scaled by ``C / |M|`` so every arm's feature loss has
        the scale of the all-channel distance (same λ means the same strength); 'none': plain
        0/1 mask [choice: 'count'].
    random_seeds
        Seeds of the random-subset arm (one trained network each).
    augment
        Random flips and transposes of the training crops.
    checkpoint_every, log_every
        Steps between checkpoints / loss-log rows.
    eval_sets
        Test sets (Set5, Set14) the chapter evaluates on.
    eval_crop
        Evaluate on a centre HR crop of this size (``None``: the full images).
    n_bootstrap
        Bootstrap resamples of the images for the 95 % intervals.
    amp
        Mixed precision (bfloat16 autocast) when running on CUDA; never on a CPU.
    """

    scale: int = 4
    n_blocks: int = 16
    n_feats: int = 64
    batch_norm: bool = False
    global_residual: str = "bicubic"
    crop: int = 96
    batch_size: int = 16
    steps: int = 3000
    lr: float = 2e-4
    pixel_loss: str = "l1"
    feature_weight: float = 0.05
    feature_depth: int = 3
    p: float = 25.0
    feature_normalise: str = "count"
    random_seeds: tuple[int, ...] = (0, 1, 2)
    augment: bool = True
    checkpoint_every: int = 500
    log_every: int = 10
    eval_sets: tuple[str, ...] = ("Set5", "Set14")
    eval_crop: int | None = None
    n_bootstrap: int = 2000
    amp: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (tuples as lists), for provenance and cache keys.

        Examples
        --------
        >>> SRSettings().as_dict()["n_blocks"]
        16
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


PRESETS: dict[str, SRSettings] = {
    "ci": SRSettings(n_blocks=2, n_feats=8, crop=32, batch_size=2, steps=4, lr=1e-3, feature_depth=1,
                     random_seeds=(0,), checkpoint_every=2, log_every=1, eval_sets=("Set5",), eval_crop=48,
                     n_bootstrap=200),
    "quick": SRSettings(n_blocks=4, n_feats=24, crop=32, batch_size=4, steps=200, lr=1e-3, feature_depth=2,
                        random_seeds=(0,), checkpoint_every=100, log_every=5, eval_sets=("Set5",),
                        eval_crop=128, n_bootstrap=2000),
    "paper": SRSettings(),
}


def get_settings(name: str, **overrides: Any) -> SRSettings:
    """The sr settings of preset ``name``, optionally with fields overridden.

    Raises
    ------
    UnknownNameError
        An unknown preset or field.

    Examples
    --------
    >>> get_settings("ci").as_dict() == PRESETS["ci"].as_dict()
    True
    """
    from ..validate import check_choice, replace_fields

    settings = PRESETS[check_choice("sr preset", name, PRESETS)]
    return replace_fields(settings, overrides, "sr settings field")

"""Preset values of the sr chapter (the probe grids of the same names are in :mod:`pecore.presets`).

Three budgets of the same experiment:

``ci``
    A two-block network, a handful of steps on 32-pixel crops: seconds, for the tests.
``quick``
    A tiny network (4 blocks × 24 channels), 200 steps per arm on 32-pixel HR crops, feature loss
    on relu1_2 and relu2_2, evaluated on 128-pixel centre crops of Set5: the whole chapter runs in
    a few minutes on a 2-core CPU. It shows the pipeline; its numbers mean little.
``book``
    What the book renders, sized for this project's 2-core CPU (about an hour): 8 blocks × 32 channels, batch 8
    of 48-pixel HR crops, feature loss on relu1_2 and relu2_2. For each of three training seeds a shared start
    is trained 1,000 steps with the pixel loss alone; every arm (pixel, all, top, bottom, and three random draws,
    draw k with seed k) is fine-tuned from it for 300 steps. λ is chosen first by a sweep of the ``all`` arm
    (first seed) over 0.03, 0.3, 3 and 30 on 16 BSD100 photographs held out of training; the chosen λ's run is
    that arm. Test: the full images of Set5 and Set14 without ``lenna`` (18 images), LPIPS-vgg left out. Its
    results are committed under ``stored/sr/vgg16-book``.
``paper``
    SRResNet-sized (16 blocks × 64 channels), 3,000 steps per arm on 96-pixel crops with a batch of
    16, feature loss on relu1_2, relu2_2 and relu3_3, three random-subset seeds, evaluated on the
    full Set5 and Set14 images. Sized for about ten minutes of one modern GPU for all arms (an
    estimate: it has not been timed on a GPU yet).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["SRSettings", "PRESETS", "LOSS_PRECISIONS", "get_settings", "check_settings"]


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
    loss_precision
        'float32' or 'bfloat16': the precision of the loss network's forward and backward pass on a
        CPU (on CUDA ``amp`` decides). bfloat16 makes a CPU step about 1.3× faster where the CPU has
        bfloat16 instructions (AMX, AVX512-BF16) and several times slower where it has none; the generator
        and the loss terms stay float32 [choice: float32].
    probe_preset
        The probe preset whose PE scores choose the top / bottom / random channels
        (:func:`pecore.notebook.chapter_probe`; 'paper' uses the committed paper-preset probe results).
    val_images
        BSD100 photographs held out of training as the validation split of the λ sweep (the last
        ``val_images`` by name; see :func:`pecore.sr.data.bsd100_split`). 0: train on all 100.
    lambda_grid
        λ values of the sweep on the ``all`` arm; empty: no sweep, ``feature_weight`` is used.
    sweep_steps
        Steps of each sweep run (the same schedule shape as the arms). When it equals ``steps`` the sweep's
        run of the chosen λ is the ``all`` arm, not trained again.
    val_every
        Every ``val_every`` steps, PSNR-Y of the network on a fixed batch of 16 crops (96 px) of the
        validation photographs is logged (``val_psnr_y``): a smooth curve that shows when training has
        levelled off. 0: never.
    pretrain_steps, pretrain_lr
        The shared start (SRGAN's SRResNet-then-feature-loss practice): for each training seed, a generator
        is first trained with the pixel loss alone for ``pretrain_steps`` steps at ``pretrain_lr``; every
        arm of that seed (the pixel arm too) is then fine-tuned from it for ``steps`` steps at ``lr``.
        0: no pretraining, every arm trains from the seeded random init.
    train_seeds
        Training seeds: each gives its own pretrained generator, initial weights and crop sequence, and every
        arm is trained once per seed, so intervals can include training noise.
    draws_per_seed
        'all': every random draw is trained with every training seed; 'one': draw ``k`` is trained with training
        seed ``k`` only (``random_seeds`` and ``train_seeds`` of the same length), so the random arm has as many
        runs as the other arms and draws and seeds vary together [book: 'one', to fit the CPU budget].
    lpips_vgg
        Also score LPIPS-vgg on the test images (it shares the VGG-16 of the loss, so it favours feature-loss
        arms by construction; on a CPU it is the most expensive measure) [book: off].
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
    loss_precision: str = "float32"
    probe_preset: str = "paper"
    val_images: int = 0
    lambda_grid: tuple[float, ...] = ()
    sweep_steps: int = 0
    val_every: int = 0
    pretrain_steps: int = 0
    pretrain_lr: float = 1e-3
    train_seeds: tuple[int, ...] = (0,)
    draws_per_seed: str = "all"
    lpips_vgg: bool = True

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
                     random_seeds=(0, 1), checkpoint_every=2, log_every=1, eval_sets=("Set5",), eval_crop=48,
                     n_bootstrap=200, probe_preset="ci", val_images=2, lambda_grid=(0.1, 1.0), sweep_steps=4,
                     pretrain_steps=4, train_seeds=(0, 1)),
    "quick": SRSettings(n_blocks=4, n_feats=24, crop=32, batch_size=4, steps=100, lr=2e-4, feature_depth=2,
                        random_seeds=(0, 1), checkpoint_every=50, log_every=5, eval_sets=("Set5",),
                        eval_crop=128, n_bootstrap=2000, probe_preset="quick", val_images=4,
                        lambda_grid=(0.1, 1.0), sweep_steps=100, pretrain_steps=300, train_seeds=(0, 1)),
    "book": SRSettings(n_blocks=8, n_feats=32, crop=48, batch_size=8, steps=300, lr=2e-4, feature_weight=1.0,
                       feature_depth=2, random_seeds=(0, 1, 2), checkpoint_every=100, log_every=10,
                       eval_sets=("Set5", "Set14"), eval_crop=None, n_bootstrap=4000, loss_precision="float32",
                       probe_preset="paper", val_images=16, lambda_grid=(0.03, 0.3, 3.0, 30.0), sweep_steps=300,
                       val_every=50, pretrain_steps=1000, pretrain_lr=1e-3, train_seeds=(0, 1, 2),
                       draws_per_seed="one", lpips_vgg=False),
    "paper": SRSettings(steps=3000, lr=1e-4, val_images=16, lambda_grid=(0.01, 0.1, 1.0, 10.0, 100.0),
                        sweep_steps=3000, val_every=100, pretrain_steps=10000, pretrain_lr=2e-4, train_seeds=(0, 1, 2),
                        random_seeds=(0, 1, 2)),
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
    >>> get_settings("book", steps=10).steps
    10
    """
    from ..validate import preset_settings

    return preset_settings(PRESETS, name, overrides, "sr")


LOSS_PRECISIONS = ("float32", "bfloat16")


def check_settings(settings: SRSettings) -> SRSettings:
    """Check that a preset's (or an overridden) settings can run; raise a named error naming the first bad field.

    Raises
    ------
    ParameterError
        A value out of range (e.g. a crop that is not a multiple of the scale, a λ sweep without steps).
    UnknownNameError
        An unknown choice (loss precision, probe preset, pixel loss, ...).

    Examples
    --------
    >>> check_settings(PRESETS["book"]).n_blocks
    8
    >>> from dataclasses import replace
    >>> check_settings(replace(PRESETS["book"], crop=50))
    Traceback (most recent call last):
    ...
    pecore.errors.ParameterError: sr settings: crop 50 is not a multiple of scale 4
    """
    from ..errors import ParameterError
    from ..presets import PRESETS as PROBE_PRESETS
    from ..validate import check_choice, check_positive
    from .losses import NORMALISATIONS, PIXEL_LOSSES
    from .model import GLOBAL_RESIDUALS

    s = settings
    for name in ("scale", "n_blocks", "n_feats", "crop", "batch_size", "steps", "feature_depth", "checkpoint_every",
                 "log_every", "n_bootstrap"):
        check_positive(name, getattr(s, name), integer=True)
    check_positive("lr", s.lr)
    check_positive("feature_weight", s.feature_weight, allow_zero=True)
    check_positive("val_images", s.val_images, integer=True, allow_zero=True)
    check_positive("val_every", s.val_every, integer=True, allow_zero=True)
    check_positive("pretrain_steps", s.pretrain_steps, integer=True, allow_zero=True)
    check_positive("pretrain_lr", s.pretrain_lr)
    if not s.train_seeds or not s.random_seeds:
        raise ParameterError("sr settings: train_seeds and random_seeds must each name at least one seed")
    for name in ("train_seeds", "random_seeds"):
        values = getattr(s, name)
        for v in values:
            check_positive(f"{name} value", v, integer=True, allow_zero=True)
        if len(set(values)) != len(values):
            raise ParameterError(f"sr settings: {name} {list(values)} names a seed twice")
    check_choice("draws_per_seed", s.draws_per_seed, ("all", "one"))
    if s.draws_per_seed == "one" and len(s.random_seeds) != len(s.train_seeds):
        raise ParameterError(f"sr settings: draws_per_seed 'one' pairs draw k with training seed k: give as many "
                             f"random_seeds ({len(s.random_seeds)}) as train_seeds ({len(s.train_seeds)})")
    if s.val_every and not s.val_images:
        raise ParameterError("sr settings: val_every needs a validation split (val_images > 0)")
    if s.crop % s.scale:
        raise ParameterError(f"sr settings: crop {s.crop} is not a multiple of scale {s.scale}")
    if not 0 < s.p <= 100:
        raise ParameterError(f"sr settings: p must be a percentage in (0, 100], got {s.p}")
    if s.val_images >= 100:
        raise ParameterError(f"sr settings: val_images {s.val_images} leaves no BSD100 photograph to train on")
    check_choice("loss precision", s.loss_precision, LOSS_PRECISIONS)
    check_choice("probe preset", s.probe_preset, PROBE_PRESETS)
    check_choice("pixel loss", s.pixel_loss, PIXEL_LOSSES)
    check_choice("feature normalisation", s.feature_normalise, NORMALISATIONS)
    check_choice("global_residual", s.global_residual, GLOBAL_RESIDUALS)
    if s.lambda_grid:
        for lam in s.lambda_grid:
            check_positive("lambda_grid value", lam)
        check_positive("sweep_steps", s.sweep_steps, integer=True)
        if not s.val_images:
            raise ParameterError("sr settings: a λ sweep (lambda_grid) needs a validation split (val_images > 0)")
    if s.eval_crop is not None:
        check_positive("eval_crop", s.eval_crop, integer=True)
    if not s.eval_sets:
        raise ParameterError("sr settings: eval_sets names no test set")
    return s

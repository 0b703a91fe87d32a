"""Feature inversion from a channel subset: rebuild an image from the features of chosen channels.

The objective is, for a reconstruction ``x`` of the target ``x0``,

``L(x) = Σ_layers ‖Φ_M(x) − Φ_M(x0)‖² / ‖Φ_M(x0)‖² + λ_TV · TV_β(x)``,

``Φ_M`` the post-ReLU features of the channel subset ``M`` of a layer, and
``TV_β(x) = mean(((∂x)² + (∂y)²)^(β/2))`` (Mahendran & Vedaldi 2015). It is minimised with Adam
from seeded noise. Only the chosen channels are ever computed at the deepest layer: its last
convolution is replaced by one whose weight and bias are sliced to the subset, so neither the
unused channels' work nor their gradients exist. Shallower requested layers are computed in full
(the deeper layers need them) and their chosen channels are taken with ``index_select``, so the
loss, and hence the gradient, still comes only from the chosen channels.

Pixels stay in [0, 1] by one of two parameterisations [choice]: ``'clamp'`` (the default; optimise
pixels, project onto [0, 1] after every step) or ``'sigmoid'`` (optimise unconstrained logits ``z``,
``x = sigmoid(z)``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from ..progress import progress_bar as tqdm

from ..device import resolve_device
from ..errors import ImageError, ParameterError
from ..networks import Network, too_small_error
from .subset_features import ChannelSpec, SubsetFeatures, normalise_channels
from ..validate import check_choice, check_image, check_positive

__all__ = [
    "PARAMETERISATIONS",
    "LR_SCHEDULES",
    "relative_change",
    "Inversion",
    "total_variation",
    "feature_loss",
    "noise_start",
    "invert",
]

PARAMETERISATIONS = ("clamp", "sigmoid")
LR_SCHEDULES = ("constant", "cosine")

def total_variation(x: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """Per-image TV prior ``mean(((∂x)² + (∂y)²)^(β/2))`` over pixels and colour channels.

    Parameters
    ----------
    x
        Images ``(N, 3, H, W)``.
    beta
        The exponent β (2: squared gradient magnitude; 1: classic TV).

    Returns
    -------
    torch.Tensor
        ``(N,)``.

    Examples
    --------
    >>> total_variation(torch.zeros(1, 3, 4, 4)).tolist()
    [0.0]
    >>> x = torch.zeros(1, 3, 4, 4); x[..., 2:] = 1
    >>> round(total_variation(x).item(), 4)  # one step of 1 in 3 of the 9 forward differences
    0.3333
    """
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    sq = dx * dx + dy * dy
    if beta == 2.0:
        g = sq
    else:
        g = (sq + 1e-8) ** (beta / 2.0)
    return g.flatten(1).mean(1)


def feature_loss(features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor],
                 target_norms: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Per-image ``Σ_layers ‖Φ(x) − Φ(x0)‖² / ‖Φ(x0)‖²`` of chosen-channel features, shape ``(N,)``.

    Examples
    --------
    >>> f = {"l": torch.ones(2, 1, 2, 2)}; t = {"l": torch.zeros(2, 1, 2, 2)}
    >>> feature_loss(f, t, {"l": torch.tensor([4.0, 2.0])}).tolist()
    [1.0, 2.0]
    """
    total = None
    for k, f in features.items():
        d = (f - targets[k]).flatten(1).pow(2).sum(1) / target_norms[k]
        total = d if total is None else total + d
    return total


def relative_change(loss: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """Relative change of an objective over the last ``fraction`` of its steps, per run.

    ``(L[t0] − L[end]) / L[end]`` with ``t0`` the step ``fraction`` of the run before its end; below
    0.01 the run counts as converged. ``loss`` is ``(steps, ...)``.

    Examples
    --------
    >>> relative_change(np.array([[4.0], [2.0], [1.1], [1.0]]), 0.5).round(3).tolist()
    [1.0]
    """
    loss = np.asarray(loss, dtype=np.float64)
    steps = loss.shape[0]
    t0 = max(0, steps - 1 - max(1, int(round(fraction * steps))))
    end = loss[-1]
    return (loss[t0] - end) / np.where(end == 0, np.nan, np.abs(end))


def noise_start(seeds: Sequence[int], shape: tuple[int, int], *, device: str | torch.device = "cpu",
                sd: float = 0.1) -> torch.Tensor:
    """Seeded starting images: ``0.5 + sd · N(0, 1)`` clamped to [0, 1], one per seed.

    Drawn on the CPU with one generator per seed, so a seed gives the same start on every device
    and whatever else is in the batch.

    Examples
    --------
    >>> a = noise_start([3, 4], (8, 8)); b = noise_start([3], (8, 8))
    >>> bool(torch.equal(a[0], b[0])), a.shape
    (True, torch.Size([2, 3, 8, 8]))
    """
    imgs = []
    for s in seeds:
        check_positive("seed", s, integer=True, allow_zero=True)
        g = torch.Generator().manual_seed(int(s))
        imgs.append(torch.randn((3, *shape), generator=g) * sd + 0.5)
    return torch.stack(imgs).clamp_(0.0, 1.0).to(device)


@dataclass
class Inversion:
    """Reconstructions, their loss histories and the settings that made them.

    Attributes
    ----------
    image
        ``(N, 3, H, W)`` reconstructions in [0, 1] (CPU).
    loss
        ``(steps, N)`` total objective before each step.
    feature_loss
        ``(steps, N)`` normalised feature term.
    tv
        ``(steps, N)`` TV term (unweighted).
    channels
        ``{layer: channel indices}`` that were inverted.
    settings
        Every argument of :func:`invert` except the images.
    """

    image: torch.Tensor
    loss: np.ndarray
    feature_loss: np.ndarray
    tv: np.ndarray
    channels: dict[str, np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)

    def history(self) -> "pd.DataFrame":  # noqa: F821
        """The loss histories as a tidy table (step, image, loss, feature_loss, tv)."""
        import pandas as pd

        steps, n = self.loss.shape
        return pd.DataFrame({
            "step": np.repeat(np.arange(steps), n), "image": np.tile(np.arange(n), steps),
            "loss": self.loss.ravel(), "feature_loss": self.feature_loss.ravel(), "tv": self.tv.ravel()})


def _target_features(network: Network, sub: SubsetFeatures, x0: torch.Tensor, chans: Mapping[str, np.ndarray]
                     ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The chosen channels' features of the targets and their squared norms; named errors for unusable targets."""
    with torch.no_grad():
        try:
            targets = sub(x0)
        except RuntimeError as exc:
            raise too_small_error(exc, tuple(x0.shape[-2:]), max(chans, key=network.extractor.layer_names.index)) from None
        norms = {k: v.flatten(1).pow(2).sum(1) for k, v in targets.items()}
    for k, v in norms.items():
        if bool((v <= 0).any()):
            bad = torch.nonzero(v <= 0).flatten().tolist()
            raise ParameterError(f"the chosen channels of {k} are all zero on target image(s) {bad}: "
                                 "nothing to reconstruct from; choose other channels or another layer")
    return targets, norms


def _optimiser(param: torch.Tensor, lr: float, lr_schedule: str, steps: int):
    """Adam on ``param`` and, for 'cosine', a schedule from ``lr`` down to ``lr / 100`` over ``steps``."""
    opt = torch.optim.Adam([param], lr=lr)
    if lr_schedule != "cosine":
        return opt, None
    return opt, torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(t, steps - 1) / max(steps - 1, 1))))


def invert(
    network: Network,
    target: torch.Tensor,
    layers: str | Sequence[str],
    channels: ChannelSpec | Mapping[str, ChannelSpec] = None,
    *,
    steps: int = 300,
    lr: float = 0.05,
    lr_schedule: str = "constant",
    tv_weight: float = 0.5,
    tv_beta: float = 2.0,
    jitter: int = 0,
    size: int | None = None,
    seed: int | Sequence[int] = 0,
    parameterisation: str = "clamp",
    device: str | torch.device = "auto",
    progress: bool = False,
) -> Inversion:
    """Rebuild ``target`` from the features of a channel subset, starting from seeded noise.

    Minimises ``Σ_layers ‖Φ_M(x) − Φ_M(x0)‖² / ‖Φ_M(x0)‖² + λ_TV · TV_β(x)`` with Adam (see the
    module notes). A batch of targets is inverted at once; each image has its own terms, so the
    result equals inverting them one by one (up to floating-point summation order).

    Parameters
    ----------
    network
        The network (e.g. ``load_network("vgg16")``).
    target
        The image(s) ``x0``: RGB in [0, 1], ``(3, H, W)`` or ``(N, 3, H, W)``.
    layers
        Layer name(s) whose features are matched.
    channels
        The subset ``M``: ``None`` for all channels; indices from :func:`pecore.select_channels` or a
        mask from :func:`pecore.channel_mask`; or a mapping layer → subset for several layers.
    steps, lr
        Adam steps and learning rate.
    lr_schedule
        'constant', or 'cosine': the rate decays from ``lr`` to ``lr / 100`` along a half cosine, so the
        last steps settle (the objective's change over them measures convergence).
    tv_weight, tv_beta
        λ_TV and the TV exponent β.
    jitter
        Largest random shift in pixels applied (circularly) to ``x`` before the network at each step,
        the target features staying fixed (Mahendran & Vedaldi's jitter); 0 for none.
    size
        Resize the target to ``size × size`` first (bicubic, antialiased); ``None`` keeps it.
    seed
        Noise seed, one for all images or one per image; also seeds the jitter.
    parameterisation
        'clamp' (pixels, clamped to [0, 1] after each step) or 'sigmoid' (``x = sigmoid(z)``).
    device
        'auto', 'cpu', 'cuda', ...
    progress
        Show a progress bar.

    Returns
    -------
    Inversion

    Raises
    ------
    ImageError
        ``target`` is not RGB in [0, 1] of shape ``(N, 3, H, W)`` or ``(3, H, W)``.
    UnknownNameError
        An unknown layer or parameterisation.
    ParameterError
        An empty or out-of-range channel subset, ``steps`` ≤ 0, a non-positive learning rate, a
        negative λ_TV or jitter, or target features that are all zero.

    Examples
    --------
    >>> from pecore import load_network
    >>> net = load_network("vgg16", device="cpu")
    >>> x0 = torch.rand(3, 16, 16)
    >>> rec = invert(net, x0, "relu1_2", [0, 5, 9], steps=5, device="cpu")
    >>> rec.image.shape, rec.loss.shape, bool(rec.loss[-1, 0] < rec.loss[0, 0])
    (torch.Size([1, 3, 16, 16]), (5, 1), True)
    """
    dev = resolve_device(device)
    x0 = check_image(target, "target")
    check_positive("steps", steps, integer=True)
    check_positive("lr", lr)
    check_positive("tv_weight", tv_weight, allow_zero=True)
    check_positive("tv_beta", tv_beta)
    check_positive("jitter", jitter, integer=True, allow_zero=True)
    check_choice("parameterisation", parameterisation, PARAMETERISATIONS)
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    if size is not None:
        check_positive("size", size, integer=True)
        x0 = torch.nn.functional.interpolate(x0, size=(size, size), mode="bicubic", antialias=True,
                                             align_corners=False).clamp(0, 1)
    n = x0.shape[0]
    seeds = [seed] * n if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else list(seed)
    if len(seeds) != n:
        raise ParameterError(f"seed must be one integer or one per image ({n}), got {len(seeds)}")
    if min(x0.shape[-2:]) < 2 * jitter + 1:
        raise ImageError(f"target of {tuple(x0.shape[-2:])} pixels is too small for a jitter of {jitter}")
    chans = normalise_channels(network, layers, channels)
    sub = SubsetFeatures(network, chans).to(dev)
    x0 = x0.to(dev, torch.float32)
    targets, norms = _target_features(network, sub, x0, chans)

    start = noise_start(seeds, tuple(x0.shape[-2:]), device=dev)
    if parameterisation == "sigmoid":
        param = torch.logit(start.clamp(1e-3, 1 - 1e-3)).requires_grad_(True)
    else:
        param = start.clone().requires_grad_(True)
    opt, sched = _optimiser(param, lr, lr_schedule, steps)
    gen = torch.Generator().manual_seed(int(seeds[0]) + 7919)
    hist = np.zeros((3, steps, n), dtype=np.float64)
    for step in tqdm(range(steps), desc="invert", disable=not progress, leave=False, unit="step"):
        opt.zero_grad(set_to_none=True)
        x = torch.sigmoid(param) if parameterisation == "sigmoid" else param
        xin = x
        if jitter:
            dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
            xin = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
        fl = feature_loss(sub(xin), targets, norms)
        tv = total_variation(x, tv_beta)
        loss = fl + tv_weight * tv
        loss.sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        if parameterisation == "clamp":
            with torch.no_grad():
                param.clamp_(0.0, 1.0)
        hist[0, step], hist[1, step], hist[2, step] = (t.detach().cpu().numpy() for t in (loss, fl, tv))
    with torch.no_grad():
        final = (torch.sigmoid(param) if parameterisation == "sigmoid" else param).detach().clamp(0, 1).cpu()
    settings = dict(network=network.name, weights=network.weights.as_dict(), layers=list(chans), steps=steps, lr=lr,
                    lr_schedule=lr_schedule,
                    tv_weight=tv_weight, tv_beta=tv_beta, jitter=jitter, size=tuple(x0.shape[-2:]), seeds=seeds,
                    parameterisation=parameterisation, device=str(dev), truncated=sub.truncated)
    return Inversion(final, hist[0], hist[1], hist[2], chans, settings)


"""Image-quality measures: one implementation of each, with its conventions as named options.

Every chapter takes its PSNR, SSIM, structure and colour numbers from here, through the named
presets of :data:`MEASURES` (``psnr-rgb``, ``psnr-y-sr``, ``ssim-iqa``, ``ssim-y-sr``, ...), each of
which records its conventions and whether higher is better — stated once, here.

Conventions (images are RGB tensors ``(N, 3, H, W)`` or ``(3, H, W)`` in [0, 1]; values are float64 per image,
LPIPS float32):

- **Colour space** (``colour``): ``'rgb'`` (the three channels, SSIM averaged over them),
  ``'luma-bt601'`` (``0.299 R + 0.587 G + 0.114 B``, in [0, 1]), ``'luma-bt709'``
  (``0.2126 R + 0.7152 G + 0.0722 B``) or ``'y-ycbcr'`` (MATLAB's ``rgb2ycbcr`` luma,
  ``16 + 65.481 R + 128.553 G + 24.966 B``, in [16, 235], peak 255: the super-resolution literature's).
- **Border**: pixels cropped from every side before measuring (SR: the scale factor).
- **PSNR**: ``10 log10(peak² / MSE)``; identical images give ``max_db`` (100 dB), never ``inf``.
- **SSIM** (Wang et al. 2004): ``K1 = 0.01``, ``K2 = 0.03``, ``L`` the colour space's range; an
  ``window × window`` Gaussian (σ = ``sigma``) or, with ``sigma=None``, uniform window; the map averaged
  where the window fits ('valid' filtering); population covariances (``sample_covariance=True`` for
  skimage's default N/(N−1)); optional Wang's automatic ``round(min(H, W) / 256)`` box downsampling; an
  optional Gaussian pre-blur (``blur_sigma``, as a fraction of the image side) that removes fine texture.
- **Structure** [choice]: Pearson correlation of the Sobel gradient magnitudes of the BT.601 luma; 1 = the
  same edges in the same places; 0 when either map is constant.
- **Band correlation** [choice]: the correlation of the BT.601 lumas restricted to one band of spatial
  frequencies, in cycles per image (radial frequency ``√(u² + v²)`` of the 2-D DFT, both sides of the
  band in cycles per image of the shorter side): what is kept at coarse, middle and fine scales, each alone.
- **GMSD**: the gradient magnitude similarity deviation, from the ``piq`` library.
- **Colour difference**: mean CIEDE2000 in CIELAB (D65), optionally after a Gaussian blur of side/16.

Length: one implementation of every measure of the book and the table naming them, kept in one module so each
convention is stated once.

Examples
--------
>>> x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
>>> y = (x + 0.05).clamp(0, 1)
>>> [round(float(compute(name, y, x)[0]), 3) for name in ("psnr-rgb", "ssim-rgb")]
[26.168, 0.995]
>>> MEASURES["psnr-y-sr"].higher_is_better, MEASURES["ciede2000"].higher_is_better
(True, False)
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .errors import ImageError, ParameterError
from .validate import check_choice, check_image, check_positive

__all__ = [
    "COLOUR_SPACES",
    "Measure",
    "MEASURES",
    "to_colour",
    "psnr",
    "ssim",
    "structure",
    "band_correlation",
    "LUMA_BANDS",
    "ciede2000",
    "lpips",
    "gmsd",
    "compute",
    "higher_is_better",
]

#: colour space → (weights of R, G, B or None for RGB, offset, scale, data range L)
COLOUR_SPACES: dict[str, tuple[tuple[float, float, float] | None, float, float, float]] = {
    "rgb": (None, 0.0, 1.0, 1.0),
    "luma-bt601": ((0.299, 0.587, 0.114), 0.0, 1.0, 1.0),
    "luma-bt709": ((0.2126, 0.7152, 0.0722), 0.0, 1.0, 1.0),
    "y-ycbcr": ((65.481 / 255, 128.553 / 255, 24.966 / 255), 16.0, 255.0, 255.0),
}


def _pair(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = check_image(x, "image (RGB in [0, 1])"), check_image(y, "reference (RGB in [0, 1])")
    if a.shape[-2:] != b.shape[-2:] or a.shape[1] != b.shape[1]:
        raise ImageError(f"image {tuple(a.shape[-2:])} and reference {tuple(b.shape[-2:])} differ in size")
    a, b = torch.broadcast_tensors(a.double(), b.double().to(a.device))
    return a, b


def to_colour(x: torch.Tensor, colour: str = "rgb") -> torch.Tensor:
    """Images ``(N, 3, H, W)`` in [0, 1] in one of :data:`COLOUR_SPACES` (``(N, 1, H, W)`` for a luma).

    Examples
    --------
    >>> to_colour(torch.ones(1, 3, 1, 1, dtype=torch.float64), "y-ycbcr").item()
    235.0
    >>> round(to_colour(torch.ones(1, 3, 1, 1), "luma-bt709").item(), 6)
    1.0
    """
    weights, offset, scale, _ = COLOUR_SPACES[check_choice("colour space", colour, COLOUR_SPACES)]
    if weights is None:
        return x
    w = torch.tensor(weights, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return offset + scale * (x * w).sum(dim=1, keepdim=True)


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    check_positive("border", border, integer=True, allow_zero=True)
    if border == 0:
        return x
    h, w = x.shape[-2:]
    if h <= 2 * border or w <= 2 * border:
        raise ImageError(f"image of {h}×{w} pixels has nothing left after cropping a border of {border}")
    return x[..., border:-border, border:-border]


def psnr(x: Any, y: Any, *, colour: str = "rgb", border: int = 0, max_db: float = 100.0) -> torch.Tensor:
    """PSNR in dB of ``x`` against the reference ``y``, one value per image ``(N,)``.

    The peak is the colour space's range (1 for RGB and the lumas in [0, 1], 255 for ``'y-ycbcr'``).

    Examples
    --------
    >>> y = torch.full((1, 3, 8, 8), 0.5)
    >>> round(float(psnr(y + 0.1, y)[0]), 4), float(psnr(y, y)[0])
    (20.0, 100.0)
    """
    a, b = _pair(x, y)
    peak = COLOUR_SPACES[check_choice("colour space", colour, COLOUR_SPACES)][3]
    d = _crop(to_colour(a, colour) - to_colour(b, colour), border)
    mse = d.pow(2).mean(dim=(1, 2, 3)).clamp_min(peak ** 2 * 10 ** (-max_db / 10))
    return 10 * torch.log10(peak ** 2 / mse)


def _window(size: int, sigma: float | None) -> torch.Tensor:
    if sigma is None:
        g = torch.full((size,), 1.0 / size, dtype=torch.float64)
    else:
        r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        g = torch.exp(-(r ** 2) / (2 * sigma ** 2))
        g = g / g.sum()
    return g[:, None] * g[None, :]


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(np.ceil(3 * sigma)))
    k = _window(2 * radius + 1, sigma).to(x.device, x.dtype)
    c = x.shape[1]
    return F.conv2d(F.pad(x, (radius,) * 4, mode="reflect"), k.expand(c, 1, -1, -1).contiguous(), groups=c)


def ssim(x: Any, y: Any, *, colour: str = "luma-bt601", border: int = 0, window: int = 11, sigma: float | None = 1.5,
         downsample: bool = False, sample_covariance: bool = False, blur: float | None = None) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of ``x`` against the reference ``y``, one value per image ``(N,)``.

    Parameters
    ----------
    x, y
        RGB images in [0, 1].
    colour
        One of :data:`COLOUR_SPACES`; ``'rgb'`` averages the three channels' SSIM.
    border
        Pixels cropped from every side first.
    window, sigma
        Window side and Gaussian σ (``None``: a uniform window).
    downsample
        Wang's automatic box downsampling by ``max(1, round(min(H, W) / 256))``.
    sample_covariance
        Use N/(N−1) covariances (skimage's default) instead of population ones (Wang's).
    blur
        Blur both images first with a Gaussian of σ = ``blur · min(H, W)`` pixels (a low-pass SSIM that
        does not reward fine texture in place); ``None`` for none.

    Raises
    ------
    ImageError
        The image (after border and downsampling) is smaller than the window.

    Examples
    --------
    >>> x = torch.rand(2, 3, 32, 32)
    >>> ssim(x, x).tolist()
    [1.0, 1.0]
    """
    a, b = _pair(x, y)
    _, _, _, data_range = COLOUR_SPACES[check_choice("colour space", colour, COLOUR_SPACES)]
    a, b = _crop(to_colour(a, colour), border), _crop(to_colour(b, colour), border)
    if blur is not None:
        check_positive("blur", blur)
        s = blur * min(a.shape[-2:])
        a, b = _blur(a, s), _blur(b, s)
    f = max(1, round(min(a.shape[-2:]) / 256)) if downsample else 1
    if f > 1:
        a, b = F.avg_pool2d(a, f), F.avg_pool2d(b, f)
    if min(a.shape[-2:]) < window:
        raise ImageError(f"image of {tuple(a.shape[-2:])} pixels is smaller than the SSIM window of {window}: "
                         "use larger images")
    c = a.shape[1]
    w = _window(window, sigma).to(a.device).expand(c, 1, -1, -1).contiguous()

    def filt(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(z, w, groups=c)

    cov = window * window / (window * window - 1) if sample_covariance else 1.0
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ma, mb = filt(a), filt(b)
    saa, sbb, sab = ((filt(a * a) - ma ** 2) * cov, (filt(b * b) - mb ** 2) * cov, (filt(a * b) - ma * mb) * cov)
    m = ((2 * ma * mb + c1) * (2 * sab + c2)) / ((ma ** 2 + mb ** 2 + c1) * (saa + sbb + c2))
    return m.mean(dim=(1, 2, 3))


_SOBEL = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]], dtype=torch.float64) / 4


def structure(x: Any, y: Any) -> torch.Tensor:
    """Correlation of the Sobel gradient magnitudes of the BT.601 lumas, per image ``(N,)`` (0 if constant).

    Examples
    --------
    >>> x = torch.zeros(1, 3, 16, 16); x[..., 8:] = 1
    >>> structure(x, x).tolist(), structure(torch.full((1, 3, 16, 16), 0.5), x).tolist()
    ([1.0], [0.0])
    """
    a, b = _pair(x, y)

    def edges(z: torch.Tensor) -> torch.Tensor:
        lum = F.pad(to_colour(z, "luma-bt601"), (1, 1, 1, 1), mode="replicate")
        k = _SOBEL.to(z.device)
        gx, gy = F.conv2d(lum, k.view(1, 1, 3, 3)), F.conv2d(lum, k.t().contiguous().view(1, 1, 3, 3))
        return torch.sqrt(gx ** 2 + gy ** 2).flatten(1)

    ea, eb = edges(a), edges(b)
    ea, eb = ea - ea.mean(1, keepdim=True), eb - eb.mean(1, keepdim=True)
    na, nb = ea.norm(dim=1), eb.norm(dim=1)
    ok = (na > 1e-12) & (nb > 1e-12)
    r = (ea * eb).sum(1) / (na * nb).clamp_min(1e-30)
    return torch.where(ok, r.clamp(-1, 1), torch.zeros_like(r))


#: bands of luma frequencies (cycles per image, lower edge included) read by the reconstruction chapter
LUMA_BANDS = ((1.0, 4.0), (4.0, 8.0), (8.0, 16.0), (16.0, 32.0))


def band_correlation(x: Any, y: Any, *, low: float = 1.0, high: float = 4.0) -> torch.Tensor:
    """Correlation of the BT.601 lumas of ``x`` and ``y`` in the band ``low ≤ f < high`` cycles per image, ``(N,)``.

    The lumas' 2-D DFTs are compared over the frequencies of the band only:
    ``Re Σ X·conj(Y) / √(Σ|X|² Σ|Y|²)`` — 1 when the band's content is the same (up to a gain), 0 when
    unrelated or when either image has nothing in the band. Frequencies count cycles per image of the
    shorter side; a band above the Nyquist limit (half the shorter side) is refused.

    Raises
    ------
    ParameterError
        ``low`` not below ``high``, a negative ``low``, or a band beyond the Nyquist limit of the images.

    Examples
    --------
    >>> i = torch.arange(32.0)
    >>> coarse = 0.5 + 0.2 * torch.cos(2 * torch.pi * 2 * i / 32).expand(1, 3, 32, 32)
    >>> fine = 0.5 + 0.2 * torch.cos(2 * torch.pi * 12 * i / 32).expand(1, 3, 32, 32)
    >>> [round(float(band_correlation(coarse + fine - 0.5, coarse, low=lo, high=hi)[0]), 3) for lo, hi in ((1, 4), (8, 16))]
    [1.0, 0.0]
    """
    a, b = _pair(x, y)
    check_positive("low", low, allow_zero=True)
    if not high > low:
        raise ParameterError(f"band_correlation needs low < high, got {low} and {high}")
    h, w = a.shape[-2:]
    side = min(h, w)
    if low >= side / 2:
        raise ParameterError(f"band {low:g}–{high:g} cycles/image lies above the Nyquist limit of {side}-pixel "
                             f"images ({side / 2:g} cycles/image): use larger images or a lower band")
    fa, fb = (torch.fft.rfft2(to_colour(z, "luma-bt601")[:, 0]) for z in (a, b))
    fy = torch.fft.fftfreq(h, dtype=torch.float64, device=a.device).abs() * side
    fx = torch.fft.rfftfreq(w, dtype=torch.float64, device=a.device) * side
    radius = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    band = (radius >= max(low, 1e-9)) & (radius < high)
    weight = torch.ones_like(radius)  # rfft2 keeps half the plane: the other half is the mirror image
    weight[:, 1:(w + 1) // 2] = 2.0
    wb = (weight * band).to(fa.real.dtype)
    cross = (fa * fb.conj()).real.mul(wb).flatten(1).sum(1)
    pa, pb = fa.abs().pow(2).mul(wb).flatten(1).sum(1), fb.abs().pow(2).mul(wb).flatten(1).sum(1)
    ac = (radius > 0).to(fa.real.dtype) * weight  # every frequency but the mean: "nothing in the band" is relative to it
    ta, tb = fa.abs().pow(2).mul(ac).flatten(1).sum(1), fb.abs().pow(2).mul(ac).flatten(1).sum(1)
    ok = (pa > 1e-10 * ta) & (pb > 1e-10 * tb) & (pa > 1e-30) & (pb > 1e-30)
    r = cross / torch.sqrt(pa * pb).clamp_min(1e-30)
    return torch.where(ok, r.clamp(-1, 1), torch.zeros_like(r))


def ciede2000(x: Any, y: Any, *, blur: float | None = None) -> torch.Tensor:
    """Mean CIEDE2000 colour difference in CIELAB (D65), per image ``(N,)``; lower = closer colour.

    ``blur``: blur both images first with a Gaussian of σ = ``blur · min(H, W)`` pixels, which keeps
    the colour of regions but forgives misplaced edges and texture.

    Examples
    --------
    >>> x = torch.rand(1, 3, 8, 8); ciede2000(x, x).tolist()
    [0.0]
    >>> red, green = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8); red[:, 0] = 1; green[:, 1] = 1
    >>> bool(ciede2000(red, green)[0] > 50)
    True
    """
    from skimage.color import deltaE_ciede2000, rgb2lab

    a, b = _pair(x, y)
    if blur is not None:
        check_positive("blur", blur)
        s = blur * min(a.shape[-2:])
        a, b = _blur(a, s).clamp(0, 1), _blur(b, s).clamp(0, 1)
    out = []
    for i in range(a.shape[0]):
        la = rgb2lab(a[i].permute(1, 2, 0).cpu().numpy())
        lb = rgb2lab(b[i].permute(1, 2, 0).cpu().numpy())
        out.append(float(np.mean(deltaE_ciede2000(lb, la))))
    return torch.tensor(out, dtype=torch.float64)


def lpips(x: Any, y: Any, *, net: str = "vgg16", device: str = "cpu") -> torch.Tensor:
    """LPIPS v0.1 (:class:`pecore.metric.LPIPS`) of ``x`` against ``y`` on ``net``, per image ``(N,)``; lower = closer.

    Examples
    --------
    >>> x = torch.rand(1, 3, 64, 64); lpips(x, x, net="alexnet").tolist()
    [0.0]
    """
    metric = _lpips_metric(net, str(device))
    a, b = _pair(x, y)
    with torch.inference_mode():
        return metric(a.float(), b.float()).float().cpu()


def gmsd(x: Any, y: Any, *, border: int = 0) -> torch.Tensor:
    """GMSD, the gradient magnitude similarity deviation (Xue et al. 2014), of ``x`` against ``y``, per image
    ``(N,)``; lower = closer. Taken from the ``piq`` library (Apache-2.0), not written here: a structure
    measure that uses no neural network. ``border`` pixels are cropped first.

    Raises
    ------
    PecoreError
        ``piq`` is not installed.

    Examples
    --------
    >>> x = torch.rand(1, 3, 32, 32); gmsd(x, x).tolist()
    [0.0]
    """
    from .errors import PecoreError

    try:
        import piq
    except ImportError:
        raise PecoreError("the GMSD measure needs the piq package: pip install piq") from None
    a, b = _pair(x, y)
    a, b = _crop(a, border), _crop(b, border)
    return piq.gmsd(a.float(), b.float(), data_range=1.0, reduction="none").double().cpu().clamp_min(0.0)


@functools.lru_cache(maxsize=4)  # as pecore.metric caches its networks: one LPIPS per network and device
def _lpips_metric(net: str, device: str) -> Any:
    from .metric import LPIPS

    return LPIPS(net, device=device)


@dataclass(frozen=True)
class Measure:
    """A named measure: one of the functions above with fixed conventions.

    Attributes
    ----------
    name
        The preset's name (``'psnr-y-sr'``).
    label
        How tables and figures name it (``'PSNR-Y'``).
    unit
        ``'dB'`` or ``''``.
    higher_is_better
        The direction of the measure — stated only here.
    function
        ``function(x, y, **options) -> (N,)``.
    options
        The conventions passed to ``function``.
    description
        One line for captions.
    """

    name: str
    label: str
    unit: str
    higher_is_better: bool
    function: Callable[..., torch.Tensor]
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __call__(self, x: Any, y: Any, **overrides: Any) -> torch.Tensor:
        return self.function(x, y, **{**self.options, **overrides})


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("psnr-rgb", "PSNR", "dB", True, psnr, {"colour": "rgb"}, "PSNR over the RGB channels, peak 1"),
    Measure("psnr-y-sr", "PSNR-Y", "dB", True, psnr, {"colour": "y-ycbcr", "border": 4},
            "PSNR of the YCbCr luma (peak 255), a border of 4 px (the scale) cropped — the SR literature's"),
    Measure("ssim-iqa", "SSIM", "", True, ssim, {"colour": "luma-bt601", "downsample": True},
            "SSIM of the BT.601 luma, 11 × 11 Gaussian window (σ 1.5), Wang's automatic downsampling"),
    Measure("ssim-y-sr", "SSIM-Y", "", True, ssim, {"colour": "y-ycbcr", "border": 4},
            "SSIM of the YCbCr luma, 11 × 11 Gaussian window (σ 1.5), a border of 4 px cropped"),
    Measure("ssim-rgb", "SSIM", "", True, ssim, {"colour": "rgb"},
            "SSIM averaged over R, G and B, 11 × 11 Gaussian window (σ 1.5)"),
    Measure("ssim-lowpass", "low-pass SSIM", "", True, ssim, {"colour": "luma-bt601", "blur": 1 / 40},
            "SSIM of the BT.601 luma after a Gaussian blur of σ = side/40 (3.2 px at 128 px): layout, not texture"),
    Measure("ssim-lowpass-16", "low-pass SSIM (heavy blur)", "", True, ssim, {"colour": "luma-bt601", "blur": 1 / 16},
            "SSIM of the BT.601 luma after a Gaussian blur of σ = side/16 (4 px at 64 px): the coarsest layout"),
    *(Measure(f"luma-band-{lo:g}-{hi:g}", f"luma correlation, {lo:g}–{hi:g} cycles/image", "", True, band_correlation,
              {"low": lo, "high": hi}, f"correlation of the lumas in the band {lo:g}–{hi:g} cycles per image")
      for lo, hi in LUMA_BANDS),
    Measure("structure-edges", "edge correlation", "", True, structure, {},
            "correlation of the Sobel gradient magnitudes of the luma"),
    Measure("ciede2000", "ΔE2000", "", False, ciede2000, {}, "mean CIEDE2000 colour difference"),
    Measure("ciede2000-blur", "ΔE2000 (blurred)", "", False, ciede2000, {"blur": 1 / 16},
            "mean CIEDE2000 after a Gaussian blur of σ = side/16 of both images: the colour of regions"),
    Measure("gmsd-sr", "GMSD", "", False, gmsd, {"border": 4},
            "GMSD (piq) on the luma, a border of 4 px cropped: edge structure, no neural network"),
    Measure("lpips-vgg", "LPIPS-vgg", "", False, lpips, {"net": "vgg16"}, "LPIPS v0.1 on VGG-16 (learned weights)"),
    Measure("lpips-alex", "LPIPS-alex", "", False, lpips, {"net": "alexnet"},
            "LPIPS v0.1 on AlexNet (learned weights): a perceptual distance that shares no network with a VGG loss"),
)}


def compute(name: str, x: Any, y: Any, **overrides: Any) -> torch.Tensor:
    """The named measure of :data:`MEASURES` of ``x`` against the reference ``y``, per image ``(N,)``.

    Examples
    --------
    >>> y = torch.full((1, 3, 16, 16), 0.5)
    >>> round(float(compute("psnr-y-sr", y + 10 / 219, y)[0]), 4)  # Y differs by 10: 10 log10(255² / 100)
    28.1308
    """
    return MEASURES[check_choice("measure", name, MEASURES)](x, y, **overrides)


def higher_is_better(name: str) -> bool:
    """Whether a higher value of measure ``name`` (a key of :data:`MEASURES`) is better.

    Examples
    --------
    >>> higher_is_better("ciede2000")
    False
    """
    if name not in MEASURES:
        raise ParameterError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}")
    return MEASURES[name].higher_is_better

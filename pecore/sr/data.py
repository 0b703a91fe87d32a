"""Super-resolution data: bicubic resizing in torch, HR image folders and random training crops.

Low-resolution inputs are always made from the HR images here, never read from the ``*_LR.png``
files of the shared layout (those were made by the SelfExSR authors with another bicubic
implementation): :func:`downscale` is ``torch.nn.functional.interpolate(mode="bicubic",
antialias=True, align_corners=False)``. With ``antialias=True`` torch uses the Keys cubic
convolution kernel with ``a = -0.5`` stretched by the scale factor (support ``4 · scale`` input pixels),
the same as PIL's ``BICUBIC`` and MATLAB's ``imresize``; results are clamped to [0, 1] and rounded to
8-bit levels, as an LR image stored as a PNG would be.

Training crops come from the BSD100 HR images (the 100 BSDS300 test photographs) — not from DIV2K,
the usual SR training set, which is not available offline here; :func:`bsd100_split` holds some of them
out as a validation split.

No image list of pecore uses the ``lenna`` photograph (Set14 ``img_009``): :func:`hr_image_paths` leaves
it out of the shared Set14 (:data:`EXCLUDED_IMAGES`), so "Set14" means its 13 other images.

Length: the image conventions of the chapter — resizing, the sets' folder layout, the exclusion, the
validation split and the training crops — are kept in one module so that they are read together.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import CropSizeError, DatasetError, ImageError, ScaleMismatchError
from ..imageio import load_image, shared_data_dir
from ..validate import check_image, check_positive

__all__ = [
    "SR_SETS",
    "IMAGE_SUFFIXES",
    "EXCLUDED_IMAGES",
    "bsd100_split",
    "quantize",
    "downscale",
    "upscale_bicubic",
    "modcrop",
    "check_scale_pair",
    "hr_image_paths",
    "HRImage",
    "load_hr_images",
    "centre_crop",
    "CropSampler",
]

SR_SETS = ("Set5", "Set14", "BSD100")
IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
#: shared-set images no pecore list uses: Set14 img_009 is the "lenna" photograph
EXCLUDED_IMAGES = {"Set14": ("img_009",)}


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round an image in [0, 1] to the 256 levels of an 8-bit image (clamping first).

    Examples
    --------
    >>> quantize(torch.tensor([0.0, 0.5, 1.2])).mul(255).tolist()
    [0.0, 128.0, 255.0]
    """
    return x.clamp(0, 1).mul(255).round().div(255)


def _check_scale(scale: int) -> int:
    check_positive("scale", scale, integer=True)
    if scale < 2:
        raise ScaleMismatchError(f"scale must be an integer >= 2, got {scale}")
    return int(scale)


def downscale(hr: torch.Tensor, scale: int = 4, *, quantize_8bit: bool = True) -> torch.Tensor:
    """LR images from HR images ``(N, 3, H, W)`` in [0, 1] by antialiased bicubic downscaling.

    The kernel is Keys' cubic with ``a = -0.5``, widened by ``scale`` (``antialias=True``), on
    half-pixel-centred grids (``align_corners=False``); the output is clamped to [0, 1] and, with
    ``quantize_8bit``, rounded to 8-bit levels.

    Raises
    ------
    ScaleMismatchError
        If H or W is not a multiple of ``scale`` (crop it first with :func:`modcrop`).

    Examples
    --------
    >>> downscale(torch.rand(1, 3, 16, 12), 4).shape
    torch.Size([1, 3, 4, 3])
    """
    scale = _check_scale(scale)
    hr = check_image(hr, "hr (RGB in [0, 1])")
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ScaleMismatchError(f"HR size {h}×{w} is not a multiple of scale {scale}; crop it with modcrop(hr, {scale})")
    lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", antialias=True, align_corners=False)
    lr = lr.clamp(0, 1)
    return quantize(lr) if quantize_8bit else lr


def upscale_bicubic(lr: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """Bicubic upscaling by ``scale`` (the Keys ``a = -0.5`` kernel of :func:`downscale`), clamped to [0, 1].

    This is the bicubic baseline of the evaluation and the skip path of the network's
    ``global_residual='bicubic'``. It accepts any floating tensor ``(N, C, h, w)`` (no range check, as
    it also runs inside the network).

    Examples
    --------
    >>> upscale_bicubic(torch.full((1, 3, 4, 4), 0.25), 4).shape, float(upscale_bicubic(torch.full((1, 3, 4, 4), 0.25), 4).max())
    (torch.Size([1, 3, 16, 16]), 0.25)
    """
    scale = _check_scale(scale)
    h, w = lr.shape[-2:]
    return F.interpolate(lr, size=(h * scale, w * scale), mode="bicubic", antialias=True,
                         align_corners=False).clamp(0, 1)


def modcrop(img: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """Crop the bottom and right edges of ``img`` (..., H, W) to multiples of ``scale``.

    Examples
    --------
    >>> modcrop(torch.zeros(3, 10, 13), 4).shape
    torch.Size([3, 8, 12])
    """
    scale = _check_scale(scale)
    h, w = img.shape[-2:]
    if h < scale or w < scale:
        raise ScaleMismatchError(f"image of {h}×{w} pixels is smaller than the scale {scale}")
    return img[..., : h - h % scale, : w - w % scale]


def check_scale_pair(lr: torch.Tensor, hr: torch.Tensor, scale: int) -> None:
    """Raise :class:`ScaleMismatchError` unless ``hr`` is exactly ``scale`` × ``lr`` in height and width.

    Examples
    --------
    >>> check_scale_pair(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 16, 16), 4)
    >>> check_scale_pair(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8), 4)
    Traceback (most recent call last):
    ...
    pecore.errors.ScaleMismatchError: HR is 8×8 and LR 4×4: not ×4 (got ×2)
    """
    scale = _check_scale(scale)
    (h, w), (H, W) = lr.shape[-2:], hr.shape[-2:]
    if (H, W) != (h * scale, w * scale):
        raise ScaleMismatchError(f"HR is {H}×{W} and LR {h}×{w}: not ×{scale} (got ×{H / max(h, 1):.3g})")


def _scale_of_folder(path: Path) -> int | None:
    name = path.name
    if name.startswith("image_SRF_") and name[len("image_SRF_"):].isdigit():
        return int(name[len("image_SRF_"):])
    return None


def hr_image_paths(data: str | os.PathLike, scale: int = 4) -> list[Path]:
    """The HR images of a test set: a shared set name or any folder of images.

    Parameters
    ----------
    data
        'Set5', 'Set14' or 'BSD100' (the shared layout under ``shared_data_dir()/sr``), a folder in
        that layout (holding ``image_SRF_<s>/``), one ``image_SRF_<s>`` folder, or any folder of HR
        images (``.png``, ``.bmp``, ``.jpg``, ``.tif``; files named ``*_LR.*`` are skipped).
    scale
        The upscaling factor; in the shared layout it picks ``image_SRF_<scale>``.

    Raises
    ------
    ScaleMismatchError
        The folder is laid out for another scale only (e.g. ``image_SRF_2`` for a ×4 network).
    DatasetError
        The folder does not exist or holds no image.

    Examples
    --------
    >>> [p.name for p in hr_image_paths("Set5")][:2]
    ['img_001_SRF_4_HR.png', 'img_002_SRF_4_HR.png']
    >>> len(hr_image_paths("Set14"))  # 14 images without lenna
    13
    """
    scale = _check_scale(scale)
    if isinstance(data, str) and data in SR_SETS:
        root = shared_data_dir() / "sr" / data
    else:
        root = Path(data)
    if not root.is_dir():
        raise DatasetError(f"SR image set {data!r}: no folder {root} (give Set5, Set14, BSD100 or a folder of HR images)")
    sub = root / f"image_SRF_{scale}"
    layouts = sorted(p for p in root.glob("image_SRF_*") if p.is_dir() and _scale_of_folder(p))
    if sub.is_dir():
        folder, pattern = sub, "*_HR.*"
    elif layouts:
        scales = ", ".join(f"×{_scale_of_folder(p)}" for p in layouts)
        raise ScaleMismatchError(f"{root} holds {scales} data only, no image_SRF_{scale} for scale {scale}")
    elif _scale_of_folder(root) is not None:
        if _scale_of_folder(root) != scale:
            raise ScaleMismatchError(f"{root} is laid out for ×{_scale_of_folder(root)}, but the scale is {scale}")
        folder, pattern = root, "*_HR.*"
    else:
        folder, pattern = root, "*"
    paths = sorted(p for p in folder.glob(pattern)
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.stem.upper().endswith("_LR"))
    if isinstance(data, str) and data in EXCLUDED_IMAGES:
        paths = [p for p in paths if _image_name(p, scale) not in EXCLUDED_IMAGES[data]]
    if not paths:
        raise DatasetError(f"no HR images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return paths


def _image_name(path: Path, scale: int) -> str:
    suffix = f"_SRF_{scale}_HR"
    return path.stem[: -len(suffix)] if path.stem.endswith(suffix) else path.stem


def bsd100_split(val_images: int, scale: int = 4) -> tuple[list[str], list[str]]:
    """Names of the BSD100 training and validation photographs: the last ``val_images`` by name are held out.

    The BSD100 names carry no order of content, so the last ones by name are as good a held-out
    draw as any, and the split is easy to state.

    Examples
    --------
    >>> train, val = bsd100_split(16)
    >>> len(train), val[0], val[-1]
    (84, 'img_085', 'img_100')
    """
    check_positive("val_images", val_images, integer=True, allow_zero=True)
    names = [_image_name(p, scale) for p in hr_image_paths("BSD100", scale)]
    if val_images >= len(names):
        raise DatasetError(f"val_images {val_images} leaves none of the {len(names)} BSD100 photographs for training")
    cut = len(names) - int(val_images)
    return names[:cut], names[cut:]


@dataclass
class HRImage:
    """An HR image (RGB in [0, 1], ``(3, H, W)``, cropped to a multiple of the scale) and its name."""

    name: str
    image: torch.Tensor


def _read_uint8(path: Path) -> torch.Tensor:
    from PIL import Image

    from ..imageio import upright

    try:
        with Image.open(path) as im:
            arr = np.asarray(upright(im).convert("RGB"), dtype=np.uint8)
    except OSError as exc:
        raise DatasetError(f"cannot read image {path}: {exc}") from exc
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def load_hr_images(data: str | os.PathLike, scale: int = 4, *, crop: int | None = None,
                   device: str | torch.device = "cpu", uint8: bool = False,
                   names: Sequence[str] | None = None) -> list[HRImage]:
    """Load a test set's HR images, cropped to multiples of ``scale`` (and to a centre crop if given).

    Parameters
    ----------
    data, scale
        As in :func:`hr_image_paths`.
    crop
        Keep only a centre ``crop × crop`` region (a multiple of ``scale``); ``None`` keeps the whole
        image (bottom/right edges cropped to a multiple of ``scale``).
    uint8
        Keep the 8-bit values (``torch.uint8``, as :class:`CropSampler` stores them) instead of floats
        in [0, 1].
    names
        Load only the images of these names (e.g. one side of :func:`bsd100_split`).

    Examples
    --------
    >>> imgs = load_hr_images("Set5", 4, crop=64)
    >>> len(imgs), imgs[0].name, tuple(imgs[0].image.shape)
    (5, 'img_001', (3, 64, 64))
    """
    out = []
    paths = hr_image_paths(data, scale)
    if names is not None:
        wanted = set(names)
        missing = wanted - {_image_name(p, scale) for p in paths}
        if missing:
            raise DatasetError(f"{data}: no image named {', '.join(sorted(missing))}")
        paths = [p for p in paths if _image_name(p, scale) in wanted]
    for path in paths:
        img = modcrop(_read_uint8(path) if uint8 else load_image(path), scale).to(device)
        if crop is not None:
            img = centre_crop(img, crop, scale)
        out.append(HRImage(_image_name(path, scale), img))
    return out


def centre_crop(img: torch.Tensor, crop: int, scale: int = 4) -> torch.Tensor:
    """The centre ``crop × crop`` region of ``img`` (..., H, W); corners snapped to multiples of ``scale``.

    Raises
    ------
    ScaleMismatchError
        ``crop`` is not a multiple of ``scale``.
    CropSizeError
        The image is smaller than ``crop``.

    Examples
    --------
    >>> centre_crop(torch.zeros(3, 100, 80), 32).shape
    torch.Size([3, 32, 32])
    """
    check_positive("crop", crop, integer=True)
    scale = _check_scale(scale)
    if crop % scale:
        raise ScaleMismatchError(f"crop {crop} is not a multiple of scale {scale}")
    h, w = img.shape[-2:]
    if h < crop or w < crop:
        raise CropSizeError(f"image of {h}×{w} pixels is smaller than the crop {crop}×{crop}")
    top = (h - crop) // 2 // scale * scale
    left = (w - crop) // 2 // scale * scale
    return img[..., top: top + crop, left: left + crop]


class CropSampler:
    """Random HR crops of a set of photographs and their bicubic LR versions, seeded.

    Each batch draws images uniformly, a crop position uniformly, and (with ``augment``) one of
    the 8 flips/transposes. The images are kept as 8-bit tensors on ``device``, so cropping costs
    no disk access. The generator's state is part of a training checkpoint, so a resumed run
    sees the same crops as an uninterrupted one.

    Parameters
    ----------
    images
        HR images ``(3, H, W)``: floats in [0, 1] or ``torch.uint8`` (e.g.
        ``[im.image for im in load_hr_images("BSD100", uint8=True)]``).
    crop
        HR crop size, a multiple of ``scale``.
    batch_size, scale, augment, seed
        As named.
    names
        Optional image names for error messages.

    Raises
    ------
    ScaleMismatchError
        ``crop`` is not a multiple of ``scale``.
    CropSizeError
        An image is smaller than the crop (naming it).

    Examples
    --------
    >>> s = CropSampler([torch.rand(3, 40, 48)], crop=16, batch_size=2, scale=4, seed=0)
    >>> lr, hr = s.sample(); tuple(lr.shape), tuple(hr.shape)
    ((2, 3, 4, 4), (2, 3, 16, 16))
    """

    def __init__(self, images: Sequence[torch.Tensor], crop: int, batch_size: int, scale: int = 4, *,
                 augment: bool = True, seed: int = 0, names: Sequence[str] | None = None,
                 device: str | torch.device = "cpu") -> None:
        check_positive("crop", crop, integer=True)
        check_positive("batch_size", batch_size, integer=True)
        self.scale = _check_scale(scale)
        if crop % self.scale:
            raise ScaleMismatchError(f"crop {crop} is not a multiple of scale {self.scale}")
        if len(images) == 0:
            raise DatasetError("CropSampler needs at least one HR image")
        names = list(names) if names is not None else [f"image {i}" for i in range(len(images))]
        self.images = []
        for img, name in zip(images, names):
            if isinstance(img, torch.Tensor) and img.dtype == torch.uint8:
                if img.ndim != 3 or img.shape[0] != 3:
                    raise ImageError(f"HR image {name} must have shape (3, H, W), got {tuple(img.shape)}")
            else:
                img = check_image(img, f"HR image {name}")[0].mul(255).round().to(torch.uint8)
            h, w = img.shape[-2:]
            if h < crop or w < crop:
                raise CropSizeError(f"HR image {name} is {h}×{w} pixels, smaller than the training crop {crop}×{crop}")
            self.images.append(img.to(device))
        self.crop, self.batch_size, self.augment = int(crop), int(batch_size), bool(augment)
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(int(seed))

    def _randint(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.generator))

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch: ``(lr, hr)`` with shapes ``(B, 3, crop/scale, crop/scale)`` and ``(B, 3, crop, crop)``."""
        crops = []
        for _ in range(self.batch_size):
            img = self.images[self._randint(len(self.images))]
            h, w = img.shape[-2:]
            top, left = self._randint(h - self.crop + 1), self._randint(w - self.crop + 1)
            c = img[:, top: top + self.crop, left: left + self.crop]
            if self.augment:
                k = self._randint(8)
                if k & 1:
                    c = c.flip(-1)
                if k & 2:
                    c = c.flip(-2)
                if k & 4:
                    c = c.transpose(-1, -2)
            crops.append(c)
        hr = torch.stack(crops).float().div(255)
        return downscale(hr, self.scale), hr

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The generator state (for checkpoints)."""
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore the generator state of :meth:`state_dict`."""
        self.generator.set_state(state["generator"])

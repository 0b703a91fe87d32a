"""Reading and writing images as RGB tensors in [0, 1], and finding the shared data folder."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import DatasetError, ImageError, UnknownNameError
from .validate import check_image

__all__ = ["shared_data_dir", "portable_data_path", "upright", "load_image", "centre_square", "BUNDLED_PHOTOGRAPHS",
           "bundled_photograph", "image_bytes", "save_image", "to_uint8"]


def shared_data_dir() -> Path:
    """The real datasets (folders ``iqa/`` and ``sr/``): ``$PECORE_DATA``, else the data folder beside the checkout.

    Raises
    ------
    DatasetError
        If the folder does not exist.

    Examples
    --------
    >>> (shared_data_dir() / "iqa").is_dir()
    True
    """
    env = os.environ.get("PECORE_DATA")
    path = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    if not path.is_dir():
        raise DatasetError(f"shared data folder {path} does not exist; set PECORE_DATA to the folder holding iqa/ and sr/")
    return path


def portable_data_path(path: str | os.PathLike) -> str:
    """How provenance names a dataset folder or file: ``$PECORE_DATA/…`` when it lies in the data folder
    (:func:`shared_data_dir`), else the path as given — never this machine's folders above the data.

    Examples
    --------
    >>> portable_data_path(shared_data_dir() / "iqa" / "live-r2-subset")
    '$PECORE_DATA/iqa/live-r2-subset'
    >>> portable_data_path("my/own/folder")
    'my/own/folder'
    """
    p = Path(path)
    try:
        return "$PECORE_DATA/" + p.resolve().relative_to(shared_data_dir().resolve()).as_posix()
    except (ValueError, DatasetError):
        return str(path)


def upright(im: Image.Image) -> Image.Image:
    """The image as it is meant to be seen: rotated or mirrored by its EXIF orientation (as a photograph from a
    phone shows in a viewer), else unchanged.

    Examples
    --------
    >>> im = Image.new("RGB", (4, 2)); exif = im.getexif(); exif[0x0112] = 6  # "rotate 90° clockwise to view"
    >>> import io; buf = io.BytesIO(); im.save(buf, "JPEG", exif=exif); buf.seek(0)
    0
    >>> upright(Image.open(buf)).size
    (2, 4)
    """
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(im) if im.getexif().get(0x0112, 1) != 1 else im
    except (OSError, ValueError, SyntaxError):  # an unreadable EXIF block: use the pixels as stored
        return im


def _to_unit_rgb(im: Image.Image, path: Path) -> np.ndarray:
    """RGB float32 in [0, 1] from 8-bit, 16-bit, 32-bit integer and float images (by their bit depth)."""
    if im.mode.startswith("I;16") or im.mode == "I":
        raw = np.asarray(im, dtype=np.float64)
        arr = raw / (65535.0 if (im.mode.startswith("I;16") or raw.max() > 255) else 255.0)
    elif im.mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ImageError(f"image {path} contains NaN or infinite values")
    else:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    if arr.min() < 0 or arr.max() > 1 + 1e-6:
        raise ImageError(f"image {path} ({im.mode}) has values in [{arr.min():.4g}, {arr.max():.4g}], "
                         "outside what its bit depth allows for a [0, 1] image")
    return np.repeat(arr[..., None], 3, axis=2).astype(np.float32)


def load_image(path: str | os.PathLike, *, size: int | tuple[int, int] | None = None,
               device: str | torch.device = "cpu") -> torch.Tensor:
    """Read an image file as an RGB ``(3, H, W)`` float tensor in [0, 1].

    Greyscale images are repeated to three channels. ``size`` resizes (bicubic, antialiased,
    clamped to [0, 1]): an int sets the shorter side, a pair sets ``(H, W)``.

    Examples
    --------
    >>> img = load_image(shared_data_dir() / "sr/Set5/image_SRF_4/img_001_SRF_4_HR.png", size=64)
    >>> img.shape[0], min(img.shape[1:]), float(img.max()) <= 1.0
    (3, 64, True)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ImageError(f"an image path must be a str or path, got {type(path).__name__}")
    from .device import resolve_device

    device = resolve_device(device)  # an unknown or absent device is named before the file is read
    ok = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1  # noqa: E731
    if size is not None and not (ok(size) or (isinstance(size, (tuple, list)) and len(size) == 2 and all(map(ok, size)))):
        raise ImageError(f"image size must be a positive integer (shorter side) or a pair (H, W) of them, got {size!r}")
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"image file {path} is a folder, not an image file" if path.is_dir()
                           else f"image file {path} does not exist")
    try:
        with Image.open(path) as im:
            arr = _to_unit_rgb(upright(im), path)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image {path} is too large to read safely ({exc}); resize it first") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise DatasetError(f"cannot read image {path}: {exc}") from exc
    except MemoryError as exc:
        raise ImageError(f"image {path} is too large to fit in memory") from exc
    x = torch.from_numpy(arr).permute(2, 0, 1).contiguous()
    if size is not None:
        h, w = x.shape[1:]
        if isinstance(size, int):
            scale = size / min(h, w)
            hw = (max(1, round(h * scale)), max(1, round(w * scale)))
        else:
            hw = tuple(size)
        x = torch.nn.functional.interpolate(x[None], size=hw, mode="bicubic", antialias=True,
                                            align_corners=False)[0].clamp_(0, 1)
    return x.to(device)


def centre_square(x: torch.Tensor) -> torch.Tensor:
    """The centred square of an image ``(..., H, W)``, of side ``min(H, W)`` (when ``H - W`` is odd, the square
    one pixel nearer the top or left).

    Examples
    --------
    >>> centre_square(torch.arange(12.0).reshape(1, 3, 4)).tolist()
    [[[0.0, 1.0, 2.0], [4.0, 5.0, 6.0], [8.0, 9.0, 10.0]]]
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ImageError(f"centre_square takes an image tensor (..., H, W), got {getattr(x, 'shape', type(x).__name__)}")
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return x[..., top:top + side, left:left + side]


#: photographs that ship with scikit-image and are free to reuse: name -> (file in ``skimage/data``, what and whose)
BUNDLED_PHOTOGRAPHS = {
    "chelsea": ("chelsea.png", "Chelsea the cat, photographed by Stefan van der Walt, CC0"),
    "coffee": ("coffee.png", "a cup of coffee, photographed by Rachel Michetti, CC0"),
    "astronaut": ("astronaut.png", "the astronaut Eileen Collins, NASA, public domain"),
    "brick": ("brick.png", "a brick wall, a greyscale texture of CC0Textures, CC0"),
}


def bundled_photograph(name: str = "chelsea", *, size: int | tuple[int, int] | None = None,
                       device: str | torch.device = "cpu") -> torch.Tensor:
    """A photograph of :data:`BUNDLED_PHOTOGRAPHS`, read as :func:`load_image` reads a file.

    They ship with scikit-image (a dependency), so a figure drawn on one needs no data folder.

    Examples
    --------
    >>> bundled_photograph("chelsea", size=96).shape
    torch.Size([3, 96, 144])
    """
    if not isinstance(name, str) or name not in BUNDLED_PHOTOGRAPHS:
        raise UnknownNameError(f"unknown bundled photograph {name!r}; allowed: {', '.join(BUNDLED_PHOTOGRAPHS)}")
    import skimage.data

    return load_image(Path(skimage.data.__file__).parent / BUNDLED_PHOTOGRAPHS[name][0], size=size, device=device)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """An image tensor ``(3, H, W)`` in [0, 1] as an ``(H, W, 3)`` uint8 array.

    Examples
    --------
    >>> to_uint8(torch.ones(3, 2, 2)).max()
    np.uint8(255)
    """
    x = check_image(x, "image")[0]
    return (x.detach().cpu().permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)


def image_bytes(x: torch.Tensor, suffix: str = ".png") -> bytes:
    """An RGB image tensor in [0, 1] encoded as the file a suffix names (PNG by default), as bytes.

    Examples
    --------
    >>> image_bytes(torch.zeros(3, 2, 2))[:4]
    b'\\x89PNG'
    """
    import io

    from .errors import OutputError

    if x.ndim == 4 and x.shape[0] != 1:
        raise ImageError(f"save_image takes one image, got a batch of {x.shape[0]}")
    fmt = (suffix.lstrip(".") or "png").upper().replace("JPG", "JPEG").replace("TIF", "TIFF").replace("TIFFF", "TIFF")
    Image.init()
    if fmt not in Image.SAVE:
        raise OutputError(f"no image format for the suffix {suffix!r} (use .png)")
    buf = io.BytesIO()
    Image.fromarray(to_uint8(x)).save(buf, format=fmt)
    return buf.getvalue()


def save_image(x: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write an RGB image tensor in [0, 1] to a PNG (or any format PIL knows by the suffix)."""
    from .cache import atomic_write_bytes
    from .errors import OutputError

    path = Path(path)
    try:
        data = image_bytes(x, path.suffix or ".png")
    except OutputError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    return atomic_write_bytes(path, data)

"""The photographs the reconstruction chapter inverts: Set5 and Set14 by name, centre-cropped square."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import DatasetError, ParameterError
from ..imageio import centre_square, load_image, shared_data_dir
from ..validate import check_choice, check_positive

__all__ = ["PHOTOGRAPH_FILES", "photograph_path", "load_square_images"]


#: photograph name → (test set, file stem) in the shared Set5/Set14 data (lenna is deliberately absent)
PHOTOGRAPH_FILES = {
    "baboon": ("Set14", "img_001"), "barbara": ("Set14", "img_002"), "bridge": ("Set14", "img_003"),
    "coastguard": ("Set14", "img_004"), "comic": ("Set14", "img_005"), "face": ("Set14", "img_006"),
    "flowers": ("Set14", "img_007"), "foreman": ("Set14", "img_008"), "man": ("Set14", "img_010"),
    "monarch": ("Set14", "img_011"), "pepper": ("Set14", "img_012"), "ppt3": ("Set14", "img_013"),
    "zebra": ("Set14", "img_014"), "baby": ("Set5", "img_001"), "bird": ("Set5", "img_002"),
    "butterfly": ("Set5", "img_003"), "head": ("Set5", "img_004"), "woman": ("Set5", "img_005"),
}


def photograph_path(name: str) -> Path:
    """The HR file of a Set5/Set14 photograph by name (``'monarch'``, ``'baby'``) in the shared data.

    Raises
    ------
    UnknownNameError
        Not one of :data:`PHOTOGRAPH_FILES`.

    Examples
    --------
    >>> photograph_path("monarch").name, photograph_path("baby").parent.parent.name
    ('img_011_SRF_4_HR.png', 'Set5')
    """
    test_set, stem = PHOTOGRAPH_FILES[check_choice("photograph", name, PHOTOGRAPH_FILES)]
    return shared_data_dir() / "sr" / test_set / "image_SRF_4" / f"{stem}_SRF_4_HR.png"


def load_square_images(images: Sequence[str | os.PathLike], size: int,
                       device: str | torch.device = "cpu") -> tuple[torch.Tensor, list[str]]:
    """Load images (Set5/Set14 names or file paths), centre-crop them square, resize to ``size``.

    Returns
    -------
    (torch.Tensor, list of str)
        ``(N, 3, size, size)`` RGB in [0, 1] and a short name per image.

    Examples
    --------
    >>> x, names = load_square_images(["baboon", "monarch"], 32)
    >>> x.shape, names
    (torch.Size([2, 3, 32, 32]), ['baboon', 'monarch'])
    """
    check_positive("size", size, integer=True)
    if len(images) == 0:
        raise ParameterError("images must name at least one image")
    out, names = [], []
    for item in images:
        text = str(item)
        if text in PHOTOGRAPH_FILES:
            path = photograph_path(text)
            names.append(text)
        else:
            path = Path(item)
            if not path.is_file():
                raise DatasetError(f"image {text!r} is neither a Set5/Set14 photograph ({', '.join(PHOTOGRAPH_FILES)}) "
                                   f"nor an existing file")
            names.append(path.stem)
        x = centre_square(load_image(path))
        x = torch.nn.functional.interpolate(x[None], size=(size, size), mode="bicubic", antialias=True,
                                            align_corners=False)[0].clamp(0, 1)
        out.append(x)
    return torch.stack(out).to(device), names

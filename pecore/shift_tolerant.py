"""The shift-tolerant VGG-16 and AlexNet of ST-LPIPS (Ghildyal & Liu, ECCV 2022), rebuilt and loaded offline.

ST-LPIPS trains whole VGG-16 and AlexNet backbones, changed for shift tolerance, on human similarity
judgments: every stride-2 step becomes a stride-1 max-pool (or convolution) followed by a binomial
blur-and-subsample (BlurPool) with reflection padding of 2, and AlexNet's first convolution runs at
stride 1. The weights ship complete in the ``stlpips-pytorch`` package from PyPI
(``weights/vST0.0/{vgg,alex}_shift_tolerant.pth``, with the LPIPS linear heads beside them). pecore
rebuilds the two architectures itself (the package imports IPython and torchsummary), reads the
weights with ``torch.load(weights_only=True)`` after checking their sha256, and names the layers as in
the ImageNet networks (``relu1_2`` … ``relu5_3``; ``relu1`` … ``relu5``), so that tables, selections and
chapters compare them layer by layer. Their input is standardised exactly as ImageNet's
(ST-LPIPS's scaling layer on [-1, 1] inputs equals ImageNet's mean and std on [0, 1] inputs).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .layer_names import vgg16_names
from .errors import ChecksumError, WeightsError, WeightsNotFoundError
from .weights import WeightsProvenance, check_finite_state, sha256_file

__all__ = ["BlurPool", "STLPIPS_FILES", "stlpips_vgg16_features", "stlpips_alexnet_features",
           "stlpips_vgg16_layer_names", "stlpips_alexnet_layer_names", "load_stlpips_state_dict"]

#: network name → (file inside the package's weights/vST0.0/, its sha256)
STLPIPS_FILES: dict[str, tuple[str, str]] = {
    "stlpips-vgg16": ("vgg_shift_tolerant.pth", "44597da68f49c1837c100ff52299050f274d102eb102e5837178c79be6f0e250"),
    "stlpips-alexnet": ("alex_shift_tolerant.pth", "b356b382f96010f77d085ee8343ecd9fd322d0a56e8de2b2d0549fafcad8b9ee"),
}


class BlurPool(nn.Module):
    """Binomial [1, 2, 1]² blur, then keep every second pixel: the anti-aliased downsampling of ST-LPIPS.

    Reflection padding of 2 on every side (ST-LPIPS's "pad more"); the filter is a fixed buffer.

    Examples
    --------
    >>> BlurPool(4)(torch.ones(1, 4, 8, 8)).shape
    torch.Size([1, 4, 5, 5])
    >>> float(BlurPool(1)(torch.ones(1, 1, 8, 8)).max())
    1.0
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([1.0, 2.0, 1.0])
        filt = a[:, None] * a[None, :]
        self.register_buffer("filt", (filt / filt.sum())[None, None].repeat(channels, 1, 1, 1))
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1])


_VGG_BLOCKS = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)


def stlpips_vgg16_features() -> nn.Sequential:
    """The shift-tolerant VGG-16 ``features`` (through relu5_3), untrained.

    Examples
    --------
    >>> f = stlpips_vgg16_features()
    >>> f(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 512, 3, 3])
    """
    layers: list[nn.Module] = []
    c_in = 3
    for v in _VGG_BLOCKS:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=1), BlurPool(c_in)]
        else:
            layers += [nn.Conv2d(c_in, int(v), kernel_size=3, padding=1), nn.ReLU()]
            c_in = int(v)
    return nn.Sequential(*layers)


def stlpips_vgg16_layer_names() -> dict[str, int]:
    """Layer name → index in :func:`stlpips_vgg16_features` (conv1_1 … relu5_3, pool1 … pool4 = the blur).

    Examples
    --------
    >>> stlpips_vgg16_layer_names()["relu2_2"], stlpips_vgg16_layer_names()["relu5_3"]
    (9, 33)
    """
    return vgg16_names(pool_modules=2, last_pool=False)  # the stack ends at relu5_3


def stlpips_alexnet_features() -> nn.Sequential:
    """The shift-tolerant AlexNet ``features`` (through relu5), untrained.

    Examples
    --------
    >>> stlpips_alexnet_features()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 256, 8, 8])
    """
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=1, padding=2), BlurPool(64), nn.ReLU(),  # 0 1 2
        nn.MaxPool2d(kernel_size=3, stride=1), BlurPool(64),  # 3 4
        nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(),  # 5 6
        nn.MaxPool2d(kernel_size=3, stride=1), BlurPool(192),  # 7 8
        nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),  # 9 10
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),  # 11 12
        nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),  # 13 14
    )


def stlpips_alexnet_layer_names() -> dict[str, int]:
    """Layer name → index in :func:`stlpips_alexnet_features`.

    Examples
    --------
    >>> stlpips_alexnet_layer_names()["relu1"], stlpips_alexnet_layer_names()["relu5"]
    (2, 14)
    """
    names = {f"conv{i}": c for i, c in enumerate((0, 5, 9, 11, 13), start=1)}
    names.update({f"relu{i}": r for i, r in enumerate((2, 6, 10, 12, 14), start=1)})
    names.update({"pool1": 4, "pool2": 8})
    return names


def _package_weights_dir() -> Path | None:
    spec = importlib.util.find_spec("stlpips_pytorch")  # finds the folder; never imports the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "weights" / "vST0.0"


def load_stlpips_state_dict(name: str, path: str | os.PathLike | None = None) -> tuple[dict[str, torch.Tensor],
                                                                                       WeightsProvenance]:
    """The ``features`` state dict of a shift-tolerant network, keys as in its pecore builder.

    Parameters
    ----------
    name
        'stlpips-vgg16' or 'stlpips-alexnet'.
    path
        The ``.pth`` file; ``None`` reads it from the installed ``stlpips-pytorch`` package. Either way the
        file must have the package's sha256.

    Examples
    --------
    >>> state, prov = load_stlpips_state_dict("stlpips-alexnet")
    >>> tuple(state["0.weight"].shape), prov.source, prov.path
    ((64, 3, 11, 11), 'stlpips-pytorch', 'stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth')
    """
    if name not in STLPIPS_FILES:
        raise WeightsError(f"no shift-tolerant weights for {name!r}; known: {', '.join(STLPIPS_FILES)}")
    file_name, expected = STLPIPS_FILES[name]
    if path is None:
        folder = _package_weights_dir()
        if folder is None:
            raise WeightsNotFoundError(f"{name} needs the stlpips-pytorch package: `pip install --no-deps "
                                       "stlpips-pytorch==0.0.2` (or `pip install -e '.[networks]'`)")
        candidate, label, source = folder / file_name, f"stlpips_pytorch/weights/vST0.0/{file_name}", "stlpips-pytorch"
    else:
        candidate = Path(path)
        label, source = candidate.name, "file"
    if not candidate.is_file():
        raise WeightsNotFoundError(f"weights file {label} of {name} does not exist (reinstall stlpips-pytorch 0.0.2)")
    digest = sha256_file(candidate)
    if digest != expected:
        raise ChecksumError(f"weights file {label} has sha256 {digest[:16]}…, expected {expected[:16]}… (the file of "
                            f"stlpips-pytorch 0.0.2): it is damaged or another file; reinstall the package")
    try:
        raw = torch.load(candidate, map_location="cpu", weights_only=True)
    except Exception as exc:  # pragma: no cover - the checksum already matched the package's file
        raise WeightsError(f"weights file {label} could not be read: {str(exc).splitlines()[0]}") from exc
    state = {}
    for key, value in raw.items():
        parts = key.split(".")
        if parts[0] == "net" and parts[1].startswith("slice"):
            state[".".join(parts[2:])] = value
    check_finite_state(state, label)
    return state, WeightsProvenance(name, source, label, digest)

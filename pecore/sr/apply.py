"""Upscaling a user's own images with a trained generator (``pecore sr apply``)."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..device import resolve_device
from ..errors import DatasetError, ImageError, ParameterError
from ..validate import check_positive
from .train import TrainedRun, is_run_dir, load_run

__all__ = ["MIN_SIZE", "load_generator", "read_input_image", "upscale_image", "apply_run"]

#: the smallest input a generator accepts, per side (bicubic and the 3×3 convolutions need 2 pixels)
MIN_SIZE = 2


def load_generator(run: str | os.PathLike, *, device: str | torch.device = "auto") -> TrainedRun:
    """The trained generator in a run folder (``pecore sr train --out``, or ``runs/<arm>`` of saved results).

    Raises
    ------
    DatasetError
        The folder does not exist or holds no trained weights (``model.pt`` and ``train.json``); for a
        folder of run folders the message lists them.

    Examples
    --------
    >>> import tempfile
    >>> from pecore.sr.settings import PRESETS
    >>> from pecore.sr.train import train_arm
    >>> d = tempfile.mkdtemp()
    >>> _ = train_arm("pixel", PRESETS["ci"], d, device="cpu", progress=False, data="Set5")
    >>> load_generator(d, device="cpu").model.scale
    4
    """
    p = Path(run)
    if not p.is_dir():
        raise DatasetError(f"SR run folder {p} does not exist")
    if not is_run_dir(p):
        base = p / "runs" if (p / "runs").is_dir() else p
        inner = sorted(str(q.relative_to(p)) for q in base.iterdir() if q.is_dir() and is_run_dir(q))
        hint = f"; it holds the runs {', '.join(inner)} (give one of those folders)" if inner else \
            "; train one with `pecore sr train` or give a runs/<arm> folder of `pecore sr run` results"
        raise DatasetError(f"{p} holds no trained SR generator (model.pt and train.json){hint}")
    return load_run(p, device=device)


def read_input_image(path: str | os.PathLike) -> torch.Tensor:
    """Read an image to upscale as ``(1, 3, h, w)`` in [0, 1]; greyscale is repeated, alpha dropped.

    Raises
    ------
    DatasetError
        The file does not exist.
    ImageError
        The file is not an image, or it is smaller than :data:`MIN_SIZE` pixels on a side.
    """
    from ..imageio import load_image

    p = Path(path)
    if p.is_dir():
        raise DatasetError(f"{p} is a folder, not an image file: give the images themselves (e.g. {p}/*.png)")
    if not p.is_file():
        raise DatasetError(f"image file {p} does not exist")
    try:  # one read: load_image names an unreadable file, which here means "not an image"
        x = load_image(p)
    except DatasetError as exc:
        raise ImageError(f"{p} is not an image file PIL can read (PNG, JPEG, BMP, TIFF, ...): {exc}") from exc
    h, w = x.shape[-2:]
    if h < MIN_SIZE or w < MIN_SIZE:
        raise ImageError(f"image {p} is {w}×{h} pixels; the generator needs at least {MIN_SIZE} pixels per side")
    return x.unsqueeze(0)


def upscale_image(model: torch.nn.Module, lr: torch.Tensor, *, tile: int = 192, margin: int | None = None) -> torch.Tensor:
    """Super-resolve ``lr`` ``(1, 3, h, w)`` with ``model``, in overlapping tiles of ``tile`` LR pixels.

    Each tile is run with ``margin`` extra LR pixels on each side (default: more than the network's
    receptive field, ``2 · blocks + 16``), which are cut off again, so the result equals one pass over
    the whole image (to float rounding) while memory stays bounded. The output is clamped to [0, 1].

    Examples
    --------
    >>> from pecore.sr.model import SRResNet
    >>> net = SRResNet(4, 2, 8)
    >>> x = torch.rand(1, 3, 20, 30)
    >>> bool(torch.allclose(upscale_image(net, x, tile=8, margin=12), net(x).clamp(0, 1), atol=1e-5))
    True
    """
    check_positive("tile", tile, integer=True)
    if margin is None:
        margin = 2 * sum(1 for m in model.modules() if type(m).__name__ == "ResidualBlock") + 16
    check_positive("margin", margin, integer=True, allow_zero=True)
    s = model.scale
    _, _, h, w = lr.shape
    dev = next(model.parameters()).device
    out = torch.empty(1, 3, h * s, w * s)
    with torch.no_grad():
        for top in range(0, h, tile):
            for left in range(0, w, tile):
                t0, l0 = max(0, top - margin), max(0, left - margin)
                t1, l1 = min(h, top + tile + margin), min(w, left + tile + margin)
                y = model(lr[..., t0:t1, l0:l1].to(dev)).clamp(0, 1).cpu()
                bh, bw = min(tile, h - top), min(tile, w - left)
                out[..., top * s:(top + bh) * s, left * s:(left + bw) * s] = \
                    y[..., (top - t0) * s:(top - t0 + bh) * s, (left - l0) * s:(left - l0 + bw) * s]
    return out


def apply_run(run: str | os.PathLike, images: Sequence[str | os.PathLike], out_dir: str | os.PathLike, *,
              device: str | torch.device = "auto") -> list[Path]:
    """Upscale each image with the generator of ``run`` and write ``<out_dir>/<stem>_x<scale>_<run name>.png``.

    Every input is checked before anything is written, and the batch is written whole or not at all
    (:func:`pecore.output.write_result_files`): a failure part-way (a full disk, an interrupt) removes the images
    already written and restores any it was replacing.

    Raises
    ------
    DatasetError
        No trained generator in ``run``, or an image file is missing.
    ImageError
        A file is not an image or is smaller than 2 pixels on a side.
    ParameterError
        Two inputs would write the same output (same file name in different folders), or an output would
        replace one of the inputs.
    OutputError
        ``out_dir`` cannot be written.
    """
    from ..imageio import image_bytes
    from ..output import check_writable, write_result_files

    if not images:
        raise DatasetError("sr apply needs at least one image")
    dev = resolve_device(device)
    gen = load_generator(run, device=dev)
    inputs = [(Path(p), read_input_image(p)) for p in images]
    out = check_writable(out_dir)
    names = _output_names([p for p, _ in inputs], out, f"x{gen.model.scale}_{gen.name}")

    def make(x: torch.Tensor) -> Callable[[], bytes]:
        return lambda: image_bytes(upscale_image(gen.model, x)[0])

    write_result_files(out, {name: make(x) for name, (_, x) in zip(names, inputs)})
    return [out / name for name in names]


def _output_names(paths: list[Path], out: Path, tag: str) -> list[str]:
    """The output file name of each input; two inputs writing one file, or an output replacing an input, refused."""
    names = [f"{p.stem}_{tag}.png" for p in paths]
    seen: dict[str, Path] = {}
    for p, name in zip(paths, names):
        if name.lower() in seen:  # also one file on a case-insensitive disk
            if seen[name.lower()].resolve() == p.resolve():
                raise ParameterError(f"{p} is given twice: give each image once")
            raise ParameterError(f"{seen[name.lower()]} and {p} would both be written to {out / name}: rename one, "
                                 "or upscale them into different --out folders")
        seen[name.lower()] = p
    inputs = {p.resolve() for p in paths}
    for name in names:
        if (out / name).resolve() in inputs:
            raise ParameterError(f"the output {out / name} would replace an input image: choose another --out")
    return names

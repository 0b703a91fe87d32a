"""The reconstruction experiment: invert top-PE, bottom-PE, random and all channels of layers, and measure.

For every layer, channel subset (top-p % PE, bottom-p % PE, random-p % with several draws, all),
image and noise seed, :func:`pecore.reconstruction.invert.invert` rebuilds the image and
:func:`pecore.reconstruction.measures.measure` scores what it kept. Every subset of a layer gets the
same budget and the same noise starts (noise seed ``s`` gives the same start image for every subset),
so subsets can be compared pairwise per image and seed. Each batch of reconstructions is cached
under a key of every input (network weights, layer, channels, settings, image bytes, seeds).
"""
from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from ..progress import progress_bar as tqdm

from ..cache import cache_key, load_arrays, save_arrays
from ..device import resolve_device
from ..errors import DatasetError, ParameterError
from ..imageio import load_image
from ..networks import Network
from ..experiment import ExperimentResult, read_checked, read_provenance, stored_or_compute
from ..provenance import provenance_record
from ..selection import SUBSETS, select_channels, subset_size
from ..validate import check_choice, check_fraction, check_positive
from .images import load_square_images
from .invert import invert, relative_change
from .measures import MEASURES, measure
from .settings import ReconstructionSettings

__all__ = [
    "CONVERGED_BELOW",
    "SAVED_INITS",
    "ReconstructionResult",
    "stored_dir",
    "run",
    "chapter_result",
]

#: a run counts as converged when its objective changed by less than this share over its last 10 % of steps
CONVERGED_BELOW = 0.01


def stored_dir(network: str, preset: str = "paper") -> Path:
    """Folder of the committed reconstruction results of ``network`` under ``preset``.

    Examples
    --------
    >>> stored_dir("vgg16").parts[-2:]
    ('reconstruction', 'vgg16-paper')
    """
    from ..stored import stored_results

    return stored_results("reconstruction", network, preset)


def _key(layer: str, subset: str, draw: int, tv_weight: float) -> str:
    return f"{layer}/{subset}/{draw}/tv{tv_weight:g}"


#: images of this many noise starts (inits) per reconstruction are written by :meth:`ReconstructionResult.save`
SAVED_INITS = 1


@dataclass
class ReconstructionResult(ExperimentResult):
    """Reconstructions of the experiment, their measures (a tidy table) and provenance.

    Attributes
    ----------
    table
        One row per reconstruction: network, weights_source, layer, subset, p, draw, subset_seed,
        n_channels, tv_weight (the prior), image, image_name, seed (the noise start), final_loss, final_feature_loss, rel_change_last10 (the
        objective's relative change over the last 10 % of steps: < 0.01 counts as converged), and the measures.
    originals
        ``(n_images, 3, H, W)`` float32 targets.
    images
        ``'layer/subset/draw/tvλ'`` → ``(n_images, n_inits, 3, H, W)`` float32 reconstructions (read back from
        a saved result: the first :data:`SAVED_INITS` inits only).
    losses
        ``'layer/subset/draw/tvλ'`` → ``(steps, n_images, n_seeds)`` objective histories.
    channels
        ``'layer/subset/draw/tvλ'`` → channel indices.
    provenance
        What made the result (see :func:`pecore.provenance.provenance_record`).
    """

    table: pd.DataFrame
    originals: np.ndarray
    images: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    channels: dict[str, np.ndarray]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def image_names(self) -> list[str]:
        """Image names in order."""
        return list(self.table.drop_duplicates("image").sort_values("image").image_name)

    def reconstruction(self, layer: str, subset: str, image: int, seed_index: int = 0, draw: int = 0,
                       tv_weight: float | None = None) -> np.ndarray:
        """One reconstruction ``(3, H, W)`` (``tv_weight``: the prior; default the first of the run's)."""
        tv = self.priors[0] if tv_weight is None else float(tv_weight)
        key = _key(layer, subset, draw, tv)
        if key not in self.images:
            raise ParameterError(f"no reconstruction {key!r}; have: {', '.join(self.images)}")
        if not 0 <= seed_index < self.images[key].shape[1]:
            raise ParameterError(f"init {seed_index} of {key!r} is not kept: {self.images[key].shape[1]} init(s) "
                                 "have images (the measures of every init are in the table)")
        return self.images[key][image, seed_index]

    @property
    def priors(self) -> list[float]:
        """The λ_TV values of the run, in the order run (the first is the chapter's main prior)."""
        return [float(v) for v in dict.fromkeys(self.table.tv_weight)]

    def summary(self, n_boot: int | None = None, seed: int = 0) -> pd.DataFrame:
        """Mean ± 95 % interval of each measure per layer, prior and subset, resampling photographs, inits and
        random draws independently (:func:`pecore.statistics.summarise` with ``resample``)."""
        from .. import statistics

        n_boot = n_boot or int(self.provenance.get("parameters", {}).get("n_boot", 1000))
        measures = [m for m in MEASURES if m in self.table.columns]
        return statistics.summarise(self.table, ("layer", "tv_weight", "subset"), measures, n_boot=n_boot, seed=seed,
                                    resample=("image", "seed", "draw"))

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``metrics.csv``, ``arrays.npz`` (losses, channels), PNGs and ``provenance.json`` (with the sha256
        of every file): all of them or, on any failure, none (the previous result stays)."""
        from ..imageio import image_bytes
        from ..output import check_writable

        out = check_writable(out_dir)  # created with the files (and removed with them on failure)
        arrays = {f"loss/{k}": v.astype(np.float32) for k, v in self.losses.items()}
        arrays.update({f"channels/{k}": v.astype(np.int64) for k, v in self.channels.items()})
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        files = {"metrics.csv": self.table.to_csv(index=False, float_format="%.6g").encode(),
                 "arrays.npz": buf.getvalue()}
        files.update({f"images/original_{i:02d}_{name}.png": image_bytes(torch.from_numpy(self.originals[i]))
                      for i, name in enumerate(self.image_names)})
        files.update({f"images/{key.replace('/', '_')}_img{i:02d}_seed{s}.png": image_bytes(torch.from_numpy(imgs[i, s]))
                      for key, imgs in self.images.items() for i in range(imgs.shape[0])
                      for s in range(min(SAVED_INITS, imgs.shape[1]))})  # the first inits' images
        return self.write_checked(out, files)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ReconstructionResult:
        """Read a result written by :meth:`save` (images from their 8-bit PNGs).

        Raises
        ------
        DatasetError
            A file is missing.
        """
        return _load(Path(folder))


def _load(folder: Path) -> ReconstructionResult:
    if missing := [n for n in ("metrics.csv", "arrays.npz", "provenance.json") if not (folder / n).is_file()]:
        raise DatasetError(f"{folder / missing[0]} is missing: not a saved reconstruction result")
    prov = read_provenance(folder)
    if "store" in prov:  # written with checksums: every file is checked before it is used
        prov = read_checked(folder, list(prov["store"].get("sha256", {})), "`pecore reconstruction`")
    table = pd.read_csv(folder / "metrics.csv")
    with np.load(folder / "arrays.npz", allow_pickle=False) as data:
        losses = {k[len("loss/"):]: data[k] for k in data.files if k.startswith("loss/")}
        channels = {k[len("channels/"):]: data[k] for k in data.files if k.startswith("channels/")}
    names = list(table.drop_duplicates("image").sort_values("image").image_name)
    n_seeds = min(SAVED_INITS, int(table.groupby(["layer", "subset", "draw", "tv_weight", "image"]).size().max()))

    def read(path: Path) -> np.ndarray:
        return load_image(path).numpy()

    originals = np.stack([read(folder / "images" / f"original_{i:02d}_{n}.png") for i, n in enumerate(names)])
    images = {}
    for key in losses:
        stem = key.replace("/", "_")
        images[key] = np.stack([np.stack([read(folder / "images" / f"{stem}_img{i:02d}_seed{s}.png")
                                          for s in range(n_seeds)]) for i in range(len(names))])
    return ReconstructionResult(table, originals, images, losses, channels, prov)


def _digest(x: torch.Tensor) -> str:
    return hashlib.sha256(x.detach().cpu().float().contiguous().numpy().tobytes()).hexdigest()[:24]


def _batch_rows(common: dict[str, Any], arrays: dict[str, np.ndarray], imgs: np.ndarray, targets: torch.Tensor,
                names: list[str], noise_seeds: list[int]) -> list[dict[str, Any]]:
    """One table row per image × noise seed of a batch: its losses, convergence and measures."""
    converged = relative_change(arrays["loss"])
    rows = []
    for i in range(imgs.shape[0]):
        for s, noise_seed in enumerate(noise_seeds):
            b = i * len(noise_seeds) + s
            rows.append({**common, "image": i, "image_name": names[i], "seed": noise_seed,
                         "final_loss": float(arrays["loss"][-1, b]),
                         "final_feature_loss": float(arrays["feature_loss"][-1, b]),
                         "rel_change_last10": float(converged[b]),
                         **measure(torch.from_numpy(imgs[i, s]), targets[i])})
    return rows


def run(
    network: Network,
    pe_table: pd.DataFrame,
    settings: ReconstructionSettings,
    *,
    layers: Sequence[str] | None = None,
    subsets: Sequence[str] = SUBSETS,
    p: float = 25.0,
    images: Sequence[str | os.PathLike] | None = None,
    seed: int = 0,
    preset: str | None = None,
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = False,
) -> ReconstructionResult:
    """Invert every layer × subset × image × noise seed and measure each reconstruction.

    Length: the checks of every input come first (nothing runs on a bad one), then the one loop over batches.

    Parameters
    ----------
    network
        The network (its weights identify the cache entries).
    pe_table
        The PE table (``ProbeResult.table``) the subsets are chosen from.
    settings
        The preset's :class:`~pecore.reconstruction.settings.ReconstructionSettings` (size, steps,
        lr, λ_TV, β, jitter, parameterisation, images, seeds, random draws, bootstrap size).
    layers, subsets, p
        Layers (default: ``settings.layers``), subsets ('top', 'bottom', 'random', 'all') and subset size
        in percent.
    images
        Set14 stems/names or image files; default ``settings.images``.
    seed
        Base seed: noise seeds (inits) are ``seed, seed + 1, …`` (``settings.n_seeds`` of them); random
        subsets are drawn with ``seed + draw`` (``settings.n_random_draws`` draws). Every subset and prior
        starts from the same noise images.
    preset
        Name of the preset, for the provenance record.
    device
        'auto', 'cpu', 'cuda', ...
    cache
        Read and write the reconstruction cache (:mod:`pecore.cache`).
    progress
        Show a progress bar over the batches.

    Returns
    -------
    ReconstructionResult

    Raises
    ------
    UnknownNameError
        An unknown layer or subset.
    ParameterError
        A bad p, an empty list, or a layer missing from ``pe_table``.

    Examples
    --------
    >>> from pecore import load_network
    >>> from pecore.reconstruction.settings import get_settings as get_reconstruction_settings
    >>> net = load_network("vgg16", device="cpu")
    >>> sc = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    >>> s = get_reconstruction_settings("ci")
    >>> r = run(net, sc, s, layers=["relu1_2"], subsets=["top", "all"], images=["baboon"], device="cpu")
    >>> sorted(r.table.subset.unique()), len(r.table), bool(r.table.psnr.gt(10).all())
    (['all', 'top'], 8, True)
    """
    dev = resolve_device(device)
    check_fraction("p", p)
    check_positive("seed", seed, integer=True, allow_zero=True)
    layers = settings.layers if layers is None else layers
    if len(layers) == 0 or len(subsets) == 0:
        raise ParameterError("layers and subsets must each name at least one entry")
    layers = network.extractor.check_layers(list(layers))
    for s in subsets:
        check_choice("channel subset", s, SUBSETS)
    known = set(pe_table.layer.unique()) if "layer" in pe_table else set()
    missing = [layer for layer in layers if layer not in known and any(s != "all" for s in subsets)]
    if missing:
        raise ParameterError(f"layers {missing} have no PE scores; scored layers: {sorted(known)}")
    if any(s != "all" for s in subsets):
        from ..probe_result import check_pe_table_for

        check_pe_table_for(pe_table, network, layers)
    targets, names = load_square_images(list(images or settings.images), settings.image_size, device="cpu")
    n_img, n_seeds = targets.shape[0], settings.n_seeds
    noise_seeds = [seed + k for k in range(n_seeds)]
    batch = targets.repeat_interleave(n_seeds, dim=0)  # image-major: (i, s) at i * n_seeds + s
    batch_seeds = noise_seeds * n_img
    digest = _digest(targets)
    if not settings.tv_weights:
        raise ParameterError("settings.tv_weights names no prior: give at least one λ_TV (0 for none)")
    for tv in settings.tv_weights:
        check_positive("tv_weights value", tv, allow_zero=True)
    if len(set(settings.tv_weights)) != len(settings.tv_weights):
        raise ParameterError(f"settings.tv_weights {list(settings.tv_weights)} names a prior twice")
    base_args = dict(steps=settings.steps, lr=settings.lr, lr_schedule=settings.lr_schedule, tv_beta=settings.tv_beta,
                     jitter=settings.jitter, parameterisation=settings.parameterisation)

    jobs = [(layer, subset, draw, float(tv)) for layer in layers for tv in settings.tv_weights for subset in subsets
            for draw in range(settings.n_random_draws if subset == "random" else 1)]
    rows, images_out, losses_out, channels_out = [], {}, {}, {}
    cache_hits = 0
    for layer, subset, draw, tv in tqdm(jobs, desc="reconstruct", disable=not progress, unit="batch"):
        recon_args = {**base_args, "tv_weight": tv}
        subset_seed = seed + draw
        if subset == "all":
            chans = np.arange(int(network.channels[layer]))
        else:
            chans = select_channels(pe_table, layer, subset, p, seed=subset_seed)
        key = cache_key("recon", {**network.identity, "layer": layer, "channels": chans, **recon_args,
                                  "images": digest, "seeds": batch_seeds})
        arrays = load_arrays(key, keys=("image", "loss", "feature_loss")) if cache else None
        if arrays is None:
            inv = invert(network, batch, layer, {layer: chans}, seed=batch_seeds, device=dev, **recon_args)
            arrays = {"image": inv.image.numpy().astype(np.float32), "loss": inv.loss.astype(np.float32),
                      "feature_loss": inv.feature_loss.astype(np.float32)}
            if cache:
                save_arrays(key, arrays)
        else:
            cache_hits += 1
        jk = _key(layer, subset, draw, tv)
        imgs = arrays["image"].reshape(n_img, n_seeds, *arrays["image"].shape[1:])
        images_out[jk] = imgs
        losses_out[jk] = arrays["loss"].reshape(-1, n_img, n_seeds)
        channels_out[jk] = chans
        common = {"network": network.name, "weights_source": network.weights.source, "layer": layer,
                  "subset": subset, "p": 100.0 if subset == "all" else float(p), "draw": draw,
                  "subset_seed": subset_seed if subset == "random" else -1, "n_channels": len(chans), "tv_weight": tv}
        rows += _batch_rows(common, arrays, imgs, targets, names, noise_seeds)
    table = pd.DataFrame(rows)
    params = {**settings.as_dict(), "converged_below": CONVERGED_BELOW,  # first: the layers actually inverted replace the preset's default layers
              "layers": list(layers), "subsets": list(subsets), "p": float(p), "seed": seed, "images": names,
              "subset_sizes": {layer: subset_size(int(network.channels[layer]), p) for layer in layers}}
    prov = provenance_record(network=network, preset=preset, parameters=params, device=dev, cache_hits=cache_hits,
                             batches=len(jobs))
    prov["layers"] = list(layers)
    return ReconstructionResult(table, targets.numpy(), images_out, losses_out, channels_out, prov)


def chapter_result(network: str, preset: str, *, layers: Sequence[str] | None = None, p: float = 25.0,
                   subsets: Sequence[str] = SUBSETS, seed: int = 0, use_stored: bool = True,
                   device: str | torch.device = "auto", progress: bool = False) -> ReconstructionResult:
    """The chapter's reconstructions: the stored results of ``preset`` when allowed, present and matching,
    else a (cached) :func:`run` under ``preset`` with PE scores from the preset's probe preset.

    Stored results are used only when they were made with the same layers, p, subsets and seed.
    ``provenance['stored']`` says which was used, ``provenance['stored_reason']`` why not, and
    ``provenance['scores']`` where the PE ranking came from.

    Examples
    --------
    >>> r = chapter_result("vgg16", "book")
    >>> r.provenance["stored"], r.provenance["preset"], len(r.image_names)
    (True, 'book', 10)
    """
    from ..notebook import chapter_probe
    from .settings import get_settings

    from ..networks import NETWORKS
    from .settings import layers_for

    settings = get_settings(preset)
    if layers is None:
        taps = NETWORKS[network].taps if network in NETWORKS else settings.layers
        layers = layers_for(tuple(taps), settings.layers)
    layers = list(layers)
    wanted = {"layers": layers, "p": float(p), "subsets": list(subsets), "seed": int(seed)}

    def mismatch(res: ReconstructionResult) -> str | None:
        par = res.provenance.get("parameters", {})
        have = {"layers": list(par.get("layers", [])), "p": float(par.get("p", -1)),
                "subsets": list(par.get("subsets", [])), "seed": int(par.get("seed", -1))}
        diff = [k for k in wanted if have[k] != wanted[k]]
        return f"the stored run has other {', '.join(diff)}" if diff else None

    def compute() -> ReconstructionResult:
        from ..networks import load_network

        probed = chapter_probe(network, settings.probe_preset, use_stored=use_stored, device=device)
        res = run(load_network(network, device=device), probed.table, settings, layers=layers, subsets=subsets, p=p,
                  seed=seed, preset=preset, device=device, progress=progress)
        res.provenance["scores"] = ("stored paper-preset probe" if probed.provenance.get("stored")
                                    else f"probe under preset {settings.probe_preset}")
        return res

    return stored_or_compute(stored_dir(network, preset), ReconstructionResult.load, mismatch, compute,
                             use_stored=use_stored)

"""Per-pair, per-channel distance terms of an IQA dataset: one forward pass per image serves the whole grid.

:func:`pair_terms` stores, for every image pair, each channel's distance term ``mean_hw (f̂_ref − f̂_dist)²``
(reference features are computed once per reference image and shared by its distortions); any subset
metric, p and seed is then a masked sum of these terms, and LPIPS is their dot product with its learned
weights. The terms are cached on disk (:mod:`pecore.cache`), keyed by the network's weights, every image
file, and the resize.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..cache import cache_key, load_arrays, save_arrays
from ..errors import DatasetError, ParameterError
from ..metric import unit_normalise
from ..networks import Network
from ..validate import check_choice
from .baselines import psnr, ssim
from .datasets import FRDataset

__all__ = ["PairTerms", "limit_pairs", "dataset_terms", "pair_terms", "pair_baselines"]


@dataclass
class PairTerms:
    """Per-channel distance terms of every image pair for one network.

    ``terms[layer]`` is ``(n_pairs, C)``; row i belongs to pair i of the dataset.
    """

    network: str
    layers: list[str]
    terms: dict[str, np.ndarray]
    provenance: dict[str, Any] = field(default_factory=dict)

    def total(self, layer: str, channels: np.ndarray | None = None) -> np.ndarray:
        """Sum of the terms of ``channels`` (default: all) of ``layer``, ``(n_pairs,)``."""
        t = self.terms[check_choice("layer with terms", layer, self.layers)]
        return t.sum(1) if channels is None else t[:, channels].sum(1)

    def weighted(self, weights: Sequence[Any]) -> np.ndarray:
        """``Σ_layers terms @ w`` for one weight vector per layer (e.g. LPIPS's), ``(n_pairs,)``."""
        if len(weights) != len(self.layers):
            raise ParameterError(f"need {len(self.layers)} weight vectors, got {len(weights)}")
        return sum(self.terms[k] @ np.asarray(w, dtype=np.float64) for k, w in zip(self.layers, weights))


def limit_pairs(dataset: FRDataset, max_pairs: int | None) -> FRDataset:
    """At most ``max_pairs`` pairs, evenly spaced over the table (every distortion kind stays in).

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> from pecore.iqa.datasets import load_live
    >>> len(limit_pairs(load_live(shared_data_dir() / "iqa/live-r2-subset"), 10))
    10
    """
    if max_pairs is None or len(dataset) <= max_pairs:
        return dataset
    idx = np.unique(np.linspace(0, len(dataset) - 1, max_pairs).round().astype(int))
    return dataset.subset(idx)


def _groups(dataset: FRDataset, size: int | None, device: torch.device, batch_size: int
            ) -> Iterator[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:
    """(row indices, reference (1, 3, H, W), distorted batch) per reference image, in batches."""
    from ..imageio import load_image

    for ref_path, rows in dataset.pairs.groupby("ref", sort=False).groups.items():
        rows = np.asarray([dataset.pairs.index.get_loc(r) for r in rows])
        ref = load_image(ref_path, size=size, device=device)[None]
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            dists = torch.stack([load_image(dataset.pairs.dist.iloc[i], size=size, device=device) for i in chunk])
            if dists.shape[-2:] != ref.shape[-2:]:
                raise DatasetError(f"{ref_path} is {tuple(ref.shape[-2:])} but its distorted images are "
                                   f"{tuple(dists.shape[-2:])}")
            yield chunk, ref, dists


def _terms_key(network: Network, layers: list[str], size: int | None, identity: dict[str, Any]) -> str:
    return cache_key("iqa-terms", {**network.identity, "layers": layers, "size": size, "data": identity})


def _check_size(size: Any) -> None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 16):
        raise ParameterError(f"image size must be an integer >= 16 (shorter side in pixels) or None, got {size!r}")


def dataset_terms(networks: Sequence[Network], dataset: FRDataset, *, size: int | None = None, batch_size: int = 8,
                  baselines: bool = True, cache: bool = True, progress: bool = False
                  ) -> tuple[dict[str, PairTerms], pd.DataFrame | None]:
    """Per-channel terms of every pair for several networks, and PSNR/SSIM, reading each image once.

    Each network's reference features are computed once per reference image and shared by its
    distortions. Terms and baselines are cached; only what is missing from the cache is computed.

    Returns
    -------
    terms
        network name → :class:`PairTerms` (layers: the network's taps).
    baselines
        One row per pair with ``psnr`` and ``ssim`` (``None`` unless ``baselines``).
    """
    _check_size(size)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ParameterError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    identity = dataset.identity()
    out: dict[str, PairTerms] = {}
    todo: list[tuple[Network, list[str], str]] = []
    for net in networks:
        layers = list(net.taps)
        key = _terms_key(net, layers, size, identity)
        prov = {"network": net.name, "layers": layers, "image_size": size, "cache_key": key, "cache_hit": False}
        hit = load_arrays(key, keys=layers) if cache else None
        if hit is not None:
            out[net.name] = PairTerms(net.name, layers, {k: hit[k] for k in layers}, {**prov, "cache_hit": True})
        else:
            out[net.name] = PairTerms(net.name, layers, {k: np.zeros((len(dataset), net.channels[k])) for k in layers},
                                      prov)
            todo.append((net, layers, key))
    bkey = cache_key("iqa-baselines", {"size": size, "data": identity, "version": 2})
    base = None
    if baselines:
        hit = load_arrays(bkey, keys=("psnr", "ssim")) if cache else None
        base = pd.DataFrame({k: hit[k] for k in ("psnr", "ssim")}) if hit is not None else None
    need_base = baselines and base is None
    if todo or need_base:
        t0 = time.perf_counter()
        vals = {"psnr": np.zeros(len(dataset)), "ssim": np.zeros(len(dataset))}
        bar = _progress(len(dataset), "IQA features") if progress else None
        ref_feats: dict[str, dict[str, torch.Tensor]] = {}
        last_ref = None
        with torch.inference_mode():
            for rows, ref, dists in _groups(dataset, size, torch.device("cpu"), batch_size):
                for net, layers, _ in todo:
                    dev = net.device
                    if ref is not last_ref:
                        f = net.extractor(ref.to(dev).contiguous(memory_format=torch.channels_last), layers)
                        ref_feats[net.name] = {k: unit_normalise(f[k]) for k in layers}
                    fd = net.extractor(dists.to(dev).contiguous(memory_format=torch.channels_last), layers)
                    for k in layers:
                        t = (unit_normalise(fd[k]) - ref_feats[net.name][k]).pow(2).mean(dim=(2, 3))
                        out[net.name].terms[k][rows] = t.double().cpu().numpy()
                last_ref = ref
                if need_base:
                    vals["psnr"][rows] = psnr(ref, dists).double().numpy()
                    vals["ssim"][rows] = ssim(ref, dists).double().numpy()
                if bar is not None:
                    bar.update(len(rows))
        if bar is not None:
            bar.close()
        seconds = round(time.perf_counter() - t0, 2)
        for net, layers, key in todo:
            out[net.name].provenance["seconds"] = seconds
            if cache:
                save_arrays(key, out[net.name].terms)
        if need_base:
            base = pd.DataFrame(vals)
            if cache:
                save_arrays(bkey, vals)
    return out, base


def pair_terms(network: Network, dataset: FRDataset, *, size: int | None = None, batch_size: int = 8,
               cache: bool = True, progress: bool = False) -> PairTerms:
    """Per-channel distance terms of every pair of ``dataset`` on the network's taps (cached).

    Parameters
    ----------
    network
        The network (its device is used).
    dataset
        Full-reference pairs.
    size
        Shorter side the images are resized to (``None``: native).
    batch_size
        Distorted images per forward pass.
    cache
        Read and write the on-disk cache.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.imageio import shared_data_dir
    >>> from pecore.iqa.datasets import load_tid2013
    >>> ds = load_tid2013(shared_data_dir() / "iqa/tid2013-subset")
    >>> t = pair_terms(load_network("alexnet", device="cpu"), ds, size=48, cache=False)
    >>> t.terms["relu3"].shape
    (6, 384)
    """
    terms, _ = dataset_terms([network], dataset, size=size, batch_size=batch_size, baselines=False, cache=cache,
                             progress=progress)
    return terms[network.name]


def _progress(total: int, desc: str):
    try:
        from ..progress import progress_bar as tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, leave=False)


def pair_baselines(dataset: FRDataset, *, size: int | None = None, cache: bool = True) -> pd.DataFrame:
    """PSNR and SSIM of every pair (on the same resized images the networks see; cached).

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> from pecore.iqa.datasets import load_tid2013
    >>> b = pair_baselines(load_tid2013(shared_data_dir() / "iqa/tid2013-subset"), size=64, cache=False)
    >>> list(b.columns), len(b)
    (['psnr', 'ssim'], 6)
    """
    return dataset_terms([], dataset, size=size, baselines=True, cache=cache)[1]

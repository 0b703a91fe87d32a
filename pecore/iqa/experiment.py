"""The IQA experiment: do channel subsets chosen by PE predict human quality judgments better?

One forward pass per image serves the whole grid. :func:`pair_terms` stores, for every image pair,
each channel's distance term ``mean_hw (f̂_ref − f̂_dist)²`` (reference features are computed once
per reference image and shared by its distortions); any subset metric, p and seed is then a masked
sum of these terms, and LPIPS is their dot product with its learned weights. The terms are cached
on disk (:mod:`pecore.cache`), keyed by the network's weights, every image file, and the resize.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..cache import atomic_write_text, cache_key, load_arrays, save_arrays
from ..errors import DatasetError, ParameterError
from ..metric import unit_normalise
from ..networks import Network
from ..provenance import provenance_record
from ..selection import select_channels
from ..validate import check_choice
from .baselines import BASELINES, psnr, ssim
from .datasets import FRDataset
from .settings import IQASettings
from .stats import (STATISTICS, _wpearson, _wranks, agreement_sign, bootstrap_weights, correlations,
                    paired_difference, srocc)

__all__ = [
    "PairTerms",
    "IQAResult",
    "dataset_terms",
    "pair_terms",
    "pair_baselines",
    "subset_predictions",
    "subset_grid",
    "baseline_rows",
    "channel_level",
    "run_iqa",
    "limit_pairs",
]


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
        hit = load_arrays(key) if cache else None
        if hit is not None:
            out[net.name] = PairTerms(net.name, layers, {k: hit[k] for k in layers}, {**prov, "cache_hit": True})
        else:
            out[net.name] = PairTerms(net.name, layers, {k: np.zeros((len(dataset), net.channels[k])) for k in layers},
                                      prov)
            todo.append((net, layers, key))
    bkey = cache_key("iqa-baselines", {"size": size, "data": identity, "version": 1})
    base = None
    if baselines:
        hit = load_arrays(bkey) if cache else None
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
        from tqdm.auto import tqdm
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


def _layer_table(table: pd.DataFrame, layer: str) -> pd.DataFrame:
    rows = table[table.layer == layer]
    if rows.empty:
        check_choice("layer of the channel scores", layer, sorted(table.layer.unique()))
    return rows


def subset_predictions(terms: PairTerms, table: pd.DataFrame, layers: Sequence[str], subset: str, p: float,
                       seeds: Sequence[int] = (0,)) -> tuple[np.ndarray, int]:
    """Distances of a PE subset on ``layers`` (summed), one row per seed: ``(S, n_pairs)``, channels used.

    Examples
    --------
    >>> t = PairTerms("n", ["l"], {"l": np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 1.0]])})
    >>> tab = pd.DataFrame({"layer": "l", "channel": [0, 1, 2], "pe": [0.9, 0.1, 0.5], "dead": False})
    >>> pred, n = subset_predictions(t, tab, ["l"], "top", 67)
    >>> pred.tolist(), n
    ([[5.0, 1.0]], 2)
    """
    preds, n_channels = [], 0
    for seed in seeds:
        total, n_channels = 0.0, 0
        for layer in layers:
            idx = select_channels(table, layer, subset, p, seed=seed)
            total = total + terms.total(layer, idx)
            n_channels += len(idx)
        preds.append(total)
    return np.stack(preds), n_channels


def subset_grid(terms: PairTerms, table: pd.DataFrame, human: np.ndarray, groups: np.ndarray, *,
                human_higher_is_better: bool, settings: IQASettings, seed: int = 0,
                layer_sets: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The grid of method.md §8: top / bottom / random (seeds) / all channels, each p, each layer and all.

    Returns a tidy table, one row per (layers, subset, p) with SROCC, KROCC and PLCC, their intervals
    (``*_lo``, ``*_hi``) and, for random subsets, their spread over seeds (``*_sd``).
    """
    layer_sets = layer_sets or {**{k: [k] for k in terms.layers}, "all": list(terms.layers)}
    rows = []
    kept: dict[tuple[str, str, float], np.ndarray] = {}
    for label, layers in layer_sets.items():
        for subset in ("top", "bottom", "random", "all"):
            for p in (settings.ps if subset != "all" else (100.0,)):
                seeds = list(range(seed, seed + settings.n_seeds)) if subset == "random" else [seed]
                pred, n_ch = subset_predictions(terms, table, layers, subset, p, seeds)
                kept[(label, subset, p)] = pred
                stats = STATISTICS
                r = correlations(pred, human, pred_higher_is_better=False, human_higher_is_better=human_higher_is_better,
                                 groups=groups, n_boot=settings.n_boot, seed=seed, level=settings.level,
                                 stats=stats if subset != "random" or settings.random_plcc_interval else ("srocc", "krocc"))
                if subset == "random" and not settings.random_plcc_interval:
                    extra = correlations(pred, human, pred_higher_is_better=False,
                                         human_higher_is_better=human_higher_is_better, groups=groups, n_boot=0,
                                         stats=("plcc",))
                    r.update({k: v for k, v in extra.items() if k.startswith("plcc")})
                rows.append({"network": terms.network, "layers": label, "subset": subset, "p": p,
                             "n_channels": n_ch, "n_seeds": len(seeds), **r})
    out = pd.DataFrame(rows)
    # paired comparisons of the top-PE subset with the bottom-PE and random subsets (SROCC, same resamples)
    for other in ("bottom", "random"):
        for col in ("diff", "lo", "hi"):
            out[f"top_minus_{other}_{col}"] = np.nan
    for i, r in out[out.subset == "top"].iterrows():
        for other in ("bottom", "random"):
            d = paired_difference(kept[(r.layers, "top", r.p)], kept[(r.layers, other, r.p)], human,
                                  pred_higher_is_better=False, human_higher_is_better=human_higher_is_better,
                                  groups=groups, n_boot=settings.n_boot, seed=seed, level=settings.level)
            for col in ("diff", "lo", "hi"):
                out.loc[i, f"top_minus_{other}_{col}"] = d[col]
    return out


def baseline_rows(predictions: dict[str, np.ndarray], human: np.ndarray, groups: np.ndarray, *,
                  human_higher_is_better: bool, settings: IQASettings, seed: int = 0) -> pd.DataFrame:
    """The baselines' rows (PSNR, SSIM, LPIPS-vgg, LPIPS-alex), in the grid's format."""
    rows = []
    for name, pred in predictions.items():
        r = correlations(pred, human, pred_higher_is_better=BASELINES[name], human_higher_is_better=human_higher_is_better,
                         groups=groups, n_boot=settings.n_boot, seed=seed, level=settings.level)
        rows.append({"network": "-", "layers": "-", "subset": name, "p": np.nan, "n_channels": 0, "n_seeds": 1, **r})
    return pd.DataFrame(rows)


def channel_level(terms: PairTerms, table: pd.DataFrame, human: np.ndarray, groups: np.ndarray, *,
                  human_higher_is_better: bool, n_boot: int = 200, seed: int = 0, level: float = 0.95,
                  chunk: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each channel's SROCC against the human scores, and per layer Spearman ρ(PE, that SROCC).

    A channel alone is a distance (lower is better); its SROCC is signed so that positive means it
    agrees with people. Dead channels (and channels whose terms are constant) have no SROCC and are
    left out of ρ. The interval of ρ resamples reference images: every resample recomputes every
    channel's SROCC, then ρ.

    Returns
    -------
    channels
        One row per channel: layer, channel, pe, dead, srocc.
    summary
        One row per layer: rho, rho_lo, rho_hi, n_channels (live channels used).
    """
    sign = agreement_sign(False, human_higher_is_better)
    w1 = np.ones((1, human.size))
    ry1 = _wranks(human[None], w1)[:, 0]
    rows, summary = [], []
    wb = bootstrap_weights(groups, human.size, n_boot, seed) if n_boot else None
    for layer in terms.layers:
        t = _layer_table(table, layer).sort_values("channel")
        if t.channel.tolist() != list(range(terms.terms[layer].shape[1])):
            raise ParameterError(f"the channel scores of {layer} do not list channels 0..{terms.terms[layer].shape[1] - 1} "
                                 f"once each: are they scores of {terms.network}?")
        x = sign * terms.terms[layer].T  # (C, n)
        const = np.ptp(x, axis=1) == 0
        dead = t.dead.to_numpy(bool) if "dead" in t else np.zeros(len(t), bool)
        ok = ~const & ~dead
        s = np.full(len(x), np.nan)
        s[ok] = _wpearson(_wranks(x[ok], w1)[0], ry1, w1)
        pe = t.pe.to_numpy(float)
        for c, (ch, pv, d, v) in enumerate(zip(t.channel, pe, dead, s)):
            rows.append({"network": terms.network, "layer": layer, "channel": int(ch), "pe": pv, "dead": bool(d),
                         "srocc": v})
        rho = srocc(pe[ok], s[ok]) if ok.sum() >= 3 else np.nan
        lo = hi = np.nan
        if wb is not None and ok.sum() >= 3:
            boots = []
            for start in range(0, n_boot, chunk):
                wc = wb[start:start + chunk]
                ry = _wranks(human[None], wc)[:, 0]  # (b, n)
                rx = _wranks(x[ok], wc)  # (b, C, n)
                sc = _wpearson(rx, ry[:, None, :], wc[:, None, :])  # (b, C)
                for row in sc:
                    good = np.isfinite(row)
                    boots.append(srocc(pe[ok][good], row[good]) if good.sum() >= 3 else np.nan)
            boots = np.asarray(boots)
            boots = boots[np.isfinite(boots)]
            if boots.size:
                lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
        summary.append({"network": terms.network, "layer": layer, "rho": rho, "rho_lo": float(lo), "rho_hi": float(hi),
                        "n_channels": int(ok.sum()), "n_dead_or_constant": int((~ok).sum()),
                        "srocc_median": float(np.nanmedian(s)) if ok.any() else np.nan})
    return pd.DataFrame(rows), pd.DataFrame(summary)


@dataclass
class IQAResult:
    """Everything the IQA chapter shows: the grid, baselines, channel-level test, per-pair values."""

    grid: pd.DataFrame
    channels: pd.DataFrame
    channel_summary: pd.DataFrame
    pairs: pd.DataFrame
    provenance: dict[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """Grid and baseline rows together."""
        return self.grid

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``grid.csv``, ``channels.csv``, ``channel_summary.csv``, ``pairs.csv``, ``provenance.json``."""
        from ..pipeline import check_output_dir

        out = check_output_dir(out_dir)
        for name in ("grid", "channels", "channel_summary", "pairs"):
            atomic_write_text(out / f"{name}.csv", getattr(self, name).to_csv(index=False, float_format="%.6g"))
        atomic_write_text(out / "provenance.json", json.dumps(self.provenance, indent=2, default=str) + "\n")
        return out


def run_iqa(dataset: FRDataset, network: Network | str = "vgg16", scores: Any = None, *,
            settings: IQASettings | None = None, preset: str = "quick", device: str | torch.device = "auto",
            seed: int = 0, cache: bool = True, progress: bool = False) -> IQAResult:
    """Run the IQA experiment of method.md §8 on one full-reference dataset.

    Parameters
    ----------
    dataset
        A :class:`FRDataset` (see :func:`pecore.iqa.datasets.load_dataset`).
    network
        The network whose channels are studied ('vgg16', 'alexnet' or a loaded network).
    scores
        Its channel scores (a table with layer, channel, pe, dead, or a ``ChannelScores``).
    settings
        The grid and budgets (default: those of ``preset``).
    device
        'auto', 'cpu', 'cuda', ...
    seed
        First seed of the random subsets and the bootstrap seed.
    """
    from ..networks import load_network
    from .settings import get_settings as get_iqa_settings
    from ..weights import load_lpips_linear

    if not isinstance(dataset, FRDataset):
        raise ParameterError(f"run_iqa needs a full-reference dataset (FRDataset), got {type(dataset).__name__}")
    settings = settings or get_iqa_settings(preset)
    if scores is None:
        raise ParameterError("run_iqa needs the network's channel scores (PE): pass scores=pecore.book.chapter_scores(...)")
    table = getattr(scores, "table", scores)
    net = network if isinstance(network, Network) else load_network(network, device=device)
    data = limit_pairs(dataset, settings.max_pairs)
    t0 = time.perf_counter()
    nets = {net.name: net}
    for name in ("vgg16", "alexnet"):  # the LPIPS baselines need both
        if name not in nets:
            nets[name] = load_network(name, device=net.device)
    terms, base = dataset_terms(list(nets.values()), data, size=settings.image_size, batch_size=settings.batch_size,
                                cache=cache, progress=progress)
    studied = terms[net.name]
    lpips_terms = {metric: terms[name].weighted([w.numpy() for w in load_lpips_linear(name)[0]])
                   for metric, name in (("lpips-vgg", "vgg16"), ("lpips-alex", "alexnet"))}
    t_feat = time.perf_counter() - t0
    human, groups, hib = data.scores, data.groups, data.higher_is_better
    grid = subset_grid(studied, table, human, groups, human_higher_is_better=hib, settings=settings, seed=seed)
    preds = {"psnr": base.psnr.to_numpy(), "ssim": base.ssim.to_numpy(), **lpips_terms}
    grid = pd.concat([baseline_rows(preds, human, groups, human_higher_is_better=hib, settings=settings, seed=seed),
                      grid], ignore_index=True)
    channels, summary = channel_level(studied, table, human, groups, human_higher_is_better=hib,
                                      n_boot=settings.n_boot_channels, seed=seed, level=settings.level)
    pairs = data.pairs.copy()
    for name, v in preds.items():
        pairs[name] = v
    pairs["subset_all"] = subset_predictions(studied, table, studied.layers, "all", 100.0)[0][0]
    prov = provenance_record(network=net, preset=preset, device=net.device,
                             parameters={"iqa": settings.as_dict(), "seed": seed},
                             dataset={"name": data.name, "layout": data.layout, "root": str(data.root),
                                      "pairs_present": len(data), "pairs_listed": data.n_listed,
                                      "pairs_used": len(data), "pairs_available": len(dataset),
                                      "reference_images": int(data.pairs.group.nunique()),
                                      "higher_is_better": hib},
                             terms_cache_hit=studied.provenance.get("cache_hit"),
                             seconds={"features_and_baselines": round(t_feat, 2),
                                      "statistics": round(time.perf_counter() - t0 - t_feat, 2)},
                             scores_provenance={k: (scores.provenance.get(k) if hasattr(scores, "provenance") else None)
                                                for k in ("preset", "stored")})
    return IQAResult(grid, channels, summary, pairs, prov)

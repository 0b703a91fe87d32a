"""The IQA experiment: do channel subsets chosen by PE predict human quality judgments better?

From the cached per-channel terms of :mod:`pecore.iqa.terms`: the subset grid (top / bottom / random /
all channels, each p, each layer and all layers) against the human scores, the baselines, the
channel-level test, the result (:class:`IQAResult`) and its :func:`conclusions`.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DatasetError, ParameterError
from ..imageio import portable_data_path
from ..networks import Network
from ..experiment import ExperimentResult, read_checked, stored_or_compute
from ..provenance import provenance_record
from ..selection import select_channels
from ..validate import check_choice
from .baselines import higher_is_better
from .chance import chance_placement
from .datasets import FRDataset
from .terms import PairTerms, dataset_terms, limit_pairs
from .settings import IQASettings
from .channels import channel_level
from .stats import STATISTICS, correlations, paired_difference

__all__ = [
    "IQAResult",
    "subset_predictions",
    "subset_grid",
    "baseline_rows",
    "channel_level",
    "run",
    "chapter_result",
    "scores_record",
    "stored_dir",
]


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
    """The grid: top / bottom / random (seeds) / all channels, each p, each layer and all.

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
        r = correlations(pred, human, pred_higher_is_better=higher_is_better(name), human_higher_is_better=human_higher_is_better,
                         groups=groups, n_boot=settings.n_boot, seed=seed, level=settings.level)
        rows.append({"network": "-", "layers": "-", "subset": name, "p": np.nan, "n_channels": 0, "n_seeds": 1, **r})
    return pd.DataFrame(rows)


@dataclass
class IQAResult(ExperimentResult):
    """Everything the IQA chapter shows: the grid, baselines, channel-level test, per-pair values, and the
    top- and bottom-PE subsets placed among random ones (``chance``, :func:`pecore.iqa.chance.chance_placement`)."""

    grid: pd.DataFrame
    channels: pd.DataFrame
    channel_summary: pd.DataFrame
    pairs: pd.DataFrame
    provenance: dict[str, Any]
    chance: pd.DataFrame = field(default_factory=pd.DataFrame)
    synthetic: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def table(self) -> pd.DataFrame:
        """Grid and baseline rows together."""
        return self.grid

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``grid.csv``, ``channels.csv``, ``channel_summary.csv``, ``pairs.csv``, ``chance.csv``,
        ``synthetic.csv`` (when the synthetic check was run) and ``provenance.json`` (with their sha256): all of them
        or, on any failure, none."""
        from ..output import check_writable

        out = check_writable(out_dir)  # created with the files (and removed with them on failure)
        names = _TABLES + (("synthetic",) if not self.synthetic.empty else ())
        return self.write_checked(out, {f"{n}.csv": getattr(self, n).to_csv(index=False, float_format="%.6g").encode()
                                        for n in names})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> IQAResult:
        """Read a result written by :meth:`save`, checking every file against the sha256 in its provenance.

        Raises
        ------
        DatasetError
            A table is missing, changed or truncated, or the provenance was edited.
        """
        folder = Path(folder)
        missing = [n for n in _TABLES if not (folder / f"{n}.csv").is_file()]
        if missing:
            raise DatasetError(f"{folder} is not a saved IQA result: no {', '.join(m + '.csv' for m in missing)}")
        names = _TABLES + (("synthetic",) if (folder / "synthetic.csv").is_file() else ())
        prov = read_checked(folder, [f"{n}.csv" for n in names], "`pecore iqa`")
        tables = {n: pd.read_csv(folder / f"{n}.csv") for n in names}
        return cls(**tables, provenance=prov)


_TABLES = ("grid", "channels", "channel_summary", "pairs", "chance")


def run(dataset: FRDataset, network: Network | str = "vgg16", pe_table: Any = None, *,
            settings: IQASettings | None = None, preset: str = "quick", device: str | torch.device = "auto",
            seed: int = 0, cache: bool = True, progress: bool = False) -> IQAResult:
    """Run the IQA experiment on one full-reference dataset.

    Parameters
    ----------
    dataset
        A :class:`FRDataset` (see :func:`pecore.iqa.datasets.load_dataset`).
    network
        The network whose channels are studied ('vgg16', 'alexnet' or a loaded network).
    pe_table
        Its channel scores (a table with layer, channel, pe, dead, or a ``ProbeResult``).
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
        raise ParameterError(f"the IQA experiment needs a full-reference dataset (FRDataset), got {type(dataset).__name__}")
    settings = settings or get_iqa_settings(preset)
    if pe_table is None:
        raise ParameterError("the IQA experiment needs the network's channel scores (PE): pass pe_table=pecore.notebook.chapter_probe(...)")
    table = getattr(pe_table, "table", pe_table)
    net = network if isinstance(network, Network) else load_network(network, device=device)
    from ..probe_result import check_pe_table_for

    check_pe_table_for(table, net)
    data = limit_pairs(dataset, settings.max_pairs)
    t0 = time.perf_counter()
    nets = {net.name: net}
    for name in ("vgg16", "alexnet"):  # the LPIPS baselines need both
        if name not in nets:
            nets[name] = load_network(name, device=net.device)
    terms, base = dataset_terms(list(nets.values()), data, size=settings.image_size, batch_size=settings.batch_size,
                                cache=cache, progress=progress)
    if np.all(base.psnr.to_numpy(float) >= 100.0):  # the PSNR of identical images (pecore.measures.psnr's max_db)
        raise DatasetError(f"{data.name}: every distorted image equals its reference pixel for pixel (at the size "
                           "used): every distance is 0, and there is nothing to rank against the human scores")
    studied = terms[net.name]
    lpips_terms = {metric: terms[name].weighted([w.numpy() for w in load_lpips_linear(name)[0]])
                   for metric, name in (("lpips-vgg", "vgg16"), ("lpips-alex", "alexnet"))}
    t_feat = time.perf_counter() - t0
    human, groups, hib = data.human_scores, data.groups, data.higher_is_better
    grid = subset_grid(studied, table, human, groups, human_higher_is_better=hib, settings=settings, seed=seed)
    preds = {"psnr": base.psnr.to_numpy(), "ssim": base.ssim.to_numpy(), **lpips_terms}
    grid = pd.concat([baseline_rows(preds, human, groups, human_higher_is_better=hib, settings=settings, seed=seed),
                      grid], ignore_index=True)
    channels, summary = channel_level(studied, table, human, groups, human_higher_is_better=hib,
                                      n_boot=settings.n_boot_channels, seed=seed, level=settings.level)
    chance = chance_placement(studied, table, human, groups, human_higher_is_better=hib, ps=settings.ps,
                              n_random=settings.n_random, n_boot=settings.n_boot, seed=seed, level=settings.level)
    pairs = data.pairs.copy()
    for name, v in preds.items():
        pairs[name] = v
    pairs["subset_all"] = subset_predictions(studied, table, studied.layers, "all", 100.0)[0][0]
    prov = provenance_record(network=net, preset=preset, device=net.device,
                             parameters={"iqa": settings.as_dict(), "seed": seed},
                             dataset={"name": data.name, "layout": data.layout, "root": portable_data_path(data.root),
                                      "pairs_present": len(data), "pairs_listed": data.n_listed,
                                      "pairs_used": len(data), "pairs_available": len(dataset),
                                      "reference_images": int(data.pairs.group.nunique()),
                                      "higher_is_better": hib},
                             terms_cache_hit=studied.provenance.get("cache_hit"),
                             seconds={"features_and_baselines": round(t_feat, 2),
                                      "statistics": round(time.perf_counter() - t0 - t_feat, 2)},
                             scores=scores_record(pe_table))
    return IQAResult(grid, channels, summary, pairs, prov, chance)


def scores_record(pe_table: Any) -> dict[str, Any]:
    """Where a run's PE ranking came from, for its provenance: the probe's preset, grid and whether it was the
    stored one (a ``ProbeResult``), else that the caller passed a table.

    Examples
    --------
    >>> scores_record(pd.DataFrame({"layer": ["l"], "channel": [0], "pe": [1.0]}))
    {'source': 'a table of channel scores passed by the caller'}
    """
    from ..captions import grid_text

    prov = getattr(pe_table, "provenance", None)
    if not isinstance(prov, dict):
        return {"source": "a table of channel scores passed by the caller"}
    return {"source": "stored paper-grid probe" if prov.get("stored") else f"probe under preset {prov.get('preset')}",
            "stored": bool(prov.get("stored")), "preset": prov.get("preset"), "grid": grid_text(prov),
            "score_config": prov.get("parameters", {}).get("score_config")}


def stored_dir(network: str, preset: str) -> Path:
    """The folder of the committed IQA results of ``network`` at ``preset`` (it may not exist)."""
    from ..stored import stored_results

    return stored_results("iqa", network, preset)


def chapter_result(network: str, preset: str, *, seed: int = 0, data_dir: str | os.PathLike | None = None,
                   layout: str = "auto", synthetic: bool = True, use_stored: bool = True,
                   device: str | torch.device = "auto", progress: bool = False) -> IQAResult:
    """The chapter's IQA result: the stored one of ``preset`` when allowed, present and matching, else a run.

    The stored results hold the default dataset (the LIVE part in the data folder), the default scoring of the
    stored paper-grid probe, and the synthetic check; they are used for the same network, preset and seed when
    no other ``data_dir`` or ``layout`` is asked — so the chapter renders without the datasets. A run needs
    the data folder (``$PECORE_DATA``). ``provenance['scores']`` says where the PE ranking came from.

    Examples
    --------
    >>> r = chapter_result("vgg16", "book")
    >>> r.provenance["stored"], r.provenance["dataset"]["reference_images"], len(r.chance) > 0
    (True, 5, True)
    """
    from ..imageio import shared_data_dir
    from ..notebook import chapter_probe
    from .datasets import load_dataset
    from .settings import get_settings
    from .synthetic import synthetic_check

    settings = get_settings(preset)
    default_data = data_dir is None and layout == "auto"

    def mismatch(res: IQAResult) -> str | None:
        par = res.provenance.get("parameters", {})
        why = [w for w, bad in (("seed", par.get("seed") != seed),
                                ("network", res.provenance.get("network") != network),
                                ("settings", par.get("iqa") != json.loads(json.dumps(settings.as_dict()))),
                                ("synthetic check", synthetic and res.synthetic.empty)) if bad]
        return f"the stored run has another {', '.join(why)}" if why else None

    def compute() -> IQAResult:
        if data_dir is None:
            try:
                root = shared_data_dir()
            except DatasetError as exc:
                raise DatasetError(f"no stored IQA results answer this request ({why[0]}), and a run needs the "
                                   f"datasets: {exc}") from None
        dataset = load_dataset(data_dir or root / "iqa" / "live-r2-subset", layout)
        if not isinstance(dataset, FRDataset):
            raise ParameterError(f"data_dir {data_dir!r} is a 2AFC dataset; the IQA chapter needs full-reference pairs")
        probed = chapter_probe(network, settings.probe_preset, use_stored=use_stored, device=device)
        res = run(dataset, network, probed, settings=settings, preset=preset, device=device, seed=seed,
                  progress=progress)
        if synthetic:
            res.synthetic = synthetic_check(network, probed, settings=settings, preset=preset, device=device,
                                            seed=seed, progress=progress)
        return res

    why = ["another dataset was asked for (data_dir / layout)" if not default_data
           else "use_stored=False" if not use_stored
           else f"no stored results for {network} at preset {preset}" if not (stored_dir(network, preset) / "provenance.json").is_file()
           else "the stored results were made with other settings, seed or network"]
    if not default_data:
        res = compute()
        res.provenance["stored"] = False
        res.provenance["stored_reason"] = "another dataset was asked for (data_dir / layout)"
        return res
    return stored_or_compute(stored_dir(network, preset), IQAResult.load, mismatch, compute, use_stored=use_stored)

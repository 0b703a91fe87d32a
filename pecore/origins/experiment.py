"""Chapter 09's runs: probe every network of the comparison, then measure contrast sensitivity and masking.

One result folder holds ``provenance.json`` and ``distances/<label>.npz`` (per-channel squared feature
distances, :class:`~pecore.origins.sensitivity.ChannelDistances`, stored as log10 in float16: 0.5 % in a
distance). The probes live in their own folders, ``<probe_root>/<label>-<probe preset>`` (for the book tier,
``stored/probe/…-survey``), each a normal probe folder that :func:`pecore.rescore` re-scores; the result's
provenance names them with the sha256 of their tables.

Runs are resumable: a finished probe folder or distance file with the same inputs is kept, and an interrupt
keeps every finished network (rerun the same command to go on).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..cache import atomic_write_bytes
from ..errors import PecoreError
from ..experiment import ExperimentResult, read_provenance
from ..networks import NETWORKS, load_network
from ..probe_result import load_probe_result
from ..provenance import provenance_record
from ..rescore import rescore
from ..stored import stored_root
from ..weights import sha256_file
from .sensitivity import ChannelDistances, SensitivityGrid, channel_distances
from .settings import NetworkEntry, OriginsSettings, get_settings

__all__ = ["OriginsResult", "run", "probe_folder", "chapter_result", "stored_dir", "layer_map"]

_FLAT = "no-csf"


def stored_dir(preset: str = "book") -> Path:
    """The folder of the committed chapter-09 results of ``preset`` (it may not exist)."""
    return stored_root() / "origins" / preset


def probe_folder(root: Path, entry: NetworkEntry, probe_preset: str) -> Path:
    """``<root>/<label>-<probe preset>``: where one network's probe is (or will be) kept."""
    return Path(root) / f"{entry.label}-{probe_preset}"


def layer_map(family: str, layers: tuple[str, ...] | list[str]) -> dict[str, str]:
    """VGG-16 tap name → the same-depth tap of ``family``.

    Examples
    --------
    >>> layer_map("alexnet", ["relu1_2", "relu3_3"])
    {'relu1_2': 'relu1', 'relu3_3': 'relu3'}
    """
    vgg, taps = NETWORKS["vgg16"].taps, NETWORKS[family].taps
    unknown = [x for x in layers if x not in vgg]
    if unknown:
        raise PecoreError(f"layers {unknown} are not VGG-16 taps ({', '.join(vgg)}); the chapter names depths by them")
    return {x: taps[vgg.index(x)] for x in layers}


def _rel(path: Path) -> str:
    """A path relative to the stored root's parent (the repository) when inside it, else its name."""
    try:
        return str(Path(path).resolve().relative_to(stored_root().resolve().parent))
    except ValueError:
        return Path(path).name


def _save_distances(path: Path, d: ChannelDistances) -> None:
    import io

    arrays: dict[str, np.ndarray] = {}
    for kind, src in (("det", d.detection), ("mask", d.masking)):
        for layer, a in src.items():
            arrays[f"{kind}__{layer}"] = np.log10(np.maximum(a, 1e-30)).astype(np.float16)
    meta = {"network": d.network, "grid": d.grid.as_dict(), "identity": d.identity}
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _load_distances(path: Path) -> ChannelDistances:
    try:
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            det = {k.split("__", 1)[1]: 10.0 ** z[k].astype(np.float64) for k in z.files if k.startswith("det__")}
            mask = {k.split("__", 1)[1]: 10.0 ** z[k].astype(np.float64) for k in z.files if k.startswith("mask__")}
    except (OSError, ValueError, KeyError) as exc:
        raise PecoreError(f"{path.name} is not a readable distance file ({exc.__class__.__name__}); delete it and "
                          "rerun to measure it again") from None
    for k, v in {**det, **mask}.items():
        if not np.all(np.isfinite(v)):
            raise PecoreError(f"{path.name}: layer {k} holds non-finite distances; delete the file and rerun")
    grid = SensitivityGrid(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["grid"].items()})
    return ChannelDistances(meta["network"], grid, det, mask, meta.get("identity", {}))


@dataclass
class OriginsResult(ExperimentResult):
    """The probes (PE tables of every network, default and CSF-free scoring) and the channel distances.

    ``tables`` has one row per network × channel: ``label, objective, family, network, layer, depth, channel,
    mu1, mu2, pe, fhat, dead, pe_flat`` (``pe_flat``: PE with a flat CSF, the selection that cannot build the
    CSF in); ``depth`` is the tap's VGG-16 name, so that families line up.
    """

    tables: pd.DataFrame
    distances: dict[str, ChannelDistances]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> OriginsSettings:
        """The settings the result was made with."""
        par = dict(self.provenance["parameters"])
        grid = SensitivityGrid(**{k: tuple(v) if isinstance(v, list) else v for k, v in par.pop("grid").items()})
        return OriginsSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in par.items()}, grid=grid)

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write the distances and ``provenance.json`` into ``out_dir`` (the probes are in their folders)."""
        out = Path(out_dir)
        (out / "distances").mkdir(parents=True, exist_ok=True)
        for label, d in self.distances.items():
            path = out / "distances" / f"{label}.npz"
            if not path.is_file():
                _save_distances(path, d)
        self.provenance["distances_sha256"] = {label: sha256_file(out / "distances" / f"{label}.npz")
                                               for label in self.distances}
        self.write_provenance(out)
        return out

    @classmethod
    def load(cls, folder: str | os.PathLike) -> OriginsResult:
        """Read a saved result (and the probe folders its provenance names, checked by sha256)."""
        folder = Path(folder)
        prov = read_provenance(folder)
        base = stored_root().resolve().parent
        tables = []
        for item in prov["probes"]:
            candidates = [folder / item["from_result"]] if item.get("from_result") else []
            candidates += [Path(item["folder"]) if Path(item["folder"]).is_absolute() else base / item["folder"],
                           folder / "probe" / Path(item["folder"]).name]
            pfolder = next((c for c in candidates if (c / "pe_table.csv").is_file()), candidates[0])
            if not (pfolder / "pe_table.csv").is_file():
                raise PecoreError(f"the probe {item['folder']} this result was made from is missing; restore it or "
                                  "rerun the chapter")
            digest = sha256_file(pfolder / "pe_table.csv")
            if digest != item["pe_table_sha256"]:
                raise PecoreError(f"probe {item['folder']} has changed since this result was made (pe_table.csv sha256 "
                                  f"{digest[:12]}…, recorded {item['pe_table_sha256'][:12]}…); rerun the chapter")
            tables.append(_probe_rows(NetworkEntry(**item["entry"]), pfolder, prov["parameters"]["layers"]))
        distances = {}
        for label, sha in prov.get("distances_sha256", {}).items():
            path = folder / "distances" / f"{label}.npz"
            if sha256_file(path) != sha:
                raise PecoreError(f"{path.name} differs from the file this result recorded (sha256); rerun the chapter")
            distances[label] = _load_distances(path)
        return cls(pd.concat(tables, ignore_index=True), distances, prov)


def _probe_rows(entry: NetworkEntry, folder: Path, layers: list[str]) -> pd.DataFrame:
    probed = load_probe_result(folder, network=entry.network)
    flat = rescore(probed, _FLAT).table
    lm = layer_map(entry.family, tuple(layers))
    inverse = {v: k for k, v in lm.items()}
    t = probed.table[probed.table.layer.isin(inverse)].copy()
    t = t.merge(flat[["layer", "channel", "pe"]].rename(columns={"pe": "pe_flat"}), on=["layer", "channel"])
    t.insert(0, "label", entry.label)
    t.insert(1, "objective", entry.objective)
    t.insert(2, "family", entry.family)
    t.insert(t.columns.get_loc("layer") + 1, "depth", t.layer.map(inverse))
    return t[["label", "objective", "family", "network", "layer", "depth", "channel", "mu1", "mu2", "pe", "fhat",
              "dead", "pe_flat"]]


def run(settings: OriginsSettings, out: str | os.PathLike, *, preset: str | None = None,
        probe_root: str | os.PathLike | None = None, device: str | torch.device = "auto",
        progress: bool = True, command: str | None = None) -> OriginsResult:
    """Probe every network (kept when its folder exists) and measure the sensitivity families' distances.

    Parameters
    ----------
    settings
        The chapter's budgets (:mod:`pecore.origins.settings`).
    out
        The result folder (``distances/``, ``provenance.json``).
    probe_root
        Where the probe folders are (default: ``out/probe``; the book tier uses ``stored/probe``).
    command
        The command line that made the result, for its provenance.
    """
    from ..pipeline import score_network
    from ..presets import get_preset

    out = Path(out)
    probe_root = Path(probe_root) if probe_root is not None else out / "probe"
    start = time.perf_counter()
    probes = []
    for entry in settings.networks():
        folder = probe_folder(probe_root, entry, settings.probe_preset)
        if not (folder / "provenance.json").is_file():
            net = load_network(entry.network, weights=entry.weights, seed=entry.seed, device=device)
            probed = score_network(net, get_preset(settings.probe_preset), device=device, progress=progress)
            probed.provenance.update(command=f"pecore origins run (network {entry.label})")
            probed.save(folder)
        probes.append({"entry": entry.as_dict(), "folder": _rel(folder),
                       "from_result": os.path.relpath(folder.resolve(), out.resolve()),
                       "pe_table_sha256": sha256_file(folder / "pe_table.csv")})
    distances: dict[str, ChannelDistances] = {}
    (out / "distances").mkdir(parents=True, exist_ok=True)
    kept, seconds = [], {}
    for entry in settings.measured():
        path = out / "distances" / f"{entry.label}.npz"
        if path.is_file():
            d = _load_distances(path)
            if d.grid == settings.grid and set(d.detection) == set(layer_map(entry.family, settings.layers).values()):
                distances[entry.label] = d
                kept.append(entry.label)
                continue
            path.unlink()
        net = load_network(entry.network, weights=entry.weights, seed=entry.seed, device=device)
        t0 = time.perf_counter()
        d = channel_distances(net, settings.grid, layers=list(layer_map(entry.family, settings.layers).values()),
                              progress=progress)
        seconds[entry.label] = round(time.perf_counter() - t0, 1)
        _save_distances(path, d)
        distances[entry.label] = _load_distances(path)  # what is stored is what is analysed
    prov = provenance_record(preset=preset, device=torch.device(str(device)) if str(device) != "auto" else None,
                             parameters=settings.as_dict(), probes=probes, wall_seconds=round(time.perf_counter() - start, 1),
                             measure_seconds=seconds, distances_kept_from_an_earlier_call=kept,
                             **({"command": command} if command else {}))
    result = OriginsResult(pd.DataFrame(), distances, prov)
    result.save(out)
    return OriginsResult.load(out)


def chapter_result(preset: str = "book", *, use_stored: bool = True, device: str | torch.device = "auto",
                   out: str | os.PathLike | None = None, progress: bool = False, **overrides: Any) -> OriginsResult:
    """The chapter's result: the stored one of ``preset`` when allowed and present (and no setting is
    overridden), else a run into ``out`` (default: a folder of the cache, :mod:`pecore.cache`, keyed by the
    settings, so a rerun resumes and an identical one is read back).

    Examples
    --------
    >>> r = chapter_result("book")
    >>> r.provenance["stored"], sorted(r.tables.objective.unique())[0]
    (True, 'ImageNet classification')
    """
    settings = get_settings(preset, **overrides)
    folder = stored_dir(preset)
    if use_stored and not overrides and (folder / "provenance.json").is_file():
        res = OriginsResult.load(folder)
        res.provenance["stored"] = True
        return res
    reason = ("stored results not requested" if not use_stored else "settings overridden" if overrides
              else f"no stored results for preset {preset}")
    if out is None:
        from ..cache import cache_dir, cache_key

        out = cache_dir() / "origins" / cache_key("origins", {"preset": preset, **settings.as_dict()})
    res = run(settings, out, preset=preset, device=device, progress=progress)
    res.provenance.update(stored=False, stored_reason=reason)
    return res

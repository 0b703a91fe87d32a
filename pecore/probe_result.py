"""The result of a probe: the PE table, the sweeps behind it and its provenance, and its folder on disk.

A probe folder (written by ``pecore probe`` or :meth:`ProbeResult.save`) holds

- ``pe_table.csv``: one row per channel (:data:`PE_TABLE_COLUMNS`);
- ``sweeps.npz``: the radial frequency sweep (``freq/<layer>``, ``(C, F)`` float32) and the whole
  frequency × orientation cube (``cube/<layer>``, ``(C, F, O)``), each orientation curve stored as 16-bit
  integers scaled by its own maximum (``cube_scale/<layer>``, ``(C, F)`` float32), so every value keeps a
  relative precision of 1/65535 of its curve's peak;
- ``provenance.json``: how it was made, and the sha256 of the other two files, checked on every load.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .errors import DatasetError
from .output import check_writable, write_result_files
from .probe import FrequencySweep, OrientationCube, OrientationSweep

__all__ = ["ProbeResult", "load_probe_result", "provenance_digest", "read_pe_table", "check_pe_table", "check_pe_table_for", "PE_TABLE_COLUMNS", "STORE_FORMAT"]

PE_TABLE_COLUMNS = ["network", "weights_source", "layer", "channel", "mu1", "mu2", "pe", "fhat", "theta_hat",
                    "a_hat", "rank", "dead"]
STORE_FORMAT = 2  # 1: orientation tuning at f̂ only (before the cube); 2: the whole frequency × orientation cube
_LEVELS = 65535


@dataclass
class ProbeResult:
    """Per-channel scores (the PE table), the sweeps behind them and their provenance.

    Attributes
    ----------
    table
        One row per channel: :data:`PE_TABLE_COLUMNS`.
    radial
        The radial-grating frequency sweep.
    cube
        The whole frequency × orientation sweep (:class:`pecore.probe.OrientationCube`).
    provenance
        How the result was made (network, weights, grid, score configuration, versions, device, time).
    """

    table: pd.DataFrame
    radial: FrequencySweep
    cube: OrientationCube
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def stimulus(self) -> str:
        """The frequency-sweep stimulus of the scores: 'radial' or 'oriented-mean'."""
        return self.provenance.get("parameters", {}).get("score_config", {}).get("stimulus", "radial")

    @property
    def frequency(self) -> FrequencySweep:
        """The frequency sweep the scores used (radial, or the cube's mean over orientation)."""
        return self.cube.oriented_mean() if self.stimulus == "oriented-mean" else self.radial

    @property
    def orientation(self) -> OrientationSweep:
        """Each channel's orientation tuning at its own f̂ (zeros for dead channels)."""
        freq = {k: np.where(g.dead.to_numpy(bool), np.nan, g.fhat.to_numpy(float))
                for k, g in ((k, self.layer(k)) for k in dict.fromkeys(self.table.layer))}
        return self.cube.at(freq)

    def fhat_at_grid_edges(self) -> pd.DataFrame:
        """Per layer, how many live channels have f̂ at the lowest or the highest frequency of the grid.

        There the CSF-weighted slope is steepest at the edge of what was probed: the channel's tuning may lie
        beyond the grid, so its f̂ (and the orientation tuning read at f̂) is a bound, not a preference.

        Examples
        --------
        >>> from pecore.notebook import stored_probe_dir
        >>> edges = load_probe_result(stored_probe_dir("alexnet")).fhat_at_grid_edges()
        >>> list(edges.columns)
        ['live', 'at lowest', 'at highest', 'lowest (cpd)', 'highest (cpd)']
        """
        f = self.frequency.frequencies
        live = self.table[~self.table.dead.astype(bool)]
        rows = {layer: {"live": len(g), "at lowest": int(np.isclose(g.fhat, f.min()).sum()),
                        "at highest": int(np.isclose(g.fhat, f.max()).sum()),
                        "lowest (cpd)": float(f.min()), "highest (cpd)": float(f.max())}
                for layer, g in live.groupby("layer", sort=False)}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("layer")

    def layer(self, name: str) -> pd.DataFrame:
        """The rows of one layer, by channel."""
        return self.table[self.table.layer == name].sort_values("channel").reset_index(drop=True)

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``pe_table.csv``, ``sweeps.npz`` and ``provenance.json`` into ``out_dir`` (all or none)."""
        out = check_writable(out_dir)  # created with the files (and removed with them on failure)
        arrays: dict[str, np.ndarray] = {"frequencies": self.radial.frequencies, "orientations": self.cube.orientations}
        for k, v in self.radial.responses.items():
            arrays[f"freq/{k}"] = v.astype(np.float32)
        for k, v in self.cube.responses.items():
            scale = v.max(axis=2)
            safe = np.where(scale > 0, scale, 1.0)[..., None]
            arrays[f"cube/{k}"] = np.rint(np.clip(v / safe, 0.0, 1.0) * _LEVELS).astype(np.uint16)
            arrays[f"cube_scale/{k}"] = scale.astype(np.float32)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        files = {"pe_table.csv": self.table.to_csv(index=False, float_format="%.8g").encode(), "sweeps.npz": buf.getvalue()}
        core = {k: v for k, v in self.provenance.items() if k != "store"}
        prov = {**core, "store": {"format": STORE_FORMAT,
                                  "sha256": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()},
                                  "provenance_sha256": provenance_digest(core)}}
        files["provenance.json"] = (json.dumps(prov, indent=2, default=str) + "\n").encode()
        return write_result_files(out, files)  # all three or, on failure, the previous ones; one writer at a time


def provenance_digest(provenance: dict) -> str:
    """sha256 of a provenance record without its ``store`` field, in a canonical JSON form: stored beside the
    files' checksums, it makes an edited provenance (a relabelled network, a changed grid) detectable.

    Examples
    --------
    >>> provenance_digest({"network": "vgg16"}) == provenance_digest({"network": "vgg16", "store": {"x": 1}})
    True
    >>> provenance_digest({"network": "vgg16"}) == provenance_digest({"network": "alexnet"})
    False
    """
    core = {k: v for k, v in provenance.items() if k != "store"}
    return hashlib.sha256(json.dumps(json.loads(json.dumps(core, default=str)), sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()


def _major(version: str) -> str:
    return str(version).split(".")[0]


def _check_store(folder: Path, prov: dict, need: list[Path], network: str | None, grid: dict | None) -> None:
    """Refuse a folder of another format, pecore major version, network or grid, or whose files changed."""
    store = prov.get("store") or {}
    if store.get("format") != STORE_FORMAT:
        raise DatasetError(f"{folder} was written by an older pecore without the frequency × orientation cube "
                           f"(store format {store.get('format', 1)}, this pecore reads {STORE_FORMAT}); rerun `pecore probe`")
    if _major(prov.get("pecore_version", "?")) != _major(__version__):
        raise DatasetError(f"{folder} was written by pecore {prov.get('pecore_version')}, this is {__version__}: "
                           "another major version; rerun `pecore probe`")
    recorded = store.get("provenance_sha256")
    if recorded is not None and recorded != provenance_digest(prov):
        raise DatasetError(f"{folder / 'provenance.json'} was edited after the probe wrote it (its sha256 no longer "
                           "matches the one stored in it): restore it (git checkout) or rerun `pecore probe`")
    if network is not None and prov.get("network") != network:
        raise DatasetError(f"{folder} holds a probe of {prov.get('network')}, not of {network}")
    stored_grid = prov.get("parameters", {}).get("probe_grid", {})
    if grid is not None:
        keep = [k for k in grid if k != "batch_size"]
        diff = [k for k in keep if stored_grid.get(k) != grid[k]]
        if diff:
            raise DatasetError(f"{folder} was probed on another grid ({', '.join(f'{k} {stored_grid.get(k)} vs {grid[k]}' for k in diff)})")
    for path in need[:2]:
        expected = store.get("sha256", {}).get(path.name)
        if expected != hashlib.sha256(path.read_bytes()).hexdigest():
            raise DatasetError(f"{path} does not match the sha256 in its provenance.json: the file was changed or "
                               "truncated; restore it (git checkout) or rerun `pecore probe`")


def _cube(arr: dict[str, np.ndarray], layers: list[str]) -> OrientationCube:
    out = {}
    for k in layers:
        q, scale = arr[f"cube/{k}"], arr[f"cube_scale/{k}"]
        if q.dtype != np.uint16 or q.shape[:2] != scale.shape:
            raise ValueError(f"cube/{k} has dtype {q.dtype} and shape {q.shape}, scale shape {scale.shape}")
        out[k] = q.astype(np.float64) / _LEVELS * scale.astype(np.float64)[..., None]
    return OrientationCube(arr["frequencies"], arr["orientations"], out, from_cache=True)


def load_probe_result(path: str | os.PathLike, *, network: str | None = None, grid: dict | None = None) -> ProbeResult:
    """Read a probe folder, checking its checksums, store format and pecore major version.

    Parameters
    ----------
    network, grid
        When given, the folder must hold a probe of this network on this grid (a ``ProbeGrid.as_dict()``;
        the batch size may differ); otherwise :class:`pecore.errors.DatasetError`.

    Examples
    --------
    >>> import tempfile
    >>> from pecore.networks import load_network
    >>> from pecore.pipeline import score_network
    >>> d = tempfile.mkdtemp()
    >>> _ = score_network(load_network("alexnet", device="cpu"), "ci", progress=False).save(d)
    >>> r = load_probe_result(d, network="alexnet")
    >>> r.table.shape[0], r.cube.responses["relu1"].shape
    (1152, (64, 10, 8))
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"probe folder {folder} is a file, not a folder (pass the folder `pecore probe --out` "
                           "wrote)" if folder.exists() else f"probe folder {folder} does not exist")
    need = [folder / n for n in ("pe_table.csv", "sweeps.npz", "provenance.json")]
    missing = [p.name for p in need if not p.is_file()]
    if missing:
        raise DatasetError(f"{folder} is not a pecore probe folder: missing {', '.join(missing)}")
    try:
        prov = json.loads(need[2].read_text())
        if not isinstance(prov, dict):
            raise ValueError("provenance.json is not a JSON object")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{need[2]} is damaged ({type(exc).__name__}: {exc}); rerun `pecore probe`") from exc
    _check_store(folder, prov, need, network, grid)
    table = read_pe_table(need[0])
    if "network" in table and prov.get("network") is not None and set(table.network.astype(str)) != {str(prov["network"])}:
        raise DatasetError(f"{need[0]} scores {sorted(set(table.network.astype(str)))} but its provenance.json names "
                           f"{prov['network']}: the folder mixes two probes; rerun `pecore probe`")
    try:
        with np.load(need[1], allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
        layers = [k.split("/", 1)[1] for k in arr if k.startswith("freq/")]
        radial = FrequencySweep(arr["frequencies"], {k: arr[f"freq/{k}"].astype(float) for k in layers}, "radial")
        cube = _cube(arr, layers)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise DatasetError(f"{need[1]} is damaged ({type(exc).__name__}: {exc}); rerun `pecore probe`") from exc
    return ProbeResult(table, radial, cube, prov)


def read_pe_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a PE table (``pe_table.csv``) with named errors for a missing, empty or damaged file.

    Raises
    ------
    DatasetError
        The file is missing, a folder without a ``pe_table.csv``, empty, not a CSV, or lacks layer/channel/pe.

    Examples
    --------
    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "pe_table.csv"; _ = p.write_text("")
    >>> read_pe_table(p)
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: PE table ... is empty (write one with `pecore probe --out DIR`)
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "pe_table.csv").is_file():
            raise DatasetError(f"PE table {path} is a folder without a pe_table.csv (write one with "
                               "`pecore probe --out DIR`)")
        path = path / "pe_table.csv"
    if not path.is_file():
        raise DatasetError(f"PE table {path} does not exist (write one with `pecore probe --out DIR`)")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise DatasetError(f"PE table {path} is empty (write one with `pecore probe --out DIR`)") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DatasetError(f"PE table {path} cannot be read as a CSV table: {exc}") from exc
    missing = {"layer", "channel", "pe"} - set(table.columns)
    if missing:
        raise DatasetError(f"{path} is not a pecore PE table: no column {', '.join(sorted(missing))}")
    if table.empty:
        raise DatasetError(f"PE table {path} holds no rows")
    return check_pe_table(table, str(path))


def check_pe_table_for(table: pd.DataFrame, network: Any, layers: Sequence[str] | None = None,
                       where: str = "the PE table") -> pd.DataFrame:
    """:func:`check_pe_table`, and every layer of ``layers`` (default: the network's taps) listed with as many
    channels as ``network`` (a loaded :class:`pecore.networks.Network`) has there.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(name="toy", taps=["l"], channels={"l": 3})
    >>> t = pd.DataFrame({"layer": "l", "channel": [0, 1], "pe": [0.1, 0.2]})
    >>> check_pe_table_for(t, net)
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: the PE table: layer l lists 2 channels, but toy has 3 there: are these scores of toy?
    """
    check_pe_table(table, where)
    for layer in (layers or list(network.taps)):
        n = int((table.layer == layer).sum())
        if n == 0:
            raise DatasetError(f"{where}: no scores of layer {layer} of {network.name}; layers scored: "
                               f"{', '.join(map(str, dict.fromkeys(table.layer)))}")
        if n != int(network.channels[layer]):
            raise DatasetError(f"{where}: layer {layer} lists {n} channels, but {network.name} has "
                               f"{int(network.channels[layer])} there: are these scores of {network.name}?")
    return table


def check_pe_table(table: pd.DataFrame, where: str = "the PE table") -> pd.DataFrame:
    """Refuse a PE table that would be used wrongly: scores that are not finite numbers, channel numbers that are
    not whole numbers, a channel listed twice, or a layer whose channels are not 0 … C − 1 each once (a table cut
    short would make 'top 25 %' a quarter of the rows left). Returns the table.

    Raises
    ------
    NonFiniteError
        A PE is NaN, infinite or not a number.
    DatasetError
        Channels damaged, repeated or missing.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": [0, 1, 2], "pe": [0.1, 0.2, 0.3]})
    >>> len(check_pe_table(t))
    3
    >>> check_pe_table(t.iloc[[0, 2]])
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: the PE table: layer l lists channels 0, 2 of 0..2: 1 missing (e.g. 1); use the whole table of a probe
    """
    from .errors import NonFiniteError

    pe = pd.to_numeric(table["pe"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(pe)
    if bad.any():
        r = table.iloc[int(np.flatnonzero(bad)[0])]
        raise NonFiniteError(f"{where}: the PE of {r['layer']} channel {r['channel']} is {r['pe']!r}, not a finite number "
                             f"({int(bad.sum())} such rows); rescore the probe (`pecore probe --rescore DIR`)")
    ch = pd.to_numeric(table["channel"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(ch)) or np.any(ch != np.round(ch)) or np.any(ch < 0):
        raise DatasetError(f"{where}: a channel number is not a whole number ≥ 0; use the table a probe wrote")
    for layer, rows in table.assign(_ch=ch.astype(int)).groupby("layer", sort=False):
        chans = rows._ch.to_numpy()
        if len(set(chans)) != len(chans):
            twice = sorted({int(c) for c in chans if (chans == c).sum() > 1})
            raise DatasetError(f"{where}: layer {layer} lists channel {twice[0]} more than once; use the table a probe "
                               "wrote")
        n = int(chans.max() + 1)
        if len(chans) != n or chans.max() >= n:
            gone = sorted(set(range(n)) - set(chans.tolist()))
            shown = ", ".join(map(str, sorted(chans.tolist())[:8])) + (", …" if len(chans) > 8 else "")
            raise DatasetError(f"{where}: layer {layer} lists channels {shown} of 0..{n - 1}: {len(gone)} missing "
                               f"(e.g. {gone[0] if gone else '?'}); use the whole table of a probe")
    return table

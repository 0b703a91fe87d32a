"""One channel as data: its tuning curves and scores, from stored or fresh sweeps."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .efficacy import ScoreConfig
from .errors import ParameterError
from .probe import nearest_grid_index
from .probe_result import ProbeResult
from .validate import check_choice

__all__ = ["ChannelProfile", "channel_profile"]


@dataclass(frozen=True)
class ChannelProfile:
    """Everything the probe knows about one channel.

    Attributes
    ----------
    frequencies, frequency_response
        The frequency sweep the scores used (cpd, mean activation).
    orientations, cube
        Orientations (degrees) and the channel's mean activation for every (frequency, orientation) pair,
        shape ``(F, O)``.
    mu1, mu2, pe, fhat, theta_hat, rank, dead
        The channel's row of the PE table (``rank`` 1 = highest PE in its layer).
    config
        The scoring the values come from.
    """

    network: str
    layer: str
    channel: int
    frequencies: np.ndarray
    frequency_response: np.ndarray
    orientations: np.ndarray
    cube: np.ndarray
    mu1: float
    mu2: float
    pe: float
    fhat: float
    theta_hat: float
    rank: int
    dead: bool
    config: ScoreConfig

    def orientation_at(self, frequency: float | None = None) -> np.ndarray:
        """Orientation tuning at the grid frequency nearest ``frequency`` (default: f̂; zeros if dead).

        Examples
        --------
        >>> from pecore.notebook import stored_probe_dir
        >>> p = channel_profile(stored_probe_dir("alexnet"), "relu1", 3)
        >>> p.orientation_at().shape, p.orientation_at(2.0).shape
        ((36,), (36,))
        """
        f = self.fhat if frequency is None else float(frequency)
        if not np.isfinite(f):
            return np.zeros(len(self.orientations))
        if f <= 0:
            raise ParameterError(f"frequency must be a positive number of cpd, got {frequency}")
        return self.cube[int(nearest_grid_index(self.frequencies, f)[0])].copy()

    def nearest_frequency(self, frequency: float) -> float:
        """The grid frequency :meth:`orientation_at` uses for ``frequency``."""
        return float(self.frequencies[int(nearest_grid_index(self.frequencies, float(frequency))[0])])


def channel_profile(result: ProbeResult | str | os.PathLike, layer: str, channel: int,
                    config: ScoreConfig | str | Sequence[str] | None = None) -> ChannelProfile:
    """One channel's curves and scores from a probe result or a probe folder (re-scored if ``config`` is given).

    Examples
    --------
    >>> from pecore.notebook import stored_probe_dir
    >>> p = channel_profile(stored_probe_dir("vgg16"), "relu2_2", 5)
    >>> p.frequency_response.shape, p.cube.shape, 1 <= p.rank <= 128
    ((64,), (64, 36), True)
    >>> channel_profile(stored_probe_dir("vgg16"), "relu2_2", 5, "pe-mean").config.pe
    'mean'
    """
    from .rescore import as_config, rescore

    if config is not None or not isinstance(result, ProbeResult):
        result = rescore(result, as_config(config) if config is not None else ScoreConfig())
    layers = list(dict.fromkeys(result.table.layer))
    check_choice("layer", layer, layers)
    rows = result.layer(layer)
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not 0 <= channel < len(rows):
        raise ParameterError(f"channel must be an integer in 0..{len(rows) - 1} for {layer}, got {channel!r}")
    row = rows.loc[int(channel)]
    sweep = result.frequency
    params = result.provenance.get("parameters", {}).get("score_config", {})
    return ChannelProfile(
        network=str(row.network), layer=layer, channel=int(channel), frequencies=sweep.frequencies,
        frequency_response=sweep.responses[layer][channel].copy(), orientations=result.cube.orientations,
        cube=result.cube.responses[layer][channel].copy(), mu1=float(row.mu1), mu2=float(row.mu2), pe=float(row.pe),
        fhat=float(row.fhat), theta_hat=float(row.theta_hat), rank=int(row["rank"]), dead=bool(row.dead),
        config=ScoreConfig(**params) if params else ScoreConfig(),
    )

"""Choose a channel subset of a layer by PE: top / bottom / random p %, or all."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .errors import NonFiniteError, ParameterError
from .validate import check_choice, check_fraction, check_positive

__all__ = ["SUBSETS", "subset_size", "select_channels", "channel_mask"]

SUBSETS = ("top", "bottom", "random", "all")


def subset_size(n_channels: int, p: float) -> int:
    """Number of channels in a p % subset of ``n_channels`` (at least 1).

    Examples
    --------
    >>> subset_size(128, 25), subset_size(3, 10)
    (32, 1)
    """
    check_fraction("p", p)
    return max(1, int(round(n_channels * p / 100.0)))


def select_channels(
    pe_table: pd.DataFrame,
    layer: str,
    subset: str = "top",
    p: float = 25.0,
    *,
    seed: int = 0,
    include_dead: bool = False,
) -> np.ndarray:
    """Channel indices (sorted) of ``layer`` in the chosen subset.

    The subset size is ``p`` % of the layer's channels. 'top' / 'bottom' take the highest / lowest
    PE, 'random' draws uniformly with ``seed``, 'all' returns every channel. Dead channels are
    left out of 'top', 'bottom' and 'random' unless ``include_dead``, so a bottom set is never a set
    of silent channels.

    Raises
    ------
    NonFiniteError
        If a PE of the layer is NaN, infinite or not a number.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": range(4), "pe": [0.1, 0.9, 0.5, 0.0],
    ...                   "dead": [False, False, False, True]})
    >>> select_channels(t, "l", "top", 50).tolist(), select_channels(t, "l", "bottom", 50).tolist()
    ([1, 2], [0, 2])
    """
    check_choice("channel subset", subset, SUBSETS)
    check_positive("seed", seed, integer=True, allow_zero=True)
    if not isinstance(pe_table, pd.DataFrame) or not {"layer", "channel", "pe"} <= set(pe_table.columns):
        raise ParameterError("scores must be a table with columns layer, channel, pe (from pecore.score_network)")
    rows = pe_table[pe_table.layer == layer]
    if rows.empty:
        check_choice("layer", layer, sorted(map(str, pe_table.layer.unique())))
    channels = rows.channel.to_numpy()
    pe = pd.to_numeric(rows.pe, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(pe)):
        raise NonFiniteError(f"the PE scores of layer {layer} hold {int((~np.isfinite(pe)).sum())} NaN, infinite or "
                             f"non-numeric values (of {len(pe)} channels); channels cannot be ranked by them")
    if subset == "all":
        return np.sort(channels)
    k = subset_size(len(rows), p)
    if not include_dead and "dead" in rows:
        rows = rows[~rows.dead.astype(bool)]
    if len(rows) < k:
        raise ParameterError(f"layer {layer} has only {len(rows)} live channels, fewer than the {k} asked for")
    if subset == "random":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(rows.channel.to_numpy(), size=k, replace=False))
    ordered = rows.sort_values(["pe", "channel"], ascending=[subset == "bottom", True])
    return np.sort(ordered.channel.to_numpy()[:k])


def channel_mask(n_channels: int, channels: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """A ``(n_channels,)`` float mask with ones at ``channels``.

    Examples
    --------
    >>> channel_mask(4, np.array([1, 3])).tolist()
    [0.0, 1.0, 0.0, 1.0]
    """
    check_positive("n_channels", n_channels, integer=True)
    channels = np.asarray(channels, dtype=int)
    if channels.size == 0:
        raise ParameterError("a channel mask needs at least one channel")
    if channels.min() < 0 or channels.max() >= n_channels:
        raise ParameterError(f"channel indices must be in [0, {n_channels}), got {channels.min()}..{channels.max()}")
    mask = torch.zeros(n_channels, device=device)
    mask[torch.as_tensor(channels, device=device)] = 1.0
    return mask

"""Mean channel activations under grating sweeps.

One forward pass per batch serves every channel of every tapped layer, and the pass stops at
the deepest layer needed. Results are cached on disk under a key of every input.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from .progress import progress_bar as tqdm

from ._version import __version__
from .cache import cache_key, load_arrays, save_arrays
from .device import resolve_device
from .errors import NonFiniteError
from .networks import Network
from .presets import ProbeGrid
from .stimuli import check_frequencies, oriented_gratings, radial_gratings
from .validate import check_choice, check_positive

__all__ = [
    "STIMULI",
    "PRECISIONS",
    "FrequencySweep",
    "OrientationSweep",
    "mean_activations",
    "probe_frequency",
    "probe_orientation",
]

STIMULI = ("radial", "oriented-mean")
PRECISIONS = ("float32", "bfloat16")


@dataclass
class FrequencySweep:
    """Mean activation of every channel against spatial frequency.

    ``responses[layer]`` has shape ``(C, F)``: phase-averaged spatial mean of the post-ReLU map.
    """

    frequencies: np.ndarray
    responses: dict[str, np.ndarray]
    stimulus: str = "radial"
    from_cache: bool = False


@dataclass
class OrientationSweep:
    """Mean activation of every channel against orientation, at a per-channel frequency.

    ``responses[layer]`` has shape ``(C, O)``; ``frequency[layer]`` (``(C,)``, cpd) is the grating
    frequency each channel was probed at (NaN for channels not probed, e.g. dead ones).
    """

    orientations: np.ndarray
    frequency: dict[str, np.ndarray]
    responses: dict[str, np.ndarray]
    from_cache: bool = False


def mean_activations(
    network: Network,
    batches: Iterator[torch.Tensor],
    layers: Sequence[str],
    *,
    total: int | None = None,
    progress: bool = True,
    desc: str = "probe",
    precision: str = "float32",
) -> dict[str, np.ndarray]:
    """Spatial mean of every channel of ``layers`` for each image of each batch.

    Parameters
    ----------
    batches
        Tensors ``(B, 3, H, W)`` in [0, 1] on the network's device.

    precision
        'float32', or 'bfloat16' to run the convolutions under autocast (means are taken in float32).

    Returns
    -------
    dict
        layer → ``(N, C)`` float64 array, N the total number of images.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> net = load_network("alexnet", device="cpu")
    >>> out = mean_activations(net, iter([torch.rand(2, 3, 64, 64)]), ["relu1"], progress=False)
    >>> out["relu1"].shape
    (2, 64)
    """
    layers = network.extractor.check_layers(layers)
    check_choice("precision", precision, PRECISIONS)
    network.extractor.to(memory_format=torch.channels_last)  # much faster convolutions on CPU and GPU
    chunks: dict[str, list[np.ndarray]] = {k: [] for k in layers}
    autocast = torch.autocast(network.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
    with torch.inference_mode(), autocast, tqdm(total=total, desc=desc, disable=not progress, unit="img", leave=False) as bar:
        for x in batches:
            feats = network.extractor(x.contiguous(memory_format=torch.channels_last), layers, check=False)
            for k in layers:
                chunks[k].append(feats[k].float().mean(dim=(2, 3)).double().cpu().numpy())
            bar.update(x.shape[0])
    out = {k: np.concatenate(v, axis=0) for k, v in chunks.items()}
    bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
    if bad:
        raise NonFiniteError(f"{network.name} gives NaN or infinite activations in {', '.join(bad)} "
                             f"(weights: {network.weights.source} {network.weights.path or ''}); the weights are broken "
                             "or overflow at this precision")
    return out


def _batched(
    n_items: int, per_item: int, batch_size: int, render: Callable[[slice], torch.Tensor]
) -> Iterator[torch.Tensor]:
    step = max(1, batch_size // per_item)
    for start in range(0, n_items, step):
        yield render(slice(start, min(n_items, start + step))).flatten(0, -4)


def _grid_inputs(grid: ProbeGrid) -> dict:
    keep = ("size", "ppd", "n_phases", "contrast", "mean_luminance")
    out = {k: getattr(grid, k) for k in keep}
    if grid.precision != "float32":  # keys of float32 results stay as they were
        out["precision"] = grid.precision
    return out


def probe_frequency(
    network: Network,
    grid: ProbeGrid,
    *,
    layers: Sequence[str] | None = None,
    stimulus: str = "radial",
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> FrequencySweep:
    """Sweep spatial frequency with phase-averaged gratings.

    Parameters
    ----------
    stimulus
        'radial' (concentric gratings, no orientation) or 'oriented-mean' (the mean over
        ``grid.freq_orientations`` straight gratings).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> net = load_network("alexnet", device="cpu")
    >>> sweep = probe_frequency(net, get_preset("ci").probe, progress=False)
    >>> sweep.responses["relu2"].shape
    (192, 10)
    """
    check_choice("frequency stimulus", stimulus, STIMULI)
    check_positive("batch_size", grid.batch_size, integer=True)
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    freqs = check_frequencies(grid.frequencies, grid.ppd)
    dev = resolve_device(device)
    network.to(dev)
    inputs = {
        **network.identity, "layers": layers, "frequencies": freqs, "stimulus": stimulus,
        "freq_orientations": grid.freq_orientations if stimulus == "oriented-mean" else 0,
        **_grid_inputs(grid), "version": __version__,
    }
    key = cache_key("freq", inputs)
    if cache and (hit := load_arrays(key, keys=layers)) is not None:
        return FrequencySweep(freqs, {k: hit[k] for k in layers}, stimulus, from_cache=True)
    common = dict(size=grid.size, ppd=grid.ppd, n_phases=grid.n_phases, contrast=grid.contrast,
                  mean_luminance=grid.mean_luminance, device=dev)
    if stimulus == "radial":
        per = grid.n_phases
        render = lambda s: radial_gratings(freqs[s], **common)  # noqa: E731
    else:
        thetas = -90.0 + np.arange(grid.freq_orientations) * (180.0 / grid.freq_orientations)
        per = grid.n_phases * len(thetas)
        render = lambda s: oriented_gratings(freqs[s], thetas, **common)  # noqa: E731
    acts = mean_activations(
        network, _batched(len(freqs), per, grid.batch_size, render), layers,
        total=len(freqs) * per, progress=progress, desc=f"{network.name} frequency sweep", precision=grid.precision,
    )
    responses = {k: v.reshape(len(freqs), per, -1).mean(axis=1).T.copy() for k, v in acts.items()}
    if cache:
        save_arrays(key, responses)
    return FrequencySweep(freqs, responses, stimulus)


def _orientation_phases(grid: ProbeGrid) -> int:
    """Phases of the orientation sweep: ``grid.orientation_phases`` if set, else ``grid.n_phases``.

    A phase shift of a straight grating is a translation, and the spatial mean of a convolutional map is
    nearly translation invariant, so fewer phases change the orientation responses little (see benchmarks/).
    """
    return int(grid.orientation_phases or grid.n_phases)


def _oriented_items(fs: np.ndarray, thetas: np.ndarray, grid: ProbeGrid, dev: torch.device, items: slice) -> torch.Tensor:
    """Gratings for the flattened (frequency, orientation) items ``items``: ``(n, P, 3, H, W)``."""
    n_o = len(thetas)
    flat = np.arange(len(fs) * n_o)[items]
    out = []
    for fi in np.unique(flat // n_o):
        sel = thetas[flat[flat // n_o == fi] % n_o]
        out.append(oriented_gratings([fs[fi]], sel, size=grid.size, ppd=grid.ppd, n_phases=_orientation_phases(grid),
                                     contrast=grid.contrast, mean_luminance=grid.mean_luminance, device=dev)[0])
    return torch.cat(out)


def probe_orientation(
    network: Network,
    grid: ProbeGrid,
    frequency: dict[str, np.ndarray],
    *,
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> OrientationSweep:
    """Sweep orientation over [-90°, 90°) at each channel's own frequency.

    Only the distinct frequencies some channel needs are probed, each through the network only
    as deep as the deepest layer that needs it. Every frequency's result is cached on its own, so
    score variants that move a few channels' frequency reuse the rest.

    Parameters
    ----------
    frequency
        layer → ``(C,)`` frequencies in cpd (NaN: do not probe that channel).

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> net = load_network("alexnet", device="cpu")
    >>> f = {"relu1": np.full(64, 4.0)}
    >>> probe_orientation(net, get_preset("ci").probe, f, progress=False).responses["relu1"].shape
    (64, 8)
    """
    layers = network.extractor.check_layers(list(frequency))
    dev = resolve_device(device)
    network.to(dev)
    thetas = grid.orientations
    needed = np.concatenate([np.asarray(frequency[k], float) for k in layers])
    distinct = np.unique(np.round(needed[np.isfinite(needed)], 10))
    if distinct.size:
        check_frequencies(distinct, grid.ppd)
    responses = {k: np.zeros((len(frequency[k]), len(thetas))) for k in layers}
    order = network.extractor.layer_names
    n_ph = _orientation_phases(grid)
    per = n_ph * len(thetas)
    pending = []
    for f in distinct:
        need = [k for k in layers if np.any(np.isclose(frequency[k], f, rtol=0, atol=1e-9))]
        deepest = max(need, key=order.index)
        run_layers = [k for k in layers if order.index(k) <= order.index(deepest)]
        inputs = {**network.identity, "layers": run_layers, "frequency": float(f), "orientations": thetas,
                  **_grid_inputs(grid), "version": __version__}
        if grid.orientation_phases and grid.orientation_phases != grid.n_phases:
            inputs["n_phases"] = grid.orientation_phases
        key = cache_key("orient", inputs)
        hit = load_arrays(key, keys=need) if cache else None
        pending.append((f, need, run_layers, key, hit))
    misses: dict[tuple[str, ...], list[int]] = {}
    for i, (_f, _need, run_layers, _key, hit) in enumerate(pending):
        if hit is None:
            misses.setdefault(tuple(run_layers), []).append(i)
    chunk = max(1, -(-4 * grid.batch_size // per))  # frequencies per chunk: a few full batches
    for run_layers, group in misses.items():  # frequencies that need the same layers share batches
        for start in range(0, len(group), chunk):  # each chunk is cached as soon as it is done
            idx = group[start:start + chunk]
            fs = np.array([pending[i][0] for i in idx])
            gratings = lambda s, fs=fs: _oriented_items(fs, thetas, grid, dev, s)  # noqa: E731
            acts = mean_activations(
                network, _batched(len(fs) * len(thetas), n_ph, grid.batch_size, gratings), list(run_layers),
                total=per * len(fs), progress=progress, precision=grid.precision,
                desc=f"{network.name} orientation sweep to {run_layers[-1]} ({start + len(idx)}/{len(group)} frequencies)")
            for j, i in enumerate(idx):
                f, need, _rl, key, _ = pending[i]
                hit = {k: v.reshape(len(fs), len(thetas), n_ph, -1)[j].mean(axis=1).T.copy()
                       for k, v in acts.items()}
                if cache:
                    save_arrays(key, hit)
                pending[i] = (f, need, _rl, key, hit)
    for f, need, _rl, _key, hit in pending:
        for k in need:
            rows = np.isclose(frequency[k], f, rtol=0, atol=1e-9)
            responses[k][rows] = hit[k][rows]
    all_hit = not misses
    freq_out = {k: np.asarray(frequency[k], float).copy() for k in layers}
    return OrientationSweep(thetas, freq_out, responses, from_cache=all_hit and bool(distinct.size))

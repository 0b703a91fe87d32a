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
from .errors import NonFiniteError, ParameterError
from .networks import Network
from .presets import ProbeGrid
from .stimuli import check_frequencies, oriented_gratings, radial_gratings
from .validate import check_choice, check_positive

__all__ = [
    "PRECISIONS",
    "nearest_grid_index",
    "FrequencySweep",
    "OrientationSweep",
    "OrientationCube",
    "mean_activations",
    "probe_frequency",
    "probe_orientation",
]

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


def nearest_grid_index(grid: np.ndarray, frequency: np.ndarray | float) -> np.ndarray:
    """Index of the grid frequency nearest each ``frequency`` on a log scale (the grids are log-spaced).

    Examples
    --------
    >>> nearest_grid_index(np.array([1.0, 2.0, 4.0]), np.array([1.3, 3.0, 100.0])).tolist()
    [0, 2, 2]
    """
    f = np.atleast_1d(np.asarray(frequency, float))
    return np.abs(np.log(f[:, None]) - np.log(np.asarray(grid, float)[None, :])).argmin(axis=1)


@dataclass
class OrientationCube:
    """Mean activation of every channel over the whole frequency × orientation grid.

    ``responses[layer]`` has shape ``(C, F, O)``: the phase-averaged spatial mean of the post-ReLU map for
    a straight grating of each grid frequency (cpd) and orientation (degrees).
    """

    frequencies: np.ndarray
    orientations: np.ndarray
    responses: dict[str, np.ndarray]
    from_cache: bool = False

    def at(self, frequency: dict[str, np.ndarray]) -> OrientationSweep:
        """Each channel's orientation tuning at its own grid frequency (NaN: no tuning, zeros).

        Examples
        --------
        >>> cube = OrientationCube(np.array([1.0, 2.0]), np.array([0.0, 90.0]), {"l": np.arange(8.0).reshape(2, 2, 2)})
        >>> cube.at({"l": np.array([2.0, np.nan])}).responses["l"].tolist()
        [[2.0, 3.0], [0.0, 0.0]]
        """
        out = {}
        for k, f in frequency.items():
            f = np.asarray(f, float)
            resp = np.zeros((len(f), len(self.orientations)))
            ok = np.isfinite(f)
            idx = nearest_grid_index(self.frequencies, f[ok])
            if not np.allclose(self.frequencies[idx], f[ok], rtol=1e-6, atol=0):
                raise ParameterError(f"layer {k}: orientation tuning is stored only at the grid's frequencies; "
                                     "pass frequencies of the grid (f̂ is always one)")
            resp[ok] = self.responses[k][np.flatnonzero(ok), idx]
            out[k] = resp
        return OrientationSweep(self.orientations, {k: np.asarray(v, float).copy() for k, v in frequency.items()}, out,
                                from_cache=self.from_cache)

    def oriented_mean(self) -> FrequencySweep:
        """The frequency sweep of the 'oriented-mean' stimulus: the mean over every grid orientation.

        Examples
        --------
        >>> cube = OrientationCube(np.array([1.0]), np.array([0.0, 90.0]), {"l": np.array([[[1.0, 3.0]]])})
        >>> cube.oriented_mean().responses["l"].tolist()
        [[2.0]]
        """
        return FrequencySweep(self.frequencies, {k: v.mean(axis=2) for k, v in self.responses.items()},
                              "oriented-mean", from_cache=self.from_cache)


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
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> FrequencySweep:
    """Sweep spatial frequency with phase-averaged radial (concentric) gratings, which have no orientation.

    The 'oriented-mean' frequency stimulus (straight gratings averaged over orientation) needs no sweep of
    its own: it is :meth:`OrientationCube.oriented_mean` of :func:`probe_orientation`'s cube.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> net = load_network("alexnet", device="cpu")
    >>> sweep = probe_frequency(net, get_preset("ci").probe, progress=False)
    >>> sweep.responses["relu2"].shape
    (192, 10)
    """
    check_positive("batch_size", grid.batch_size, integer=True)
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    freqs = check_frequencies(grid.frequencies, grid.ppd)
    dev = resolve_device(device)
    network.to(dev)
    inputs = {**network.identity, "layers": layers, "frequencies": freqs, "stimulus": "radial",
              **_grid_inputs(grid), "version": __version__}
    key = cache_key("freq", inputs)
    if cache and (hit := load_arrays(key, keys=layers)) is not None:
        return FrequencySweep(freqs, {k: hit[k] for k in layers}, "radial", from_cache=True)
    render = lambda s: radial_gratings(freqs[s], size=grid.size, ppd=grid.ppd, n_phases=grid.n_phases,  # noqa: E731
                                       contrast=grid.contrast, mean_luminance=grid.mean_luminance, device=dev)
    acts = mean_activations(
        network, _batched(len(freqs), grid.n_phases, grid.batch_size, render), layers,
        total=len(freqs) * grid.n_phases, progress=progress, desc=f"{network.name} frequency sweep",
        precision=grid.precision,
    )
    responses = {k: v.reshape(len(freqs), grid.n_phases, -1).mean(axis=1).T.copy() for k, v in acts.items()}
    if cache:
        save_arrays(key, responses)
    return FrequencySweep(freqs, responses, "radial")


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
    *,
    layers: Sequence[str] | None = None,
    device: str | torch.device = "auto",
    cache: bool = True,
    progress: bool = True,
) -> OrientationCube:
    """Sweep orientation over [-90°, 90°) at every frequency of the grid: the whole frequency × orientation cube.

    Every channel of every layer gets a phase-averaged mean activation for each (frequency, orientation)
    pair, so any scoring that moves a channel's f̂ (or averages orientations) needs no new forward pass.
    Each frequency is cached on its own as soon as it is done: an interrupted sweep resumes where it stopped.

    Examples
    --------
    >>> from pecore.networks import load_network
    >>> from pecore.presets import get_preset
    >>> net = load_network("alexnet", device="cpu")
    >>> cube = probe_orientation(net, get_preset("ci").probe, layers=["relu1"], progress=False)
    >>> cube.responses["relu1"].shape
    (64, 10, 8)
    """
    layers = network.extractor.check_layers(network.taps if layers is None else layers)
    check_positive("batch_size", grid.batch_size, integer=True)
    freqs = check_frequencies(grid.frequencies, grid.ppd)
    dev = resolve_device(device)
    network.to(dev)
    thetas = grid.orientations
    n_ph = _orientation_phases(grid)
    per = n_ph * len(thetas)
    keys, hits = [], []
    for f in freqs:
        inputs = {**network.identity, "layers": list(layers), "frequency": float(f), "orientations": thetas,
                  **_grid_inputs(grid), "n_phases": n_ph, "version": __version__}
        keys.append(cache_key("cube", inputs))
        hits.append(load_arrays(keys[-1], keys=list(layers)) if cache else None)
    missing = [i for i, h in enumerate(hits) if h is None]
    chunk = max(1, -(-4 * grid.batch_size // per))  # frequencies per chunk: a few full batches
    for start in range(0, len(missing), chunk):  # each chunk is cached as soon as it is done
        idx = missing[start:start + chunk]
        fs = freqs[idx]
        gratings = lambda s, fs=fs: _oriented_items(fs, thetas, grid, dev, s)  # noqa: E731
        acts = mean_activations(
            network, _batched(len(fs) * len(thetas), n_ph, grid.batch_size, gratings), list(layers),
            total=per * len(fs), progress=progress, precision=grid.precision,
            desc=f"{network.name} orientation sweep ({start + len(idx)}/{len(missing)} frequencies)")
        for j, i in enumerate(idx):
            hits[i] = {k: v.reshape(len(fs), len(thetas), n_ph, -1)[j].mean(axis=1).T.copy() for k, v in acts.items()}
            if cache:
                save_arrays(keys[i], hits[i])
    responses = {k: np.stack([h[k] for h in hits], axis=1) for k in layers}
    return OrientationCube(freqs, thetas, responses, from_cache=not missing)

"""Can the probe do less work? Fewer phases, against the 4-phase reference, on the paper grid.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_probe_phases.py            # VGG-16, paper grid, CPU (~35 min)
    PYTHONPATH=. .venv/bin/python benchmarks/bench_probe_phases.py --grid ci --net alexnet   # a smoke run

Settings measured, each a full probe (radial frequency sweep and the whole frequency × orientation cube):

- ``2 phases``: the grid's 4 phases halved (0 and π), the spatial mean over the whole map, as pecore does;
- ``1 phase, interior``: one phase, the spatial mean taken only over each layer's interior: the border where
  zero padding reaches is measured per layer (the rows and columns where a uniform grey image's map differs
  from its centre) and left out.

The reference is the stored 4-phase paper probe (``stored/probe/<net>-paper``; a fresh 4-phase probe with
``--fresh-reference``). A cheaper setting may become the default only if every layer's PE ranking keeps
Spearman ρ ≥ 0.99 and top-25 % Jaccard ≥ 0.9. Results: ``benchmarks/results/probe-phases-<grid>-<device>.json``.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

import pecore
from pecore.compare import spearman, top_jaccard
from pecore.notebook import stored_probe_dir
from pecore.probe import FrequencySweep, OrientationCube
from pecore.provenance import cpu_model, git_commit
from pecore.rescore import score_sweeps
from pecore.stimuli import oriented_gratings, radial_gratings

OUT = Path(__file__).resolve().parent / "results"
RHO_MIN, JACCARD_MIN = 0.99, 0.9


def interior_borders(net: pecore.Network, size: int) -> dict[str, int]:
    """Per tapped layer, how many rows/columns at each edge zero padding reaches (from a uniform grey image)."""
    x = torch.full((1, 3, size, size), 0.5, device=net.device)
    with torch.inference_mode():
        maps = net.extractor(x, net.taps)
    out = {}
    for k, m in maps.items():
        m = m[0].double()
        h = m.shape[-1]
        centre = m[:, h // 2, h // 2][:, None, None]
        scale = m.abs().amax(dim=(1, 2), keepdim=True)  # per channel: float noise of the convolution is not padding
        differs = (m - centre).abs() > 1e-4 * scale + 1e-7
        differs = differs.any(dim=0).cpu().numpy()  # (H, W): any channel off its interior value
        b = 0
        while b < h // 2 and differs[b:h - b, b:h - b].any():  # the smallest border outside of which all is uniform
            b += 1
        out[k] = int(b)
    return out


def probe(net: pecore.Network, grid: pecore.ProbeGrid, n_phases: int, borders: dict[str, int] | None
          ) -> tuple[FrequencySweep, OrientationCube, float, int]:
    """The radial sweep and the cube with ``n_phases`` phases; means over the interior when ``borders`` is given."""
    fx, taps, dev = net.extractor, net.taps, net.device
    fx.to(memory_format=torch.channels_last)
    freqs, thetas = grid.frequencies, grid.orientations

    def means(batch: torch.Tensor) -> dict[str, np.ndarray]:
        maps = fx(batch.contiguous(memory_format=torch.channels_last), taps, check=False)
        out = {}
        for k, m in maps.items():
            b = (borders or {}).get(k, 0)
            if b and m.shape[-1] > 2 * b:
                m = m[..., b:m.shape[-2] - b, b:m.shape[-1] - b]
            out[k] = m.float().mean(dim=(2, 3)).double().cpu().numpy()
        return out

    t, n = time.perf_counter(), 0
    with torch.inference_mode():
        radial = {k: np.zeros((net.channels[k], len(freqs))) for k in taps}
        for j, f in enumerate(freqs):
            g = radial_gratings([f], size=grid.size, ppd=grid.ppd, n_phases=n_phases, device=dev)[0]
            n += g.shape[0]
            for k, v in means(g).items():
                radial[k][:, j] = v.mean(axis=0)
        cube = {k: np.zeros((net.channels[k], len(freqs), len(thetas))) for k in taps}
        for j, f in enumerate(freqs):
            g = oriented_gratings(f, thetas, size=grid.size, ppd=grid.ppd, n_phases=n_phases, device=dev)[0]
            n += g.shape[0] * g.shape[1]
            for start in range(0, len(thetas), max(1, grid.batch_size // n_phases)):
                part = g[start:start + max(1, grid.batch_size // n_phases)]
                for k, v in means(part.flatten(0, 1)).items():
                    cube[k][:, j, start:start + part.shape[0]] = v.reshape(part.shape[0], n_phases, -1).mean(axis=1).T
    seconds = time.perf_counter() - t
    return FrequencySweep(freqs, radial), OrientationCube(freqs, thetas, cube), seconds, n


def agreement(reference, table, p: float = 25.0) -> dict[str, dict[str, float]]:
    out = {}
    for layer, ref in reference.groupby("layer", sort=False):
        alt = table[table.layer == layer].set_index("channel").reindex(ref.channel)
        out[layer] = {"spearman": round(spearman(ref.pe.to_numpy(), alt.pe.to_numpy()), 4),
                      "jaccard_top": round(top_jaccard(ref.pe.to_numpy(), alt.pe.to_numpy(), p), 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="paper", choices=sorted(pecore.PRESETS))
    ap.add_argument("--net", default="vgg16", choices=sorted(pecore.NETWORKS))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--fresh-reference", action="store_true", help="probe the 4-phase reference instead of reading it")
    args = ap.parse_args()
    dev = pecore.resolve_device(args.device)
    grid = pecore.get_preset(args.grid).probe
    net = pecore.load_network(args.net, device=dev)
    if args.fresh_reference or args.grid != "paper":
        start = time.perf_counter()
        reference = pecore.score_network(net, pecore.get_preset(args.grid), device=dev, cache=False, progress=False)
        ref_seconds = round(time.perf_counter() - start, 1)
    else:
        reference = pecore.load_probe_result(stored_probe_dir(args.net), network=args.net, grid=grid.as_dict())
        ref_seconds = reference.provenance.get("wall_seconds")
    ref_table = pecore.rescore(reference, "default").table
    borders = interior_borders(net, grid.size)
    settings = {"2 phases": (2, None), "1 phase, interior": (1, borders)}
    results = {}
    for name, (phases, crop) in settings.items():
        radial, cube, seconds, n = probe(net, grid, phases, crop)
        table = score_sweeps(radial, cube, pecore.ScoreConfig(), network=net.name, weights_source=net.weights.source)
        agree = agreement(ref_table, table)
        results[name] = {"seconds": round(seconds, 1), "images": n, "per_layer": agree,
                         "passes": all(v["spearman"] >= RHO_MIN and v["jaccard_top"] >= JACCARD_MIN
                                       for v in agree.values())}
        print(name, results[name], flush=True)
    adopted = [k for k, v in results.items() if v["passes"]]
    record = {"grid": args.grid, "network": args.net, "device": str(dev), "cpu": cpu_model(),
              "threads": torch.get_num_threads(), "torch": torch.__version__, "machine": platform.machine(),
              "commit": git_commit(), "reference": {"phases": grid.n_phases, "seconds": ref_seconds},
              "interior_borders": borders, "criterion": {"spearman_min": RHO_MIN, "jaccard_top_min": JACCARD_MIN},
              "settings": results,
              "decision": ("adopt " + adopted[0]) if adopted else "keep 4 phases: no cheaper setting passes every layer"}
    OUT.mkdir(exist_ok=True)
    path = OUT / f"probe-phases-{args.grid}-{dev.type}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}: {record['decision']}")


if __name__ == "__main__":
    main()

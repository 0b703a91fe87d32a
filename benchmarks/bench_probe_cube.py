"""What keeping the whole frequency × orientation cube costs, against sweeping orientation only at each f̂.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_probe_cube.py [--old-seconds NET=S ...]

Before the cube, the orientation sweep ran only at the frequencies some channel needed (its f̂), each through
the network only as deep as the deepest layer needing it. The cube runs every grid frequency to the deepest
tapped layer. This script counts the convolution FLOPs of both on the paper grid, from the stored probes'
f̂ (the f̂ of the default scoring do not depend on the orientation sweep), and reports the measured wall time
of the stored cube probes (their ``provenance.json``) beside any measured wall time of the old probe passed
with ``--old-seconds``, and times :func:`pecore.rescore` of every channel for each score variant. Results: ``benchmarks/results/probe-cube-paper-cpu.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import pecore
from pecore.notebook import stored_probe_dir

OUT = Path(__file__).resolve().parent / "results"


def flops_to(net: pecore.Network, size: int) -> dict[str, float]:
    """Convolution FLOPs (2 × multiply-adds) of one image from the input to each tapped layer."""
    hooks, total, out = [], [0.0], {}
    order = net.extractor.layer_names

    def count(module: torch.nn.Module, inp: tuple, output: torch.Tensor) -> None:
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total[0] += 2 * module.in_channels // module.groups * module.out_channels * k * output.shape[-2] * output.shape[-1]

    for m in net.extractor.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(count))
    try:
        with torch.inference_mode():
            for layer in sorted(net.taps, key=order.index):
                total[0] = 0.0
                net.extractor(torch.rand(1, 3, size, size), [layer], check=False)
                out[layer] = total[0]
    finally:
        for h in hooks:
            h.remove()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old-seconds", nargs="*", default=[], metavar="NET=SECONDS",
                    help="measured wall time of the probe before the cube (same machine and threads)")
    args = ap.parse_args()
    old_seconds = dict(item.split("=", 1) for item in args.old_seconds)
    grid = pecore.get_preset("paper").probe
    record: dict = {"grid": "paper", "networks": {}}
    for name in ("vgg16", "alexnet"):
        probed = pecore.load_probe_result(stored_probe_dir(name), network=name)
        net = pecore.load_network(name, device="cpu")
        cost = flops_to(net, grid.size)
        layers = list(dict.fromkeys(probed.table.layer))
        per_freq = len(grid.orientations) * grid.n_phases
        old = new = 0.0
        for f in grid.frequencies:
            need = [k for k in layers if np.isclose(probed.layer(k).fhat.dropna(), f, rtol=1e-6).any()]
            old += per_freq * max((cost[k] for k in need), default=0.0)
            new += per_freq * max(cost.values())
        radial = grid.n_frequencies * grid.n_phases * max(cost.values())
        prov = probed.provenance
        record["networks"][name] = {
            "flop_ratio_cube_vs_fhat_only": round((radial + new) / (radial + old), 4),
            "frequencies_to_deepest_layer_before": int(sum(
                np.isclose(probed.layer(layers[-1]).fhat.dropna().to_numpy()[:, None], grid.frequencies, rtol=1e-6).any(axis=0))),
            "cube_probe_seconds": prov.get("wall_seconds"), "cube_probe_threads": prov.get("torch_threads"),
            "cube_probe_cpu": prov.get("cpu"), "cube_probe_commit": prov.get("git_commit"),
            "old_probe_seconds": float(old_seconds[name]) if name in old_seconds else None,
            "store_bytes": sum(p.stat().st_size for p in stored_probe_dir(name).iterdir()),
        }
        timings = {}
        for variant in pecore.VARIANTS:
            start = time.perf_counter()
            pecore.rescore(probed, variant)
            timings[variant] = round(time.perf_counter() - start, 3)
        start = time.perf_counter()
        pecore.rescore(stored_probe_dir(name), "barten-csf")  # with reading and checking the folder
        record["networks"][name]["rescore_seconds"] = {"from_memory": timings, "max_from_memory": max(timings.values()),
                                                       "from_folder_with_checksums": round(time.perf_counter() - start, 3),
                                                       "channels": len(probed.table),
                                                       "threads": torch.get_num_threads()}
        print(name, record["networks"][name], flush=True)
    OUT.mkdir(exist_ok=True)
    path = OUT / "probe-cube-paper-cpu.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

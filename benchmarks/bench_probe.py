"""Benchmark the probe: throughput, achieved GFLOP/s against one large 3×3 convolution, and the
time of a whole grid against a straightforward probe at equal results.

    .venv/bin/python benchmarks/bench_probe.py --grid quick            # CPU, a few minutes
    .venv/bin/python benchmarks/bench_probe.py --grid paper --device cuda

The straightforward probe runs every stimulus at full size through every layer of ``features``
(no early stop), sweeps orientation at every frequency of the grid, uses contiguous (NCHW) tensors
and one forward pass per stimulus set (one frequency's phases; one frequency's orientations × phases).
Both probes' PE rankings are compared per layer (Spearman ρ; they must agree to ≥ 0.99).
Results go to ``benchmarks/results/probe-<grid>-<device>.json``.
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
from pecore.compare import spearman
from pecore.probe import FrequencySweep, OrientationSweep
from pecore.efficacy import frequency_scores, orientation_scores, perceptual_efficacy
from pecore.stimuli import oriented_gratings, radial_gratings

OUT = Path(__file__).resolve().parent / "results"


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def conv_flops(features: torch.nn.Sequential, size: int, last: int) -> float:
    """Multiply-adds × 2 of the convolutions of ``features[: last + 1]`` for one image."""
    flops, h = 0.0, size
    for i, m in enumerate(features):
        if i > last:
            break
        if isinstance(m, torch.nn.Conv2d):
            flops += 2 * m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1] * h * h
        elif isinstance(m, torch.nn.MaxPool2d):
            h //= 2
    return flops


def single_conv_gflops(dev: torch.device, channels_last: bool, reps: int = 5) -> float:
    conv = torch.nn.Conv2d(256, 256, 3, padding=1).to(dev).eval()
    x = torch.rand(16, 256, 56, 56, device=dev)
    if channels_last:
        conv, x = conv.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        conv(x)
        sync(dev)
        t = time.perf_counter()
        for _ in range(reps):
            conv(x)
        sync(dev)
    return 2 * 256 * 256 * 9 * 56 * 56 * 16 * reps / (time.perf_counter() - t) / 1e9


def straightforward(net: pecore.Network, grid: pecore.ProbeGrid, dev: torch.device) -> tuple[dict, float, int]:
    """Every stimulus at full size through all of ``features``, one pass per stimulus set."""
    fx = net.extractor
    fx.to(memory_format=torch.contiguous_format)
    taps = net.taps
    idx = {fx.layers[k]: k for k in taps}
    freqs, thetas = grid.frequencies, grid.orientations

    def run(batch: torch.Tensor) -> dict[str, np.ndarray]:
        x = (batch - fx.mean) / fx.std
        out = {}
        for i, m in enumerate(fx.module):  # the whole stack, no early stop
            x = m(x)
            if i in idx:
                out[idx[i]] = x.mean(dim=(2, 3)).double().cpu().numpy()
        return out

    n = 0
    t = time.perf_counter()
    with torch.inference_mode():
        fresp = {k: np.zeros((net.channels[k], len(freqs))) for k in taps}
        for j, f in enumerate(freqs):
            g = radial_gratings([f], size=grid.size, ppd=grid.ppd, n_phases=grid.n_phases, device=dev)[0]
            out = run(g)
            n += g.shape[0]
            for k in taps:
                fresp[k][:, j] = out[k].mean(axis=0)
        oresp = {k: np.zeros((net.channels[k], len(freqs), len(thetas))) for k in taps}
        for j, f in enumerate(freqs):
            g = oriented_gratings(f, thetas, size=grid.size, ppd=grid.ppd, n_phases=grid.n_phases, device=dev)[0]
            out = run(g.flatten(0, 1))
            n += g.shape[0] * g.shape[1]
            for k in taps:
                oresp[k][:, j, :] = out[k].reshape(len(thetas), grid.n_phases, -1).mean(axis=1).T
        sync(dev)
    return {"freq": fresp, "orient": oresp}, time.perf_counter() - t, n


def pe_from(fresp: dict, oresp_at_fhat, freqs: np.ndarray, thetas: np.ndarray) -> dict[str, np.ndarray]:
    cfg = pecore.ScoreConfig()
    pe = {}
    for k, a in fresp.items():
        fs = frequency_scores(a, freqs, cfg)
        os_ = orientation_scores(oresp_at_fhat(k, fs), thetas, cfg)
        mu2 = np.where(fs.dead, 0.0, os_.mu2)
        pe[k] = np.where(fs.dead, 0.0, perceptual_efficacy(fs.mu1.to_numpy(), mu2, cfg))
    return pe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="quick", choices=sorted(pecore.PRESETS))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch-size", type=int, default=None)
    args = ap.parse_args()
    dev = pecore.resolve_device(args.device)
    preset = pecore.get_preset(args.grid, **({"batch_size": args.batch_size} if args.batch_size else {}))
    grid = preset.probe
    net = pecore.load_network("vgg16", device=dev)

    # 1. pecore's probe, no cache, in float32 and in bfloat16 autocast
    runs = {}
    variants = {"float32": {}, "bfloat16": {"precision": "bfloat16"}, "float32_1phase": {"orientation_phases": 1}}
    for precision, extra in variants.items():
        p = pecore.get_preset(args.grid, **extra, **({"batch_size": args.batch_size} if args.batch_size else {}))
        sync(dev)
        t = time.perf_counter()
        s = pecore.score_network(net, p, device=dev, cache=False, progress=False)
        sync(dev)
        runs[precision] = (s, time.perf_counter() - t)
    scores, t_fast = runs["float32"]
    fx = net.extractor
    last = max(fx.layers[k] for k in net.taps)
    n_fast = grid.n_frequencies * grid.n_phases
    flops_fast = n_fast * conv_flops(fx.module, grid.size, last)
    needed = np.unique(scores.table.fhat.dropna().round(10))
    for f in needed:
        rows = scores.table[np.isclose(scores.table.fhat, f, atol=1e-9)]
        deepest = max(fx.layers[k] for k in rows.layer.unique())
        n_o = grid.n_orientations * grid.n_phases
        n_fast += n_o
        flops_fast += n_o * conv_flops(fx.module, grid.size, deepest)

    # 2. the straightforward probe
    resp, t_slow, n_slow = straightforward(net, grid, dev)
    freqs, thetas = grid.frequencies, grid.orientations

    def at_fhat(k, fs):
        return resp["orient"][k][np.arange(len(fs)), fs.fhat_index.to_numpy(), :]

    pe_slow = pe_from(resp["freq"], at_fhat, freqs, thetas)
    agreement = {prec: {k: spearman(r[0].layer(k).pe.to_numpy(), pe_slow[k]) for k in net.taps}
                 for prec, r in runs.items()}

    # 3. achieved GFLOP/s of the straightforward passes (the whole stack) and of one large convolution
    flops_full = conv_flops(net.extractor.module, grid.size, len(net.extractor.module) - 1)
    gflops_slow = flops_full * n_slow / t_slow / 1e9
    conv_cl = single_conv_gflops(dev, True)
    conv_nchw = single_conv_gflops(dev, False)
    result = {
        "grid": args.grid, "device": pecore.device.device_description(dev), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
        "pecore_float32": {"seconds": round(t_fast, 2), "images": int(n_fast), "images_per_s": round(n_fast / t_fast, 2),
                           "gflop_per_s": round(flops_fast / t_fast / 1e9, 1),
                           "orientation_frequencies_probed": int(len(needed)), "of": int(grid.n_frequencies)},
        "pecore_bfloat16": {"seconds": round(runs["bfloat16"][1], 2),
                            "images_per_s": round(n_fast / runs["bfloat16"][1], 2),
                            "gflop_per_s": round(flops_fast / runs["bfloat16"][1] / 1e9, 1)},
        "straightforward": {"seconds": round(t_slow, 2), "images": int(n_slow),
                            "images_per_s": round(n_slow / t_slow, 2), "gflop_per_s": round(gflops_slow, 1)},
        "speedup_float32": round(t_slow / t_fast, 2),
        "speedup_bfloat16": round(t_slow / runs["bfloat16"][1], 2),
        "pecore_float32_1phase": {"seconds": round(runs["float32_1phase"][1], 2),
                                  "note": "orientation sweep with one phase instead of the grid's phases"},
        "speedup_float32_1phase": round(t_slow / runs["float32_1phase"][1], 2),
        "single_conv_3x3_gflop_per_s": {"channels_last": round(conv_cl, 1), "nchw": round(conv_nchw, 1)},
        "straightforward_vs_single_conv": round(gflops_slow / conv_nchw, 3),
        "pecore_float32_vs_single_conv": round(flops_fast / t_fast / 1e9 / conv_cl, 3),
        "spearman_pe_per_layer": {p: {k: round(v, 4) for k, v in a.items()} for p, a in agreement.items()},
        "equal_results": {p: bool(min(a.values()) >= 0.99) for p, a in agreement.items()},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"probe-{args.grid}-{dev.type}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

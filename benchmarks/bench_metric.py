"""Benchmark: image pairs per second of pecore's metrics against the ``lpips`` package, same weights.

Measures ``subset`` (top 25 % of every VGG-16 tap) and ``lpips-vgg`` (pecore's LPIPS v0.1) against
``lpips.LPIPS(net='vgg')`` loaded with the same backbone and linear weights, at 256² and 512², on the
same inputs in one run, after checking that pecore's LPIPS equals the package's values. Not a timed test.

Run::

    .venv/bin/python benchmarks/bench_metric.py --out benchmarks/results/bench_metric.json

The ``lpips`` package is a benchmark extra, not a run-time dependency of pecore.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch


def lpips_package_model(net: str = "vgg16"):
    """The ``lpips`` package's LPIPS v0.1 with the backbone weights pecore uses (no download)."""
    import lpips

    from pecore.weights import load_features_state_dict

    model = lpips.LPIPS(net={"vgg16": "vgg", "alexnet": "alex"}[net], pnet_rand=True, verbose=False).eval()
    state, _ = load_features_state_dict(net)
    model.net.load_state_dict({k: state[".".join(k.split(".")[1:])] for k in model.net.state_dict()})
    return model


def timeit(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--batch", type=int, default=2, help="image pairs per call")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="benchmarks/results/bench_metric.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from pecore.metric import LPIPS, create_metric
    from pecore.networks import load_network
    from pecore.probe_result import load_probe_result
    from pecore.stored import stored_results

    dev = torch.device(args.device)
    net = load_network("vgg16", device=dev)
    ours = LPIPS(net)
    stored = stored_results("probe", "vgg16", "paper")
    if (stored / "pe_table.csv").is_file():
        table, scores_source = load_probe_result(stored).table, "stored vgg16-paper"
    else:
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)  # timing does not depend on which channels are chosen
        table = pd.DataFrame([{"layer": k, "channel": c, "pe": rng.random(), "dead": False}
                              for k in net.taps for c in range(net.channels[k])])
        scores_source = "random PE (no stored vgg16 scores; timing only)"
    subset = create_metric("subset", network=net, pe_table=table, subset="top", p=25)
    ref = lpips_package_model("vgg16").to(dev)
    results = []
    g = torch.Generator().manual_seed(0)
    for size in args.sizes:
        x = torch.rand(args.batch, 3, size, size, generator=g).to(dev)
        y = (x + 0.1 * torch.randn(x.shape, generator=g).to(dev)).clamp(0, 1)
        with torch.inference_mode():
            a, b = ours(x, y), ref(2 * x - 1, 2 * y - 1).flatten()
            max_diff = float((a - b).abs().max())

            t_pkg = timeit(lambda: ref(2 * x - 1, 2 * y - 1), args.repeats)
            t_lp = timeit(lambda: ours(x, y), args.repeats)
            t_sub = timeit(lambda: subset(x, y), args.repeats)
        row = {"size": size, "batch_pairs": args.batch, "max_abs_diff_vs_lpips_package": max_diff,
               "pairs_per_s": {"lpips-package": args.batch / t_pkg, "pecore lpips-vgg": args.batch / t_lp,
                               "pecore subset top25": args.batch / t_sub},
               "speedup_vs_package": {"pecore lpips-vgg": t_pkg / t_lp, "pecore subset top25": t_pkg / t_sub}}
        results.append(row)
        print(json.dumps(row))
    out = {"device": str(dev), "threads": args.threads, "torch": torch.__version__, "platform": platform.platform(),
           "processor": platform.processor(), "repeats": args.repeats, "timing": "best of repeats, after one warm-up",
           "subset_scores": scores_source, "results": results,
           "note": "2 shared CPU cores; other jobs were running, so absolute numbers are noisy; the ratio is measured "
                   "on the same inputs in the same run"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

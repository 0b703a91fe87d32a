"""The ``pecore origins`` command: chapter 09's probes and sensitivity measurements.

``pecore origins --preset book --out stored/origins/book --probe-root stored/probe`` probes every network of
the comparison (ImageNet, ST-LPIPS and random-initialisation seeds of each family; a probe folder that
exists is kept) and measures the contrast sensitivity and masking of every channel of the sensitivity
families. Interrupting keeps every finished network; the same command goes on from there.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .settings import PRESETS

    p = sub.add_parser(
        "origins",
        help="chapter 09: probe networks trained for other objectives and measure their contrast sensitivity",
        description="Probe ImageNet, ST-LPIPS (human judgments) and randomly initialised networks of each "
        "architecture family, and measure the contrast sensitivity and masking of every channel of the "
        "sensitivity families; writes OUT/provenance.json and OUT/distances/*.npz, the probes into PROBE_ROOT.",
    )
    p.add_argument("--preset", default="quick", choices=sorted(PRESETS),
                   help="ci (tests), quick (minutes on a CPU, the default), book (the stored tier), paper (GPU)")
    p.add_argument("--out", default=None, help="result folder (default: results/origins-PRESET)")
    p.add_argument("--probe-root", default=None,
                   help="folder of the probe folders (default: OUT/probe; the book tier uses stored/probe)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ..captions import recorded_command
    from ..device import resolve_device
    from ..output import check_writable
    from .experiment import run
    from .settings import get_settings

    out = check_writable(args.out or f"results/origins-{args.preset}")
    probe_root = check_writable(args.probe_root) if args.probe_root else None
    resolve_device(args.device)
    settings = get_settings(args.preset)
    start = time.perf_counter()
    try:
        res = run(settings, out, preset=args.preset, probe_root=probe_root, device=args.device,
                  progress=not args.quiet, command=recorded_command())
    except KeyboardInterrupt:
        print(f"interrupted: the finished probes and distance files in {out} are kept; run the same command to "
              "go on from there")
        return 130
    n_probes, n_dist = len(res.provenance["probes"]), len(res.distances)
    print(f"wrote {Path(out) / 'provenance.json'} ({n_probes} probes, {n_dist} networks measured; "
          f"{time.perf_counter() - start:.0f} s)")
    return 0

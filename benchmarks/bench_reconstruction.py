"""Benchmark record of the stored reconstruction run: wall time, image-steps per second and GFLOP/s.

Reads ``stored/reconstruction/<network>-<preset>/provenance.json`` (written by ``pecore reconstruction``)
and counts the run's floating-point work with the same counter as ``pecore reproduce --plan``, then writes
one JSON file with the wall time, the optimisation steps per second (image × step) and the achieved GFLOP/s
on the machine that made it. Nothing is recomputed but a FLOP count. Not a timed test.

Run::

    .venv/bin/python benchmarks/bench_reconstruction.py     # -> benchmarks/results/reconstruction-book.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reconstruction_record(network: str = "vgg16", preset: str = "book") -> dict:
    """The benchmark record of one stored reconstruction run."""
    from pecore.reproduce import plan
    from pecore.stored import stored_results

    folder = stored_results("reconstruction", network, preset)
    prov = json.loads((folder / "provenance.json").read_text())
    par = prov["parameters"]
    runs = (len(par["layers"]) * (3 + par["n_random_draws"]) * len(par.get("tv_weights", [0])) * len(par["images"])
            * par["n_seeds"])
    image_steps = runs * par["steps"]
    flops = plan(preset, ("reconstruction",))[0].flops
    wall = float(prov["wall_seconds"])
    return {
        "benchmark": "reconstruction stored run", "results": f"stored/reconstruction/{network}-{preset}",
        "preset": preset, "command": prov.get("command"), "git_commit": prov.get("git_commit"),
        "created_utc": prov.get("created_utc"), "device": prov.get("device"), "cpu": prov.get("cpu"),
        "torch_threads": prov.get("torch_threads"), "torch": prov.get("torch"),
        "wall_seconds": wall, "cache_hits": prov.get("cache_hits"), "inversions": runs,
        "image_size": par["image_size"], "steps": par["steps"], "image_steps": image_steps,
        "image_steps_per_second": round(image_steps / wall, 2), "tflop": round(flops / 1e12, 1),
        "gflop_per_second": round(flops / wall / 1e9, 1),
        "parts": [{k: part.get(k) for k in ("images", "git_commit", "wall_seconds", "command", "torch_threads")}
                  for part in prov.get("combined_from", [])],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="vgg16")
    ap.add_argument("--preset", default="book")
    ap.add_argument("--out", default=None, help="JSON file (default benchmarks/results/reconstruction-PRESET.json)")
    args = ap.parse_args()
    record = reconstruction_record(args.network, args.preset)
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"reconstruction-{args.preset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()

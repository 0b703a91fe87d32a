"""Benchmark record of the stored super-resolution run: wall time and training steps per second.

Reads ``stored/sr/<network>-<preset>/provenance.json`` (written by ``pecore sr run``) and the saved
runs' ``train.json``, and writes one JSON file with the run's wall time, the training seconds and
steps/s of every arm and of the λ sweep, the machine (CPU model, torch threads) and the pecore commit
that made it. Nothing is retrained: this records what the stored run measured. Not a timed test.

Run::

    .venv/bin/python benchmarks/bench_sr.py                  # stored/sr/vgg16-book -> benchmarks/results/sr-book.json
    .venv/bin/python benchmarks/bench_sr.py --preset paper --out benchmarks/results/sr-paper.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sr_record(folder: Path) -> dict:
    """The benchmark record of one stored SR run folder."""
    prov = json.loads((folder / "provenance.json").read_text())
    settings = prov["parameters"]["sr_settings"]
    arms = {}
    for name, seconds in (prov.get("train_seconds") or {}).items():
        steps = settings["steps"]
        arms[name] = {"steps": steps, "seconds": round(float(seconds), 1),
                      "steps_per_second": round(steps / float(seconds), 3) if seconds else None,
                      "batch_size": settings["batch_size"], "crop": settings["crop"]}
    sweep = {}
    for name, seconds in (prov.get("lambda_sweep", {}).get("train_seconds") or {}).items():
        steps = prov["lambda_sweep"]["steps"]
        sweep[name] = {"steps": steps, "seconds": round(float(seconds), 1),
                       "steps_per_second": round(steps / float(seconds), 3) if seconds else None}
    pretrain = {}
    for name, seconds in (prov.get("pretrain_seconds") or {}).items():
        steps = settings.get("pretrain_steps", 0)
        pretrain[name] = {"steps": steps, "seconds": round(float(seconds), 1),
                          "steps_per_second": round(steps / float(seconds), 3) if seconds else None}
    train_total = prov.get("training_seconds_total")  # every run once (the all arm may be a sweep run)
    if train_total is None:
        train_total = sum(a["seconds"] for a in arms.values()) + sum(a["seconds"] for a in sweep.values())
    return {
        "benchmark": "sr stored run",
        "results": str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder),
        "preset": prov.get("preset"),
        "command": prov.get("command"),
        "git_commit": prov.get("git_commit"),
        "created_utc": prov.get("created_utc"),
        "device": prov.get("device"),
        "cpu": prov.get("cpu") or prov.get("machine", {}).get("cpu_model"),
        "torch_threads": prov.get("torch_threads", prov.get("machine", {}).get("torch_threads")),
        "torch": prov.get("torch"),
        "wall_seconds": prov.get("wall_seconds"),
        "training_seconds": round(train_total, 1),
        # a run resumed by a second call of the command trains longer in all than its final call's wall time
        "wall_seconds_covers_all_training": bool(prov.get("wall_seconds") and prov["wall_seconds"] >= train_total),
        "network": {k: settings[k] for k in ("n_blocks", "n_feats", "crop", "batch_size", "steps", "loss_precision")
                    if k in settings},
        "evaluation_seconds": prov.get("evaluation_seconds"),
        "pretrain": pretrain,
        "arms": arms,
        "lambda_sweep": sweep,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="vgg16")
    ap.add_argument("--preset", default="book")
    ap.add_argument("--stored", default=None, help="results folder (default: stored/sr/<network>-<preset>)")
    ap.add_argument("--out", default=None, help="JSON file (default: benchmarks/results/sr-<preset>.json)")
    args = ap.parse_args()
    folder = Path(args.stored) if args.stored else ROOT / "stored" / "sr" / f"{args.network}-{args.preset}"
    record = sr_record(folder)
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"sr-{args.preset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("preset", "wall_seconds", "training_seconds", "torch_threads")}))
    for name, a in {**record["pretrain"], **record["arms"], **record["lambda_sweep"]}.items():
        print(f"{name:>16}: {a['steps']} steps in {a['seconds']} s = {a['steps_per_second']} steps/s")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

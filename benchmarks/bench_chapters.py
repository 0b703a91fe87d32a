"""Benchmark: how long a reader's rerun of each chapter takes on this CPU, per preset.

Executes every chapter notebook (or those named) with the book's own runner in a scratch folder: once as the book
builds it (``default``: each chapter's own preset, reading the stored results) and once with ``--preset quick`` (a
laptop rerun that computes what the stored results would give). The pecore cache starts empty (a fresh temporary
``PECORE_CACHE``, shared by the presets in the order given), so the times are those of a reader's first rerun
after ``make book``, not of a warm cache. A chapter whose own preset is ``quick`` (the exercises) is measured once.
The chapter pages' "Rerun this chapter" boxes read the record
(:mod:`pecore.rerun`). Not a timed test.

Run::

    .venv/bin/python benchmarks/bench_chapters.py --restart

An interrupted run keeps the chapters already measured in ``--out`` and measures only the others when run again.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch


def _own_preset(chapter: str) -> str | None:
    """The preset a chapter's notebook uses when none is given (``None`` when it has no preset parameter)."""
    import ast

    import papermill

    from pecore.notebook import REPO_ROOT

    default = papermill.inspect_notebook(str(REPO_ROOT / "notebooks" / f"{chapter}.ipynb")).get("preset", {})
    return ast.literal_eval(default["default"]) if default.get("default") else None


def main(argv: list[str] | None = None) -> int:
    from pecore.book import chapter_names, execute_chapter, execution_order
    from pecore.cache import atomic_write_text
    from pecore.captions import portable_command
    from pecore.provenance import cpu_model, git_commit

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/chapters-cpu.json")
    ap.add_argument("--chapters", nargs="+", default=None, help="chapters to measure (default: all)")
    ap.add_argument("--presets", nargs="+", default=["default", "quick"], help="default and/or preset names")
    ap.add_argument("--restart", action="store_true", help="measure every chapter again (the record in --out is replaced)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    record = json.loads(out.read_text()) if out.is_file() and not args.restart else {}
    resumed = bool(record.get("chapters"))  # chapters measured by an earlier command, with its own (empty) cache
    record.setdefault("chapters", {})
    chapters = execution_order(args.chapters or chapter_names())
    commit = git_commit()  # the code measured (before this command writes anything)
    command = portable_command("python benchmarks/bench_chapters.py " + " ".join(argv or sys.argv[1:]))
    cache = tempfile.TemporaryDirectory(prefix="pecore-bench-cache-")
    os.environ["PECORE_CACHE"] = cache.name  # the kernels inherit it: the command starts from an empty cache
    try:
        for preset in args.presets:
            with tempfile.TemporaryDirectory() as scratch:  # one folder per preset: the claims page reads its findings
                for name in chapters:
                    if preset in record["chapters"].get(name, {}) or preset == _own_preset(name):
                        continue  # measured already, or the chapter's own preset (its as-built time)
                    params = {"device": "cpu"} if preset == "default" else {"preset": preset, "device": "cpu"}
                    start = time.perf_counter()
                    execute_chapter(name, params, Path(scratch))
                    seconds = round(time.perf_counter() - start, 1)
                    record["chapters"].setdefault(name, {})[preset] = seconds
                    record.update({"benchmark": "chapter reruns", "cpu": cpu_model(), "torch": torch.__version__,
                                   "torch_threads": torch.get_num_threads(), "git_commit": commit,
                                   "cache": "empty at the start of the command; each preset pass keeps what the ones before it cached"
                                   + (" (resumed: the chapters measured after the resume had the cache of the "
                                      "resuming command only; --restart measures all in one command)" if resumed else ""),
                                   "updated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   "command": command})
                    atomic_write_text(out, json.dumps(record, indent=2) + "\n")
                    print(f"{name} ({preset}): {seconds} s", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted: the chapters measured so far are kept in {out}; run the same command to measure the rest")
        return 130
    finally:
        cache.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

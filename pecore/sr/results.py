"""The results of the SR experiment as one object: tables, loss logs, samples, generators, provenance.

:class:`SRResults` is what :func:`pecore.sr.experiment.run_experiment` returns and the chapter shows;
:meth:`SRResults.save` writes it as CSV / PNG / JSON plus float16 generators (the form committed under
``stored/sr/``) and :meth:`SRResults.load` reads it back.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import DatasetError
from .runs import generator_files, read_run_info
from .train import TrainedRun, is_run_dir, load_run

__all__ = ["SRResults", "find_runs", "plateau_table", "stored_results_dir"]


def find_runs(path: str | os.PathLike) -> dict[str, Path]:
    """Finished runs in ``path``: the folder itself, or its sub-folders (one per arm), by run name.

    Raises
    ------
    DatasetError
        No finished run there.
    """
    p = Path(path)
    if is_run_dir(p):
        return {read_run_info(p / "train.json")["name"]: p}
    runs = {}
    for sub in sorted(q for q in p.iterdir() if q.is_dir()) if p.is_dir() else []:
        if is_run_dir(sub):
            runs[read_run_info(sub / "train.json")["name"]] = sub
    if not runs:
        raise DatasetError(f"{p} holds no finished SR run (a folder with model.pt and train.json, "
                           "or sub-folders of such); train with `pecore sr train`")
    order = {name: i for i, name in enumerate(["pixel", "all", "top", "bottom"])}
    return dict(sorted(runs.items(), key=lambda kv: (order.get(kv[0], 9), kv[0])))




def plateau_table(logs: dict[str, pd.DataFrame], tail: float = 0.1) -> pd.DataFrame:
    """Whether each run's training loss has levelled off: mean loss over the last ``tail`` of the logged steps,
    over the ``tail`` before it, and their relative change.

    Examples
    --------
    >>> log = pd.DataFrame({"step": range(1, 21), "loss": [1.0] * 10 + [0.5] * 8 + [0.49] * 2})
    >>> t = plateau_table({"pixel": log}, tail=0.1)
    >>> round(float(t.relative_change[0]), 3)
    -0.02
    """
    rows = []
    for name, log in logs.items():
        n = len(log)
        k = max(1, int(round(n * tail)))
        if n < 2 * k:
            continue
        last, before = float(log.loss.iloc[-k:].mean()), float(log.loss.iloc[-2 * k:-k].mean())
        rows.append({"run": name, "steps": int(log.step.iloc[-1]), "loss_last": last, "loss_before": before,
                     "relative_change": (last - before) / before if before else np.nan})
    return pd.DataFrame(rows, columns=["run", "steps", "loss_last", "loss_before", "relative_change"])



@dataclass
class SRResults:
    """Everything the chapter shows: loss logs, metrics, paired differences, sample crops, provenance."""

    logs: dict[str, pd.DataFrame]
    per_image: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    samples: dict[str, torch.Tensor] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    runs: dict[str, Any] = field(default_factory=dict)
    lambda_sweep: pd.DataFrame | None = None

    @property
    def plateau(self) -> pd.DataFrame:
        """:func:`plateau_table` of the loss logs."""
        return plateau_table(self.logs)

    def generator_dir(self, name: str) -> Path:
        """The run folder of the saved generator ``name`` (``<results>/runs/<name>``), for ``pecore sr apply``.

        Raises
        ------
        DatasetError
            The results were not saved or hold no generator of that name.
        """
        d = self.path / "runs" / name if self.path is not None else None
        if d is None or not is_run_dir(d):
            raise DatasetError(f"no saved generator {name!r} in {self.path}; "
                               f"saved: {', '.join(sorted(find_runs(self.path / 'runs'))) if self.path else 'none'}")
        return d

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``per_image.csv``, ``summary.csv``, ``differences.csv``, ``plateau.csv``, ``lambda_sweep.csv``,
        ``logs/<run>.csv``, ``samples/<method>.png``, ``runs/<run>/`` (float16 generators) and ``provenance.json``:
        all of them or, on any failure, none (:func:`pecore.output.write_result_files`; results already in
        ``out_dir`` are kept)."""
        from ..imageio import image_bytes
        from ..output import write_result_files

        out = Path(out_dir)
        files: dict[str, Any] = {}
        for name, run in self.runs.items():
            folder = run.out_dir if isinstance(run, TrainedRun) else Path(run)  # a run folder: results read back
            if folder is not None and Path(folder).resolve() == (out / "runs" / name).resolve():
                continue  # the run is already there (a training folder keeps its full-precision weights)
            if not isinstance(run, TrainedRun):
                run = load_run(run, device="cpu")
            files.update({f"runs/{name}/{f}": data for f, data in generator_files(run).items()})
        tables = {"lambda_sweep.csv": (self.lambda_sweep, "%.6f"), "plateau.csv": (self.plateau, "%.6g"),
                  "per_image.csv": (self.per_image, "%.6f"), "summary.csv": (self.summary, "%.6f"),
                  "differences.csv": (self.differences, "%.6f"),
                  **{f"logs/{name}.csv": (log, "%.8g") for name, log in self.logs.items()}}
        files.update({name: t.to_csv(index=False, float_format=fmt).encode() for name, (t, fmt) in tables.items()
                      if t is not None})
        files.update({f"samples/{name}.png": image_bytes(img) for name, img in self.samples.items()})
        files["provenance.json"] = (json.dumps(self.provenance, indent=2, default=str) + "\n").encode()
        write_result_files(out, files)
        self.path = out
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> SRResults:
        """Read results written by :meth:`save`.

        Raises
        ------
        DatasetError
            The folder holds no saved results.
        """
        from ..imageio import load_image

        p = Path(path)
        if not (p / "per_image.csv").is_file():
            raise DatasetError(f"{p} holds no SR results (per_image.csv)")
        logs = {q.stem: pd.read_csv(q) for q in sorted((p / "logs").glob("*.csv"))}
        order = ["LR", "bicubic", "pixel", "all", "top", "bottom", "random"]
        names = sorted((q.stem for q in (p / "samples").glob("*.png")),
                       key=lambda n: (order.index(n) if n in order else len(order) + (n == "HR"), n))
        samples = {n: load_image(p / "samples" / f"{n}.png") for n in names}
        prov = json.loads((p / "provenance.json").read_text()) if (p / "provenance.json").is_file() else {}
        sweep = pd.read_csv(p / "lambda_sweep.csv") if (p / "lambda_sweep.csv").is_file() else None
        runs = {q.name: q for q in sorted((p / "runs").iterdir()) if is_run_dir(q)} if (p / "runs").is_dir() else {}
        if "generators" in prov:  # a work folder holds every trained run; the results keep the generators they name
            runs = {n: q for n, q in runs.items() if n in set(prov["generators"])}
        return cls(logs, pd.read_csv(p / "per_image.csv"), pd.read_csv(p / "summary.csv"),
                   pd.read_csv(p / "differences.csv"), samples, prov, p, runs, sweep)


def stored_results_dir(network: str = "vgg16", preset: str = "book") -> Path:
    """Folder of the committed SR results (``stored/sr/<network>-<preset>``)."""
    from ..stored import stored_results

    return stored_results("sr", network, preset)


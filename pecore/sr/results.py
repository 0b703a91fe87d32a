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

from ..cache import atomic_write_text
from ..errors import DatasetError
from .runs import read_run_info
from .train import TrainedRun, is_run_dir, load_run, save_generator

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
        ``logs/<run>.csv``, ``samples/<method>.png``, ``runs/<run>/`` (float16 generators) and ``provenance.json``."""
        from ..imageio import save_image

        out = Path(out_dir)
        for name, run in self.runs.items():
            if not isinstance(run, TrainedRun):  # a run folder (results read back with load)
                if Path(run).resolve() == (out / "runs" / name).resolve():
                    continue
                run = load_run(run, device="cpu")
            save_generator(run, out / "runs" / name)
        if self.lambda_sweep is not None:
            atomic_write_text(out / "lambda_sweep.csv", self.lambda_sweep.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "plateau.csv", self.plateau.to_csv(index=False, float_format="%.6g"))
        atomic_write_text(out / "per_image.csv", self.per_image.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "summary.csv", self.summary.to_csv(index=False, float_format="%.6f"))
        atomic_write_text(out / "differences.csv", self.differences.to_csv(index=False, float_format="%.6f"))
        for name, log in self.logs.items():
            atomic_write_text(out / "logs" / f"{name}.csv", log.to_csv(index=False, float_format="%.8g"))
        for name, img in self.samples.items():
            save_image(img, out / "samples" / f"{name}.png")
        atomic_write_text(out / "provenance.json", json.dumps(self.provenance, indent=2, default=str) + "\n")
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


"""One reconstruction result from runs of the same design on disjoint photographs.

Every photograph of a run gets the same noise starts (seeds ``seed .. seed + n_seeds − 1``) and the same channel
subsets, and its inversion does not depend on the other photographs of its batch, so a design run on photographs
1–5 and again on photographs 6–10 gives what one run on all ten would: :func:`combine` joins them, after checking
that everything but the photographs is the same. Its provenance keeps each part's commit, command and wall time.

Examples
--------
>>> t = lambda names: pd.DataFrame({"layer": "l", "subset": "top", "draw": 0, "tv_weight": 0.5,
...                                 "image": range(len(names)), "image_name": names, "seed": 0})
>>> def part(names):
...     n = len(names)
...     return ReconstructionResult(t(names), np.zeros((n, 3, 4, 4), np.float32),
...                                 {"l/top/0/tv0.5": np.zeros((n, 1, 3, 4, 4), np.float32)},
...                                 {"l/top/0/tv0.5": np.zeros((5, n, 1), np.float32)}, {"l/top/0/tv0.5": np.arange(3)},
...                                 {"network": "vgg16", "parameters": {"images": names, "steps": 5}})
>>> both = combine([part(["a", "b"]), part(["c"])])
>>> both.image_names, both.losses["l/top/0/tv0.5"].shape, both.provenance["parameters"]["images"]
(['a', 'b', 'c'], (5, 3, 1), ['a', 'b', 'c'])
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .experiment import ReconstructionResult

__all__ = ["combine"]

#: provenance fields that may differ between parts (what ran where and when), kept per part
_PER_PART = ("git_commit", "created_utc", "wall_seconds", "command", "cache_hits", "batches", "cpu", "torch_threads",
             "platform", "torch", "numpy", "python", "pecore_version", "stored", "stored_reason", "combined_from")


def _design(result: ReconstructionResult) -> dict[str, Any]:
    """Everything about a part that must be the same in every part: its provenance less the per-part fields
    and the photographs."""
    prov = {k: v for k, v in result.provenance.items() if k not in _PER_PART}
    prov["parameters"] = {k: v for k, v in prov.get("parameters", {}).items() if k != "images"}
    if isinstance(prov.get("weights"), dict):  # the file by its checksum, not by where it lay on a machine
        prov["weights"] = {k: v for k, v in prov["weights"].items() if k != "path"}
    return json.loads(json.dumps(prov, default=str))


def combine(parts: Sequence[ReconstructionResult]) -> ReconstructionResult:
    """The parts (same design, disjoint photographs) as one result, photographs in the parts' order.

    Raises
    ------
    ParameterError
        Fewer than two parts, a photograph in two parts, or parts that differ in anything but their photographs
        (network, weights, layers, subsets, channels, priors, steps, seeds, …: the message names the first field).
    """
    if len(parts) < 2:
        raise ParameterError(f"combine needs at least two results, got {len(parts)}")
    first = parts[0]
    ref = _design(first)
    for k, part in enumerate(parts[1:], start=1):
        other = _design(part)
        pa, pb = ref.get("parameters", {}), other.get("parameters", {})
        diff = sorted([f for f in {*ref, *other} if f != "parameters" and ref.get(f) != other.get(f)]
                      + [f"parameters.{f}" for f in {*pa, *pb} if pa.get(f) != pb.get(f)])
        if diff:
            raise ParameterError(f"result {k} differs from result 0 in {diff[0]}: only runs of one design on other "
                                 "photographs can be combined")
        if set(part.losses) != set(first.losses):
            raise ParameterError(f"result {k} has other reconstructions than result 0 (layers × subsets × draws × priors)")
        for key, chans in first.channels.items():
            if not np.array_equal(chans, part.channels.get(key, np.empty(0))):
                raise ParameterError(f"result {k} used other channels for {key}: its PE scores differ from result 0's")
    names = [n for p in parts for n in p.image_names]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParameterError(f"photograph {twice[0]!r} is in two of the results: combine runs on disjoint photographs")
    tables, offset = [], 0
    for part in parts:
        t = part.table.copy()
        t["image"] = t["image"].astype(int) + offset
        tables.append(t)
        offset += len(part.image_names)
    table = pd.concat(tables, ignore_index=True)
    jobs = ["layer", "tv_weight", "subset", "draw"]  # the rows in the order one run writes them: job, photograph, init
    order = {key: i for i, key in enumerate(dict.fromkeys(map(tuple, first.table[jobs].to_numpy().tolist())))}
    table["_job"] = [order[key] for key in map(tuple, table[jobs].to_numpy().tolist())]
    table = table.sort_values(["_job", "image", "seed"], kind="stable").drop(columns="_job").reset_index(drop=True)
    originals = np.concatenate([p.originals for p in parts], axis=0)
    images = {k: np.concatenate([p.images[k] for p in parts], axis=0) for k in first.images}
    losses = {k: np.concatenate([p.losses[k] for p in parts], axis=1) for k in first.losses}
    prov = json.loads(json.dumps(first.provenance, default=str))
    prov.pop("stored", None), prov.pop("stored_reason", None)
    prov["parameters"]["images"] = names
    if isinstance(prov.get("weights"), dict) and prov["weights"].get("path"):
        from pathlib import Path

        from ..weights import _portable_path

        prov["weights"]["path"] = _portable_path(str(prov["weights"].get("source")), Path(prov["weights"]["path"]))
    prov["wall_seconds"] = round(sum(float(p.provenance.get("wall_seconds") or 0) for p in parts), 1)
    prov["cache_hits"] = sum(int(p.provenance.get("cache_hits") or 0) for p in parts)
    prov["batches"] = sum(int(p.provenance.get("batches") or 0) for p in parts)
    prov["combined_from"] = [{"images": p.image_names, **{f: p.provenance.get(f) for f in
                                                           ("git_commit", "created_utc", "wall_seconds", "command",
                                                            "cpu", "torch_threads", "cache_hits")}} for p in parts]
    return ReconstructionResult(table, originals, images, losses, dict(first.channels), prov)

"""The "Rerun this chapter" box of every chapter page: the command, each parameter with its allowed values and what
changing it costs, and the measured rerun times on a CPU (from ``benchmarks/results/chapters-cpu.json``).

What a parameter change does is one of :data:`KINDS`; :data:`EFFECTS` says it per chapter and parameter. Times are
read from the benchmark record written by ``benchmarks/bench_chapters.py`` (never typed); a preset without a
measurement says so.

Examples
--------
>>> html_text = rerun_box("05_iqa", {"preset": "book", "stat": "srocc"})
>>> "pecore book --chapters 05_iqa" in html_text and "figures only" in html_text
True
"""
from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "EFFECTS", "CHAPTER_TIMES", "chapter_times", "rerun_box"]

#: what changing a parameter does, in words
KINDS = {
    "display": "figures only (seconds)",
    "rescore": "re-scores the stored sweeps (seconds, no forward pass)",
    "probe": "probes the network (minutes on a CPU)",
    "run": "runs the experiment on the chosen preset",
    "train": "trains networks (the longest reruns)",
    "device": "where it runs",
}
_COMMON = {"device": "device", "seed": "run", "use_stored": "run"}
#: per chapter, what changing each parameter does (a key of :data:`KINDS`)
EFFECTS: dict[str, dict[str, str]] = {
    "01_frequency": {**_COMMON, "network": "rescore", "preset": "probe", "ppd": "probe", "csf": "rescore",
                     "variants": "rescore", "layer": "display", "n_examples": "display", "seed": "display",
                     "use_stored": "probe"},
    "02_orientation": {**_COMMON, "network": "rescore", "preset": "probe", "ppd": "probe", "csf": "rescore",
                       "variants": "rescore", "layer": "display", "n_examples": "display", "seed": "display",
                       "use_stored": "probe"},
    "03_pe": {**_COMMON, "network": "rescore", "compare_network": "rescore", "preset": "probe", "ppd": "probe",
              "csf": "rescore", "layer": "display", "n_examples": "display", "robustness_variants": "rescore",
              "p": "display", "n_boot": "display", "seed": "display", "use_stored": "probe"},
    "04_reconstruction": {**_COMMON, "network": "run", "preset": "run", "layers": "run", "p": "run", "subsets": "run"},
    "05_iqa": {**_COMMON, "network": "run", "preset": "run", "data_dir": "run", "layout": "run", "stat": "display",
               "synthetic": "display"},
    "06_sr": {**_COMMON, "network": "train", "preset": "train", "seed": "train", "p": "train",
              "feature_weight": "train", "threads": "device", "use_stored": "train"},
    "07_claims": {"preset": "display", "device": "device", "seed": "display"},
    "08_exercises": {**_COMMON, "preset": "run", "network": "rescore", "layer": "display", "p": "display"},
    "09_origins": {**_COMMON, "preset": "run", "seed": "display"},
}
#: the benchmark record of chapter rerun times, relative to the repository
CHAPTER_TIMES = Path("benchmarks") / "results" / "chapters-cpu.json"


def chapter_times(chapter: str, root: str | Path | None = None) -> dict[str, float]:
    """Measured seconds of a chapter rerun per preset on the benchmark's CPU (``{}`` when none was measured).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); (root / CHAPTER_TIMES).parent.mkdir(parents=True)
    >>> _ = (root / CHAPTER_TIMES).write_text('{"chapters": {"01_frequency": {"default": 20.5, "quick": 31}}}')
    >>> chapter_times("01_frequency", root), chapter_times("02_orientation", root)
    ({'default': 20.5, 'quick': 31.0}, {})
    """
    record = _record(root)
    return {preset: float(sec) for preset, sec in record.get("chapters", {}).get(chapter, {}).items()}


def _record(root: str | Path | None = None) -> dict[str, Any]:
    """The benchmark record of chapter reruns (``{}`` when there is none)."""
    from .notebook import REPO_ROOT

    path = Path(root or REPO_ROOT) / CHAPTER_TIMES
    return json.loads(path.read_text()) if path.is_file() else {}


def _record_field(name: str) -> str:
    """A field of the benchmark record (how its times were measured; '' when absent)."""
    return str(_record().get(name, ""))


def _cache_sentence() -> str:
    """How warm the pecore cache was for the measured reruns, from the record."""
    state = _record_field("cache")
    if state.startswith("empty") and "resumed" not in state:
        return " The measurement started from an empty pecore cache, and the preset reruns came after the as-built " \
               "pass, with the cache it left (as after <code>make book</code>)."
    return ""


def _allowed(name: str, spec: Mapping[str, Any]) -> str:
    rule = spec.get(name)
    if rule is None:
        return "—"
    if rule.allowed is not None:
        values = [str(v) for v in rule.allowed()]
        text = ", ".join(values[:8]) + (", …" if len(values) > 8 else "")
    else:
        text = rule.what or " or ".join(t.__name__ for t in rule.types)
    return text + ("; or None" if rule.optional else "")


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def rerun_box(chapter: str, params: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> str:
    """HTML of a folded box: how to rerun ``chapter`` with other parameters, what each one costs, and how long a
    rerun took here per preset.

    ``params`` are the page's checked parameters (the values used; :func:`pecore.notebook.check_parameters` gives
    them with the rules they were checked against), ``spec`` more rules beyond those and the common ones
    (:data:`pecore.notebook.COMMON`).
    """
    from .notebook import COMMON

    spec = {**COMMON, **getattr(params, "spec", {}), **(spec or {})}
    effects = EFFECTS.get(chapter, {})
    rows = "".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(repr(v))}</code></td>"
        f"<td>{html.escape(_allowed(k, spec))}</td><td>{html.escape(KINDS.get(effects.get(k, ''), '—'))}</td></tr>"
        for k, v in params.items())
    times = chapter_times(chapter)
    timing = "; ".join(("as built (the page's own preset, stored results where it has them)" if p == "default"
                        else f"preset {p}") + f": {_minutes(s)}" for p, s in sorted(times.items())) or "not measured"
    example = next((k for k in params if effects.get(k) in ("rescore", "display")), None)
    param = f" --param {example}=…" if example else ""
    return (
        '<details class="rerun-box"><summary>Rerun this chapter</summary>'
        f"<p>From the repository: <code>pecore book --chapters {html.escape(chapter)}{html.escape(param)}</code> "
        f"(any parameter below as <code>--param NAME=VALUE</code>; <code>--preset NAME</code> for the preset), or "
        f"open <code>notebooks/{html.escape(chapter)}.ipynb</code> with <code>make lab</code> and change its first "
        "cell.</p>"
        '<table class="rerun-params"><thead><tr><th>parameter</th><th>used here</th><th>allowed</th>'
        f"<th>changing it</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p>Rerun time measured on the benchmark CPU (2 cores, no GPU), whole chapter: {html.escape(timing)}. "
        "The GPU <code>paper</code> preset: not measured (no GPU was available to this project's runs)."
        + _cache_sentence() + (f" {html.escape(_record_field('note'))}" if _record_field("note") else "") + "</p>"
        "</details>")

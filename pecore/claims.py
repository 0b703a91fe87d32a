"""The paper's claims beside what this book measures: findings recorded by the chapters, laid out as one table.

Each experiment chapter ends with one call to :func:`record_finding`: the chapter's own verdicts
(:class:`pecore.experiment.Verdict`, from its ``conclusions``) and where its results came from (network,
preset, stored or computed), written as ``findings/<chapter>.<claim>.json`` in the folder the chapter runs
in — papermill runs every chapter in the folder it executes it into (``book/chapters/`` for the book).
The claims page reads them back with :func:`load_findings` (a tidy table, one row per test) and lays them
out with :func:`claims_table`, one row per claim of :data:`CLAIMS`; a claim whose chapter was not run says
so. Row verdicts come from the recorded verdicts by :func:`row_verdict`, never stronger than they are.

Claim 1 (channels of a layer differ widely) is tested by :func:`spread_verdict`: the 10–90 % range of a
score over the live channels of the layer divided by its median, with a bootstrap interval over channels,
judged by :func:`pecore.experiment.judge` against :data:`SPREAD_THRESHOLD` instead of 0.

Examples
--------
>>> import tempfile
>>> from pecore.experiment import Verdict
>>> d = Path(tempfile.mkdtemp())
>>> v = Verdict.from_interval("top-PE keeps edges in place better", "relu2_2", "structure", 0.1, 0.05, 0.15, n=8)
>>> _ = record_finding("reconstruction", [v], {"network": "vgg16", "preset": "ci"}, chapter="04_reconstruction",
...                    folder=d)
>>> table = claims_table(load_findings(d))
>>> table.set_index("key").verdict.to_dict()
{'spread': 'not run', 'iqa': 'not run', 'reconstruction': 'supported', 'sr': 'not run'}
"""
from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cache import atomic_write_text
from .errors import DatasetError, ParameterError, UnknownNameError
from .experiment import VERDICTS, Verdict, display_name, judge, overall_reading
from .figures import panel_grid

__all__ = ["Claim", "CLAIMS", "FINDINGS_DIR", "SPREAD_THRESHOLD", "ROW_VERDICTS", "relative_spread", "spread_verdict",
           "record_finding", "load_findings", "row_verdict", "claims_table", "claims_html", "plot_claim",
           "section_anchor"]

#: the folder (relative to where a chapter runs) that holds the recorded findings
FINDINGS_DIR = "findings"
#: claim 1 is supported when the interval of (q90 − q10) / median lies above this: the channel at the 90th
#: percentile scores at least a quarter of the median more than the one at the 10th — a deliberately low bar
SPREAD_THRESHOLD = 0.25
#: the verdict of a row: the four readings, then 'too few data' and 'not run'
ROW_VERDICTS = ("supported", "contradicted", "undecided", "mixed", "too few data", "not run")
_FORMAT = 1
_MAX_SHOWN = 10


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: its key, its words, what the paper reports, and the chapter sections that test it.

    ``shown`` picks the tests the table spells out (all are counted in the verdict) and ``shown_note`` says
    which; ``tag`` names one test in a line; ``reference`` is the value the verdicts are judged against.
    """

    key: str
    text: str
    paper: str
    sections: tuple[tuple[str, str], ...]
    shown: Callable[[Mapping[str, Any]], bool] = lambda row: True
    shown_note: str = ""
    tag: Callable[[Mapping[str, Any]], str] = lambda r: f"{r['scope']} · {display_name(r['measure'])}"
    reference: float = 0.0


def _sr_arm(test: str) -> str:
    """The arm an SR test compares the top arm with, from its sentence (``... than one on the bottom channels``)."""
    return str(test).split(" one on the ")[-1].removesuffix(" channels")


CLAIMS: tuple[Claim, ...] = (
    Claim("spread", "μ1 and μ2 spread widely across the channels of relu2_2",
          "The channels of one layer (VGG-16 relu2_2) differ strongly in frequency sensitivity μ1 and in "
          "orientation selectivity μ2 (per-channel plots, no number).",
          (("01_frequency", "μ1 of every channel"), ("02_orientation", "μ2 of every channel")),
          reference=SPREAD_THRESHOLD),
    Claim("iqa", "High-PE channels predict human quality judgments better",
          "A distance on the high-PE channels agrees better with human quality scores than one on low-PE or "
          "random channels.",
          (("05_iqa", "What these data can and cannot support"),),
          shown=lambda r: str(r["scope"]).startswith("all layers") or str(r["test"]).startswith("a channel's"),
          shown_note="shown: all layers together, and PE against each channel's own agreement"),
    Claim("reconstruction",
          "Inversions from high-PE channels keep structure, from low-PE channels texture and colour",
          "Images rebuilt from the high-PE channels keep the structure and content of the photograph; those "
          "rebuilt from the low-PE channels keep its texture and colour (example images).",
          (("04_reconstruction", "Conclusion"),),
          tag=lambda r: f"{r['scope']} · {r['test']} ({display_name(r['measure'])}, top − bottom)"),
    Claim("sr", "A PE-selected perceptual loss improves super-resolution",
          "A super-resolution network trained with a loss on the high-PE VGG-16 channels gives better images "
          "than one trained with the other channels.",
          (("06_sr", "Conclusion"),), shown=lambda r: r["measure"] == "lpips_alex",
          shown_note="shown: LPIPS-alex, lower is better, the measure the chapter reads first",
          tag=lambda r: f"{r['scope']}, top − {_sr_arm(r['test'])} · {display_name(r['measure'])}"),
)
_BY_KEY = {c.key: c for c in CLAIMS}
_COLUMNS = ["claim_id", "chapter", "network", "preset", "stored", "label", "grid", "recorded_utc", "test", "scope",
            "measure", "estimate", "ci_low", "ci_high", "n", "verdict", "note"]


def section_anchor(heading: str) -> str:
    """The HTML id Sphinx gives a section with this heading (docutils' ``make_id``).

    Examples
    --------
    >>> section_anchor("What these data can and cannot support"), section_anchor("μ1 of every channel")
    ('what-these-data-can-and-cannot-support', 'of-every-channel')
    """
    from docutils.nodes import make_id

    return make_id(heading)


def relative_spread(values: np.ndarray) -> float:
    """(90th − 10th percentile) / median of ``values``: how widely they spread, free of their scale.

    NaN when the median is not positive.

    Examples
    --------
    >>> round(relative_spread(np.arange(1.0, 102.0)), 3)
    1.569
    """
    q10, med, q90 = np.quantile(np.asarray(values, dtype=float), [0.1, 0.5, 0.9])
    return float((q90 - q10) / med) if med > 0 else float("nan")


def spread_verdict(table: pd.DataFrame, score: str, layer: str, *, threshold: float = SPREAD_THRESHOLD,
                   n_boot: int = 1000, seed: int = 0) -> Verdict:
    """Claim 1 for one score and layer: :func:`relative_spread` over the live channels, judged against ``threshold``.

    The interval is the percentile bootstrap over channels (:func:`pecore.statistics.bootstrap_interval`);
    'supported' when it lies above ``threshold``, 'contradicted' when below, else 'undecided'.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": "l", "channel": range(50), "dead": False, "mu1": np.linspace(0.5, 1.5, 50)})
    >>> v = spread_verdict(t, "mu1", "l", n_boot=200)
    >>> v.verdict, round(v.estimate, 2), v.n
    ('supported', 0.8, 50)
    """
    from .statistics import bootstrap_interval

    if score not in table or layer not in set(table.layer):
        raise UnknownNameError(f"spread_verdict: no score {score!r} of layer {layer!r} in the table; layers: "
                               f"{', '.join(map(str, table.layer.unique()))}")
    t = table[(table.layer == layer) & ~table.dead.astype(bool)]
    values = t[score].to_numpy(dtype=float)
    estimate = relative_spread(values) if len(values) else float("nan")
    lo, hi = (bootstrap_interval(relative_spread, values, n_boot=n_boot, seed=seed) if len(values) > 1
              else (float("nan"), float("nan")))
    name = {"mu1": "μ1", "mu2": "μ2"}.get(score, score)
    return Verdict(f"the channels of {layer} differ widely in {name}", layer, f"{name}: (q90 − q10) / median",
                   float(estimate), float(lo), float(hi), len(values),
                   judge(lo - threshold, hi - threshold, n=len(values)), f"judged against {threshold:g}")


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def record_finding(claim: str, verdicts: Sequence[Verdict], provenance: Mapping[str, Any], *, chapter: str,
                   grid: str | None = None, folder: str | os.PathLike | None = None) -> Path:
    """Write a chapter's verdicts on ``claim`` and where its results came from, for the claims page.

    ``provenance`` is the chapter result's (its ``network``, ``preset``, ``stored``); the file is
    ``<folder>/<chapter>.<claim>.json``, ``folder`` defaulting to ``findings/`` in the working directory
    (the folder papermill runs the chapter in). Returns the path written.

    Raises
    ------
    UnknownNameError
        ``claim`` is not a key of :data:`CLAIMS`.
    ParameterError
        ``verdicts`` holds something other than :class:`~pecore.experiment.Verdict`.
    """
    from .notebook import figure_label

    if claim not in _BY_KEY:
        raise UnknownNameError(f"record_finding: unknown claim {claim!r}; allowed: {', '.join(_BY_KEY)}")
    bad = [type(v).__name__ for v in verdicts if not isinstance(v, Verdict)]
    if bad:
        raise ParameterError(f"record_finding: verdicts must be pecore.experiment.Verdict objects, got {bad[0]}")
    record = {"format": _FORMAT, "claim_id": claim, "chapter": chapter, "network": provenance.get("network"),
              "preset": provenance.get("preset"), "stored": bool(provenance.get("stored", False)),
              "label": figure_label(provenance), "grid": grid,
              "recorded_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "verdicts": [{k: _finite(x) for k, x in asdict(v).items()} for v in verdicts]}
    out = Path(folder) if folder is not None else Path.cwd() / FINDINGS_DIR
    out.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out / f"{chapter}.{claim}.json", json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def load_findings(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every recorded finding in ``folder`` (default ``findings/`` here) as a tidy table, one row per test.

    Columns: :data:`_COLUMNS` (``test`` is the verdict's claim sentence). A chapter that recorded no test
    gives one row with verdict 'nothing tested'. A missing folder gives an empty table.

    Raises
    ------
    DatasetError
        A file there is not a finding written by :func:`record_finding`.
    """
    folder = Path(folder) if folder is not None else Path.cwd() / FINDINGS_DIR
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            rec = json.loads(path.read_text())
            head = {k: rec[k] for k in _COLUMNS[:8]}
            tests = [{"test": v["claim"], **{k: v[k] for k in _COLUMNS[9:]}} for v in rec["verdicts"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} is not a pecore finding ({exc.__class__.__name__}: {exc})") from None
        rows += [{**head, **t} for t in tests] or [{**head, "verdict": "nothing tested"}]
    table = pd.DataFrame(rows, columns=_COLUMNS)
    for col in ("estimate", "ci_low", "ci_high"):
        table[col] = pd.to_numeric(table[col]).astype(float)
    return table


def row_verdict(verdicts: Sequence[str]) -> str:
    """One word for a claim from the verdicts of its tests, never stronger than they are.

    'supported' / 'contradicted' only when every test is; 'undecided' when none is either; 'mixed' when
    some test is supported or contradicted and the others are not all the same.

    Examples
    --------
    >>> row_verdict(["supported"] * 3), row_verdict(["supported", "undecided"]), row_verdict(["undecided"])
    ('supported', 'mixed', 'undecided')
    >>> row_verdict(["too few data"]), row_verdict([])
    ('too few data', 'not run')
    """
    v = [x for x in verdicts if x in VERDICTS]
    if not v:
        return "not run"
    if all(x == "too few data" for x in v):
        return "too few data"
    for word in ("supported", "contradicted"):
        if all(x == word for x in v):
            return word
    if "supported" not in v and "contradicted" not in v:
        return "undecided"
    return "mixed"


def _test_line(claim: Claim, r: Mapping[str, Any]) -> str:
    def f(x: float) -> str:
        return f"{x:+.3g}" if np.isfinite(x) else "n/a"

    tag = " · ".join(display_name(part) for part in claim.tag(r).split(" · "))
    return f"{tag}: {f(r['estimate'])} [{f(r['ci_low'])}, {f(r['ci_high'])}], n = {int(r['n'])} " \
           f"({r['verdict']})"


def _setting(g: pd.DataFrame) -> str:
    parts: dict[str, list[str]] = {}
    for _, r in g.drop_duplicates("chapter").iterrows():
        results = "stored results" if r.stored else "computed for the page"
        text = f"{r.network}, preset {r.preset} ({results})" + (f"; {r.grid}" if r.grid else "")
        parts.setdefault(text, []).append(r.chapter)
    return "\n".join(f"{', '.join(chapters)}: {text}" for text, chapters in parts.items())


def claims_table(findings: pd.DataFrame, claims: Sequence[Claim] = CLAIMS) -> pd.DataFrame:
    """One row per claim: the claim, what the paper reports, what was measured, the verdict, the setting, links.

    ``measured`` lists the tests the claim's ``shown`` picks (with estimate, 95 % interval, n and verdict),
    how many more were counted, and :func:`pecore.experiment.overall_reading` of all of them; a chapter
    with no finding is named as not run. ``links`` holds ``(chapter, href)`` pairs to the chapter sections.

    Examples
    --------
    >>> claims_table(load_findings("/nonexistent")).measured.tolist()[0]
    'not run: 01_frequency, 02_orientation (no finding recorded)'
    """
    rows = []
    for c in claims:
        g = findings[findings.claim_id == c.key]
        tested = g[g.verdict.isin(VERDICTS)]
        missing = [ch for ch, _ in c.sections if ch not in set(g.chapter)]
        shown = [r for _, r in tested.iterrows() if c.shown(r)]
        lines = [_test_line(c, r) for r in shown[:_MAX_SHOWN]]
        if len(tested) > len(lines):
            lines.append(f"({c.shown_note + '; ' if c.shown_note and lines else ''}"
                         f"{len(tested) - len(lines)} more tests on the chapter page)")
        if len(tested):
            verdicts = [Verdict(r.test, r.scope, r.measure, r.estimate, r.ci_low, r.ci_high, int(r.n), r.verdict)
                        for r in tested.itertuples()]
            lines.append(overall_reading(verdicts))
        elif len(g):
            lines.append("the chapter ran but recorded no test")
        if missing:
            lines.append(f"not run: {', '.join(missing)} (no finding recorded)")
        verdict = row_verdict(tested.verdict.tolist())
        if missing and verdict != "not run":
            verdict += " (incomplete)"
        rows.append({"key": c.key, "claim": c.text, "paper": c.paper, "measured": "\n".join(lines),
                     "verdict": verdict, "setting": _setting(g) if len(g) else "—",
                     "links": [(ch, f"{ch}.html#{section_anchor(sec)}") for ch, sec in c.sections]})
    return pd.DataFrame(rows, columns=["key", "claim", "paper", "measured", "verdict", "setting", "links"])


def claims_html(table: pd.DataFrame) -> str:
    """The claims table (from :func:`claims_table`) as an HTML table for the book, text escaped, links relative.

    Examples
    --------
    >>> "<a href=\\"05_iqa.html#what-these-data" in claims_html(claims_table(load_findings("/nonexistent")))
    True
    """
    def lines(text: str) -> str:
        return "<br>".join(html.escape(x) for x in str(text).split("\n"))

    out = pd.DataFrame({
        "#": range(1, len(table) + 1),
        "claim": [html.escape(x) for x in table.claim],
        "what the paper reports": [html.escape(x) for x in table.paper],
        "what this book measures (95 % intervals)": [lines(x) for x in table.measured],
        "verdict": [f"<b>{html.escape(x)}</b>" for x in table.verdict],
        "network · preset · results": [lines(x) for x in table.setting],
        "chapter": ["<br>".join(f'<a href="{html.escape(h)}">{html.escape(ch)}</a>' for ch, h in links)
                    for links in table.links]})
    return out.to_html(escape=False, index=False, classes="claims-table", border=0)


def plot_claim(findings: pd.DataFrame, claim: str):
    """Every recorded test of one claim: estimate and 95 % interval, one panel per measure, coloured by verdict.

    The dashed line is the value the verdicts are judged against. Returns the figure, or ``None`` when
    no test of ``claim`` was recorded.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    c = _BY_KEY.get(claim)
    if c is None:
        raise UnknownNameError(f"plot_claim: unknown claim {claim!r}; allowed: {', '.join(_BY_KEY)}")
    g = findings[(findings.claim_id == claim) & findings.verdict.isin(VERDICTS)]
    if g.empty:
        return None
    measures = list(dict.fromkeys(g.measure))
    colours = {"supported": "tab:blue", "contradicted": "tab:red", "undecided": "0.45", "too few data": "0.75"}
    height = max(1.6, 0.32 * g.groupby("measure").size().max() + 1.0)
    fig, axes = panel_grid(len(measures), (3.9, height), max_cols=2)
    for ax, m in zip(axes, measures):
        gm = g[g.measure == m].reset_index(drop=True)
        y = np.arange(len(gm))[::-1]
        for yi, r in zip(y, gm.itertuples()):
            ax.errorbar(r.estimate, yi, xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]], fmt="o",
                        color=colours[r.verdict], capsize=3)
        ax.axvline(c.reference, color="k", ls="--", lw=0.8)
        names = gm.scope.tolist() if gm.scope.is_unique else \
            [c.tag(r).replace(f" · {m}", "") for _, r in gm.iterrows()]
        ax.set_yticks(y, [display_name(n) for n in names], fontsize=9)
        ax.set_title(display_name(m), fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(axis="x", labelsize=9)
    handles = [plt.Line2D([], [], color=col, marker="o", ls="", label=k) for k, col in colours.items()
               if k in set(g.verdict)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig

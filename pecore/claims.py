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

Length: one page's machinery — recording and reading findings, the claim rows with their grouped test lines
and notes, the HTML table and the per-claim figure — kept together because every part reads the same
finding records and :data:`CLAIMS`.

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
{'spread': 'not run', 'iqa': 'not run', 'reconstruction': 'supported', 'sr': 'not run', 'lpips': 'not run',
 'origin': 'not run', 'humanlike': 'not run'}
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
from .experiment import READINGS, VERDICTS, Verdict, display_name, judge, overall_reading, verdict_word
from .orientation import silent_at_fhat
from .tables import interval_text

__all__ = ["Claim", "CLAIMS", "CHAPTER_TITLES", "FINDINGS_DIR", "SPREAD_THRESHOLD", "ROW_VERDICTS", "relative_spread",
           "spread_verdict", "record_finding", "load_findings", "row_verdict", "top_sets", "claims_table", "claims_html",
           "findings_table", "plot_claim", "section_anchor", "chapter_title", "row_qualifier"]

#: the folder (relative to where a chapter runs) that holds the recorded findings
FINDINGS_DIR = "findings"
#: claim 1 is supported when the interval of (q90 − q10) / median lies above this: the channel at the 90th
#: percentile scores at least a quarter of the median more than the one at the 10th — a deliberately low bar
SPREAD_THRESHOLD = 0.25
#: the verdict of a row: the four readings, then 'too few data' and 'not run'
ROW_VERDICTS = READINGS + ("not run",)
_FORMAT = 1
_MAX_SHOWN = 4
#: the chapters' titles in words (shortened), for links and settings on the claims page
CHAPTER_TITLES = {"01_frequency": "Spatial-frequency sensitivity (μ1)", "02_orientation": "Orientation selectivity (μ2)",
                  "03_pe": "Perceptual efficacy (PE)", "04_reconstruction": "Feature inversion",
                  "05_iqa": "Image quality", "06_sr": "Super-resolution", "07_claims": "Claims",
                  "08_exercises": "Exercises", "09_origins": "Origins of PE"}


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: its key, its words, what the paper reports, and the chapter sections that test it.

    ``shown`` picks the tests the table spells out (all are counted in the verdict) and ``shown_note`` says
    which; ``tag`` names one test in a line; ``family`` puts a test in a group of like tests (the same measure
    in several layers or subset sizes) and names it within the group — a group of more than one test is one
    line of counts in the table, a lone test one line with its numbers; ``reference`` is the value the
    verdicts are judged against; ``primary`` names the measure whose tests decide the row (named before the
    stored runs were made; ``None``: every test decides).
    """

    key: str
    text: str
    paper: str
    sections: tuple[tuple[str, str], ...]
    shown: Callable[[Mapping[str, Any]], bool] = lambda row: True
    shown_note: str = ""
    tag: Callable[[Mapping[str, Any]], str] = lambda r: f"{r['scope']} · {display_name(r['measure'])}"
    family: Callable[[Mapping[str, Any]], tuple[str, str]] | None = None
    reference: float = 0.0
    primary: str | None = None


def _sr_arm(test: str) -> str:
    """The arm an SR test compares the top arm with, from its sentence (``... than one on the bottom channels``)."""
    return str(test).split(" one on the ")[-1].removesuffix(" channels")


def _iqa_family(r: Mapping[str, Any]) -> tuple[str, str]:
    scope = str(r["scope"])
    measure = display_name(r["measure"])
    test = str(r["test"])
    if test.startswith(("the top-PE", "the bottom-PE")):  # the placement among random subsets, per side
        measure = f"{test.split(' ', 2)[1]} subset's {measure}"
    if scope.startswith("all layers"):
        return f"all layers together · {measure}", scope.split(", ", 1)[-1]
    if str(r["test"]).startswith("a channel's"):
        return f"{display_name(r['measure'])}, per layer", scope
    layer, _, p = scope.partition(", ")
    return f"{layer} alone · {measure}", p


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
          shown_note="shown: all layers together, and PE against each channel's own agreement",
          family=_iqa_family),
    Claim("reconstruction",
          "Inversions from high-PE channels keep structure, from low-PE channels texture and colour",
          "Images rebuilt from the high-PE channels keep the structure and content of the photograph; those "
          "rebuilt from the low-PE channels keep its texture and colour (example images).",
          (("04_reconstruction", "Conclusion"),),
          tag=lambda r: f"{r['scope']} · {r['test']} ({display_name(r['measure'])}, top − bottom)",
          family=lambda r: (f"{r['test']} ({display_name(r['measure'])}, top − bottom)", str(r["scope"])),
          primary="ssim_lowpass"),
    Claim("sr", "A PE-selected perceptual loss improves super-resolution",
          "A super-resolution network trained with a loss on the high-PE VGG-16 channels gives better images "
          "than one trained with the other channels.",
          (("06_sr", "Conclusion"),), shown=lambda r: r["measure"] == "lpips_alex",
          shown_note="shown: LPIPS-alex, lower is better, the primary measure",
          tag=lambda r: f"{r['scope']}, top − {_sr_arm(r['test'])} · {display_name(r['measure'])}",
          primary="lpips_alex"),
    Claim("lpips", "Beyond the paper: LPIPS's human-trained channel weights favour high-PE channels",
          "Not tested by the paper, which argues that high-PE channels are the perceptually useful ones. Tested here: "
          "Spearman ρ between each channel's PE and the weight LPIPS v0.1 learned for it from human judgments.",
          (("03_pe", "PE against LPIPS's learned channel weights"),),
          tag=lambda r: f"{r['scope']} · ρ(PE, LPIPS weight)",
          family=lambda r: (f"{str(r['scope']).split(' ', 1)[0]} · ρ(PE, LPIPS weight), per layer",
                            str(r["scope"]).split(" ", 1)[-1])),
    Claim("origin", "Beyond the paper: high PE comes from training, not from the architecture alone",
          "Not tested by the paper, which scores one ImageNet VGG-16. Tested here: the median PE of networks trained "
          "on ImageNet or on human similarity judgments against randomly initialised ones of the same architecture.",
          (("09_origins", "Where PE comes from"),),
          tag=lambda r: f"{r['scope']} · {str(r['test']).removeprefix('PE: ')}",
          family=lambda r: (f"{str(r['test']).removeprefix('PE: ')}, median PE", str(r["scope"])),
          primary="pe"),
    Claim("humanlike", "Beyond the paper: high-PE channels, read as a group, see more like humans",
          "Not tested by the paper. Tested here: contrast masking (no CSF enters) and the shape of the contrast "
          "sensitivity curve of the top-PE channels against the bottom-PE and random ones (ImageNet VGG-16).",
          (("09_origins", "Do high-PE channels see more like humans?"),),
          shown=lambda r: not (isinstance(r.get("note"), str) and r["note"]),
          shown_note="shown: the tests that are not circular",
          tag=lambda r: (f"{str(r['scope']).split(' ', 1)[-1]} · " + str(r["test"])
                         .replace("masking closer to human, ", "masking, ").replace(" (flat-CSF ranking)", ", flat CSF")),
          family=lambda r: (str(r["test"]), str(r["scope"]).split(" ", 1)[-1]),
          primary="slope"),
)
_BY_KEY = {c.key: c for c in CLAIMS}
_COLUMNS = ["claim_id", "chapter", "network", "preset", "stored", "label", "grid", "recorded_utc", "test", "scope",
            "measure", "estimate", "ci_low", "ci_high", "n", "verdict", "note", "predicted"]


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

    For μ2 the live channels silent at every orientation at their f̂ (:func:`pecore.orientation.silent_at_fhat`) are left out too.

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
    if score == "mu2":  # μ2 is 0 by convention, not measured, for a channel silent to straight gratings at f̂
        t = t[~silent_at_fhat(t)]
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
                   grid: str | None = None, folder: str | os.PathLike | None = None,
                   top_set: Mapping[str, Any] | None = None) -> Path:
    """Write a chapter's verdicts on ``claim`` and where its results came from, for the claims page.

    ``provenance`` is the chapter result's (its ``network``, ``preset``, ``stored``); the file is
    ``<folder>/<chapter>.<claim>.json``, ``folder`` defaulting to ``findings/`` in the working directory
    (the folder papermill runs the chapter in). ``top_set`` names the PE top set the tests rest on
    (``{"network": ..., "layers": [...], "p": ...}``), so the claims page can say how much of it survives the other
    scoring choices. Returns the path written.

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
    if top_set is not None and not (isinstance(top_set, Mapping) and {"network", "layers", "p"} <= set(top_set)):
        raise ParameterError("record_finding: top_set must be a mapping with network, layers and p")
    record = {"format": _FORMAT, "claim_id": claim, "chapter": chapter, "network": provenance.get("network"),
              "preset": provenance.get("preset"), "stored": bool(provenance.get("stored", False)),
              "label": figure_label(provenance), "grid": grid,
              "top_set": ({"network": str(top_set["network"]), "layers": [str(x) for x in top_set["layers"]],
                           "p": float(top_set["p"])} if top_set else None),
              "recorded_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "verdicts": [{k: _finite(x) for k, x in asdict(v).items()} for v in verdicts]}
    out = Path(folder) if folder is not None else Path.cwd() / FINDINGS_DIR
    out.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out / f"{chapter}.{claim}.json", json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def load_findings(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every recorded finding in ``folder`` (default ``findings/`` here) as a tidy table, one row per test.

    Columns: :data:`_COLUMNS` (``test`` is the verdict's claim sentence) and ``top_set`` (the JSON of the top set the
    chapter's tests rest on, or None). A chapter that recorded no test
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
            head["top_set"] = json.dumps(rec["top_set"], sort_keys=True) if rec.get("top_set") else None
            tests = [{"test": v["claim"], **{k: v.get(k, 1 if k == "predicted" else None) for k in _COLUMNS[9:]}}
                     for v in rec["verdicts"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} is not a pecore finding ({exc.__class__.__name__}: {exc})") from None
        rows += [{**head, **t} for t in tests] or [{**head, "verdict": "nothing tested"}]
    table = pd.DataFrame(rows, columns=_COLUMNS + ["top_set"])
    for col in ("estimate", "ci_low", "ci_high"):
        table[col] = pd.to_numeric(table[col]).astype(float)
    return table


def row_verdict(verdicts: Sequence[str]) -> str:
    """One word for a claim's row from the verdicts of its tests (:func:`pecore.experiment.verdict_word`),
    'not run' when there is none.

    Examples
    --------
    >>> row_verdict(["supported"] * 3), row_verdict(["supported", "undecided"]), row_verdict(["undecided"])
    ('supported', 'supported in part', 'undecided')
    >>> row_verdict(["contradicted", "undecided"]), row_verdict(["too few data"]), row_verdict([])
    ('not supported', 'too few data', 'not run')
    """
    v = [x for x in verdicts if x in VERDICTS]
    return verdict_word(v) if v else "not run"


def row_qualifier(tests: pd.DataFrame) -> str:
    """What weakens a row's verdict, from the notes of its deciding tests: ' (provisional)' when a run behind
    one of them had not converged, ' (single draw)' when one compares with a single random draw of channels,
    ' (not robust)' when a non-undecided one did not hold under every control.

    Examples
    --------
    >>> t = pd.DataFrame({"verdict": ["contradicted", "undecided"], "note": ["not robust", "robust; provisional (x)"]})
    >>> row_qualifier(t)
    ' (provisional, not robust)'
    >>> row_qualifier(pd.DataFrame({"verdict": ["supported"], "note": ["robust"]}))
    ''
    >>> row_qualifier(pd.DataFrame({"verdict": ["supported"], "note": ["primary measure; single draw (one set)"]}))
    ' (single draw)'
    """
    notes = [str(n) if isinstance(n, str) else "" for n in tests.get("note", pd.Series([], dtype=object))]
    flags = []
    if any("provisional" in n for n in notes):
        flags.append("provisional")
    if any("single draw" in n for n in notes):
        flags.append("single draw")
    if any(n.startswith("not robust") and v in ("supported", "contradicted") for n, v in zip(notes, tests.verdict)):
        flags.append("not robust")
    return f" ({', '.join(flags)})" if flags else ""


def chapter_title(name: str) -> str:
    """A chapter's title in words (:data:`CHAPTER_TITLES`); an unknown name is returned unchanged.

    Examples
    --------
    >>> chapter_title("05_iqa"), chapter_title("09_new")
    ('Image quality', '09_new')
    """
    return CHAPTER_TITLES.get(str(name), str(name))


def _test_line(claim: Claim, r: Mapping[str, Any]) -> str:
    tag = " · ".join(display_name(part) for part in claim.tag(r).split(" · "))
    return f"{tag}: {interval_text(r['estimate'], r['ci_low'], r['ci_high'])}, n = {int(r['n'])} ({r['verdict']})"


def _counts(verdicts: Sequence[str]) -> str:
    return ", ".join(f"{sum(v == k for v in verdicts)} {k}" for k in VERDICTS if k in verdicts)


def _family_lines(claim: Claim, rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(line, number of tests) per group of like tests: a lone test with its numbers, a group with its members
    and the count of each verdict."""
    if claim.family is None:
        return [(_test_line(claim, r), 1) for r in rows]
    groups: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for r in rows:
        name, member = claim.family(r)
        groups.setdefault(name, []).append((member, r))
    lines = []
    for name, members in groups.items():
        if len(members) == 1:
            lines.append((_test_line(claim, members[0][1]), 1))
        else:
            names = [m for m, _ in members]
            if all(m.startswith("p = ") and m.endswith(" %") for m in names):  # 'p = 10 %', 'p = 25 %' → 'p = 10, 25 %'
                names = ["p = " + ", ".join(m[4:-2] for m in names) + " %"]
            lines.append((f"{name} — {', '.join(names)}: {_counts([r['verdict'] for _, r in members])}",
                          len(members)))
    return lines


def _settings(g: pd.DataFrame) -> list[tuple[list[str], str, str]]:
    """Per distinct setting of the chapters that recorded ``g``: (chapters, short line, full line)."""
    parts: dict[tuple[str, str], list[str]] = {}
    for _, r in g.drop_duplicates("chapter").iterrows():
        results = "stored results" if r.stored else "computed for the page"
        short = f"{display_name(r.network)} · preset {r.preset} · {results}"
        full = f"{display_name(r.network)}, preset {r.preset} ({results})" + (f"; {r.grid}" if r.grid else "")
        parts.setdefault((short, full), []).append(r.chapter)
    return [(chapters, short, full) for (short, full), chapters in parts.items()]


def top_sets(findings: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The PE top set each claim's tests rest on, as its chapter recorded it (claim key → network, layers, p).

    Examples
    --------
    >>> top_sets(load_findings("/nonexistent"))
    {}
    """
    out = {}
    for key, g in findings.groupby("claim_id", sort=False):
        sets = [json.loads(x) for x in dict.fromkeys(g.top_set.dropna())] if "top_set" in g else []
        if sets:
            out[str(key)] = sets[0]
    return out


def claims_table(findings: pd.DataFrame, claims: Sequence[Claim] = CLAIMS, *,
                 survival: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per claim: the claim, what the paper reports, what was measured, the verdict, the setting, links.

    ``measured`` starts with :func:`pecore.experiment.overall_reading` of all the claim's tests, then one
    line per group of the tests the claim's ``shown`` picks (a lone test with estimate, 95 % interval, n and
    verdict; a group of like tests with its members and the count of each verdict), then how many more tests
    were counted; a chapter with no finding is named (by its title) as not run. ``setting`` is one line per
    distinct network, preset and source of results; ``setting_full`` adds the grid; ``links`` holds
    ``(chapter, href)`` pairs to the chapter sections. ``survival`` (claim key → a line, e.g. from
    :func:`pecore.compare.survival_text`) says how much of the claim's top set survives the other scoring choices;
    it closes the claim's ``measured`` lines.

    Examples
    --------
    >>> claims_table(load_findings("/nonexistent")).measured.tolist()[0]
    'not run: Spatial-frequency sensitivity (μ1), Orientation selectivity (μ2) (no finding recorded)'
    """
    rows = []
    for c in claims:
        g = findings[findings.claim_id == c.key]
        tested = g[g.verdict.isin(VERDICTS)]
        missing = [ch for ch, _ in c.sections if ch not in set(g.chapter)]
        lines = []
        if len(tested):
            verdicts = [Verdict(r.test, r.scope, r.measure, r.estimate, r.ci_low, r.ci_high, int(r.n), r.verdict)
                        for r in tested.itertuples()]
            lines.append(overall_reading(verdicts))
        elif len(g):
            lines.append("the chapter ran but recorded no test")
        shown = _family_lines(c, [r for _, r in tested.iterrows() if c.shown(r)])[:_MAX_SHOWN]
        lines += [line for line, _ in shown]
        more = len(tested) - sum(n for _, n in shown)
        if more > 0:
            note = c.shown_note + "; " if c.shown_note and shown else ""
            lines.append(f"({note}{more} more tests on the chapter page)")
        if missing:
            lines.append(f"not run: {', '.join(map(chapter_title, missing))} (no finding recorded)")
        if survival and survival.get(c.key) and len(tested):
            lines.append(f"robustness of the PE ranking: {survival[c.key]}")
        deciding = tested[tested.measure == c.primary] if c.primary and (tested.measure == c.primary).any() else tested
        verdict = row_verdict(deciding.verdict.tolist()) + row_qualifier(deciding)
        if c.primary and len(deciding) and len(deciding) < len(tested):
            lines.insert(1, f"decided by the primary measure, {display_name(c.primary)} ({len(deciding)} of "
                            f"{len(tested)} tests): {_counts(deciding.verdict.tolist())}")
        if missing and verdict != "not run":
            verdict += " (incomplete)"
        settings = _settings(g) if len(g) else []
        rows.append({"key": c.key, "claim": c.text, "paper": c.paper, "measured": "\n".join(lines),
                     "verdict": verdict,
                     "setting": "\n".join(dict.fromkeys(short for _, short, _ in settings)) or "—",
                     "setting_full": "\n".join(f"{', '.join(map(chapter_title, chs))}: {full}"
                                               for chs, _, full in settings) or "—",
                     "links": [(ch, f"{ch}.html#{section_anchor(sec)}") for ch, sec in c.sections]})
    return pd.DataFrame(rows, columns=["key", "claim", "paper", "measured", "verdict", "setting", "setting_full",
                                      "links"])


def claims_html(table: pd.DataFrame) -> str:
    """The claims table (from :func:`claims_table`) as an HTML table that fits the book's text column.

    Three columns: the claim (with what the paper reports and links to the chapters, by title), what this
    book measures, and the verdict with a one-line setting whose details (grids, budgets) are numbered notes
    under the table. Text is escaped, links are relative.

    Examples
    --------
    >>> html_text = claims_html(claims_table(load_findings("/nonexistent")))
    >>> "05_iqa.html#what-these-data-can-and-cannot-support" in html_text and ">Image quality</a>" in html_text
    True
    """
    def lines(text: str) -> str:
        return "<br>".join(html.escape(x) for x in str(text).split("\n"))

    notes: dict[str, int] = {}
    for full in table.setting_full:
        for line in str(full).split("\n"):
            if line != "—":
                notes.setdefault(line, len(notes) + 1)
    small = 'style="font-size:0.85em"'
    cell = 'style="vertical-align:top;text-align:left;padding:0.4em 0.5em;overflow-wrap:anywhere"'
    row = 'style="border-top:1px solid #ccc"'
    body = []
    for i, r in enumerate(table.itertuples(), start=1):
        links = ", ".join(f'<a href="{html.escape(h)}">{html.escape(chapter_title(ch))}</a>' for ch, h in r.links)
        refs = [notes[x] for x in str(r.setting_full).split("\n") if x in notes]
        setting = "<br>".join(html.escape(x) for x in str(r.setting).split("\n") if x != "—")
        marks = f"<sup>{', '.join(map(str, refs))}</sup>" if refs else ""
        measured = str(r.measured).split("\n")
        if len(measured) > 1 and not measured[0].startswith("not run"):  # the count of verdicts, then one item a line
            items = "".join(f'<li style="margin:0.15em 0">{html.escape(x)}</li>' for x in measured[1:])
            shown = (f"<b>{html.escape(measured[0])}</b>"
                     f'<ul style="margin:0.2em 0 0 0;padding-left:1.1em">{items}</ul>')
        else:
            shown = "<br>".join(html.escape(x) for x in measured)
        body.append(
            f"<tr {row}><td {cell}><b>{i}. {html.escape(r.claim)}</b><br><span {small}>Paper: {html.escape(r.paper)}"
            f"<br>Tested in: {links}</span></td>"
            f"<td {cell}><span {small}>{shown}</span></td>"
            f"<td {cell}><b>{html.escape(r.verdict)}</b>"
            + (f"<br><span {small}>{setting}{marks}</span>" if setting else "") + "</td></tr>")
    head = ("<thead><tr>" + "".join(f'<th {cell}>{h}</th>' for h in
                                    ("The paper's claim", "What this book measures (95 % intervals)", "Verdict"))
            + "</tr></thead>")
    cols = '<colgroup><col style="width:34%"><col style="width:46%"><col style="width:20%"></colgroup>'
    foot = ("<p " + small + ">" + "<br>".join(f"<sup>{n}</sup> {html.escape(x)}" for x, n in notes.items()) + "</p>"
            if notes else "")
    return (f'<table class="claims-table" style="width:100%;table-layout:fixed;border-collapse:collapse">{cols}'
            f"{head}<tbody>{''.join(body)}</tbody></table>{foot}")


def findings_table(findings: pd.DataFrame) -> pd.DataFrame:
    """Every recorded test as readers see it: claim number, chapter title, what was tested, interval, n, verdict.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> v = Verdict.from_interval("top-PE keeps edges in place better", "relu2_2", "structure", 0.1, 0.05, 0.15, n=8)
    >>> _ = record_finding("reconstruction", [v], {"network": "vgg16", "preset": "ci"}, chapter="04_reconstruction",
    ...                    folder=d)
    >>> findings_table(load_findings(d)).iloc[0].astype(str).tolist()
    ['3', 'Feature inversion', 'relu2_2 · top-PE keeps edges in place better (edge correlation, top − bottom)', '+0.100 [+0.050, +0.150]', '8', 'supported']
    """
    number = {c.key: i for i, c in enumerate(CLAIMS, start=1)}
    rows = []
    for _, r in findings.iterrows():
        c = _BY_KEY.get(r.claim_id)
        tested = r.verdict in VERDICTS
        what = " · ".join(display_name(x) for x in c.tag(r).split(" · ")) if c is not None and tested else "—"
        rows.append({"claim": number.get(r.claim_id, 0), "chapter": chapter_title(r.chapter), "test": what,
                     "estimate [95 % interval]": interval_text(r.estimate, r.ci_low, r.ci_high) if tested else "—",
                     "n": int(r.n) if tested else 0, "verdict": r.verdict})
    table = pd.DataFrame(rows, columns=["claim", "chapter", "test", "estimate [95 % interval]", "n", "verdict"])
    return table.sort_values("claim", kind="stable").reset_index(drop=True)  # in claim order, each in record order


def plot_claim(findings: pd.DataFrame, claim: str):
    """Every recorded test of one claim: estimate and 95 % interval, one panel per measure, coloured by verdict.

    Panels sit two to a row; each row is as tall as its longest panel needs (a panel of five tests is not
    stretched to the height of one of eighteen), and the legend takes an empty cell of the last row, or a
    line under the panels. The dashed line is the value the verdicts are judged against; the side the claim
    predicts is shaded green (when a panel's tests share one prediction). Returns the figure,
    or ``None`` when no test of ``claim`` was recorded.

    Examples
    --------
    >>> f = pd.DataFrame({"claim_id": "sr", "measure": ["lpips_alex", "lpips_alex", "psnr_y", "ssim_y"],
    ...                   "scope": "Set5", "test": ["a one on the bottom channels", "a one on the all channels"] * 2,
    ...                   "estimate": [0.1, -0.1, 0.2, 0.1], "ci_low": [0.05, -0.2, 0.1, 0.0],
    ...                   "ci_high": [0.2, 0.0, 0.3, 0.2], "verdict": ["contradicted", "undecided", "supported",
    ...                                                               "undecided"]})
    >>> fig = plot_claim(f, "sr"); len(fig.axes)  # three panels and the legend in the fourth cell
    4
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
    sizes = g.groupby("measure", sort=False).size().reindex(measures).tolist()
    cols = 1 if len(measures) == 1 else 2
    n_rows = int(np.ceil(len(measures) / cols))
    row_tests = [max(sizes[i * cols:(i + 1) * cols]) for i in range(n_rows)]
    heights = [0.3 * n + 0.9 for n in row_tests]  # inches: one line per test, plus title and axis
    free_cell = len(measures) < n_rows * cols
    fig = plt.figure(figsize=(3.5 * cols, sum(heights) + (0 if free_cell else 0.45)), layout="constrained")
    grid = fig.add_gridspec(n_rows, cols, height_ratios=heights)
    axes = [fig.add_subplot(grid[i // cols, i % cols]) for i in range(len(measures))]
    for ax, m in zip(axes, measures):
        gm = g[g.measure == m].reset_index(drop=True)
        y = np.arange(len(gm))[::-1]
        for yi, r in zip(y, gm.itertuples()):
            ax.errorbar(r.estimate, yi, xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]], fmt="o",
                        color=colours[r.verdict], capsize=3)
        ax.axvline(c.reference, color="k", ls="--", lw=0.8)
        sides = set(gm["predicted"].dropna().astype(int)) if "predicted" in gm else set()
        if len(sides) == 1:  # shade the side of the reference the claim predicts
            lo, hi = ax.get_xlim()
            side = sides.pop()
            ax.axvspan(c.reference, hi if side > 0 else lo, color="#d9f0d3", alpha=0.6, lw=0, zorder=0)
            ax.set_xlim(lo, hi)
        title = display_name(m)
        if gm.scope.is_unique:
            names = gm.scope.tolist()
        else:  # the tests differ in what they compare: name that, and a scope they share once, in the title
            names = [c.tag(r).replace(f" · {display_name(m)}", "").replace(f" · {m}", "") for _, r in gm.iterrows()]
            scope = str(gm.scope.iloc[0])
            if gm.scope.nunique() == 1 and all(n.startswith(scope + ", ") for n in names):
                names = [n[len(scope) + 2:] for n in names]
                title += f", {scope}"
        ax.set_yticks(y, [display_name(n) for n in names], fontsize=9)
        ax.set_ylim(-0.6, len(gm) - 0.4)
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(axis="x", labelsize=9)
    handles = [plt.Line2D([], [], color=col, marker="o", ls="", label=k) for k, col in colours.items()
               if k in set(g.verdict)]
    if free_cell:
        lax = fig.add_subplot(grid[n_rows - 1, cols - 1])
        lax.axis("off")
        lax.legend(handles=handles, loc="center", fontsize=9, frameon=False, title="verdict", title_fontsize=9)
    else:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False)
    return fig

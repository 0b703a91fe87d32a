"""The claims page: its numbers are the chapters' own, a chapter not run says so, a verdict is its interval's."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pecore import claims
from pecore.book import NOTEBOOKS, execute_chapter
from pecore.errors import DatasetError, ParameterError, UnknownNameError
from pecore.experiment import MIN_IMAGES, display_name, Verdict, judge
from pecore.notebook import chapter_probe
from pecore.statistics import bootstrap_interval

#: the network and layer of the executed chapters: AlexNet's stored paper probe (relu2 is its second block)
NETWORK, LAYER = "alexnet", "relu2"
CI = {"preset": "ci", "device": "cpu"}


def _outputs(notebook: Path) -> str:
    """All the text a notebook's outputs show (Markdown, HTML, plain text, streams)."""
    nb = json.loads(notebook.read_text())
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts += ["".join(out.get("text", ""))]
            parts += ["".join(v) for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """01 (μ1 spread) and 06 (SR) executed under ci, then the claims page; 02, 04 and 05 are not run."""
    out = tmp_path_factory.mktemp("book") / "chapters"
    execute_chapter("01_frequency", {**CI, "network": NETWORK, "layer": LAYER}, out)
    execute_chapter("06_sr", {**CI, "network": NETWORK}, out)
    execute_chapter("07_claims", CI, out)
    return out


def test_spread_row_is_recomputed_from_the_same_stored_probe(book):
    findings = claims.load_findings(book / "findings")
    row = findings[findings.chapter == "01_frequency"].iloc[0]
    table = chapter_probe(NETWORK, "ci", device="cpu").table  # the stored paper probe the chapter read
    live = table[(table.layer == LAYER) & ~table.dead.astype(bool)].mu1.to_numpy(float)
    q10, med, q90 = np.quantile(live, [0.1, 0.5, 0.9])
    lo, hi = bootstrap_interval(claims.relative_spread, live, n_boot=1000, seed=0)
    assert (row.claim_id, row.scope, row.n, row.network, row.stored) == ("spread", LAYER, len(live), NETWORK, True)
    assert row.estimate == pytest.approx((q90 - q10) / med, rel=1e-12)
    assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi), rel=1e-12)
    assert row.verdict == judge(lo - claims.SPREAD_THRESHOLD, hi - claims.SPREAD_THRESHOLD, n=len(live))
    page = _outputs(book / "07_claims.ipynb")
    assert f"{claims.interval_text(row.estimate, lo, hi)}, n = {len(live)} ({row.verdict})" in page
    assert "preset paper (stored results)" in page and "01_frequency.html#of-every-channel" in page


def test_sr_row_shows_the_numbers_the_sr_chapter_shows(book):
    findings = claims.load_findings(book / "findings")
    sr = findings[findings.claim_id == "sr"]
    assert len(sr) > 0 and set(sr.chapter) == {"06_sr"} and set(sr.preset) == {"ci"} and not sr.stored.any()
    chapter_page, claims_page = _outputs(book / "06_sr.ipynb"), _outputs(book / "07_claims.ipynb")
    shown = sr[sr.measure == "lpips_alex"]
    assert len(shown) >= 2
    for r in shown.itertuples():
        arm = r.test.split(" one on the ")[-1].removesuffix(" channels")
        # the chapter's conclusion writes LPIPS-alex with 4 decimals; the claims page in plain decimals
        assert f"top − {arm} {r.estimate:+.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] ({r.verdict})" in chapter_page
        assert (f"top − {display_name(arm)} · LPIPS-alex: {claims.interval_text(r.estimate, r.ci_low, r.ci_high)}"
                in claims_page)  # the claims page names measures and arms in words
        assert r.verdict == judge(r.ci_low, r.ci_high, predicted=-1, n=r.n, min_n=MIN_IMAGES)  # LPIPS: lower is better
    row = claims.claims_table(findings).set_index("key").loc["sr"]
    primary = sr[sr.measure == "lpips_alex"]  # the primary measure decides the row
    assert row.verdict == claims.row_verdict(primary.verdict.tolist()) + claims.row_qualifier(primary)
    assert "decided by the primary measure, LPIPS-alex" in row.measured


def test_the_summary_and_the_readme_table_are_the_claims_rows(book, tmp_path):
    from pecore.summary import README_END, README_START, summary_markdown, summary_table, update_readme

    findings = claims.load_findings(book / "findings")
    summary = summary_table(findings)
    rows = claims.claims_table(findings)
    assert summary.verdict.tolist() == rows.verdict.tolist() and summary.claim.tolist() == rows.claim.tolist()
    sr = findings[(findings.claim_id == "sr") & (findings.measure == "lpips_alex")]
    key = sr[sr.test.str.endswith("bottom channels") & (sr.scope == sr.scope.iloc[0])].iloc[0]
    assert summary.set_index("chapter").loc["06_sr", "estimate [95 % interval]"] == claims.interval_text(
        key.estimate, key.ci_low, key.ci_high)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nold table\n{README_END}\n\nrest\n")
    assert update_readme(readme, book / "findings") and not update_readme(readme, book / "findings")
    text = readme.read_text()
    assert "old table" not in text and text.endswith("rest\n")
    assert summary_markdown(summary, link="_build/html/book/chapters/{chapter}.html") in text
    # the committed README carries the generated table between the same markers, one row per claim
    committed = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = committed.split(README_START, 1)[1].split(README_END, 1)[0]
    assert all(f"[{c.text}]" in table for c in claims.CLAIMS)


def test_a_primary_measure_decides_its_row_and_says_so(tmp_path):
    edges = Verdict.from_interval("top-PE keeps edges in place better", "relu2_2", "structure", -0.1, -0.2, -0.05, n=15,
                                  note="robust")
    layout = Verdict.from_interval("top-PE keeps the large-scale layout better", "relu2_2", "ssim_lowpass", 0.05, 0.01,
                                   0.09, n=15, note="not robust; provisional (fewer than 90 % of the layer's runs converged)")
    claims.record_finding("reconstruction", [edges, layout], {"network": "vgg16", "preset": "ci"},
                          chapter="04_reconstruction", folder=tmp_path)
    row = claims.claims_table(claims.load_findings(tmp_path)).set_index("key").loc["reconstruction"]
    assert row.verdict == "supported (provisional, not robust)"
    assert "decided by the primary measure, low-pass SSIM (1 of 2 tests): 1 supported" in row.measured


def test_chapters_not_run_are_marked_not_run(book):
    table = claims.claims_table(claims.load_findings(book / "findings")).set_index("key")
    assert table.loc["iqa", "verdict"] == "not run" and table.loc["reconstruction", "verdict"] == "not run"
    assert "not run: Image quality" in table.loc["iqa", "measured"]  # chapters by title, not file name
    assert "not run: Orientation selectivity (μ2)" in table.loc["spread", "measured"]  # μ1 measured, μ2 not
    assert table.loc["spread", "verdict"].endswith("(incomplete)")
    page = _outputs(book / "07_claims.ipynb")
    assert page.count("<b>not run</b>") == 5 and "not run: Feature inversion" in page  # iqa, reconstruction, lpips, 09 (2)
    assert "Traceback" not in page and "image/png" in (book / "07_claims.ipynb").read_text()


def test_no_findings_at_all_gives_a_table_of_not_run(tmp_path):
    table = claims.claims_table(claims.load_findings(tmp_path / "nothing"))
    assert table.verdict.tolist() == ["not run"] * len(claims.CLAIMS)
    assert all(m.startswith("not run: ") for m in table.measured)
    assert claims.plot_claim(claims.load_findings(tmp_path), "sr") is None


@pytest.mark.parametrize("values,verdict", [
    (np.linspace(0.5, 1.5, 60), "supported"),      # (q90 − q10) / median = 0.8
    (np.linspace(0.98, 1.02, 60), "contradicted"),  # 0.032, far below 0.25
    (np.linspace(0.98, 1.02, 3), "too few data"),   # three channels
])
def test_spread_verdict_is_the_one_its_interval_gives(values, verdict):
    table = pd.DataFrame({"layer": "l", "dead": False, "mu2": values})
    v = claims.spread_verdict(table, "mu2", "l", n_boot=300)
    assert v.verdict == verdict
    assert v.verdict == judge(v.ci_low - claims.SPREAD_THRESHOLD, v.ci_high - claims.SPREAD_THRESHOLD, n=v.n)
    if verdict != "too few data":
        assert v.ci_low <= v.estimate <= v.ci_high


def test_an_undecided_interval_makes_the_row_undecided_or_supported_in_part(tmp_path):
    und = Verdict.from_interval("c", "relu2_2", "structure", 0.01, -0.02, 0.04, n=8)
    sup = Verdict.from_interval("c", "relu3_3", "structure", 0.05, 0.01, 0.09, n=8)
    claims.record_finding("reconstruction", [und], {"network": "vgg16", "preset": "ci"}, chapter="04_reconstruction",
                          folder=tmp_path)
    row = claims.claims_table(claims.load_findings(tmp_path)).set_index("key").loc["reconstruction"]
    assert und.verdict == "undecided" and row.verdict == "undecided" and "+0.010 [-0.020, +0.040]" in row.measured
    assert "relu2_2 · c (edge correlation, top − bottom)" in row.measured and "structure" not in row.measured
    claims.record_finding("reconstruction", [und, sup], {"network": "vgg16", "preset": "ci"},
                          chapter="04_reconstruction", folder=tmp_path)  # a rerun replaces the record
    row = claims.claims_table(claims.load_findings(tmp_path)).set_index("key").loc["reconstruction"]
    assert row.verdict == "supported in part" and "1 supported, 1 undecided" in row.measured


def test_a_nan_interval_round_trips_as_too_few_data(tmp_path):
    v = Verdict.from_interval("c", "all layers, p = 25 %", "SROCC top − bottom", 0.1, float("nan"), float("nan"), n=5)
    claims.record_finding("iqa", [v], {"network": "vgg16", "preset": "ci"}, chapter="05_iqa", folder=tmp_path)
    json.loads((tmp_path / "05_iqa.iqa.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    row = claims.load_findings(tmp_path).iloc[0]
    assert np.isnan(row.ci_low) and row.verdict == "too few data"
    assert claims.claims_table(claims.load_findings(tmp_path)).set_index("key").loc["iqa", "verdict"] == "too few data"


def test_bad_inputs_are_named_errors(tmp_path):
    v = Verdict.from_interval("c", "s", "m", 1.0, 0.5, 1.5, n=9)
    with pytest.raises(UnknownNameError, match="unknown claim 'speed'"):
        claims.record_finding("speed", [v], {}, chapter="01_frequency", folder=tmp_path)
    with pytest.raises(ParameterError, match="Verdict objects, got dict"):
        claims.record_finding("sr", [{"verdict": "supported"}], {}, chapter="06_sr", folder=tmp_path)
    (tmp_path / "06_sr.sr.json").write_text("{not json")
    with pytest.raises(DatasetError, match="06_sr.sr.json is not a pecore finding"):
        claims.load_findings(tmp_path)
    with pytest.raises(UnknownNameError, match="no score 'mu3'"):
        claims.spread_verdict(pd.DataFrame({"layer": ["relu2_2"], "dead": [False], "mu1": [1.0]}), "mu3", "relu2_2")


def test_every_linked_section_is_a_heading_of_its_chapter():
    for claim in claims.CLAIMS:
        for chapter, heading in claim.sections:
            nb = json.loads((NOTEBOOKS / f"{chapter}.ipynb").read_text())
            headings = {line.lstrip("#").strip() for c in nb["cells"] if c["cell_type"] == "markdown"
                        for line in "".join(c["source"]).splitlines() if line.startswith("#")}
            assert heading in headings, f"{chapter} has no section {heading!r}"
            nb_text = json.dumps(nb)
            assert "pecore.claims" in nb_text, f"{chapter} records no finding"


def test_claims_page_reads_as_words_and_fits_the_column(book):
    """Table 1 in three columns, chapters by title, numbers in plain decimals, captions naming the paper's claims."""
    import re

    page = _outputs(book / "07_claims.ipynb")
    table_html = claims.claims_html(claims.claims_table(claims.load_findings(book / "findings")))
    assert table_html.count("<th ") == 3 and "table-layout:fixed" in table_html
    cells = re.sub(r'href="[^"]*"', "", table_html)
    assert not re.search(r"\d_(frequency|orientation|reconstruction|iqa|sr)\b", cells)  # no file names as words
    assert not re.search(r"\de[-+]\d", page)  # no exponent notation
    for i, c in enumerate(claims.CLAIMS, start=1):
        if c.key in ("spread", "sr"):
            assert f"Claim {i} (the paper): “{c.text}”" in page


def test_a_claim_figure_gives_each_row_of_panels_the_height_it_needs():
    rows = [{"claim_id": "iqa", "chapter": "05_iqa", "measure": m, "scope": f"{m} {k}", "test": "t",
             "estimate": 0.1, "ci_low": 0.0, "ci_high": 0.2, "n": 5, "verdict": "undecided"}
            for m, n in (("SROCC top − bottom", 18), ("SROCC top − random", 18), ("rho", 5)) for k in range(n)]
    fig = claims.plot_claim(pd.DataFrame(rows), "iqa")
    fig.canvas.draw()
    long, _, short = (ax.get_position().height for ax in fig.axes[:3])
    assert short < 0.45 * long  # five tests get a short panel, not one as tall as eighteen
    assert len(fig.axes) == 4 and not fig.axes[3].axison  # the legend sits in the empty cell beside it

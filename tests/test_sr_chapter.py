"""The SR chapter executes under the ci preset, shows its figures and a conclusion driven by its numbers."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "06_sr.ipynb"


def _run(out: Path, *params: str, preset: str | None = "ci") -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "papermill", str(NOTEBOOK), str(out), "-k", "python3", "--cwd", str(out.parent),
           *(["-p", "preset", preset] if preset else []), "-p", "device", "cpu", *params]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "parameters" in code[0]["metadata"].get("tags", [])


def test_chapter_runs_under_ci(tmp_path):
    out = tmp_path / "06_sr.ipynb"
    proc = _run(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    n_png = sum("image/png" in o.get("data", {}) for o in outputs)
    assert n_png >= 4  # training curves, metrics, differences, crops
    md = "\n".join("".join(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {}))
    assert "<b>Preset:</b> ci" in json.dumps(nb) and "preset ci ·" not in md  # the page box says it once, not each caption
    assert "Did training work?" in md and "Does the feature term act?" in md and "top − all" in md
    assert "primary measure, LPIPS-alex" in md and "training seeds" in md
    assert any(v in md for v in ("**supported**", "**contradicted**", "**undecided**", "**mixed**",
                                 "**not supported**", "**supported in part**", "**too few data**"))
    text = json.dumps(nb, ensure_ascii=False)
    for name in ("bicubic", "pixel", "all", "top", "bottom", "random", "shared start"):
        assert name in text
    assert "computed for this page" in text and "preset ci has no stored results" in text


def test_chapter_renders_the_stored_book_results_by_default(tmp_path):
    out = tmp_path / "06_sr.ipynb"
    proc = _run(out, preset=None)  # the chapter's defaults: preset book, stored results
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    md = "\n".join("".join(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {}))
    box = "\n".join("".join(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {}))
    assert "<b>Preset:</b> book" in box and "<b>Made on:</b> cpu" in box and " min" in box  # once, in the page box
    assert "preset book (stored results)" not in md  # not repeated in every caption
    assert "every interval lies above 0" in md and "LPIPS-alex is read first" in md
    assert "Table 4." in md and "Table 5." in md and "18 images × 3 training seeds" in md
    # readers see words: no code names or Python values in the captions, tables and conclusion of this chapter
    html = [("".join(o["data"]["text/html"])) for o in outputs if "text/html" in o.get("data", {})]
    html = "\n".join(h for h in html if "<details" not in h and "admonition" not in h)  # not the provenance boxes
    for raw in ("None", "NaN", "True", "False", "random-s0", "['Set5'", "lambda", "evaluation border crop", ">l1<"):
        assert raw not in html, raw
    for raw in ("random-s0", "img_0", "/work/", "more than one call", "is **contradicted** here", "-t0"):
        assert raw not in md, raw
    assert "the whole images" in html and "4 px (the upscaling factor)" in html and ">yes<" in html
    # the claim's word is the primary measure's, as on the claims page; the feature term is shown to act
    from pecore.claims import row_verdict
    from pecore.sr.conclusions import PRIMARY, conclusions
    from pecore.sr.results import SRResults, stored_results_dir

    verdicts = [v.verdict for v in conclusions(SRResults.load(stored_results_dir("vgg16", "book")))
                if v.measure == PRIMARY]
    assert f"(named before the run): **{row_verdict(verdicts)}**" in md
    assert "the feature loss moves the networks where it aims" in md and "the chosen λ lies inside the grid" in md


@pytest.mark.parametrize("param,value,msg", [("preset", "fast", "notebook parameter preset"),
                                              ("threads", "two", "notebook parameter threads")])
def test_bad_parameter_stops_the_chapter(tmp_path, param, value, msg):
    proc = _run(tmp_path / "bad.ipynb", "-p", param, value)
    assert proc.returncode != 0 and msg in proc.stderr + proc.stdout


def test_cli_run_writes_results_in_the_stored_form(tmp_path, capsys):
    from pecore.cli import main
    from pecore.sr.results import SRResults

    out = tmp_path / "vgg16-ci"
    assert main(["sr", "run", "--preset", "ci", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "top vs bottom" in printed and "top vs random" in printed and f"wrote {out}" in printed
    for name in ("per_image.csv", "summary.csv", "differences.csv", "provenance.json", "logs/top-t0.csv",
                 "logs/pretrain-t1.csv", "samples/HR.png", "samples/bicubic.png", "samples/random.png"):
        assert (out / name).is_file(), name
    res = SRResults.load(out)
    arms = ("pixel", "all", "top", "bottom", "random-s0", "random-s1")
    assert set(res.per_image.method) == {"bicubic"} | {f"{a}-t{t}" for a in arms for t in (0, 1)}
    assert res.provenance["preset"] == "ci" and list(res.samples)[0] == "LR" and list(res.samples)[-1] == "HR"
    assert res.provenance["command"].startswith("pecore sr run --preset ci") and res.provenance["wall_seconds"] > 0
    assert res.provenance["machine"]["torch_threads"] >= 1 and set(res.provenance["pretrain_seconds"]) == {"t0", "t1"}
    # the generators of the first training seed are saved with the results (float16), and upscale images
    assert sorted(res.runs) == ["all-t0", "bottom-t0", "pixel-t0", "random-s0-t0", "top-t0"]
    assert all((out / "runs" / n / "model.pt").stat().st_size < 100_000 for n in res.runs)
    assert not (out / "runs" / "top-t0" / "checkpoint.pt").exists()

"""The IQA chapter notebook executes under the ci preset; its executed outputs show the tables, figures and
verdicts that agree with their own intervals."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, data_path
from pecore.experiment import MIN_IMAGES

VERDICT = re.compile(r"\[([+-][0-9.e+-]+), ([+-][0-9.e+-]+)\], n = (\d+): \*\*(supported|contradicted|undecided|"
                     r"too few data)\*\*")


def test_iqa_chapter_runs_under_ci(tmp_path):
    data_path("iqa", "live-r2-subset")
    nb = ROOT / "notebooks" / "05_iqa.ipynb"
    out = tmp_path / "out.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out), "-p", "preset", "ci", "-k", "python3",
                           "--cwd", str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = [o for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"
               for o in c.get("outputs", [])]
    text = "\n".join("".join(o["data"].get("text/markdown", "")) + "".join(o["data"].get("text/plain", ""))
                     for o in outputs if "data" in o)
    assert "Table 1." in text and "Figure 1." in text and "Figure 2." in text and "Table 3." in text
    assert "among 20 random subsets" in text  # the ci preset's placement against chance (Table 3)
    assert "resized so that their shorter side is 64 pixels" in text
    assert "Gaussian blur" in text and "gblur" not in text and "random-PE" not in text  # names in words
    assert "baseline: PSNR" in text and not re.search(r"\d+e-\d", text)  # plain decimals, no exponent
    assert "Table 4." in text and "independent units" in text  # what the subset intervals rest on, from the data
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    verdicts = VERDICT.findall(text)
    assert len(verdicts) >= 3 and "**Overall:**" in text
    for lo, hi, n, word in verdicts:  # each stated verdict is the one its interval gives
        lo, hi, n = float(lo), float(hi), int(n)
        expected = ("too few data" if n < MIN_IMAGES else "supported" if lo > 0 else "contradicted" if hi < 0
                    else "undecided")
        assert word == expected, (lo, hi, n, word)
    assert "The rule asks for at least 10 reference scenes; these results rest on 5." in text


def test_committed_notebook_carries_no_outputs():
    src = json.loads((ROOT / "notebooks" / "05_iqa.ipynb").read_text())
    assert all(not c.get("outputs") for c in src["cells"] if c["cell_type"] == "code")

"""The IQA chapter notebook executes under the ci preset and shows its tables, figures and conclusions."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, data_path


def test_iqa_chapter_runs_under_ci(tmp_path):
    data_path("iqa", "live-r2-subset")
    nb = ROOT / "notebooks" / "05_iqa.ipynb"
    src = json.loads(nb.read_text())
    assert all(not c.get("outputs") for c in src["cells"] if c["cell_type"] == "code"), "commit the notebook without outputs"
    out = tmp_path / "out.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out), "-p", "preset", "ci", "-k", "python3",
                           "--cwd", str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = json.loads(out.read_text())["cells"]
    text = json.dumps(cells)
    assert "Table 1." in text and "Figure 1." in text and "Figure 2." in text and "Table 3." in text
    assert "cannot" in text or "do not overlap" in text  # the computed conclusions are on the page
    assert "resized so that their shorter side is 64 pixels" in text
    images = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    assert images >= 2

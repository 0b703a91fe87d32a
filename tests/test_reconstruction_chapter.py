"""The reconstruction chapter executes under the ci preset, renders its figures and states a verdict."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, data_path


def test_chapter_executes_under_ci(tmp_path):
    data_path("sr", "Set14", "image_SRF_4", "img_001_SRF_4_HR.png")
    out = tmp_path / "04_reconstruction.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "04_reconstruction.ipynb"),
                           str(out), "-p", "preset", "ci", "-p", "device", "cpu", "-k", "python3", "--cwd",
                           str(tmp_path), "--no-progress-bar"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 4  # one grid per layer, the measures, the loss curves
    text = "\n".join("".join(o["data"].get("text/markdown", "")) + "".join(o["data"].get("text/plain", ""))
                     for o in outputs if "data" in o)
    assert text.count("preset ci") >= 4  # every caption names the preset
    assert "results preset" in text and "relu2_2" in text and "relu3_3" in text
    assert "top-PE keeps structure better" in text and "bottom-PE keeps colour better" in text
    # the committed notebook carries no outputs
    committed = json.loads((ROOT / "notebooks" / "04_reconstruction.ipynb").read_text())
    assert all(not c.get("outputs") for c in committed["cells"] if c["cell_type"] == "code")

"""The reconstruction chapter executes under the ci preset; its page shows the figures and the verdicts
computed from its own results."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, data_path


def _outputs(path):
    nb = json.loads(path.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_chapter_executes_under_ci_and_states_the_computed_verdicts(tmp_path):
    data_path("sr", "Set14", "image_SRF_4", "img_001_SRF_4_HR.png")
    out = tmp_path / "04_reconstruction.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "04_reconstruction.ipynb"),
                           str(out), "-p", "preset", "ci", "-p", "device", "cpu", "-k", "python3", "--cwd",
                           str(tmp_path), "--no-progress-bar"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = _outputs(out)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 5  # the reconstructions of each layer, the measures, the bands, the loss curves
    markdown = "\n".join("".join(o["data"].get("text/markdown", "")) for o in outputs if "data" in o)
    html = "\n".join("".join(o["data"].get("text/html", "")) for o in outputs if "data" in o)
    assert "<b>Preset:</b> ci" in html and "— preset ci ·" not in markdown  # the page box says it, not each caption
    assert "What this page shows" in html and "computed for this page" in html  # ci has no stored results
    # the verdicts on the page are the ones the package computes from the same (cached) result
    from pecore.reconstruction.conclusions import conclusions
    from pecore.reconstruction.experiment import chapter_result

    result = chapter_result("vgg16", "ci", device="cpu")
    verdicts = conclusions(result)
    assert verdicts and {v.scope for v in verdicts} == set(result.table.layer)
    from pecore.experiment import overall_reading
    from pecore.tables import interval_text

    for v in verdicts:  # Table 4 lists every test with its interval and verdict
        assert interval_text(v.estimate, v.ci_low, v.ci_high) in html and v.verdict in html
    assert overall_reading(verdicts) in markdown
    # the controls are on the page: both priors, every init, and which verdicts are robust
    assert "no prior (λ_TV = 0)" in html and "every init on the same side" in html and "Between-init spread" in markdown
    assert "runs converged" in html


def test_committed_notebook_carries_no_outputs():
    committed = json.loads((ROOT / "notebooks" / "04_reconstruction.ipynb").read_text())
    assert all(not c.get("outputs") for c in committed["cells"] if c["cell_type"] == "code")

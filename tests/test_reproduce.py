"""`pecore reproduce`: the prepared paper command, planned without running and run end to end under ci."""
from __future__ import annotations

import json

from pecore.cli import main


def test_plan_counts_every_step_and_fits_the_gpu_budget(capsys):
    assert main(["reproduce", "--preset", "paper", "--plan"]) == 0
    out = capsys.readouterr().out
    for step in ("probe vgg16", "probe alexnet", "iqa", "reconstruction", "sr", "origins"):
        assert step in out
    total = next(line for line in out.splitlines() if line.startswith("total:"))
    gpu_minutes = float(total.split(",")[1].split()[0])
    assert 0.1 < gpu_minutes < 8.0  # the paper preset is sized for one call of an H200-class GPU


def test_book_preset_needs_the_steps_it_has(capsys):
    assert main(["reproduce", "--preset", "book", "--plan"]) == 2
    assert "reconstruction, sr and origins only" in capsys.readouterr().err


def test_ci_run_writes_the_stored_layout_with_provenance(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "ci", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    for folder in ("probe/vgg16-ci", "probe/alexnet-ci", "iqa/vgg16-ci", "reconstruction/vgg16-ci", "sr/vgg16-ci",
                   "origins/ci"):
        prov = json.loads((out / folder / "provenance.json").read_text())
        assert prov["command"].startswith("pecore reproduce --preset ci"), folder
        assert prov["wall_seconds"] >= 0 and prov["preset"] == "ci", folder
    # the later steps used the scores this run probed, not the stored paper ones
    recon = json.loads((out / "reconstruction/vgg16-ci/provenance.json").read_text())
    assert recon["parameters"]["probe_preset"] == "ci"
    origins = json.loads((out / "origins/ci/provenance.json").read_text())  # read the ImageNet probes made above
    assert origins["probes"][0]["folder"].endswith("vgg16-ci") and (out / "probe" / "stlpips-vgg16-ci").is_dir()
    # written outside the repository: still no path of this machine in any provenance
    assert _machine_paths(sorted(out.rglob("*.json"))) == []


def _machine_paths(files) -> list[str]:
    """Every string of the JSON ``files`` that is an absolute path (also as a file:// URL), with its file."""
    import re

    absolute = re.compile(r"(^|[\s'\"=]|file://)/(?:[\w.-]+/)+")
    found = []

    def walk(value, where):
        if isinstance(value, dict):
            for v in value.values():
                walk(v, where)
        elif isinstance(value, list):
            for v in value:
                walk(v, where)
        elif isinstance(value, str) and absolute.search(value):
            found.append(f"{where}: {value[:80]}")

    for path in files:
        walk(json.loads(path.read_text()), path.name)
    return found


def test_stored_results_name_no_path_of_the_machine_that_made_them():
    """Provenance names files relative to the repository, the data folder ($PECORE_DATA) or a package — never by
    the folders of the machine that ran (an absolute path in any string of any stored JSON file)."""
    from conftest import ROOT

    files = sorted((ROOT / "stored").rglob("*.json")) + sorted((ROOT / "benchmarks" / "results").glob("*.json"))
    assert len(files) > 20
    assert _machine_paths(files) == []

"""The exercises' solutions notebook executes under the ci preset; every exercise has a worked solution folded with
its output, the student notebook has none, and the solutions' numbers are the ones the package computes."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import ROOT

NAME = "08_exercises"
N_EXERCISES = 7


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """The student and solutions notebooks the book build hands out, made from the committed notebook."""
    from pecore.packs import write_exercise_packs

    return write_exercise_packs(ROOT / "notebooks" / f"{NAME}.ipynb", tmp_path_factory.mktemp("packs"))


@pytest.fixture(scope="module")
def executed(packs, tmp_path_factory):
    """The solutions notebook, executed under preset ci on the CPU as a lecturer would run it."""
    import time

    import papermill

    out = tmp_path_factory.mktemp("exercises")
    start = time.perf_counter()
    papermill.execute_notebook(str(packs["solutions"]), str(out / f"{NAME}.ipynb"), kernel_name="python3",
                               parameters={"preset": "ci", "device": "cpu"}, cwd=str(out), progress_bar=False)
    return json.loads((out / f"{NAME}.ipynb").read_text()), time.perf_counter() - start


def test_the_student_notebook_has_every_exercise_and_no_solution_or_output(packs):
    from pecore.packs import is_solution
    import nbformat

    student = nbformat.read(str(packs["student"]), as_version=4)
    solutions = nbformat.read(str(packs["solutions"]), as_version=4)
    headings = [c.source.split("\n")[0] for c in student.cells if c.source.startswith("## Exercise")]
    assert len(headings) == N_EXERCISES
    assert not [c for c in student.cells if is_solution(c)]
    assert not [c for c in student.cells if "Answer" in c.source and "admonition" in c.source]
    assert all(not c.outputs and c.execution_count is None for c in student.cells if c.cell_type == "code")
    assert "parameters" in student.cells[1].metadata.get("tags", [])  # still a papermill notebook
    n_solution = sum(is_solution(c) for c in solutions.cells)
    assert n_solution >= 2 * N_EXERCISES and len(solutions.cells) == len(student.cells) + n_solution


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output["text"])
    data = output.get("data", {})
    return "".join(data.get("text/markdown", "") or data.get("text/plain", ""))


def _exercises(nb: dict) -> list[tuple[str, list[dict], list[dict]]]:
    """(heading, code cells, markdown cells) of each exercise, in page order."""
    out: list[tuple[str, list[dict], list[dict]]] = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and src.startswith("## Exercise"):
            out.append((src.splitlines()[0], [], []))
        elif out:
            out[-1][1 if cell["cell_type"] == "code" else 2].append(cell)
    return out


def _results(cell: dict) -> list[str]:
    return [line for o in cell.get("outputs", []) if o.get("output_type") == "stream"
            for line in _text(o).splitlines() if line.startswith("Result:")]


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text)]


def _table(cell: dict, number: int) -> tuple[list[str], dict[str, list[str]]]:
    """The columns and rows (label: cell texts) of the table a cell shows under its caption **Table <number>.**"""
    outputs = cell.get("outputs", [])
    at = next(i for i, o in enumerate(outputs) if f"**Table {number}.**" in _text(o))
    html = next("".join(o["data"]["text/html"]) for o in outputs[at + 1:] if "text/html" in o.get("data", {}))

    def cells(row: str, tag: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", row, re.S)]

    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    columns = cells(re.findall(r"<tr[^>]*>(.*?)</tr>", head, re.S)[0], "th")[1:]
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = {cells(r, "th")[0]: cells(r, "td") for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)}
    return columns, rows


def _interval(text: str) -> tuple[float, float, float]:
    """``estimate [low, high]`` as three numbers."""
    m = re.fullmatch(r"(-?[\d.]+) \[(-?[\d.]+), (-?[\d.]+)\]", text.strip())
    assert m, text
    return tuple(map(float, m.groups()))


def _solution(nb: dict, number: int) -> dict:
    heading, codes, _ = _exercises(nb)[number - 1]
    assert heading.startswith(f"## Exercise {number} ")
    return next(c for c in codes if "solution" in c["metadata"].get("tags", []))


def test_runs_under_ci_without_errors_and_quickly(executed):
    nb, seconds = executed
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr" and "Traceback" in _text(o)]
    assert seconds < 300, f"the exercises took {seconds:.0f} s under ci"


def test_every_exercise_has_a_folded_solution_with_output_and_a_folded_answer(executed):
    nb, _ = executed
    exercises = _exercises(nb)
    assert len(exercises) == N_EXERCISES
    for i, (heading, codes, mds) in enumerate(exercises, start=1):
        assert heading.startswith(f"## Exercise {i} ") and re.search("★+", heading), heading
        solutions = [c for c in codes if "solution" in c["metadata"].get("tags", [])]
        assert solutions, f"{heading}: no solution cell"
        for c in solutions:  # code and output are folded together until the reader opens them, never removed
            tags = set(c["metadata"].get("tags", []))
            assert "hide-cell" in tags and not tags & {"remove-cell", "remove-output"}, (heading, tags)
            assert c.get("outputs"), f"{heading}: the solution produced no output"
            assert _results(c), f"{heading}: the solution printed no result line"
        assert any(":class: dropdown" in "".join(m["source"]) for m in mds), f"{heading}: no folded answer"


def test_figures_are_numbered_in_order_and_captions_name_the_preset(executed):
    nb, _ = executed
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    n_png = sum("image/png" in o.get("data", {}) for o in outputs)
    captions = re.findall(r"\*\*Figure (\d+)\.\*\*", "\n".join(map(_text, outputs)))
    assert n_png >= N_EXERCISES and [int(c) for c in captions] == list(range(1, len(captions) + 1))
    assert len(captions) == n_png
    text = "\n".join(map(_text, outputs))
    assert "preset ci" in text and "preset paper (stored results)" in text
    html = "\n".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "What this page shows" in html and "page parameter: preset" in html
    page = text + html + "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "../shared" not in page and "shared/data" not in page and "lenna" not in page.lower()


def test_rescored_rankings_are_the_packages(executed):
    """Exercises 1, 2 and 7 read the stored VGG-16 probe: their numbers are the package's, recomputed here."""
    import pecore
    from pecore.compare import spearman, top_jaccard
    from pecore.notebook import stored_probe_dir

    nb, _ = executed
    folder = stored_probe_dir("vgg16")
    default, circular, barten = (pecore.rescore(folder, c) for c in ("default", "mu2-circular", "barten-csf"))
    layers = list(dict.fromkeys(default.table.layer))
    rho_circ = {k: spearman(default.layer(k).pe.to_numpy(), circular.layer(k).pe.to_numpy()) for k in layers}
    jac = {k: top_jaccard(default.layer(k).pe.to_numpy(), barten.layer(k).pe.to_numpy(), 25) for k in layers}
    rho_barten = {k: spearman(default.layer(k).pe.to_numpy(), barten.layer(k).pe.to_numpy()) for k in layers}

    columns, rows = _table(_solution(nb, 1), 1)
    for k in layers:
        assert rows[k][columns.index("ρ of PE")] == f"{rho_circ[k]:.3f}"
    assert all(0 < v < 1 for v in rho_circ.values())  # the two μ2 rules agree, but not perfectly
    line1 = _results(_solution(nb, 1))[0]  # a one-line answer, not the table again
    lo, hi = min(rho_circ, key=rho_circ.get), max(rho_circ, key=rho_circ.get)
    assert f"from {rho_circ[lo]:.3f} in {lo} to {rho_circ[hi]:.3f} in {hi}" in line1
    assert sum(f"{rho_circ[k]:.3f}" in line1 for k in layers) == 2

    columns, rows = _table(_solution(nb, 2), 2)
    for k in layers:
        assert rows[k][columns.index("Jaccard of top 25 %")] == f"{jac[k]:.3f}"
    line2 = _results(_solution(nb, 2))[0]
    worst = min(jac, key=jac.get)
    assert f"changes most in {worst} (Jaccard {jac[worst]:.3f})" in line2

    columns, rows = _table(_solution(nb, 7), 6)
    highest = 0.0
    for k in layers:
        rho, lo, hi = _interval(rows[k][0])
        assert rho == pytest.approx(rho_barten[k], abs=6e-4)
        assert lo <= rho <= hi < 1  # the change of CSF reorders channels beyond resampling noise
        highest = max(highest, hi)
    line7 = _results(_solution(nb, 7))[0]
    assert line7.startswith("Result: no interval of ρ reaches 1") and f"highest upper bound is {highest:.3f}" in line7


def test_ppd_exercise_fhat_scales_with_ppd(executed):
    nb, _ = executed
    line = _results(_solution(nb, 3))[0]
    m = re.search(r"ppd ([\d.]+) -> ([\d.]+) \(ratio ([\d.]+)\); median per-channel ratio of preferred frequencies "
                  r"([\d.]+) \(default rule\), "
                  r"([\d.]+) \(peak-activation rule\)", line)
    assert m, line
    ppd1, ppd2, ratio, fhat_default, fhat_peak = map(float, m.groups())
    assert ppd2 == 2 * ppd1 and ratio == pytest.approx(2.0)
    assert fhat_peak == pytest.approx(ratio, rel=1e-3)  # identical pixel stimuli: the activation peak moves exactly
    assert fhat_default == pytest.approx(ratio, rel=0.1)
    share = re.search(r"exactly [\d.]+: (\d+)% \(default\), (\d+)% \(peak activation\)", line)
    assert share and int(share.group(2)) == 100


def test_hand_built_network_is_recovered(executed):
    nb, _ = executed
    columns, rows = _table(_solution(nb, 4), 3)
    value = {name: dict(zip(columns, map(float, cells))) for name, cells in rows.items()}
    sobel_x, sobel_y = value["Sobel, vertical edges"], value["Sobel, horizontal edges"]  # filters named in words
    assert sobel_x["θ̂ (°)"] == 0 and abs(sobel_y["θ̂ (°)"]) == 90
    assert sobel_x["μ2"] == pytest.approx(sobel_y["μ2"]) and sobel_x["μ2"] > 0.3
    assert value["Laplacian"]["μ2"] < 0.1
    assert value["box blur (low-pass)"]["μ1"] == 0.0  # a linear response that the ReLU never clips: flat mean activation
    line = _results(_solution(nb, 4))[0]
    assert "̂" not in line  # no combining hat in printed text: it detaches from its letter in a monospace font
    assert f"{sobel_y['θ̂ (°)']:g}° for that of horizontal edges" in line
    caption = next(_text(o) for o in _solution(nb, 4)["outputs"] if "**Figure 4.**" in _text(o))
    assert "user-module" not in caption and "hand-set in this exercise" in caption  # the weights said in words


def test_subset_distances_order_clean_before_distorted(executed):
    nb, _ = executed
    columns, rows = _table(_solution(nb, 5), 4)
    assert set(columns) == {"PSNR (dB)", "LPIPS", "top 25 %", "bottom 25 %"}
    clean = rows.pop("clean image (σ = 0)")
    assert clean[columns.index("PSNR (dB)")] == "∞ (identical)"  # never a finite stand-in such as 100 dB
    for name in ("LPIPS", "top 25 %", "bottom 25 %"):
        col = columns.index(name)
        assert float(clean[col]) == 0.0, name
        for kind in ("noise", "blur"):
            values = [float(cells[col]) for label, cells in rows.items() if label.startswith(f"Gaussian {kind}")]
            assert len(values) == 4 and all(b > a > 0 for a, b in zip(values, values[1:])), (name, kind, values)
    lines = _results(_solution(nb, 5))
    assert len(lines) == 1 and "growing with σ under both distortions (Table 4): LPIPS, top 25 %, bottom 25 %;" in lines[0]
    assert "blur / noise at equal PSNR" in lines[0]


def test_inversion_lowers_the_feature_loss_of_both_subsets(executed):
    nb, _ = executed
    line = _results(_solution(nb, 6))[0]
    for subset in ("top", "bottom"):
        m = re.search(rf"{subset} 25 %: PSNR ([\d.]+) dB, SSIM (-?[\d.]+), feature loss ([\d.e+-]+) -> ([\d.e+-]+)", line)
        assert m, line
        psnr, ssim, start, end = map(float, m.groups())
        assert np.isfinite(psnr) and -1 <= ssim <= 1 and end < start


def test_committed_notebook_has_parameters_and_no_outputs():
    nb = json.loads((ROOT / "notebooks" / f"{NAME}.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert nb["cells"][0]["cell_type"] == "markdown"
    params = nb["cells"][1]
    assert "parameters" in params["metadata"].get("tags", [])
    src = "".join(params["source"])
    for line in ('preset = "quick"', 'device = "auto"', "seed = 0"):
        assert line in src

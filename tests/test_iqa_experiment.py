"""The IQA experiment on real data: cached per-channel terms, the grid, baselines, channel-level test, CLI."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import ROOT, data_path
from pecore.cli import main
from pecore.errors import DatasetError, ParameterError
from pecore.iqa.chance import chance_placement
from pecore.iqa.datasets import load_live, load_tid2013
from pecore.iqa.conclusions import conclusions
from pecore.iqa.experiment import IQAResult, channel_level, subset_grid, subset_predictions
from pecore.iqa.experiment import run as run_iqa
from pecore.iqa.terms import dataset_terms, limit_pairs, pair_terms
from pecore.iqa.stats import srocc
from pecore.iqa.synthetic import distort, rank_consistency, synthetic_dataset
from pecore.metric import LPIPS, channel_terms
from pecore.iqa.settings import get_settings as get_iqa_settings
from pecore.weights import load_lpips_linear

SETTINGS = replace(get_iqa_settings("ci"), ps=(10.0, 25.0, 50.0), n_boot=40, n_boot_channels=20, n_seeds=10)


@pytest.fixture(scope="module")
def alex_scores():
    return pd.read_csv(ROOT / "stored" / "probe" / "alexnet-paper" / "pe_table.csv")


@pytest.fixture(scope="module")
def live():
    return limit_pairs(load_live(data_path("iqa", "live-r2-subset")), 40)


def test_shared_reference_terms_equal_the_metric(alexnet):
    ds = load_tid2013(data_path("iqa", "tid2013-subset"))
    t = pair_terms(alexnet, ds, size=64, batch_size=4, cache=False)
    ref, dist = ds.load_pair(2, size=64)
    direct = channel_terms(alexnet, ref, dist)
    for k in alexnet.taps:
        assert np.allclose(t.terms[k][2], direct[k][0].numpy(), atol=1e-6)
    lin = [w.numpy() for w in load_lpips_linear("alexnet")[0]]
    with torch.inference_mode():
        assert t.weighted(lin)[2] == pytest.approx(float(LPIPS(alexnet)(ref, dist)), abs=1e-6)


def test_terms_and_baselines_are_cached(alexnet, live):
    small = live.subset(slice(0, 6))
    first, b1 = dataset_terms([alexnet], small, size=48)
    second, b2 = dataset_terms([alexnet], small, size=48)
    assert not first["alexnet"].provenance["cache_hit"] and second["alexnet"].provenance["cache_hit"]
    assert np.array_equal(first["alexnet"].terms["relu3"], second["alexnet"].terms["relu3"])
    assert b1.equals(b2) and (b1.psnr > 10).all() and (b1.ssim < 1).all()
    other, _ = dataset_terms([alexnet], small, size=56)
    assert not other["alexnet"].provenance["cache_hit"]


def test_grid_on_real_human_scores(alexnet, live, alex_scores):
    terms = pair_terms(alexnet, live, size=SETTINGS.image_size)
    grid = subset_grid(terms, alex_scores, live.human_scores, live.groups, human_higher_is_better=False, settings=SETTINGS)
    assert len(grid) == 6 * 10  # 5 layers + all; top/bottom/random x 3 p, plus all channels
    top = grid[(grid.layers == "relu2") & (grid.subset == "top") & (grid.p == 25)].iloc[0]
    assert top.n_channels == 48 and np.isnan(top.srocc_sd)
    rnd = grid[(grid.layers == "all") & (grid.subset == "random") & (grid.p == 10)].iloc[0]
    assert rnd.n_seeds == 10 and rnd.srocc_sd > 0 and rnd.n_channels == 6 + 19 + 38 + 26 + 26
    # on real LIVE data every distance agrees clearly with DMOS
    assert (grid.srocc > 0.5).all() and (grid.srocc_lo <= grid.srocc_hi).all()
    # the grid's value is the correlation of the masked sum of the cached terms
    allrow = grid[(grid.layers == "all") & (grid.subset == "all")].iloc[0]
    total = sum(terms.terms[k].sum(1) for k in terms.layers)
    assert allrow.srocc == pytest.approx(srocc(total, live.human_scores))


def test_channel_level_test(alexnet, live, alex_scores):
    terms = pair_terms(alexnet, live, size=SETTINGS.image_size)
    channels, summary = channel_level(terms, alex_scores, live.human_scores, live.groups, human_higher_is_better=False,
                                      n_boot=20)
    assert len(channels) == sum(alexnet.channels[k] for k in alexnet.taps)
    assert channels[channels.dead].srocc.isna().all()
    c = channels[(channels.layer == "relu1") & (channels.channel == 5)].iloc[0]
    assert c.srocc == pytest.approx(srocc(terms.terms["relu1"][:, 5], live.human_scores))
    assert list(summary.layer) == alexnet.taps and summary.rho.between(-1, 1).all()
    assert (summary.rho_lo <= summary.rho_hi).all()
    with pytest.raises(ParameterError, match="do not list channels"):
        channel_level(terms, alex_scores[alex_scores.channel > 0], live.human_scores, live.groups, human_higher_is_better=False)


def test_chance_placement_counts_random_subsets_by_hand(alexnet, live, alex_scores):
    terms = dataset_terms([alexnet], live, size=64, batch_size=8)[0]["alexnet"]
    human, groups = live.human_scores, live.groups
    t = chance_placement(terms, alex_scores, human, groups, human_higher_is_better=False, ps=(25.0,), n_random=60,
                         n_boot=50, layer_sets={"relu2": ["relu2"]})
    random, _ = subset_predictions(terms, alex_scores, ["relu2"], "random", 25.0, range(60))
    r_random = np.array([srocc(row, human) for row in random])  # a distance against DMOS: same direction
    for subset in ("top", "bottom"):
        row = t.set_index("subset").loc[subset]
        pred = subset_predictions(terms, alex_scores, ["relu2"], subset, 25.0)[0][0]
        assert row.srocc == pytest.approx(srocc(pred, human), abs=1e-9)
        by_hand = 100 * (np.sum(r_random < row.srocc) + 0.5 * np.sum(r_random == row.srocc)) / 60
        assert row.percentile == pytest.approx(by_hand)
        assert row.percentile_lo <= row.percentile_hi and row.n_scenes == 5 and row.n_random == 60
        assert row.random_lo <= row.random_median <= row.random_hi
    with pytest.raises(ParameterError, match="n_random"):
        chance_placement(terms, alex_scores, human, groups, human_higher_is_better=False, ps=(25.0,), n_random=0)


def test_run_iqa_end_to_end(alexnet, live, alex_scores, tmp_path):
    result = run_iqa(live, alexnet, alex_scores, settings=replace(SETTINGS, ps=(25.0,), n_boot=20), preset="ci")
    base = result.grid.set_index("subset").loc[["psnr", "ssim", "lpips-vgg", "lpips-alex"]]
    assert (base.srocc > 0.6).all()
    out = result.save(tmp_path / "out")
    assert {p.name for p in out.iterdir()} == {"grid.csv", "channels.csv", "channel_summary.csv", "pairs.csv",
                                               "chance.csv", "provenance.json"}
    assert result.provenance["dataset"]["pairs_used"] == 40
    assert result.provenance["dataset"]["root"] == "$PECORE_DATA/iqa/live-r2-subset"
    back = IQAResult.load(out)
    pd.testing.assert_frame_equal(back.grid, result.grid, check_exact=False, rtol=1e-5, check_dtype=False)
    pd.testing.assert_frame_equal(back.chance, result.chance, check_exact=False, rtol=1e-5, check_dtype=False)
    # five scenes are below the book's threshold: every test reads 'too few data', whatever its interval
    verdicts = conclusions(back)
    assert verdicts and {v.verdict for v in verdicts} == {"too few data"} and {v.n for v in verdicts} == {5}
    # on enough scenes the sign of the bounds decides, on the side each test predicts
    for v in conclusions(back, min_scenes=5):
        lo, hi = v.predicted * v.ci_low, v.predicted * v.ci_high
        expected = "supported" if min(lo, hi) > 0 else "contradicted" if max(lo, hi) < 0 else "undecided"
        assert v.verdict == expected, v
    # a table changed after the save, or a relabelled provenance, is refused by name
    (out / "chance.csv").write_text((out / "chance.csv").read_text()[:-20])  # truncated
    with pytest.raises(DatasetError, match="does not match the sha256"):
        IQAResult.load(out)
    result.save(out)
    prov = json.loads((out / "provenance.json").read_text())
    prov["network"] = "vgg16"
    (out / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(DatasetError, match="was edited"):
        IQAResult.load(out)
    with pytest.raises(ParameterError, match="PE table|channel scores"):
        run_iqa(live, alexnet, None, settings=SETTINGS)


def test_synthetic_distortions_are_graded(alexnet):
    photo = torch.rand(3, 40, 40)
    for kind in ("noise", "blur", "jpeg", "contrast", "colour"):
        errs = [float((distort(photo, kind, level) - photo).abs().mean()) for level in range(1, 6)]
        assert all(a < b for a, b in zip(errs, errs[1:])), kind
    ds = synthetic_dataset(1, size=64, levels=5)
    lp = pair_terms(alexnet, ds, size=None).weighted([w.numpy() for w in load_lpips_linear("alexnet")[0]])
    rc = rank_consistency(lp, ds).set_index("kind")
    assert rc.loc["all", "rho"] > 0.9 and rc.loc["all", "sequences"] == 5


def test_cli_distance_and_iqa(tmp_path, capsys):
    tid = data_path("iqa", "tid2013-subset")
    ref, dist = tid / "reference_images" / "I03.BMP", tid / "distorted_images" / "i03_11_5.bmp"
    assert main(["distance", str(ref), str(dist), "--metric", "lpips-alex", "--device", "cpu"]) == 0
    assert float(capsys.readouterr().out.split()[0]) == pytest.approx(0.7237, abs=1e-4)
    scores = ROOT / "stored" / "probe" / "alexnet-paper"
    assert main(["distance", str(ref), str(dist), "--metric", "subset", "--net", "alexnet", "--layers", "relu2",
                 "--subset", "top", "--p", "25", "--probe-result", str(scores), "--size", "64", "--device", "cpu"]) == 0
    assert float(capsys.readouterr().out.split()[0]) > 0
    assert main(["distance", str(ref), str(dist), "--metric", "subset", "--net", "alexnet", "--layers", "relu9",
                 "--subset", "all"]) == 2
    assert "unknown layer 'relu9'" in capsys.readouterr().err
    assert main(["distance", str(ref), str(tid / "nope.bmp")]) == 2
    assert main(["iqa", "--data", str(tid), "--net", "alexnet", "--preset", "ci", "--probe-result", str(scores),
                 "--out", str(tmp_path / "iqa"), "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "6 of 6 listed pairs present" in out
    grid = pd.read_csv(tmp_path / "iqa" / "grid.csv")
    assert {"srocc", "srocc_lo", "srocc_hi", "krocc", "plcc"} <= set(grid.columns) and len(grid) == 4 + 6 * 7
    assert main(["iqa", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2

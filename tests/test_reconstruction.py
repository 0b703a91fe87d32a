"""Feature inversion from channel subsets, its measures, the experiment and the CLI, on real photographs."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from pecore.errors import DatasetError, ImageError, ParameterError, UnknownNameError
from pecore.reconstruction.experiment import ReconstructionResult, run as run_experiment
from pecore.reconstruction.images import load_square_images

load_result = ReconstructionResult.load
from pecore.reconstruction.invert import feature_loss, invert, noise_start
from pecore.reconstruction.subset_features import SubsetFeatures, normalise_channels
from pecore.measures import ciede2000, structure
from pecore.reconstruction.conclusions import conclusions, contrasts, robustness
from pecore.reconstruction.measures import measure
from pecore.measures import psnr as _psnr


def psnr(a, b):
    return float(_psnr(a, b)[0])


def structure_score(a, b):
    return float(structure(a, b)[0])


def colour_score(a, b, blur_sigma=None):
    return float(ciede2000(a, b, blur=None if blur_sigma is None else blur_sigma / min(a.shape[-2:]))[0])
from pecore.reconstruction.settings import ReconstructionSettings
from pecore.selection import channel_mask

from conftest import data_path


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    """Set14 monarch, centre-cropped and resized to 32 × 32 (RGB in [0, 1])."""
    data_path("sr", "Set14", "image_SRF_4", "img_011_SRF_4_HR.png")
    x, _ = load_square_images(["monarch"], 32)
    return x[0]


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    data_path("sr", "Set14", "image_SRF_4", "img_001_SRF_4_HR.png")
    x, _ = load_square_images(["baboon", "pepper"], 24)
    return x


def test_loss_falls_and_pixels_stay_in_range(vgg16, photo):
    for param in ("clamp", "sigmoid"):
        rec = invert(vgg16, photo, "relu2_2", np.arange(0, 128, 4), steps=25, lr=0.08, parameterisation=param,
                     device="cpu")
        assert rec.loss.shape == (25, 1)
        assert rec.loss[-1, 0] < 0.5 * rec.loss[0, 0], param
        assert np.all(np.isfinite(rec.loss))
        assert float(rec.image.min()) >= 0.0 and float(rec.image.max()) <= 1.0
        assert rec.settings["truncated"] is True


def test_all_relu1_2_channels_rebuild_a_photograph_far_better_than_grey(vgg16, photo):
    rec = invert(vgg16, photo, "relu1_2", None, steps=80, lr=0.08, tv_weight=0.1, device="cpu")
    grey = torch.full_like(photo, float(photo.mean()))
    noise = noise_start([0], tuple(photo.shape[-2:]))[0]
    p_rec, p_grey = psnr(rec.image[0], photo), psnr(grey, photo)
    assert p_rec > p_grey + 6.0, (p_rec, p_grey)
    assert p_rec > psnr(noise, photo) + 6.0
    assert structure_score(rec.image[0], photo) > 0.8


def test_one_channel_mask_leaves_every_other_channels_gradient_at_zero(vgg16, photo):
    chosen = 17
    mask = channel_mask(64, np.array([chosen]))
    chans = normalise_channels(vgg16, "relu1_2", mask)
    assert chans["relu1_2"].tolist() == [chosen]
    sub = SubsetFeatures(vgg16, chans)
    x = photo[None].clone()
    with torch.no_grad():
        target = sub(x)
        norms = {k: v.flatten(1).pow(2).sum(1) for k, v in target.items()}
    y = noise_start([1], (32, 32)).requires_grad_(True)
    full = vgg16.extractor(y, ["relu1_2"])["relu1_2"]
    full.retain_grad()
    feature_loss(sub.select({"relu1_2": full}), target, norms).sum().backward()
    grad = full.grad[0]
    others = torch.ones(64, dtype=torch.bool)
    others[chosen] = False
    assert float(grad[others].abs().max()) == 0.0
    assert float(grad[chosen].abs().max()) > 0.0
    # the truncated network (a conv sliced to the one channel) gives the same features and input gradient
    assert sub.truncated and sub.body[2].out_channels == 1
    y2 = y.detach().clone().requires_grad_(True)
    feats = sub(y2)
    torch.testing.assert_close(feats["relu1_2"], full[:, [chosen]], rtol=1e-4, atol=1e-5)
    feature_loss(feats, target, norms).sum().backward()
    torch.testing.assert_close(y2.grad, y.grad, rtol=1e-3, atol=1e-7)


def test_other_channels_do_not_influence_the_inversion(vgg16, photo):
    """Changing the weights of unchosen channels of the last conv leaves the reconstruction unchanged."""
    import copy

    chans = np.array([3, 30, 60])
    a = invert(vgg16, photo, "relu1_2", chans, steps=5, device="cpu")
    net2 = copy.deepcopy(vgg16)
    conv = net2.extractor.module[2]
    keep = torch.zeros(64, dtype=torch.bool)
    keep[chans] = True
    with torch.no_grad():
        conv.weight[~keep] = torch.randn_like(conv.weight[~keep])
        conv.bias[~keep] = 5.0
    b = invert(net2, photo, "relu1_2", chans, steps=5, device="cpu")
    assert torch.equal(a.image, b.image)


def test_two_layers_and_shallow_taps(vgg16, photo):
    chans = {"relu1_2": np.arange(10), "relu2_2": np.arange(0, 128, 2)}
    sub = SubsetFeatures(vgg16, normalise_channels(vgg16, ["relu2_2", "relu1_2"], chans))
    with torch.no_grad():
        f = sub(photo[None])
        ref = vgg16.extractor(photo[None], ["relu1_2", "relu2_2"])
    assert f["relu1_2"].shape[1] == 10 and f["relu2_2"].shape[1] == 64
    torch.testing.assert_close(f["relu2_2"], ref["relu2_2"][:, ::2], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(f["relu1_2"], ref["relu1_2"][:, :10])
    rec = invert(vgg16, photo, ["relu1_2", "relu2_2"], chans, steps=3, device="cpu")
    assert rec.loss[0, 0] > 1.0  # two normalised terms of about 1 each at the noise start


def test_same_seed_same_image_other_seed_other_image(vgg16, photo):
    kw = dict(steps=6, lr=0.05, device="cpu", jitter=1)
    a = invert(vgg16, photo, "relu1_2", [1, 2, 3], seed=4, **kw)
    b = invert(vgg16, photo, "relu1_2", [1, 2, 3], seed=4, **kw)
    c = invert(vgg16, photo, "relu1_2", [1, 2, 3], seed=5, **kw)
    assert torch.equal(a.image, b.image)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not torch.equal(a.image, c.image)


def test_bad_input_gives_named_errors(vgg16, photo):
    with pytest.raises(ParameterError, match="empty"):
        invert(vgg16, photo, "relu1_2", [], steps=2)
    with pytest.raises(ParameterError, match="empty"):
        invert(vgg16, photo, "relu1_2", torch.zeros(64), steps=2)
    with pytest.raises(ParameterError, match=r"in \[0, 64\)"):
        invert(vgg16, photo, "relu1_2", [64], steps=2)
    with pytest.raises(ParameterError, match="length 64"):
        invert(vgg16, photo, "relu1_2", torch.ones(10), steps=2)
    with pytest.raises(UnknownNameError, match="relu9_9"):
        invert(vgg16, photo, "relu9_9", None, steps=2)
    with pytest.raises(ImageError, match=r"\[0, 1\]"):
        invert(vgg16, photo * 255, "relu1_2", None, steps=2)
    with pytest.raises(ImageError, match="shape"):
        invert(vgg16, photo[:2], "relu1_2", None, steps=2)
    with pytest.raises(ImageError, match="shape"):
        invert(vgg16, photo[0], "relu1_2", None, steps=2)
    for steps in (0, -3, 2.5):
        with pytest.raises(ParameterError, match="steps"):
            invert(vgg16, photo, "relu1_2", None, steps=steps)
    with pytest.raises(ParameterError, match="lr"):
        invert(vgg16, photo, "relu1_2", None, steps=2, lr=0)
    with pytest.raises(UnknownNameError, match="parameterisation"):
        invert(vgg16, photo, "relu1_2", None, steps=2, parameterisation="tanh")
    with pytest.raises(ParameterError, match="mapping"):
        invert(vgg16, photo, ["relu1_2", "relu2_2"], [1, 2], steps=2)
    with pytest.raises(ParameterError, match="all zero"):
        invert(vgg16, torch.zeros(3, 16, 16), "relu1_2", [30, 61], steps=2)  # silent on black


def test_measures_separate_structure_from_colour(photo):
    ref = photo
    assert measure(ref, ref)["structure"] == pytest.approx(1.0, abs=1e-9)
    swapped = ref[[2, 0, 1]]  # same edges, other colours
    blurred = torch.nn.functional.avg_pool2d(ref[None], 5, stride=1, padding=2, count_include_pad=False)[0]
    grey = torch.full_like(ref, float(ref.mean()))
    assert structure_score(grey, ref) == 0.0
    assert colour_score(swapped, ref) > 3 * colour_score(blurred, ref)
    assert colour_score(swapped, ref, blur_sigma=2.0) > 5 * colour_score(blurred, ref, blur_sigma=2.0)
    assert structure_score(swapped, ref) > 0.5
    assert structure_score(swapped, ref) > structure_score(torch.rand_like(ref), ref) + 0.4
    with pytest.raises(ImageError):
        measure(ref[:, :16], ref)


def test_paired_contrasts_resample_photographs_inits_and_draws():
    rng = np.random.default_rng(0)
    rows = [{"layer": "l", "tv_weight": tv, "image": i, "seed": s, "draw": d, "subset": sub,
             "structure": (0.8 if sub == "top" else 0.5) + rng.normal(0, 0.01),
             "colour_de2000": 10.0 + rng.normal(0, 0.01)}
            for tv in (0.5, 0.0) for i in range(6) for s in range(3)
            for sub, draws in (("top", 1), ("bottom", 1), ("random", 2)) for d in range(draws)]
    r = ReconstructionResult(pd.DataFrame(rows), np.zeros(0), {}, {}, {}, {"parameters": {"n_boot": 300}})
    s = r.summary()
    top = s[(s.subset == "top") & (s.measure == "structure") & (s.tv_weight == 0.5)].iloc[0]
    assert top.ci_low < top["mean"] < top.ci_high and top.n == 18
    d = contrasts(r, [("top", "bottom"), ("top", "random")], measures=["structure", "colour_de2000"])
    tb = d[(d.contrast == "top − bottom") & (d.tv_weight == 0.5)].set_index("measure")
    assert tb.loc["structure", "better"] == "top" and tb.loc["structure", "ci_low"] > 0.25
    assert tb.loc["colour_de2000", "better"] == "neither" and tb.loc["structure", "n_pairs"] == 18


def test_experiment_tidy_table_and_round_trip(vgg16, photos, tmp_path):
    scores = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    settings = ReconstructionSettings(image_size=24, steps=8, images=("baboon", "pepper"), n_seeds=2,
                                      n_random_draws=2, n_boot=100, tv_weights=(0.5, 0.0))
    r = run_experiment(vgg16, scores, settings, layers=["relu1_2"], p=25, device="cpu")
    t = r.table
    assert len(t) == 2 * 2 * 2 * (1 + 1 + 2 + 1)  # priors × images × inits × (top, bottom, 2 random draws, all)
    assert set(t.subset) == {"top", "bottom", "random", "all"} and set(t.tv_weight) == {0.5, 0.0}
    assert r.priors == [0.5, 0.0]
    assert t[t.subset == "top"].n_channels.eq(16).all() and t[t.subset == "all"].n_channels.eq(64).all()
    assert r.channels["relu1_2/top/0/tv0.5"].tolist() == list(range(48, 64))
    # init s is the same start for every subset and prior; different random draws give different channels
    assert not np.array_equal(r.channels["relu1_2/random/0/tv0.5"], r.channels["relu1_2/random/1/tv0.5"])
    # the prior acts: the same start and channels give another image without it
    assert np.abs(r.images["relu1_2/top/0/tv0.5"] - r.images["relu1_2/top/0/tv0"]).max() > 1e-3
    assert r.provenance["network"] == "vgg16" and r.provenance["parameters"]["steps"] == 8
    np.testing.assert_allclose(r.originals, photos.numpy(), atol=1e-6)
    assert set(r.summary().measure) >= {"psnr", "ssim", "structure", "colour_de2000", "ssim_lowpass16", "band_1_4"}
    c = contrasts(r)
    assert set(c.contrast) >= {"top − bottom", "top − random", "bottom − random"} and set(c.tv_weight) == {0.5, 0.0}
    rb = robustness(r)
    assert {"verdict_0.5", "verdict_0", "inits_agree", "robust"} <= set(rb.columns)
    assert all(v.note.startswith(("robust", "not robust")) for v in conclusions(r))
    # a second run is read from the cache and gives the same table
    r2 = run_experiment(vgg16, scores, settings, layers=["relu1_2"], p=25, device="cpu")
    assert r2.provenance["cache_hits"] == 10
    pd.testing.assert_frame_equal(r.table, r2.table)
    r.save(tmp_path / "res")
    back = load_result(tmp_path / "res")
    pd.testing.assert_frame_equal(back.table, r.table, check_exact=False, rtol=1e-5, check_dtype=False)
    # images of the first init are kept; every init's measures are in the table
    assert back.images["relu1_2/all/0/tv0.5"].shape[1] == 1
    assert np.abs(back.images["relu1_2/all/0/tv0.5"][:, 0] - r.images["relu1_2/all/0/tv0.5"][:, 0]).max() <= 1 / 255 + 1e-6
    with pytest.raises(DatasetError):
        load_result(tmp_path / "nothing")
    with pytest.raises(UnknownNameError):
        run_experiment(vgg16, scores, settings, layers=["relu1_2"], subsets=["middle"], device="cpu")
    with pytest.raises(ParameterError, match="no PE scores"):
        run_experiment(vgg16, scores, settings, layers=["relu2_2"], device="cpu")


def test_cli_reconstruct_writes_image_history_and_metrics(tmp_path):
    from pecore.cli import main

    img = data_path("sr", "Set14", "image_SRF_4", "img_012_SRF_4_HR.png")
    out = tmp_path / "rec.png"
    rc = main(["reconstruct", str(img), "--layer", "relu1_2", "--subset", "top", "--p", "25", "--preset", "ci",
               "--steps", "10", "--size", "24", "--seed", "3", "--device", "cpu", "--out", str(out), "--quiet"])
    assert rc == 0 and out.is_file()
    hist = pd.read_csv(tmp_path / "rec.loss.csv")
    assert len(hist) == 10 and hist.loss.iloc[-1] < hist.loss.iloc[0]
    rec = json.loads((tmp_path / "rec.metrics.json").read_text())
    assert rec["n_channels"] == 16 and rec["layer"] == "relu1_2" and rec["subset"] == "top"
    assert {"psnr", "ssim", "structure", "colour_de2000"} <= set(rec["metrics"])
    assert rec["provenance"]["weights"]["source"] and rec["provenance"]["parameters"]["steps"] == 10


@pytest.mark.parametrize("args,msg", [
    (["--layer", "relu9_9"], "relu9_9"),
    (["--steps", "0"], "steps"),
    (["--subset", "all", "--size", "0"], "size"),
])
def test_cli_bad_input_exits_2_with_a_message(tmp_path, capsys, args, msg):
    from pecore.cli import main

    img = data_path("sr", "Set14", "image_SRF_4", "img_012_SRF_4_HR.png")
    rc = main(["reconstruct", str(img), "--subset", "all", "--device", "cpu", "--out", str(tmp_path / "x.png"),
               "--quiet", *args])
    assert rc == 2
    assert msg in capsys.readouterr().err


def test_book_preset_is_the_stored_tier():
    from pecore.reconstruction.settings import get_settings

    s = get_settings("book")
    assert s.image_size >= 64 and len(s.images) >= 5 and "lenna" not in s.images
    assert {"relu2_2", "relu3_3"} <= set(s.layers) and s.n_random_draws >= 3 and s.n_seeds >= 3
    assert 0.0 in s.tv_weights and any(v > 0 for v in s.tv_weights)  # the prior on and off
    assert s.lr_schedule == "cosine" and s.probe_preset == "paper"
    for name in ("ci", "quick", "paper"):  # every preset runs the whole design
        p = get_settings(name)
        assert p.n_seeds >= 2 and p.n_random_draws >= 2 and len(p.tv_weights) == 2
    with pytest.raises(UnknownNameError, match="reconstruction preset"):
        get_settings("fast")
    with pytest.raises(UnknownNameError, match="reconstruction settings field"):
        get_settings("book", stepz=3)


def test_stored_book_results_load_with_their_provenance():
    from pecore.experiment import VERDICTS
    from pecore.reconstruction.conclusions import conclusions
    from pecore.reconstruction.experiment import stored_dir

    r = ReconstructionResult.load(stored_dir("vgg16", "book"))
    prov = r.provenance
    assert prov["preset"] == "book" and prov["command"].startswith("pecore reconstruction-combine ")
    assert not str(prov["git_commit"]).endswith("-dirty") and prov["wall_seconds"] > 0 and prov["cpu"]
    parts = prov["combined_from"]  # two calls of the book tier on disjoint photographs, each from a clean commit
    assert [len(p["images"]) for p in parts] == [5, 5] and sum(p["wall_seconds"] for p in parts) == prov["wall_seconds"]
    assert all(p["command"].startswith("pecore reconstruction --preset book") for p in parts)
    assert not any(str(p["git_commit"]).endswith("-dirty") for p in parts)
    t = r.table
    # layers × priors × (top, bottom, 3 random draws, all) × photographs × inits
    assert len(t) == 2 * 2 * 6 * 10 * 3
    assert "lenna" not in set(t.image_name) and t.rel_change_last10.notna().all()
    assert r.images["relu2_2/top/0/tv0.5"].shape[-2:] == (64, 64)
    verdicts = conclusions(r)
    assert len(verdicts) == 2 * 5 and {v.verdict for v in verdicts} <= set(VERDICTS)
    assert all(v.n == t.image_name.nunique() for v in verdicts)  # the photographs the intervals resample
    # the convergence criterion is met by at least 90 % of the runs of every layer
    from pecore.reconstruction.conclusions import MIN_CONVERGED, convergence_summary

    pooled = convergence_summary(r).groupby("layer").tail(1)
    assert (pooled.share >= MIN_CONVERGED).all(), pooled


def test_runs_on_disjoint_photographs_combine_into_the_run_on_all_of_them(vgg16, tmp_path, capsys):
    from dataclasses import replace

    from pecore.cli import main
    from pecore.reconstruction.combine import combine

    scores = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    settings = ReconstructionSettings(image_size=24, steps=6, images=("baboon", "pepper", "monarch"), n_seeds=2,
                                      n_random_draws=2, tv_weights=(0.5, 0.0))
    kw = dict(layers=["relu1_2"], device="cpu", cache=False)
    whole = run_experiment(vgg16, scores, settings, **kw)
    first = run_experiment(vgg16, scores, replace(settings, images=("baboon", "pepper")), **kw)
    second = run_experiment(vgg16, scores, replace(settings, images=("monarch",)), **kw)
    joined = combine([first, second])
    pd.testing.assert_frame_equal(joined.table, whole.table)
    for key in whole.losses:
        np.testing.assert_array_equal(joined.losses[key], whole.losses[key])
        np.testing.assert_array_equal(joined.images[key], whole.images[key])
    assert joined.provenance["parameters"]["images"] == ["baboon", "pepper", "monarch"]
    assert [p["images"] for p in joined.provenance["combined_from"]] == [["baboon", "pepper"], ["monarch"]]
    # saved, the joined result is the whole run's, file for file
    a, b = whole.save(tmp_path / "whole"), joined.save(tmp_path / "joined")
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    assert (a / "arrays.npz").read_bytes() == (b / "arrays.npz").read_bytes()
    with pytest.raises(ParameterError, match="'baboon' is in two"):
        combine([first, run_experiment(vgg16, scores, replace(settings, images=("baboon",)), **kw)])
    with pytest.raises(ParameterError, match="parameters.steps"):
        combine([first, run_experiment(vgg16, scores, replace(settings, images=("monarch",), steps=5), **kw)])
    first.save(tmp_path / "first")
    assert main(["reconstruction-combine", str(tmp_path / "first"), str(tmp_path / "joined"), "--out",
                 str(tmp_path / "first")]) != 0
    assert "is one of the parts" in capsys.readouterr().err


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(vgg16, tmp_path, monkeypatch):
    import pecore.reconstruction.experiment as ex

    scores = pd.DataFrame({"layer": "relu1_2", "channel": range(64), "pe": np.linspace(0, 1, 64), "dead": False})
    settings = ReconstructionSettings(image_size=24, steps=6, images=("baboon", "pepper"), n_random_draws=1,
                                      tv_weights=(0.5, 0.0))
    monkeypatch.setenv("PECORE_CACHE", str(tmp_path / "whole"))
    whole = run_experiment(vgg16, scores, settings, layers=["relu1_2"], device="cpu")
    monkeypatch.setenv("PECORE_CACHE", str(tmp_path / "resumed"))
    real, calls = ex.invert, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ex, "invert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(vgg16, scores, settings, layers=["relu1_2"], device="cpu")
    monkeypatch.setattr(ex, "invert", real)
    resumed = run_experiment(vgg16, scores, settings, layers=["relu1_2"], device="cpu")
    assert resumed.provenance["cache_hits"] == 2  # the two batches finished before the interruption
    assert whole.provenance["batches"] == 8  # 4 subsets × 2 priors
    pd.testing.assert_frame_equal(resumed.table, whole.table)


def test_the_layers_asked_for_are_the_layers_recorded():
    from pecore.reconstruction.experiment import chapter_result

    r = chapter_result("alexnet", "ci", layers=["relu2"], subsets=["top", "bottom"], device="cpu")
    assert r.provenance["parameters"]["layers"] == ["relu2"] == r.provenance["layers"]
    assert set(r.table.layer) == {"relu2"} and not r.provenance["stored"]

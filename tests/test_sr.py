"""Super-resolution: network shapes, metrics against hand computations, training, resuming, errors, CLI."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from conftest import data_path
from pecore.cli import main
from pecore.errors import DatasetError, ImageError, OutputError, ParameterError, UnknownNameError
from pecore.imageio import load_image
from pecore.sr import data as srdata
from pecore.sr.data import CropSampler, CropSizeError, ScaleMismatchError, downscale, load_hr_images, upscale_bicubic
from pecore.sr.evaluate import evaluate_methods, psnr_y, ssim_y
from pecore.sr.losses import SRLoss, arm_weights
from pecore.sr.model import SRResNet, build_model
from pecore.sr.settings import PRESETS, check_settings, get_settings
from pecore.sr.train import load_run, train_arm

CI = PRESETS["ci"]
SET5 = ("sr", "Set5", "image_SRF_4")


def hr_image(name: str = "img_003") -> torch.Tensor:
    return load_image(data_path(*SET5, f"{name}_SRF_4_HR.png"))


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Train on one CPU thread: on a busy 2-core machine two OpenMP threads per process are many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pe_table(vgg16) -> pd.DataFrame:
    """A PE table for relu1_2 of VGG-16 (a fixed random PE per channel: the selection mechanics, not the probe)."""
    rng = np.random.default_rng(0)
    rows = [{"layer": k, "channel": c, "pe": float(rng.random()), "dead": False}
            for k in vgg16.taps[:2] for c in range(vgg16.channels[k])]
    return pd.DataFrame(rows)


# --- network --------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [2, 4])
def test_output_is_scale_times_the_input_on_a_real_image(scale):
    hr = srdata.modcrop(hr_image()[:, :100, :92], scale)
    lr = downscale(hr, scale)
    net = SRResNet(scale=scale, n_blocks=2, n_feats=8)
    sr = net(lr)
    assert sr.shape == (1, 3, lr.shape[-2] * scale, lr.shape[-1] * scale) == (1, *hr.shape)
    # an untrained network with the bicubic skip is exactly bicubic upscaling
    assert torch.allclose(sr, upscale_bicubic(lr, scale))


def test_models_with_the_same_seed_are_identical_and_seeds_differ():
    a, b, c = build_model(CI, 0), build_model(CI, 0), build_model(CI, 1)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


# --- data -----------------------------------------------------------------------------------------

def test_downscale_is_antialiased_bicubic_like_pil():
    hr = hr_image("img_002")
    lr = downscale(hr, 4)
    arr = (hr.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    pil = np.asarray(Image.fromarray(arr).resize((hr.shape[2] // 4, hr.shape[1] // 4), Image.BICUBIC), dtype=float)
    ours = lr[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(ours - pil).max() <= 1.0 and np.abs(ours - pil).mean() < 0.5
    assert torch.equal(lr, lr.mul(255).round().div(255))  # 8-bit levels


def test_crops_are_seeded_and_real(data_dir):
    imgs = load_hr_images("Set5", 4, uint8=True)
    a = CropSampler([i.image for i in imgs], 32, 3, 4, seed=7)
    b = CropSampler([i.image for i in imgs], 32, 3, 4, seed=7)
    (la, ha), (lb, hb) = a.sample(), b.sample()
    assert torch.equal(ha, hb) and torch.equal(la, lb)
    assert ha.shape == (3, 3, 32, 32) and la.shape == (3, 3, 8, 8)
    assert float(ha.std()) > 0.02  # real image content, not a constant


def test_shared_layout_and_plain_folders(tmp_path):
    assert [p.name for p in srdata.hr_image_paths(data_path("sr", "Set14"), 4)][0] == "img_001_SRF_4_HR.png"
    assert len(srdata.hr_image_paths("Set14", 4)) == 13  # lenna (img_009) is never used
    assert "img_009" not in [i.name for i in load_hr_images("Set14", 4, crop=32)]
    # a plain folder of HR images (LR files skipped)
    for name in ("a.png", "b_LR.png"):
        Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(tmp_path / name)
    imgs = load_hr_images(tmp_path, 4)
    assert [i.name for i in imgs] == ["a"] and imgs[0].image.shape == (3, 20, 24)


# --- metrics --------------------------------------------------------------------------------------

def test_psnr_and_ssim_match_hand_computation_on_a_real_pair():
    from skimage.metrics import structural_similarity

    hr = hr_image("img_002")[:, :96, :120]
    noisy = (hr + 0.03 * torch.randn(hr.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    noisy = noisy.mul(255).round().div(255)

    def y(x):  # ITU-R BT.601 luma, border of 4 cropped, by hand in numpy
        a = x.permute(1, 2, 0).double().numpy()
        return (16 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2])[4:-4, 4:-4]

    mse = np.mean((y(noisy) - y(hr)) ** 2)
    assert float(psnr_y(noisy, hr, 4)) == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-9)
    ref = structural_similarity(y(noisy), y(hr), data_range=255, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    assert float(ssim_y(noisy, hr, 4)) == pytest.approx(ref, abs=1e-6)
    # a constant offset of 10 in Y: PSNR = 10 log10(255² / 10²)
    flat = torch.full((3, 32, 32), 0.4)
    assert float(psnr_y(flat + 10 / 219, flat, 4)) == pytest.approx(20 * np.log10(25.5), abs=1e-5)  # float32 image


def test_bicubic_baseline_matches_the_published_set5_value():
    t, _ = evaluate_methods({"bicubic": lambda lr: upscale_bicubic(lr, 4)}, load_hr_images("Set5", 4), dataset="Set5")
    # Set5 x4 bicubic in the SR literature (MATLAB imresize): 28.42 dB, SSIM 0.810
    assert t.psnr_y.mean() == pytest.approx(28.42, abs=0.1)
    assert t.ssim_y.mean() == pytest.approx(0.810, abs=0.005)


# --- losses ---------------------------------------------------------------------------------------

def test_arms_select_the_same_number_of_channels(vgg16, pe_table):
    layers = ["relu1_2", "relu2_2"]
    w = {arm: arm_weights(arm, vgg16, pe_table, layers, p=25) for arm in ("top", "bottom", "random")}
    for k in layers:
        sets = {arm: set(np.flatnonzero(w[arm][k].numpy())) for arm in w}
        assert len({len(s) for s in sets.values()}) == 1 and len(sets["top"]) == vgg16.channels[k] // 4
        assert not sets["top"] & sets["bottom"]
        pe = pe_table[pe_table.layer == k].set_index("channel").pe
        assert pe[list(sets["top"])].min() > pe[list(sets["bottom"])].max()
        assert float(w["top"][k].sum()) == pytest.approx(vgg16.channels[k])  # 'count' normalisation
    assert arm_weights("pixel", vgg16, None, layers) is None
    r0, r1 = (arm_weights("random", vgg16, pe_table, layers, selection_seed=s)["relu1_2"] for s in (0, 1))
    assert not torch.equal(r0, r1)


def test_feature_loss_is_zero_for_identical_images_and_differentiable(vgg16, pe_table):
    loss = SRLoss(vgg16, arm_weights("top", vgg16, pe_table, ["relu1_2", "relu2_2"]), feature_weight=0.05)
    hr = hr_image()[:, 100:148, 100:148].unsqueeze(0)
    same = loss(hr, hr.clone())
    assert float(same["feature"]) == 0.0 and float(same["loss"]) == 0.0
    sr = upscale_bicubic(downscale(hr, 4), 4).requires_grad_(True)
    out = loss(sr, hr)
    assert float(out["feature"].detach()) > 0
    (g,) = torch.autograd.grad(out["feature"], sr)
    assert torch.isfinite(g).all() and float(g.abs().sum()) > 0
    with torch.no_grad():  # a small step against the gradient lowers the feature loss
        assert float(loss(sr - 1e-3 * g / g.abs().max(), hr)["feature"]) < float(out["feature"])


# --- training -------------------------------------------------------------------------------------

def test_a_few_steps_on_real_crops_lower_the_loss(tmp_path, vgg16, pe_table):
    s = replace(CI, steps=24, checkpoint_every=24, batch_size=4, lr=2e-3)
    run = train_arm("top", s, tmp_path / "top", network=vgg16, pe_table=pe_table, device="cpu", progress=False)
    imgs = load_hr_images("BSD100", 4, uint8=True)[:20]
    lr, hr = CropSampler([i.image for i in imgs], 32, 16, 4, seed=123, augment=False).sample()
    loss = SRLoss(vgg16, arm_weights("top", vgg16, pe_table, ["relu1_2"]), feature_weight=s.feature_weight)
    with torch.no_grad():
        before = loss(build_model(s, 0)(lr), hr)
        after = loss(run.model(lr), hr)
    assert float(after["loss"]) < float(before["loss"])
    assert list(run.log.columns) == ["step", "loss", "pixel", "feature", "lr", "seconds"]
    assert run.log.step.iloc[-1] == 24 and (run.log.feature > 0).all()
    assert (tmp_path / "top" / "loss_log.csv").is_file() and not (tmp_path / "top" / "checkpoint.pt").exists()


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, vgg16, pe_table, monkeypatch):
    s = replace(CI, steps=4, checkpoint_every=2)
    kw = dict(network=vgg16, pe_table=pe_table, device="cpu", progress=False, data="Set5")
    straight = train_arm("bottom", s, tmp_path / "a", **kw)

    calls = {"n": 0}
    real = CropSampler.sample

    def flaky(self):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(CropSampler, "sample", flaky)
    with pytest.raises(KeyboardInterrupt):
        train_arm("bottom", s, tmp_path / "b", **kw)
    assert (tmp_path / "b" / "checkpoint.pt").is_file() and not (tmp_path / "b" / "model.pt").exists()
    monkeypatch.setattr(CropSampler, "sample", real)
    resumed = train_arm("bottom", s, tmp_path / "b", **kw)
    assert resumed.resumed_from == 2 and resumed.steps_run == 2
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(p, q)
    pd.testing.assert_frame_equal(straight.log.drop(columns="seconds"), resumed.log.drop(columns="seconds"))
    again = train_arm("bottom", s, tmp_path / "b", **kw)  # finished: loaded, not retrained
    assert again.steps_run == 0 and torch.equal(next(again.model.parameters()), next(straight.model.parameters()))
    with pytest.raises(OutputError, match="holds another SR run"):
        train_arm("top", s, tmp_path / "b", **kw)


# --- bad input ------------------------------------------------------------------------------------

def test_bad_input_gives_named_errors(tmp_path, vgg16, pe_table):
    hr = hr_image()
    with pytest.raises(ScaleMismatchError, match="not a multiple of scale 4"):
        downscale(hr[:, :30, :30], 4)
    with pytest.raises(ScaleMismatchError, match="not ×4"):
        srdata.check_scale_pair(downscale(hr[:, :32, :32], 4), hr[:, :64, :64], 4)
    with pytest.raises(ScaleMismatchError, match="×2"):
        srdata.hr_image_paths(data_path("sr", "Set5", "image_SRF_2"), 4)
    with pytest.raises(ScaleMismatchError, match="crop 30 is not a multiple"):
        CropSampler([hr], 30, 2, 4)
    with pytest.raises(CropSizeError, match="img_003 is 256×256 pixels, smaller than the training crop 288"):
        CropSampler([hr], 288, 2, 4, names=["img_003"])
    with pytest.raises(CropSizeError, match="smaller than the training crop"):
        train_arm("pixel", replace(CI, crop=520), tmp_path / "big", data="Set5", device="cpu", progress=False)
    with pytest.raises(UnknownNameError, match="unknown SR arm 'best'; allowed: pixel, all, top, bottom, random"):
        train_arm("best", CI, tmp_path / "x", device="cpu", progress=False)
    with pytest.raises(UnknownNameError, match="pixel loss"):
        SRLoss(None, None, pixel_loss="l3")


# --- command line ---------------------------------------------------------------------------------

def test_cli_train_and_eval_write_runs_and_metrics(tmp_path, capsys):
    out = tmp_path / "pixel"
    assert main(["sr", "train", "--arm", "pixel", "--preset", "ci", "--out", str(out), "--device", "cpu",
                 "--data", str(data_path(*SET5)), "--quiet"]) == 0
    assert "pixel: trained 4 steps" in capsys.readouterr().out
    assert load_run(out, device="cpu").model.scale == 4
    assert main(["sr", "eval", str(tmp_path), "--data", "Set5", "--crop", "48", "--device", "cpu", "--n-boot", "100"]) == 0
    per = pd.read_csv(tmp_path / "metrics_Set5_per_image.csv")
    mean = pd.read_csv(tmp_path / "metrics_Set5_mean.csv")
    assert set(per.method) == {"bicubic", "pixel"} and len(per) == 10
    assert {"psnr_y", "ssim_y", "lpips_vgg"} <= set(per.columns)
    row = mean[(mean.method == "bicubic") & (mean.metric == "psnr_y")].iloc[0]
    assert row.ci_low <= row["mean"] <= row.ci_high and row.n_images == 5
    # a x2 folder for a x4 run, an unknown arm: one line naming the problem, status 2
    assert main(["sr", "eval", str(out), "--data", str(data_path("sr", "Set5", "image_SRF_2"))]) == 2
    assert "×2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sr", "train", "--arm", "best", "--out", str(tmp_path / "y")])
    assert "invalid choice: 'best'" in capsys.readouterr().err


# --- presets --------------------------------------------------------------------------------------

def test_book_preset_exists_and_validates():
    book = check_settings(get_settings("book"))
    assert (book.n_blocks, book.n_feats, book.crop) == (8, 32, 48) and book.pretrain_steps >= 1000 and book.steps >= 300
    assert book.lambda_grid and book.sweep_steps > 0 and book.val_images > 0
    assert len(book.random_seeds) >= 3 and len(book.train_seeds) >= 3  # draws and training seeds
    assert max(book.lambda_grid) / min(book.lambda_grid) >= 1000  # from a small correction to a dominant term
    assert book.eval_sets == ("Set5", "Set14") and book.eval_crop is None and book.probe_preset == "paper"
    for name in PRESETS:
        check_settings(PRESETS[name])
    with pytest.raises(UnknownNameError, match="sr settings field 'stepz'"):
        get_settings("book", stepz=3)
    with pytest.raises(UnknownNameError, match="probe preset 'book'"):
        check_settings(replace(book, probe_preset="book"))
    with pytest.raises(ParameterError, match="needs a validation split"):
        check_settings(replace(book, val_images=0))
    with pytest.raises(ParameterError, match="names a seed twice"):
        check_settings(replace(book, train_seeds=(0, 0)))
    with pytest.raises(ParameterError, match="at least one seed"):
        check_settings(replace(book, train_seeds=()))


def test_validation_split_is_held_out_of_training():
    train, val = srdata.bsd100_split(16)
    assert len(train) == 84 and len(val) == 16 and not set(train) & set(val)
    from pecore.sr.train import _training_images

    names = [im.name for im in _training_images("BSD100", 4, 16)]
    assert names == train


# --- sr apply -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("ci-run") / "pixel"
    train_arm("pixel", CI, d, device="cpu", progress=False, data="Set5")
    return d


def test_apply_upscales_a_user_image(tmp_path, ci_run, capsys):
    from pecore.sr.apply import upscale_image

    img = (hr_image()[:, :41, :37].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "mine.png")
    Image.fromarray(img[:, :, 0]).save(tmp_path / "grey.jpg")
    out = tmp_path / "up"
    assert main(["sr", "apply", str(ci_run), str(tmp_path / "mine.png"), str(tmp_path / "grey.jpg"),
                 "--out", str(out), "--device", "cpu"]) == 0
    assert "wrote" in capsys.readouterr().out
    up = load_image(out / "mine_x4_pixel.png")
    assert up.shape == (3, 164, 148) and (out / "grey_x4_pixel.png").is_file()
    # a phone photograph stored sideways with an EXIF orientation is upscaled as it is seen
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    Image.fromarray(img).save(tmp_path / "phone.jpg", exif=exif)
    assert main(["sr", "apply", str(ci_run), str(tmp_path / "phone.jpg"), "--out", str(out), "--device", "cpu"]) == 0
    assert load_image(out / "phone_x4_pixel.png").shape == (3, 148, 164)
    model = load_run(ci_run, device="cpu").model
    x = torch.from_numpy(img).permute(2, 0, 1).float().div(255)[None]
    whole = model(x).clamp(0, 1)
    assert torch.allclose(upscale_image(model, x, tile=16), whole, atol=1e-5)  # tiles equal one pass
    assert (up - whole[0]).abs().max() <= 1 / 255 + 1e-6


def test_apply_rejects_bad_input_with_named_errors(tmp_path, ci_run, capsys):
    from pecore.sr.apply import apply_run

    (tmp_path / "notes.png").write_text("not an image")
    Image.fromarray(np.zeros((1, 5, 3), np.uint8)).save(tmp_path / "line.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "ok.png")
    empty = tmp_path / "empty-run"
    empty.mkdir()
    with pytest.raises(ImageError, match="notes.png is not an image file"):
        apply_run(ci_run, [tmp_path / "notes.png"], tmp_path / "o", device="cpu")
    with pytest.raises(DatasetError, match="holds no trained SR generator"):
        apply_run(empty, [tmp_path / "ok.png"], tmp_path / "o", device="cpu")
    with pytest.raises(DatasetError, match="holds the runs pixel"):
        apply_run(ci_run.parent, [tmp_path / "ok.png"], tmp_path / "o", device="cpu")
    with pytest.raises(ImageError, match="5×1 pixels; the generator needs at least 2 pixels per side"):
        apply_run(ci_run, [tmp_path / "line.png"], tmp_path / "o", device="cpu")
    assert not (tmp_path / "o").exists()  # nothing written when an input is bad
    assert main(["sr", "apply", str(empty), str(tmp_path / "ok.png"), "--out", str(tmp_path / "o")]) == 2
    assert "holds no trained SR generator" in capsys.readouterr().err


# --- the lambda sweep and the verdicts -------------------------------------------------------------

@pytest.fixture(scope="module")
def ci_design(tmp_path_factory):
    """The ci preset's whole design: shared starts, λ sweep, every arm × 2 training seeds × 2 random draws."""
    from pecore.sr.experiment import run_experiment

    out = tmp_path_factory.mktemp("ci-design")
    res = run_experiment("ci", device="cpu", use_stored=False, progress=False, out_dir=out,
                         overrides={"eval_sets": ("Set5", "Set14")})
    return res, out


def test_ci_design_shares_a_start_per_seed_and_sweeps_lambda_on_the_validation_split(ci_design):
    import json

    res, out = ci_design
    sweep = pd.read_csv(out / "lambda_sweep.csv")
    assert sweep.method.tolist() == ["bicubic", "all-lambda0.1", "all-lambda1"]
    assert (sweep.n_images == 2).all() and sweep.chosen.sum() == 1 and "interior" in sweep
    lam = float(sweep.loc[sweep.chosen, "lambda"].iloc[0])
    assert res.provenance["parameters"]["feature_weight"] == lam == res.provenance["lambda_sweep"]["chosen"]
    assert res.provenance["lambda_sweep"]["validation_images"] == ["img_099", "img_100"]
    starts = {t: json.loads((out / "pretrain" / f"t{t}" / "train.json").read_text())["key"] for t in (0, 1)}
    assert starts[0] != starts[1]
    for t in (0, 1):  # every arm of a seed is fine-tuned from that seed's shared start
        for name in ("pixel", "top", "bottom", "random-s0", "random-s1") + (("all",) if t else ()):
            info = load_run(out / "runs" / f"{name}-t{t}", device="cpu").info
            assert info["init"] == starts[t] and info["seed"] == t, (name, t)
            assert info["settings"]["feature_weight"] == (0.0 if name == "pixel" else lam)
    assert load_run(out / "sweep" / f"all-lambda{lam:g}", device="cpu").info["init"] == starts[0]
    # 18 test images: Set5 and Set14 without lenna, and both pooled; every comparison covers both seeds
    d = res.differences
    assert d.groupby("dataset").n_images.max().to_dict() == {"Set5": 5, "Set14": 13, "Set5+Set14": 18}
    assert (d.n_seeds == 2).all() and (d[d.b == "random"].n_draws == 2).all()
    assert {"lpips_alex", "lpips_vgg", "gmsd"} <= set(res.per_image.columns)
    assert set(d.verdict) <= {"supported", "contradicted", "undecided", "too few data"}
    assert set(d[d.n_images < 10].verdict) <= {"too few data"}  # the book's rule: fewer than 10 test images
    assert {"top", "bottom", "random", "all", "pixel", "bicubic"} == set(res.summary.arm)


def test_a_resumed_sr_run_equals_the_uninterrupted_one_byte_for_byte(ci_design, tmp_path):
    """`sr run` stopped after some arms finished, then run again: every table and image equals the uninterrupted
    run's to the byte. Only wall times differ (the `seconds` column of the loss logs, provenance's timings)."""
    import shutil

    from pecore.sr.experiment import run_experiment

    _, straight = ci_design
    resumed = tmp_path / "resumed"
    finished = ("runs/pixel-t0", "runs/top-t0", "runs/bottom-t1")  # what had finished when it stopped
    for part in ("pretrain", "sweep", *finished):
        shutil.copytree(straight / part, resumed / part)
    stamps = {part: (resumed / part / "model.pt").stat().st_mtime_ns for part in finished}
    again = run_experiment("ci", device="cpu", use_stored=False, progress=False, out_dir=resumed,
                           overrides={"eval_sets": ("Set5", "Set14")})
    assert {part: (resumed / part / "model.pt").stat().st_mtime_ns for part in finished} == stamps  # not retrained
    # in memory too, to the last bit: a run trained here and one read back from its folder give the same log
    pd.testing.assert_frame_equal(again.plateau, ci_design[0].plateau, check_exact=True)
    files = [p.relative_to(straight).as_posix() for pattern in ("*.csv", "logs/*.csv", "samples/*.png")
             for p in sorted(straight.glob(pattern))]
    assert {"plateau.csv", "per_image.csv", "summary.csv", "differences.csv", "lambda_sweep.csv"} <= set(files)
    assert any(f.startswith("logs/") for f in files) and any(f.startswith("samples/") for f in files)
    for name in files:
        if name.startswith("logs/"):  # wall times differ; every other column is equal
            a, b = (pd.read_csv(d / name).drop(columns="seconds") for d in (straight, resumed))
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        else:
            assert (straight / name).read_bytes() == (resumed / name).read_bytes(), name


def test_intervals_widen_when_training_seeds_disagree(ci_design):
    from pecore.sr.evaluate import arm_differences

    per = ci_design[0].per_image
    base = arm_differences(per, [("top", "bottom")], n_boot=500)
    shifted = per.copy()  # seed 1's top runs 0.05 LPIPS worse, seed 0's 0.05 better: the mean stays, seeds disagree
    top = shifted.method.str.startswith("top-")
    shifted.loc[top & shifted.method.str.endswith("-t1"), "lpips_alex"] += 0.05
    shifted.loc[top & shifted.method.str.endswith("-t0"), "lpips_alex"] -= 0.05
    wide = arm_differences(shifted, [("top", "bottom")], n_boot=500)
    key = ["dataset", "metric"]
    b, w = base.set_index(key), wide.set_index(key)
    for ds in ("Set5", "Set14"):
        assert w.loc[(ds, "lpips_alex"), "mean"] == pytest.approx(b.loc[(ds, "lpips_alex"), "mean"], abs=1e-9)
        width = lambda t: t.loc[(ds, "lpips_alex"), "ci_high"] - t.loc[(ds, "lpips_alex"), "ci_low"]  # noqa: E731
        assert width(w) > 2 * width(b), ds


# --- data-parallel training -----------------------------------------------------------------------

def test_two_process_data_parallel_training_equals_one_process(tmp_path):
    """torchrun with 2 CPU processes (gloo), the same global batch: the same weights and loss log as 1 process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    one = tmp_path / "one"
    two = tmp_path / "two"
    s = replace(CI, steps=3, checkpoint_every=3)
    straight = train_arm("all", s, one, device="cpu", progress=False, data="Set5")
    pecore_cmd = Path(sys.executable).parent / "pecore"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(pecore_cmd),
           "sr", "train", "--arm", "all", "--preset", "ci", "--steps", "3", "--device", "cpu", "--data", "Set5",
           "--out", str(two), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    parallel = load_run(two, device="cpu")
    assert parallel.info["provenance"]["parameters"]["world_size"] == 2
    for (k, p), q in zip(straight.model.state_dict().items(), parallel.model.state_dict().values()):
        assert torch.allclose(p, q, atol=1e-6, rtol=1e-5), k
    assert not all(torch.equal(p, q) for p, q in zip(straight.model.parameters(), build_model(s, 0).parameters()))
    a, b = straight.log.drop(columns="seconds"), parallel.log.drop(columns="seconds")
    assert np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-5, atol=1e-7)


# --- the stored book results ----------------------------------------------------------------------

def test_stored_book_results_load_and_carry_their_provenance():
    from pecore.sr.conclusions import feature_check, training_check
    from pecore.sr.results import SRResults, stored_results_dir

    folder = stored_results_dir("vgg16", "book")
    res = SRResults.load(folder)
    prov = res.provenance
    assert prov["preset"] == "book" and prov["git_commit"] and not prov["git_commit"].endswith("-dirty")
    assert prov["wall_seconds"] > 60 and prov["command"].startswith("pecore sr run --preset book")
    assert prov["machine"]["cpu_model"] and prov["machine"]["torch_threads"] >= 1
    # 18 test images: Set5 and Set14 without lenna; every arm × 3 training seeds, draw k with seed k
    per = res.per_image[res.per_image.dataset != "Set5+Set14"]
    assert per.groupby("dataset").image.nunique().to_dict() == {"Set5": 5, "Set14": 13}
    assert "img_009" not in set(per.image)
    runs = {f"{a}-t{t}" for a in ("pixel", "all", "top", "bottom") for t in range(3)} | {f"random-s{t}-t{t}" for t in range(3)}
    assert set(per.method) == runs | {"bicubic"}
    assert {"lpips_alex", "gmsd", "psnr_y", "ssim_y"} <= set(per.columns)
    # training worked, and the feature term acts: all channels beat the pixel loss on LPIPS-alex
    check = training_check(res.differences)
    assert set(check.dataset) == {"Set5", "Set14"} and check.passed.all()
    assert feature_check(res.differences).acts.all()
    # every arm of a seed started from that seed's shared start
    assert set(prov["pretrain_seconds"]) == {"t0", "t1", "t2"}
    # the λ sweep is recorded, its choice lies inside the grid, and the arms used it
    sweep = res.lambda_sweep
    assert sweep is not None and int(sweep.chosen.sum()) == 1 and len(sweep) == 5 and sweep.interior.all()
    lam = float(sweep.loc[sweep.chosen, "lambda"].iloc[0])
    assert lam == prov["parameters"]["feature_weight"] and min(sweep["lambda"].dropna()) < lam < max(sweep["lambda"].dropna())
    # the generators of the first training seed are stored, small, and load; every run's log is stored
    for name in ("pixel-t0", "all-t0", "top-t0", "bottom-t0", "random-s0-t0"):
        assert (folder / "runs" / name / "model.pt").stat().st_size < 1_000_000
    assert runs <= set(res.logs) and all("val_psnr_y" in res.logs[n] for n in runs)
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert total < 7_000_000


def test_stored_generator_reproduces_its_stored_score():
    """The float16 pixel generator upscales Set5 img_003 to the PSNR-Y stored for it (to 0.02 dB)."""
    from pecore.sr.apply import load_generator
    from pecore.sr.data import quantize
    from pecore.sr.results import stored_results_dir

    folder = stored_results_dir("vgg16", "book")
    per = pd.read_csv(folder / "per_image.csv")
    stored = per[(per.dataset == "Set5") & (per.image == "img_003") & (per.method == "pixel-t0")].psnr_y.iloc[0]
    model = load_generator(folder / "runs" / "pixel-t0", device="cpu").model
    hr = load_image(data_path(*SET5, "img_003_SRF_4_HR.png"))[None]
    with torch.no_grad():
        sr = quantize(model(downscale(hr, 4)).float())
    assert float(psnr_y(sr, hr, 4)[0]) == pytest.approx(stored, abs=0.02)


# --- what the chapter shows readers: words, not code values; sentences that follow from the intervals ------

def _stored_book():
    from pecore.sr.results import SRResults, stored_results_dir

    return SRResults.load(stored_results_dir("vgg16", "book"))


def test_chapter_tables_of_the_stored_run_are_in_words():
    from pecore.sr.tables import chapter_tables

    t = chapter_tables(_stored_book())
    settings = t["settings"].value.to_dict()
    # eval_crop None means the whole test images; the border left out of every score is the scale factor (4 px)
    assert settings["test images scored"] == "the whole images"
    assert settings["border left out of the scores"].startswith("4 px")
    assert settings["test sets"] == "Set5, Set14 (without lenna)" and settings["pixel loss"].startswith("L1")
    assert settings["shared start"].startswith("for each training seed") and settings["training seeds"].startswith("3")
    sweep = t["sweep"]
    assert sweep.index.tolist() == ["bicubic", "λ = 0.03", "λ = 0.3", "λ = 3", "λ = 30"] and sweep.index.name == "run"
    assert (sweep["chosen"] == "yes").sum() == 1 and sweep.loc["bicubic", "chosen"] == "—"
    assert "inside the grid" in t["sweep_note"] and "—" in t["sweep_note"]
    for name in ("settings", "channels", "plateau", "sweep", "summary"):
        text = t[name].to_string() + " ".join(map(str, t[name].index.names))
        for raw in ("None", "NaN", "nan", "True", "False", "random-s0", "-t0", "['", "lambda", "eval_crop", "l1"):
            assert raw not in text, (name, raw)
    assert {"shared start (pixel loss)", "random", "top"} <= set(t["plateau"].index)
    assert "random (draw 0)" in t["channels"].index and "img_" not in t["sample"] and "butterfly" in t["sample"]
    assert "3 training seeds" in t["grid"] and "resumed" not in t["grid"]


def test_plateau_sentence_says_levelled_off_only_when_validation_psnr_stopped_rising():
    from pecore.sr.conclusions import plateau_sentence

    rising = pd.DataFrame({"relative_change": [0.001], "val_psnr_y_end": [26.80], "val_psnr_y_at_80pct": [26.76]},
                          index=pd.Index(["top"], name="run"))
    flat = rising.assign(val_psnr_y_end=[26.765])
    assert "still rising" in plateau_sentence(rising) and "had not levelled off" in plateau_sentence(rising)
    assert "the arms had levelled off" in plateau_sentence(flat) and "rising" not in plateau_sentence(flat)


def test_conclusion_never_says_more_than_the_verdicts():
    from pecore.claims import row_verdict
    from pecore.sr.conclusions import PRIMARY, conclusion_markdown, conclusions, top_verdicts

    res = _stored_book()
    text = conclusion_markdown(res)
    verdicts = conclusions(res)
    primary = [v.verdict for v in verdicts if v.measure == PRIMARY]
    # the claim's word comes from the primary measure alone, as on the claims page; every count is stated
    assert f"(named before the run): **{row_verdict(primary)}**" in text
    allv = [v.verdict for v in verdicts]
    counts = {k: allv.count(k) for k in ("supported", "contradicted", "undecided")}
    assert ", ".join(f"{c} {k}" for k, c in counts.items() if c) in text
    # each arm named with its own verdict; the interval of every line is the stored one
    tv = top_verdicts(res.differences)
    for r in tv[tv.metric == PRIMARY].itertuples():
        assert f"top − {r.b} {r.mean:+.4f} [{r.ci_low:.4f}, {r.ci_high:.4f}] ({r.verdict})" in text
    assert "random-s0" not in text and "-t0" not in text and "LPIPS-vgg is computed" not in text


def test_chapter_figures_fit_the_column_with_at_most_three_panels_per_row():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pecore.figures import displayed_scale
    from pecore.sr import plots

    res = _stored_book()
    for fig in (plots.training_curves(res.logs), plots.metric_intervals(res.summary),
                plots.difference_intervals(res.differences), plots.crops_side_by_side(res.samples)):
        assert displayed_scale(fig) == 1.0  # shown at its own size: no text shrunk
        rows = {}
        for ax in fig.axes:
            if ax.get_visible():
                y = round(ax.get_position().y0, 2)
                rows[y] = rows.get(y, 0) + 1
        assert max(rows.values()) <= 3
        for ax in fig.axes:  # no axis with more than five tick labels across 3.3 inches
            assert len([t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]) <= 6
        plt.close(fig)


def test_recorded_command_names_repository_paths(tmp_path):
    from pecore.notebook import REPO_ROOT
    from pecore.sr.cli import _shown_path

    assert _shown_path(str(REPO_ROOT / "stored" / "sr" / "x")) == "stored/sr/x"
    assert _shown_path(str(tmp_path)) == str(tmp_path)

"""The channel-subset metric and LPIPS v0.1: parity with published values, contract, contributions."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from conftest import ROOT, data_path
from pecore.errors import ImageError, ParameterError, UnknownNameError
from pecore.imageio import load_image
from pecore.metric import LPIPS, FeatureDistance, channel_terms, create_metric, subset_weights

# ../shared/offline-weights.md: LPIPS v0.1 with the reference implementation on real TID2013 pairs
LPIPS_VGG = {"i01_01_5": 0.34876, "i03_11_5": 0.76141, "i04_18_5": 0.20905, "i06_18_3": 0.05436,
             "i08_15_3": 0.04748, "i19_10_5": 0.59714}
LPIPS_ALEX = {"i03_11_5": 0.7237, "i04_18_5": 0.2572, "i06_18_3": 0.05079, "i08_15_3": 0.05205,
              "i19_10_5": 0.4253}


def _tid_pairs(names):
    root = data_path("iqa", "tid2013-subset")
    refs = torch.stack([load_image(root / "reference_images" / f"I{n[1:3]}.BMP") for n in names])
    dists = torch.stack([load_image(root / "distorted_images" / f"{n}.bmp") for n in names])
    return refs, dists


def test_lpips_alex_matches_published_values(alexnet):
    names = sorted(LPIPS_ALEX)
    refs, dists = _tid_pairs(names)
    with torch.inference_mode():
        d = LPIPS(alexnet)(refs, dists)
    for name, value in zip(names, d.tolist()):
        # the published values are printed to 4 significant digits
        assert value == pytest.approx(LPIPS_ALEX[name], abs=6e-5), name


@pytest.mark.parametrize("names", [["i03_11_5", "i19_10_5"], ["i01_01_5", "i06_18_3"]])
def test_lpips_vgg_matches_published_values(vgg16, names):
    refs, dists = _tid_pairs(names)
    with torch.inference_mode():
        d = LPIPS(vgg16)(refs, dists)
    for name, value in zip(names, d.tolist()):
        assert value == pytest.approx(LPIPS_VGG[name], abs=1e-4), name


def test_lpips_equals_the_lpips_package_with_the_same_weights(alexnet):
    lpips = pytest.importorskip("lpips", reason="the lpips package is a test extra")
    from pecore.weights import load_features_state_dict

    ref = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    state, _ = load_features_state_dict("alexnet")
    ref.net.load_state_dict({k: state[".".join(k.split(".")[1:])] for k in ref.net.state_dict()})
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 3, 80, 72, generator=g), torch.rand(3, 3, 80, 72, generator=g)
    with torch.inference_mode():
        ours, theirs = LPIPS(alexnet)(x, y), ref(2 * x - 1, 2 * y - 1).flatten()
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.fixture(scope="module")
def photo():
    # a real photograph (LIVE 'parrots'), reduced to keep the test fast
    return load_image(data_path("iqa", "live-r2-subset", "databaserelease2", "refimgs", "parrots.bmp"), size=96)


def test_zero_for_identical_symmetric_and_grows_with_noise(alexnet, photo):
    d = LPIPS(alexnet)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(photo.shape, generator=g)
    levels = [0.02, 0.05, 0.1, 0.2, 0.4]
    noisy = torch.stack([(photo + s * noise).clamp(0, 1) for s in levels])
    with torch.inference_mode():
        assert float(d(photo, photo)[0]) == 0.0
        forward, backward = d(photo, noisy), d(noisy, photo)
    assert torch.allclose(forward, backward, atol=1e-7)
    assert all(a < b for a, b in zip(forward.tolist(), forward.tolist()[1:])), forward.tolist()


def test_masks_change_only_the_chosen_channels(alexnet, photo):
    y = (photo + 0.1 * torch.randn(photo.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    full = FeatureDistance(alexnet, {"relu2": torch.ones(192), "relu3": torch.ones(384)})
    mask = torch.zeros(192)
    mask[[3, 50, 191]] = 1.0
    part = FeatureDistance(alexnet, {"relu2": mask, "relu3": torch.ones(384)})
    with torch.inference_mode():
        cf, cp = full.channel_contributions(photo, y), part.channel_contributions(photo, y)
        terms = channel_terms(alexnet, photo, y, ["relu2", "relu3"])
    assert torch.equal(cp["relu3"], cf["relu3"])
    assert torch.equal(cp["relu2"][:, mask == 1], cf["relu2"][:, mask == 1])
    assert float(cp["relu2"][:, mask == 0].abs().max()) == 0.0 and float(cf["relu2"][:, mask == 0].sum()) > 0
    assert float(part(photo, y)) == pytest.approx(float(terms["relu2"][0, [3, 50, 191]].sum() + terms["relu3"].sum()), rel=1e-5)
    layer = part.layer_distances(photo, y)
    assert float(layer["relu2"] + layer["relu3"]) == pytest.approx(float(part(photo, y)), rel=1e-6)


def test_differentiable_batched_reduction_and_spatial_map(alexnet, photo):
    d = LPIPS(alexnet, reduction="mean")
    y = photo.clone()[None].repeat(2, 1, 1, 1)
    y[1, :, 20:40, 20:40] = 0.0  # a black square: the map should light up there
    x = photo[None].clone().requires_grad_(True)
    loss = d(x, y)
    loss.backward()
    assert loss.ndim == 0 and x.grad is not None and float(x.grad.abs().sum()) > 0
    with torch.inference_mode():
        m = LPIPS(alexnet).spatial_map(photo, y)
        per = LPIPS(alexnet).spatial_map(photo, y, per_layer=True)
    assert m.shape == (2, 1, *photo.shape[-2:]) and float(m[0].abs().max()) == 0.0
    inside, outside = float(m[1, 0, 20:40, 20:40].mean()), float(m[1, 0, 60:, 60:].mean())
    assert inside > 5 * outside
    assert set(per) == set(d.layers)


def test_runs_only_up_to_the_deepest_weighted_layer(alexnet, photo):
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: seen.append(k)) for k, m in enumerate(alexnet.extractor.module)]
    try:
        FeatureDistance(alexnet, {"relu2": torch.ones(192)})(photo, photo)
    finally:
        for h in hooks:
            h.remove()
    assert max(seen) == 4  # relu2 is features[4]; both images ran in one batch
    assert seen.count(0) == 1


def test_subset_metric_from_pe_scores(alexnet):
    table = pd.read_csv(ROOT / "stored" / "probe" / "alexnet-paper" / "pe_table.csv")
    top = subset_weights(alexnet, table, layers=["relu2"], subset="top", p=25)["relu2"]
    bottom = subset_weights(alexnet, table, layers=["relu2"], subset="bottom", p=25)["relu2"]
    assert int(top.sum()) == int(bottom.sum()) == 48 and float((top * bottom).sum()) == 0
    best = table[table.layer == "relu2"].nlargest(48, "pe").channel.tolist()
    assert sorted(torch.nonzero(top).flatten().tolist()) == sorted(best)
    m = create_metric("subset", network=alexnet, pe_table=table, layers=["relu2", "relu5"], subset="random", p=10, seed=3)
    assert m.layers == ["relu2", "relu5"] and int(m.weight("relu5").sum()) == 26


def test_bad_inputs_get_named_errors(alexnet):
    d = LPIPS(alexnet)
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ImageError, match=r"\[0, 255\]"):
        d(x * 255, x)
    with pytest.raises(ImageError, match=r"\[-1, 1\]"):
        d(x, x * 2 - 1)
    with pytest.raises(ImageError, match=r"\(N, 3, H, W\)"):
        d(torch.rand(1, 1, 32, 32), x)
    with pytest.raises(ImageError, match="same height and width"):
        d(x, torch.rand(1, 3, 32, 40))
    with pytest.raises(ImageError, match="batch sizes differ"):
        d(torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32))
    nan = x.clone()
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(ImageError, match="NaN"):
        d(x, nan)
    with pytest.raises(ImageError, match="floating-point"):
        d((x * 255).to(torch.uint8), x)
    with pytest.raises(UnknownNameError, match="unknown metric 'dists'"):
        create_metric("dists")
    with pytest.raises(UnknownNameError, match="unknown layer 'relu9'"):
        FeatureDistance(alexnet, {"relu9": torch.ones(3)})
    with pytest.raises(UnknownNameError, match="unknown reduction"):
        LPIPS(alexnet, reduction="max")
    with pytest.raises(UnknownNameError, match="LPIPS network"):
        LPIPS("resnet50")
    with pytest.raises(ParameterError, match="192 channels"):
        FeatureDistance(alexnet, {"relu2": torch.ones(10)})
    with pytest.raises(ParameterError, match="select no channel"):
        FeatureDistance(alexnet, {"relu2": torch.zeros(192)})
    with pytest.raises(ParameterError, match="needs channel scores"):
        create_metric("subset", network=alexnet, subset="top")

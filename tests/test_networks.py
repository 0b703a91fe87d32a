"""The backbone reproduces published LPIPS-vgg v0.1 values on real TID2013 pairs."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import data_path
from pecore import FeatureExtractor, Network
from pecore.errors import ImageError, ParameterError, UnknownNameError
from pecore.imageio import load_image
from pecore.metric import unit_normalise
from pecore.weights import load_lpips_linear

# offline-weights.md: LPIPS-vgg v0.1 with the reference implementation
LPIPS_VGG = {"i03_11_5": 0.76141, "i04_18_5": 0.20905, "i06_18_3": 0.05436, "i08_15_3": 0.04748,
             "i19_10_5": 0.59714}


@pytest.mark.parametrize("dist", sorted(LPIPS_VGG))
def test_vgg16_backbone_reproduces_lpips_vgg(vgg16, dist):
    root = data_path("iqa", "tid2013-subset")
    ref = load_image(root / "reference_images" / f"I{dist[1:3]}.BMP")
    img = load_image(root / "distorted_images" / f"{dist}.bmp")
    lin, _ = load_lpips_linear("vgg16")
    with torch.inference_mode():
        feats = vgg16.extractor(torch.stack([ref, img]), vgg16.taps)
    total = 0.0
    for w, name in zip(lin, vgg16.taps):
        f = unit_normalise(feats[name])
        total += float(((f[0] - f[1]) ** 2 * w.view(-1, 1, 1)).sum(0).mean())
    assert total == pytest.approx(LPIPS_VGG[dist], abs=1e-4)


def test_taps_and_channels(vgg16, alexnet):
    assert vgg16.taps == ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"]
    assert [vgg16.channels[t] for t in vgg16.taps] == [64, 128, 256, 512, 512]
    assert [alexnet.channels[t] for t in alexnet.taps] == [64, 192, 384, 256, 256]


def test_extractor_stops_at_the_deepest_requested_layer(vgg16):
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o, k=k: seen.append(k)) for k, m in enumerate(vgg16.extractor.module)]
    try:
        vgg16.extractor(torch.rand(1, 3, 32, 32), ["relu2_2"])
    finally:
        for h in hooks:
            h.remove()
    assert max(seen) == 8


def test_any_module_with_named_layers_works():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
            self.head = nn.Sequential(nn.Conv2d(4, 6, 3), nn.ReLU())

        def forward(self, x):
            return self.head(self.stem(x))

    net = Network.from_module(Tiny(), {"a": "stem.1", "b": "head.1"}, normalize=None)
    out = net.extractor(torch.rand(2, 3, 16, 16))
    assert out["a"].shape == (2, 4, 14, 14) and out["b"].shape == (2, 6, 12, 12)
    assert net.weights.source == "user-module" and len(net.weights.sha256) == 64


def test_unknown_layer_and_bad_images(vgg16):
    with pytest.raises(UnknownNameError, match="unknown layer 'relu9_9'"):
        vgg16.extractor(torch.rand(1, 3, 16, 16), ["relu9_9"])
    with pytest.raises(ImageError, match=r"\[0, 255\]"):
        vgg16.extractor(torch.rand(1, 3, 16, 16) * 255, ["relu1_2"])
    with pytest.raises(ImageError, match=r"\(N, 3, H, W\)"):
        vgg16.extractor(torch.rand(1, 1, 16, 16), ["relu1_2"])
    with pytest.raises(ImageError, match="NaN"):
        vgg16.extractor(torch.full((1, 3, 8, 8), float("nan")), ["relu1_2"])
    with pytest.raises(ParameterError):
        FeatureExtractor(nn.Sequential(nn.ReLU()), {"x": 5})


def test_too_small_images_and_other_dtypes(alexnet):
    with pytest.raises(ImageError, match=r"too small to reach layer relu5"):
        alexnet.extractor(torch.rand(1, 3, 8, 8), ["relu5"])
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    out = alexnet.extractor(x, ["relu1"])["relu1"]
    assert out.dtype == torch.float32
    assert torch.allclose(out, alexnet.extractor(x.float(), ["relu1"])["relu1"])


def test_from_module_refuses_a_tap_on_a_module_that_runs_twice():
    import torchvision

    from pecore import Network
    from pecore.errors import ParameterError

    resnet = torchvision.models.resnet18(weights=None)
    # torchvision's BasicBlock calls its one ReLU module twice: a tap there would see either call
    with pytest.raises(ParameterError, match="runs 2 times in one forward pass"):
        Network.from_module(resnet, {"relu": "layer1.0.relu", "out": "layer2"})
    net = Network.from_module(resnet, {"block1": "layer1", "block2": "layer2"})
    a = net.extractor(torch.rand(1, 3, 64, 64), ["block1"])["block1"]
    b = net.extractor(torch.rand(1, 3, 64, 64), ["block1", "block2"])["block1"]
    assert a.shape == b.shape == (1, 64, 16, 16)

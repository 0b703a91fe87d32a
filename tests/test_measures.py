"""pecore.measures: each named measure pinned to a reference on real images."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from conftest import data_path
from pecore.errors import ImageError, UnknownNameError
from pecore.measures import MEASURES, compute, higher_is_better, ssim, to_colour


def _read(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0


def _t(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]


@pytest.fixture(scope="module")
def noisy_pair():
    ref = _read(data_path("sr", "Set5", "image_SRF_4", "img_003_SRF_4_HR.png"))[:128, :160]
    rng = np.random.default_rng(0)
    dist = np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1)
    return dist, ref


def test_psnr_and_ssim_rgb_equal_skimage(noisy_pair):
    dist, ref = noisy_pair
    assert float(compute("psnr-rgb", _t(dist), _t(ref))[0]) == pytest.approx(
        peak_signal_noise_ratio(ref, dist, data_range=1.0), abs=1e-4)
    assert float(compute("ssim-rgb", _t(dist), _t(ref))[0]) == pytest.approx(structural_similarity(
        ref, dist, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False),
        abs=1e-5)
    # skimage's default (7 × 7 uniform window, sample covariances) is an option of the same function
    assert float(ssim(_t(dist), _t(ref), colour="rgb", window=7, sigma=None, sample_covariance=True)[0]) == \
        pytest.approx(structural_similarity(ref, dist, channel_axis=2, data_range=1.0), abs=1e-5)


def test_ssim_y_sr_equals_skimage_on_the_luma(noisy_pair):
    dist, ref = noisy_pair
    y = lambda z: to_colour(_t(z), "y-ycbcr")[0, 0].numpy()[4:-4, 4:-4]  # noqa: E731
    expected = structural_similarity(y(ref), y(dist), data_range=255.0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
    assert float(compute("ssim-y-sr", _t(dist), _t(ref))[0]) == pytest.approx(expected, abs=1e-5)


def _matlab_bicubic_up(img: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB's imresize upscaling (Keys cubic, a = -0.5, replicated edges), by hand."""
    def cubic(x):
        x = np.abs(x)
        return np.where(x <= 1, 1.5 * x**3 - 2.5 * x**2 + 1, np.where(x < 2, -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2, 0))

    out = img
    for axis in (0, 1):
        n = out.shape[axis]
        u = (np.arange(n * scale) + 0.5) / scale - 0.5
        left = np.floor(u).astype(int) - 1
        w = np.zeros((n * scale, n))
        for k in range(4):
            np.add.at(w, (np.arange(n * scale), np.clip(left + k, 0, n - 1)), cubic(u - (left + k)))
        w /= w.sum(1, keepdims=True)
        out = np.moveaxis(np.tensordot(w, np.moveaxis(out, axis, 0), axes=(1, 0)), 0, axis)
    return out


def test_psnr_y_sr_gives_the_literature_set5_bicubic_value():
    """Set5 ×4 bicubic is 28.42 dB PSNR-Y in the SR literature (MATLAB bicubic, Y of BT.601, border 4)."""
    values = []
    for stem in ("img_001", "img_002", "img_003", "img_004", "img_005"):
        hr = _read(data_path("sr", "Set5", "image_SRF_4", f"{stem}_SRF_4_HR.png"))
        lr = _read(data_path("sr", "Set5", "image_SRF_4", f"{stem}_SRF_4_LR.png"))
        hr = hr[: lr.shape[0] * 4, : lr.shape[1] * 4]
        up = np.clip(np.round(_matlab_bicubic_up(lr, 4) * 255), 0, 255) / 255
        values.append(float(compute("psnr-y-sr", _t(up), _t(hr))[0]))
    assert np.mean(values) == pytest.approx(28.42, abs=0.03)
    assert values[2] == pytest.approx(22.10, abs=0.05)  # butterfly


def test_colour_difference_equals_skimage(noisy_pair):
    dist, ref = noisy_pair
    expected = np.mean(deltaE_ciede2000(rgb2lab(ref), rgb2lab(dist)))
    assert float(compute("ciede2000", _t(dist), _t(ref))[0]) == pytest.approx(expected, rel=1e-5)


def test_low_pass_ssim_forgives_texture_that_plain_ssim_punishes(noisy_pair):
    dist, ref = noisy_pair
    assert compute("ssim-rgb", _t(dist), _t(ref))[0] < 0.8 < compute("ssim-lowpass", _t(dist), _t(ref))[0]
    shifted = np.roll(ref, 12, axis=1)  # the layout moved: the low-pass SSIM drops too
    assert compute("ssim-lowpass", _t(shifted), _t(ref))[0] < compute("ssim-lowpass", _t(dist), _t(ref))[0] - 0.2


def test_every_measure_names_its_direction_once_and_identical_images_score_best(noisy_pair):
    _, ref = noisy_pair
    x = _t(ref).float()
    for name, m in MEASURES.items():
        value = float(compute(name, x, x)[0])
        best = {"psnr-rgb": 100.0, "psnr-y-sr": 100.0}.get(name, 1.0 if m.higher_is_better else 0.0)
        assert value == pytest.approx(best, abs=1e-5), name
        assert higher_is_better(name) == m.higher_is_better


def test_bad_inputs_are_named_errors():
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(UnknownNameError, match="measure"):
        compute("psnr-cmyk", x, x)
    with pytest.raises(ImageError, match="differ in size"):
        compute("psnr-rgb", x, torch.rand(1, 3, 8, 8))
    with pytest.raises(ImageError, match="smaller than the SSIM window"):
        compute("ssim-rgb", torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    with pytest.raises(ImageError, match="nothing left"):
        compute("psnr-y-sr", torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    with pytest.raises(ImageError):
        compute("psnr-rgb", x * 2, x)


def test_band_correlation_tells_which_scales_a_blur_removes(noisy_pair):
    """On a real photograph, a Gaussian blur keeps the coarse bands and loses the fine ones, band by band."""
    from pecore.measures import LUMA_BANDS, _blur

    _, ref = noisy_pair
    x = _t(ref).double()
    blurred = _blur(x, 2.0)
    r = [float(compute(f"luma-band-{lo:g}-{hi:g}", blurred, x)[0]) for lo, hi in LUMA_BANDS]
    assert r[0] > 0.99 and r[0] > r[1] > r[2] > r[3]
    # a gain change keeps every band's correlation at 1; unrelated noise gives about 0
    grey = 0.5 + 0.5 * (x - 0.5)
    assert all(float(compute(f"luma-band-{lo:g}-{hi:g}", grey, x)[0]) == pytest.approx(1.0, abs=1e-9)
               for lo, hi in LUMA_BANDS)
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert abs(float(compute("luma-band-16-32", noise, x)[0])) < 0.1


def test_band_correlation_refuses_a_band_above_nyquist():
    from pecore.errors import ParameterError
    from pecore.measures import band_correlation

    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(ParameterError, match="Nyquist"):
        band_correlation(x, x, low=8, high=16)
    with pytest.raises(ParameterError, match="low < high"):
        band_correlation(x, x, low=4, high=2)


def test_gmsd_comes_from_piq_and_orders_distortions(noisy_pair):
    import piq

    dist, ref = noisy_pair
    x, y = _t(dist).float(), _t(ref).float()
    ours = float(compute("gmsd-sr", x, y)[0])
    assert ours == pytest.approx(float(piq.gmsd(x[..., 4:-4, 4:-4], y[..., 4:-4, 4:-4], data_range=1.0)), rel=1e-6)
    worse = _t(np.clip(ref + np.random.default_rng(1).normal(0, 0.15, ref.shape), 0, 1)).float()
    assert float(compute("gmsd-sr", worse, y)[0]) > ours > 0

"""Gratings have their spectral peak at the requested frequency and orientation."""
from __future__ import annotations

import numpy as np
import pytest

from pecore import oriented_gratings, radial_gratings
from pecore.errors import NyquistError, ParameterError


def _peak(img: np.ndarray) -> tuple[float, float]:
    """(cycles per pixel, direction in degrees with y up, in [-90, 90)) of the strongest FFT component."""
    n = img.shape[0]
    spec = np.abs(np.fft.fftshift(np.fft.fft2(img - img.mean())))
    r, c = np.unravel_index(np.argmax(spec), spec.shape)
    fy, fx = -(r - n // 2) / n, (c - n // 2) / n  # row index grows downwards; y points up
    ang = np.rad2deg(np.arctan2(fy, fx))
    ang = (ang + 90) % 180 - 90
    return float(np.hypot(fx, fy)), float(ang)


@pytest.mark.parametrize("f_cpd,theta", [(5.0, 0.0), (5.0, 90.0 - 180.0), (10.0, 45.0), (7.5, -30.0), (2.5, 60.0)])
def test_oriented_grating_fft_peak(f_cpd, theta):
    ppd, size = 60.0, 240
    g = oriented_gratings(f_cpd, [theta], size=size, ppd=ppd, n_phases=1)[0, 0, 0, 0].double().numpy()
    freq, ang = _peak(g)
    assert freq == pytest.approx(f_cpd / ppd, abs=1.5 / size)
    assert abs(((ang - theta) + 90) % 180 - 90) < 3.0


def test_radial_grating_spectrum_peaks_at_its_frequency():
    ppd, size, f_cpd = 60.0, 256, 8.0
    g = radial_gratings([f_cpd], size=size, ppd=ppd, n_phases=1)[0, 0, 0].double().numpy()
    spec = np.abs(np.fft.fftshift(np.fft.fft2(g - g.mean())))
    yy, xx = np.indices(spec.shape) - size // 2
    radius = np.hypot(yy, xx).round().astype(int)
    profile = np.bincount(radius.ravel(), spec.ravel()) / np.bincount(radius.ravel())
    assert np.argmax(profile[1:]) + 1 == pytest.approx(f_cpd / ppd * size, abs=1.5)


def test_range_phases_and_achromatic():
    g = radial_gratings([1.0, 30.0], size=32, n_phases=4, contrast=0.5, mean_luminance=0.4)
    assert g.shape == (2, 4, 3, 32, 32)
    assert float(g.min()) >= 0.4 * 0.5 - 1e-6 and float(g.max()) <= 0.4 * 1.5 + 1e-6
    assert bool((g[:, :, 0] == g[:, :, 1]).all() and (g[:, :, 1] == g[:, :, 2]).all())
    # phase average of the four phases is the mean luminance everywhere
    assert np.allclose(g.mean(dim=1).numpy(), 0.4, atol=1e-5)


@pytest.mark.parametrize("freqs,err,msg", [
    ([31.0], NyquistError, "above the Nyquist limit"),
    ([0.0, 1.0], ParameterError, "> 0"),
    ([-1.0], ParameterError, "> 0"),
    ([], ParameterError, "non-empty"),
    ([2.0, 1.0], ParameterError, "strictly increasing"),
])
def test_bad_frequency_grids(freqs, err, msg):
    with pytest.raises(err, match=msg):
        radial_gratings(freqs, size=16, ppd=60)


def test_bad_display_and_luminance():
    with pytest.raises(ParameterError, match="ppd must be finite and > 0"):
        radial_gratings([1.0], ppd=0)
    with pytest.raises(ParameterError, match="exceeds 1"):
        radial_gratings([1.0], mean_luminance=0.8, contrast=1.0)
    with pytest.raises(ParameterError, match="orientations"):
        oriented_gratings(1.0, [], size=8)

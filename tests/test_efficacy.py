"""Scores on a hand-built network of known filters: an oriented Gabor, an isotropic DoG, a dead channel."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from pecore import Network, ProbeGrid, get_preset, make_config, score_network, select_channels
from pecore.errors import ParameterError, UnknownNameError
from pecore.presets import Preset
from pecore.efficacy import frequency_scores, orientation_scores, perceptual_efficacy, rank_within_layer

PPD, F0, THETA0, SIGMA = 60.0, 6.0, 30.0, 8.0  # Gabor: 6 cpd = 0.1 cycles/pixel, envelope sigma 8 px


def _kernels(size: int = 41) -> torch.Tensor:
    c = (size - 1) / 2
    idx = np.arange(size) - c
    y, x = np.meshgrid(-idx, idx, indexing="ij")  # y up, as in pecore.stimuli
    gauss = np.exp(-(x**2 + y**2) / (2 * SIGMA**2))
    th = np.deg2rad(THETA0)
    carrier = np.cos(2 * np.pi * F0 / PPD * (x * np.cos(th) + y * np.sin(th)))
    gabor = gauss * carrier
    gabor -= gauss * gabor.sum() / gauss.sum()  # zero DC: a uniform grey gives no response
    g1 = np.exp(-(x**2 + y**2) / (2 * 2.0**2))
    g2 = np.exp(-(x**2 + y**2) / (2 * 4.0**2))
    dog = g1 / g1.sum() - g2 / g2.sum()
    k = np.stack([gabor / np.abs(gabor).sum(), dog / np.abs(dog).sum(), np.zeros_like(dog)])
    return torch.tensor(k, dtype=torch.float32)


def _network(scale: float = 1.0) -> Network:
    conv = nn.Conv2d(3, 3, 41, padding=20)
    with torch.no_grad():
        conv.weight.copy_(_kernels()[:, None].repeat(1, 3, 1, 1) / 3 * scale)
        conv.bias.copy_(torch.tensor([0.0, 0.0, -1.0]) * scale)
    return Network.from_module(nn.Sequential(conv, nn.ReLU()), {"conv": 0, "relu": 1}, name="known-filters",
                               taps=["relu"], normalize=None)


GRID = ProbeGrid(size=96, ppd=PPD, f_min=1.0, f_max=24.0, n_frequencies=40, n_phases=4, n_orientations=36,
                 batch_size=64)


def _preset(grid: ProbeGrid = GRID) -> Preset:
    return Preset("test", grid)


@pytest.fixture(scope="module")
def known():
    return score_network(_network(), _preset(), device="cpu", cache=False, progress=False).table


def test_preferred_orientation_is_the_gabor_orientation(known):
    assert known.theta_hat[0] == pytest.approx(THETA0)


def test_fhat_near_the_gabor_frequency(known, tmp_path):
    # default f̂: the peak of S(f)|dā/df| lies on a flank of the tuning curve, within its bandwidth
    sigma_f = PPD / (2 * np.pi * SIGMA)  # the Gabor's frequency bandwidth (sd) in cpd: ~1.2
    assert abs(known.fhat[0] - F0) < 2.5 * sigma_f
    peak = score_network(_network(), _preset(), make_config("fhat-peak-activation"), device="cpu", cache=False,
                         progress=False).table
    step = np.diff(np.log(GRID.frequencies))[0]
    assert abs(np.log(peak.fhat[0] / F0)) <= 1.01 * step


def test_gabor_is_more_orientation_selective_than_dog(known):
    assert known.mu2[0] > 0.5
    assert known.mu2[1] < 0.1
    assert known.mu2[0] > known.mu2[1]


def test_scaling_a_channel_leaves_mu1_and_mu2_unchanged(known):
    scaled = score_network(_network(scale=7.0), _preset(), device="cpu", cache=False, progress=False).table
    assert np.allclose(scaled.mu1[:2], known.mu1[:2], rtol=1e-5)
    # μ2 = 1 − mean/max: near 0 (an untuned channel) float32 leaves it about 1e-7 of absolute precision
    assert np.allclose(scaled.mu2[:2], known.mu2[:2], rtol=1e-5, atol=2e-6)
    assert scaled.a_hat[0] == pytest.approx(7 * known.a_hat[0], rel=1e-4)


def test_dead_channel_scores_zero_never_nan(known):
    dead = known.iloc[2]
    assert bool(dead.dead) and dead.mu1 == 0 and dead.mu2 == 0 and dead.pe == 0
    assert dead["rank"] == 3
    assert not known[["mu1", "mu2", "pe", "theta_hat", "a_hat"]].isna().any().any()
    assert np.isnan(dead.fhat)  # f̂ of a dead channel is undefined and says so; it is not a score


def test_every_variant_runs_without_nan(known):
    for name in ["no-normalisation", "log-derivative", "signed-slope", "no-csf", "barten-csf", "mu2-circular",
                 "pe-mean", "oriented-mean-stimulus"]:
        coarse = ProbeGrid(size=64, ppd=PPD, f_min=1.0, f_max=24.0, n_frequencies=12, n_phases=2, n_orientations=12,
                           batch_size=64)
        t = score_network(_network(), _preset(coarse), make_config(name), device="cpu", cache=False, progress=False).table
        assert not t[["mu1", "mu2", "pe"]].isna().any().any(), name
        assert t.theta_hat[0] == pytest.approx(THETA0, abs=7.5), name


def test_score_functions_on_known_curves():
    f = np.geomspace(0.5, 30, 64)
    flat_resp = np.ones((1, f.size))
    steep = np.exp(-((np.log(f / 8)) ** 2) / 0.1)[None]
    s = frequency_scores(np.vstack([flat_resp, steep]), f)
    assert s.mu1[0] == pytest.approx(0.0, abs=1e-12) and s.mu1[1] > 0.1
    th = np.arange(-90, 90, 5.0)
    tuned = np.cos(np.deg2rad(th - 20)) ** 20
    o = orientation_scores(np.vstack([tuned, np.ones_like(th)]), th, make_config("mu2-circular"))
    assert o.mu2[0] > 0.5 and o.mu2[1] == pytest.approx(0.0, abs=1e-12)
    assert perceptual_efficacy(np.array([0.0, 0.0]), np.array([0.0, 0.0])).tolist() == [0.0, 0.0]
    assert rank_within_layer(np.array([0.5, 0.5, 0.9]), np.array([False, False, True])).tolist() == [1, 2, 3]


def test_bad_variant_and_option_names():
    with pytest.raises(UnknownNameError, match="unknown score variant 'fancy'"):
        make_config("fancy")
    with pytest.raises(UnknownNameError, match="score option mu2"):
        make_config(mu2="entropy")
    with pytest.raises(UnknownNameError, match="score option csf 'daly'"):
        make_config(csf="daly")


def test_channel_selection_helper(known):
    t = pd.DataFrame({"layer": "l", "channel": np.arange(8), "pe": np.linspace(0, 1, 8), "dead": [True] + [False] * 7})
    assert select_channels(t, "l", "top", 25).tolist() == [6, 7]
    assert select_channels(t, "l", "bottom", 25).tolist() == [1, 2]  # dead channel 0 left out
    assert select_channels(t, "l", "bottom", 25, include_dead=True).tolist() == [0, 1]
    r1, r2 = select_channels(t, "l", "random", 50, seed=1), select_channels(t, "l", "random", 50, seed=1)
    assert r1.tolist() == r2.tolist() and len(r1) == 4 and 0 not in r1
    assert len(select_channels(t, "l", "all")) == 8
    with pytest.raises(UnknownNameError, match="channel subset"):
        select_channels(t, "l", "middle")
    with pytest.raises(UnknownNameError, match="unknown layer"):
        select_channels(t, "nope", "top")
    with pytest.raises(ParameterError, match="percentage"):
        select_channels(t, "l", "top", 150)

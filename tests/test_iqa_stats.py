"""Statistics of agreement with human scores: scipy parity, weighted = repeated rows, logistic fit, bootstrap, 2AFC."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as ss
from scipy.optimize import curve_fit

from pecore.errors import ParameterError, UnknownNameError
from pecore.iqa.stats import (bootstrap_weights, correlations, fit_logistic4, krocc, logistic4, plcc, srocc,
                              two_afc)

X = np.array([0.3, 1.2, 1.2, 2.5, 0.1, 4.0, 3.3, 2.5, 0.9, 5.1])
Y = np.array([1.0, 2.0, 1.5, 3.0, 0.5, 3.5, 4.0, 3.0, 1.0, 4.5])


def test_rank_correlations_match_scipy_with_ties():
    assert srocc(X, Y) == pytest.approx(ss.spearmanr(X, Y)[0], abs=1e-12)
    assert krocc(X, Y) == pytest.approx(ss.kendalltau(X, Y)[0], abs=1e-12)
    assert plcc(X, Y, logistic=False) == pytest.approx(ss.pearsonr(X, Y)[0], abs=1e-12)


def test_weights_equal_repeated_rows():
    rng = np.random.default_rng(0)
    x, y = rng.random(30), rng.random(30)
    x[3] = x[4]  # a tie
    y = y + 2 * x
    w = bootstrap_weights(np.repeat(np.arange(6), 5), 30, n_boot=4, seed=1)
    r, k, p = srocc(x, y, w), krocc(x, y, w), plcc(x, y, w)
    for b in range(4):
        idx = np.repeat(np.arange(30), w[b].astype(int))
        assert r[b] == pytest.approx(ss.spearmanr(x[idx], y[idx])[0], abs=1e-12)
        assert k[b] == pytest.approx(ss.kendalltau(x[idx], y[idx])[0], abs=1e-12)
        popt, _ = curve_fit(logistic4, x[idx], y[idx], p0=[y.max(), y.min(), x.mean(), x.std()], maxfev=20000)
        assert p[b] == pytest.approx(ss.pearsonr(logistic4(x[idx], *popt), y[idx])[0], abs=1e-4)


def test_logistic_fit_recovers_known_parameters():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 200)
    y = logistic4(x, 80.0, 10.0, 4.0, 1.3) + rng.normal(0, 0.5, 200)
    b1, b2, b3, b4 = fit_logistic4(x, y)
    assert b1 == pytest.approx(80.0, rel=0.02) and b2 == pytest.approx(10.0, abs=0.5)
    assert b3 == pytest.approx(4.0, abs=0.05) and b4 == pytest.approx(1.3, rel=0.05)
    # a decreasing relation is fitted too (negative scale)
    assert fit_logistic4(x, -y)[3] < 0


def test_sign_convention_makes_agreement_positive():
    rng = np.random.default_rng(4)
    quality = rng.random(50)
    distance = 1 - quality + 0.05 * rng.random(50)
    mos = correlations(distance, quality, pred_higher_is_better=False, human_higher_is_better=True, n_boot=0)
    dmos = correlations(distance, 100 * (1 - quality), pred_higher_is_better=False, human_higher_is_better=False, n_boot=0)
    assert mos["srocc"] > 0.9 and mos["plcc"] > 0.9 and mos["krocc"] > 0.7
    assert dmos["srocc"] == pytest.approx(mos["srocc"]) and dmos["krocc"] == pytest.approx(mos["krocc"])


def test_bootstrap_intervals_contain_the_estimate_and_shrink_with_more_groups():
    rng = np.random.default_rng(5)

    def width(n_groups):
        groups = np.repeat(np.arange(n_groups), 8)
        q = rng.random(groups.size)
        pred = -q + 0.3 * rng.random(groups.size)
        r = correlations(pred, q, pred_higher_is_better=False, human_higher_is_better=True, groups=groups,
                         n_boot=400, seed=0)
        for s in ("srocc", "krocc", "plcc"):
            assert r[f"{s}_lo"] <= r[s] <= r[f"{s}_hi"], (s, r)
        assert r["n_groups"] == n_groups
        return r["srocc_hi"] - r["srocc_lo"]

    assert width(40) < 0.6 * width(5)


def test_group_bootstrap_moves_groups_together():
    groups = np.array(["a", "a", "b", "b", "b", "c"])
    w = bootstrap_weights(groups, 6, n_boot=50, seed=0)
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 2] == w[:, 4])
    assert np.all(w[:, [0, 2, 5]].sum(1) == 3)  # three groups drawn per resample


def test_repeats_report_mean_and_spread():
    rng = np.random.default_rng(6)
    q = rng.random(40)
    preds = np.stack([-q + s * rng.random(40) for s in (0.1, 0.5, 1.0)])
    r = correlations(preds, q, pred_higher_is_better=False, human_higher_is_better=True, n_boot=50)
    singles = [srocc(-p, q) for p in preds]
    assert r["srocc"] == pytest.approx(np.mean(singles)) and r["srocc_sd"] == pytest.approx(np.std(singles, ddof=1))


def test_two_afc_counts_ties_as_half_like_lpips():
    rng = np.random.default_rng(7)
    d0, d1, j = rng.random(100), rng.random(100), rng.random(100)
    d1[:10] = d0[:10]
    ref = np.mean((d0 < d1) * (1 - j) + (d1 < d0) * j + (d1 == d0) * 0.5)
    assert two_afc(d0, d1, j) == pytest.approx(ref)
    assert two_afc([1.0], [1.0], [0.9]) == 0.5


def test_bad_inputs():
    with pytest.raises(ParameterError, match="NaN"):
        srocc([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(ParameterError, match="same length"):
        krocc([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ParameterError, match="at least 3"):
        plcc([1, 2], [1, 2])
    with pytest.raises(UnknownNameError, match="unknown statistic"):
        correlations(X, Y, pred_higher_is_better=False, human_higher_is_better=True, stats=["rmse"])
    with pytest.raises(ParameterError, match="level"):
        correlations(X, Y, pred_higher_is_better=False, human_higher_is_better=True, level=95)
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        two_afc([0.1], [0.2], [1.5])

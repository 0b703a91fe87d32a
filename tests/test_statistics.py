"""The crossed bootstrap every chapter with several sources of variance uses, on its defining cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pecore.errors import ParameterError
from pecore.statistics import bootstrap_mean, crossed_bootstrap_mean, paired_differences


def test_one_factor_over_rows_is_the_plain_bootstrap():
    v = np.random.default_rng(0).normal(1.0, 0.5, 40)
    m1, lo1, hi1 = bootstrap_mean(v, n_boot=4000, seed=1)
    m2, lo2, hi2 = crossed_bootstrap_mean(v, {"row": np.arange(40)}, n_boot=4000, seed=1)
    assert m1 == pytest.approx(m2) and lo2 == pytest.approx(lo1, abs=0.05) and hi2 == pytest.approx(hi1, abs=0.05)


def test_intervals_widen_when_seeds_disagree_and_not_when_they_agree():
    images, seeds = np.repeat(np.arange(10), 3), np.tile(np.arange(3), 10)
    base = 0.2 + 0.01 * np.random.default_rng(0).normal(size=30)
    agree = crossed_bootstrap_mean(base, {"image": images, "seed": seeds}, n_boot=2000)
    disagree = crossed_bootstrap_mean(base + np.array([-0.3, 0.0, 0.3])[seeds], {"image": images, "seed": seeds},
                                      n_boot=2000)
    rows_only = bootstrap_mean(base + np.array([-0.3, 0.0, 0.3])[seeds], n_boot=2000)
    assert agree[0] == pytest.approx(disagree[0])
    assert (disagree[2] - disagree[1]) > 5 * (agree[2] - agree[1])
    # resampling rows alone would hide most of the seed disagreement
    assert (disagree[2] - disagree[1]) > 2 * (rows_only[2] - rows_only[1])


def test_paired_differences_keep_random_draws_apart_and_resample_them():
    rows = [{"image": i, "seed": s, "draw": d, "arm": arm, "x": (1.0 if arm == "top" else 0.0)
             + (0.5 * (d - 1) if arm == "random" else 0.0)}
            for i in range(8) for s in range(2) for arm, draws in (("top", 1), ("random", 3)) for d in range(draws)]
    t = pd.DataFrame(rows)
    kw = dict(arm="arm", measures=["x"], pair_on=["image", "seed"], higher_is_better={"x": True}, n_boot=2000)
    averaged = paired_differences(t, [("top", "random")], **kw).iloc[0]
    drawn = paired_differences(t, [("top", "random")], keep=["draw"], resample=["image", "seed", "draw"], **kw).iloc[0]
    assert averaged["mean"] == pytest.approx(1.0) == drawn["mean"]
    assert averaged.ci_high - averaged.ci_low < 1e-9  # averaging the draws first hides their spread
    assert drawn.ci_high - drawn.ci_low > 0.3 and drawn.n_pairs == 16


def test_bad_input_is_named():
    with pytest.raises(ParameterError, match="at least one factor"):
        crossed_bootstrap_mean([1.0, 2.0], {})
    with pytest.raises(ParameterError, match="non-finite"):
        crossed_bootstrap_mean([1.0, np.nan], {"image": [0, 1]})
    with pytest.raises(ParameterError, match="labels 1 rows"):
        crossed_bootstrap_mean([1.0, 2.0], {"image": [0]})
    t = pd.DataFrame({"arm": ["a", "b"], "image": [0, 0], "x": [1.0, 2.0]})
    with pytest.raises(ParameterError, match="resample names"):
        paired_differences(t, [("a", "b")], arm="arm", measures=["x"], pair_on=["image"],
                           higher_is_better={"x": True}, resample=["seed"])


def test_a_factor_that_varies_with_another_is_resampled_once():
    images, seeds = np.repeat(np.arange(10), 3), np.tile(np.arange(3), 10)
    v = 0.2 + np.array([-0.3, 0.0, 0.3])[seeds] + 0.01 * images
    one = crossed_bootstrap_mean(v, {"image": images, "seed": seeds}, n_boot=2000)
    both = crossed_bootstrap_mean(v, {"image": images, "seed": seeds, "draw": seeds + 7}, n_boot=2000)
    assert both == one  # draw k goes with seed k: the same source, not a second one

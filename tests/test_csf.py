"""CSF models against their published formulas and properties."""
from __future__ import annotations

import numpy as np
import pytest

from pecore.csf import barten, flat, get_csf, mannos_sakrison
from pecore.errors import ParameterError, UnknownNameError


def test_mannos_sakrison_published_shape():
    f = np.linspace(0.1, 60, 6000)
    s = mannos_sakrison(f)
    # Mannos & Sakrison (1974): peak near 8 cycles/degree, peak value close to 1
    assert f[np.argmax(s)] == pytest.approx(7.9, abs=0.2)
    assert s.max() == pytest.approx(0.981, abs=2e-3)
    # the formula, evaluated by hand at 4 cpd
    assert mannos_sakrison(4.0) == pytest.approx(2.6 * (0.0192 + 0.456) * np.exp(-(0.456 ** 1.1)), rel=1e-12)
    assert mannos_sakrison(60.0) < 0.05 * s.max()


def test_barten_published_properties():
    f = np.linspace(0.2, 40, 4000)
    peaks = [f[np.argmax(barten(f, luminance=L))] for L in (1, 10, 100, 1000)]
    sens = [barten(f, luminance=L).max() for L in (1, 10, 100, 1000)]
    # peak sensitivity and peak frequency grow with luminance (de Vries–Rose → Weber behaviour)
    assert all(np.diff(peaks) > 0) and all(np.diff(sens) > 0)
    # at 100 cd/m² and a 10° field: peak near 4 cpd with a sensitivity of about 500 (Barten 1999)
    assert peaks[2] == pytest.approx(4.0, abs=0.5)
    assert 400 < sens[2] < 650
    # a smaller field lowers sensitivity, much more at low than at high frequency
    assert barten(0.5, field_deg=2) < barten(0.5, field_deg=20)
    low = barten(0.5, field_deg=2) / barten(0.5, field_deg=20)
    high = barten(20.0, field_deg=2) / barten(20.0, field_deg=20)
    assert low < 0.5 < 0.9 < high < 1.0


def test_vectorised_flat_and_registry():
    f = np.array([[1.0, 2.0], [4.0, 8.0]])
    assert mannos_sakrison(f).shape == (2, 2) and barten(f).shape == (2, 2)
    assert np.all(flat(f) == 1)
    assert np.allclose(get_csf("barten", luminance=50)(f), barten(f, luminance=50))


def test_bad_csf_input():
    with pytest.raises(UnknownNameError, match="allowed: mannos-sakrison, barten, flat"):
        get_csf("daly")
    with pytest.raises(ParameterError, match="luminance"):
        barten(1.0, luminance=0)
    with pytest.raises(ParameterError, match=">= 0 cpd"):
        mannos_sakrison(-1.0)

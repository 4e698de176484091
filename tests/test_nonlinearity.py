"""NL label -> curve shape: checkpoints of NeuroSim's table, root finding, limits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meliso.devices.nonlinearity import NL_SCALE, curve_deviation, shape_from_label
from meliso.neurosim.device import neurosim_table

# NeuroSim's own table (docs/neurosim.md): label -> a, six decimals.
CHECKPOINTS = {
    0.04: 31.566827, 0.5: 2.519877, 0.61: 2.063266, 0.63: 1.997332,
    1.94: 0.629249, 2.40: 0.499181, 4.88: 0.200303, 0.01: 126.268958,
}


@pytest.mark.parametrize(("label", "a"), sorted(CHECKPOINTS.items()))
def test_root_finding_reproduces_checkpoints(label, a):
    got = shape_from_label(label)
    assert abs(got - a) / a <= 1e-4  # the bound
    assert round(got, 6) == a  # in fact it rounds to the table's exact entry


@pytest.mark.parametrize(("label", "a"), sorted(CHECKPOINTS.items()))
def test_neurosim_table_entries(label, a):
    table = neurosim_table()
    assert table.shape == (900,)
    assert table[int(label * 100) - 1] == a


def test_deviation_is_the_maximum_of_the_curve_minus_the_line():
    # brute-force maximisation on a fine grid is an independent check of the closed form
    x = np.linspace(0, 1, 200_001)
    for a in (0.2, 0.5, 2.0, 31.5):
        g = (1 - np.exp(-x / a)) / (1 - np.exp(-1 / a))
        assert curve_deviation(a) == pytest.approx((g - x).max(), rel=1e-9, abs=1e-12)


@given(st.floats(min_value=1e-3, max_value=9.0))
def test_label_round_trip(label):
    a = shape_from_label(label)
    assert a > 0
    assert NL_SCALE * curve_deviation(a) == pytest.approx(label, rel=1e-9)
    assert shape_from_label(-label) == -a


def test_array_path_matches_scalar_path():
    labels = np.array([-4.88, -0.5, 0.0, 1e-4, 0.04, 2.4, 9.0])
    arr = shape_from_label(labels)
    scal = np.array([shape_from_label(float(v)) for v in labels])
    finite = np.isfinite(scal)
    assert np.array_equal(np.isinf(arr), ~finite)
    np.testing.assert_allclose(arr[finite], scal[finite], rtol=1e-8)


def test_zero_label_is_linear_and_shapes_are_monotone():
    assert shape_from_label(0.0) == np.inf
    labels = np.linspace(0.01, 9, 300)
    a = shape_from_label(labels)
    assert np.all(np.diff(a) < 0)  # more non-linear -> smaller a


def test_out_of_range_label_is_an_error():
    with pytest.raises(ValueError, match="out of range"):
        shape_from_label(9.5)
    with pytest.raises(ValueError, match="finite"):
        shape_from_label(np.nan)

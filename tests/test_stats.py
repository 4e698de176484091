"""Statistics against scipy.stats and by hand."""

import numpy as np
import pytest
from scipy import stats as sps

from meliso.analysis import summarize, tail_share


def test_moments_match_scipy():
    x = np.random.default_rng(0).gamma(2.0, size=10_000)
    s = summarize(x)
    assert s["mean"] == pytest.approx(x.mean())
    assert s["variance"] == pytest.approx(x.var(ddof=1))
    assert s["skewness"] == pytest.approx(sps.skew(x))
    assert s["kurtosis"] == pytest.approx(sps.kurtosis(x))
    assert s["median"] == pytest.approx(np.median(x))
    assert s["iqr"] == pytest.approx(sps.iqr(x))
    assert s["mad"] == pytest.approx(sps.median_abs_deviation(x))
    assert s["p2_5"] == pytest.approx(np.percentile(x, 2.5))
    assert s["p99_5"] == pytest.approx(np.percentile(x, 99.5))


def test_box_plot_statistics_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 100.0])
    s = summarize(x)
    assert (s["p25"], s["p75"]) == (3.0, 7.0)  # numpy's linear percentiles
    assert s["whisker_low"] == 1.0 and s["whisker_high"] == 8.0  # 100 > 7 + 1.5 * 4
    assert s["n_outliers"] == 1


def test_nonfinite_values_are_counted_not_dropped_silently():
    x = np.array([1.0, 2.0, np.inf, np.nan, 3.0, -np.inf])
    s = summarize(x, exact=np.array([3.0, 4.0]))
    assert s["n"] == 6 and s["n_nonfinite"] == 3
    assert s["mean"] == 2.0 and s["median"] == 2.0
    assert s["rms_exact"] == pytest.approx(np.sqrt(12.5))
    empty = summarize(np.array([np.nan]))
    assert empty["n_nonfinite"] == 1 and np.isnan(empty["mean"])


def test_tail_share():
    errors = np.array([[10.0], [1.0], [1.0], [0.0]])
    weights = np.array([0.1, 5.0, 3.0, 2.0])
    assert tail_share(errors, weights, 0.25) == pytest.approx(100 / 102)
    assert tail_share(np.zeros((4, 1)), weights) == 0.0

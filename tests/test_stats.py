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


def test_wilson_interval_matches_scipy():
    from meliso.analysis.stats import wilson_interval

    for k, n in [(0, 10), (5, 10), (10, 10), (87, 120), (299, 300)]:
        ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_two_proportion_test_matches_the_chi_square_test():
    """The pooled z test is the 2x2 chi-square test without continuity correction (z^2 =
    chi^2), so both call the same pairs different."""
    from meliso.analysis.stats import proportions_differ

    rng = np.random.default_rng(4)
    for _ in range(200):
        n1, n2 = rng.integers(20, 400, size=2)
        k1, k2 = rng.integers(1, n1), rng.integers(1, n2)
        table = [[k1, n1 - k1], [k2, n2 - k2]]
        p = sps.chi2_contingency(table, correction=False).pvalue
        if abs(p - 0.05) > 1e-9:
            assert proportions_differ(int(k1), int(n1), int(k2), int(n2)) == (p < 0.05)
    # 96 % vs 94 % of 150 images is noise; 96 % vs 80 % is not
    assert not proportions_differ(144, 150, 141, 150)
    assert proportions_differ(144, 150, 120, 150)


def test_bootstrap_intervals_cover_the_true_variance_and_iqr():
    """Normal errors with σ = 2: the 95 % intervals hold the true variance (4) and IQR
    (1.349·σ = 2.698) in about 95 % of 60 independent populations."""
    from meliso.analysis.stats import bootstrap_intervals

    rng = np.random.default_rng(5)
    true_iqr = 2.0 * (sps.norm.ppf(0.75) - sps.norm.ppf(0.25))
    hits_var = hits_iqr = 0
    for k in range(60):
        e = rng.normal(0.0, 2.0, size=(200, 4))
        ci = bootstrap_intervals(e, resamples=200, seed=k)
        hits_var += ci["variance_ci_low"] <= 4.0 <= ci["variance_ci_high"]
        hits_iqr += ci["iqr_ci_low"] <= true_iqr <= ci["iqr_ci_high"]
    assert hits_var >= 50 and hits_iqr >= 50  # P(X < 50) < 1e-2 for X ~ Bin(60, 0.95)


def test_bootstrap_resamples_whole_trials():
    """Outputs of one trial share its matrix and input: when they are identical, the population
    holds only ``trials`` independent values, and the interval is as wide as for those alone
    (not half as wide, as resampling outputs independently would make it)."""
    from meliso.analysis.stats import bootstrap_intervals

    trial = np.random.default_rng(6).normal(size=(100, 1))
    clustered = bootstrap_intervals(np.repeat(trial, 4, axis=1), seed=1)
    alone = bootstrap_intervals(trial, seed=1)
    width = clustered["variance_ci_high"] - clustered["variance_ci_low"]
    assert width == pytest.approx(alone["variance_ci_high"] - alone["variance_ci_low"], rel=0.1)
    flat = bootstrap_intervals(np.repeat(trial, 4, axis=1).reshape(-1, 1), seed=1)
    assert flat["variance_ci_high"] - flat["variance_ci_low"] < 0.7 * width


def test_bootstrap_intervals_ignore_nonfinite_errors_and_report_nan_without_data():
    from meliso.analysis.stats import bootstrap_intervals

    e = np.random.default_rng(7).normal(size=(50, 3))
    e[3, 1] = np.inf
    ci = bootstrap_intervals(e)
    assert all(np.isfinite(v) for v in ci.values())
    assert all(np.isnan(v) for v in bootstrap_intervals(np.full((5, 2), np.nan)).values())


def test_paired_test_is_the_exact_mcnemar_test_with_one_chip():
    """One chip each: the sign-flip law is Binomial(k, 1/2) over the k discordant images,
    scipy's exact binomial test (McNemar)."""
    from meliso.analysis.stats import paired_sign_flip_p

    rng = np.random.default_rng(8)
    for _ in range(100):
        n = int(rng.integers(50, 600))
        a = (rng.random(n) < rng.uniform(0.5, 0.95)).astype(float)
        flip = rng.random(n) < rng.uniform(0.0, 0.08)
        b = np.where(flip, 1 - a, a)
        up, down = int(np.sum((b == 1) & (a == 0))), int(np.sum((b == 0) & (a == 1)))
        expect = 1.0 if up + down == 0 else sps.binomtest(up, up + down, 0.5).pvalue
        assert paired_sign_flip_p(a[None], b[None]) == pytest.approx(expect, rel=1e-12)


def test_paired_test_with_chips_against_brute_force_and_its_normal_limit():
    """Several chips (fractional per-image differences): exact enumeration equals a brute
    force over every sign pattern; Monte Carlo flips and the normal limit agree with a large
    seeded resampling of the same law."""
    from itertools import product

    from meliso.analysis.stats import paired_sign_flip_p

    rng = np.random.default_rng(9)
    a = (rng.random((3, 40)) < 0.8).astype(float)
    b = a.copy()
    b[:, :10] = (rng.random((3, 10)) < 0.5)  # some images differ by 1/3, 2/3 or 1
    d = a.mean(0) - b.mean(0)
    d = d[np.abs(d) > 1e-12]
    assert 0 < d.size <= 16 and len(set(np.round(np.abs(d), 9))) > 1
    brute = np.mean([abs(np.dot(s, d)) >= abs(d.sum()) * (1 - 1e-12)
                     for s in product((-1, 1), repeat=d.size)])
    assert paired_sign_flip_p(a, b) == pytest.approx(brute, rel=1e-12)

    def reference(da):  # 40 000 seeded flips of the same statistic, another generator
        gen, hits = np.random.default_rng(1), 0
        for _ in range(40):
            signs = gen.choice((-1.0, 1.0), size=(1000, da.size))
            hits += int(np.sum(np.abs(signs @ da) >= abs(da.sum())))
        return hits / 40_000

    # Monte Carlo (p ~ 0.30); normal limit (p ~ 0.10): away from 0 and 1, where any method
    # would agree
    for images, changed, rate in ((400, 60, 0.72), (20_000, 8000, 0.705)):
        a = (rng.random((2, images)) < 0.7).astype(float)
        b = a.copy()
        b[:, :changed] = rng.random((2, changed)) < rate
        da = a.mean(0) - b.mean(0)
        da = da[np.abs(da) > 1e-12]
        assert (da.size < 2000) == (images == 400)  # one case on each side of the limit
        assert paired_sign_flip_p(a, b) == pytest.approx(reference(da), abs=0.01)


def test_pairing_resolves_what_the_unpaired_test_cannot():
    from meliso.analysis.stats import paired_sign_flip_p, proportions_differ

    rng = np.random.default_rng(10)
    a = (rng.random(1000) < 0.8).astype(float)
    b = a.copy()
    b[np.flatnonzero(a == 0)[:12]] = 1.0  # 12 more right answers, none lost
    assert not proportions_differ(int(a.sum()), 1000, int(b.sum()), 1000)
    assert paired_sign_flip_p(a[None], b[None]) == pytest.approx(2 * 0.5**12)
    assert paired_sign_flip_p(a[None], a[None]) == 1.0
    with pytest.raises(ValueError, match="same images"):
        paired_sign_flip_p(a[None], a[None, :999])
    for bad in (np.where(a == 1, np.nan, 0.0)[None], 2 * a[None], np.zeros((0, 1000))):
        with pytest.raises(ValueError, match=r"0 \(wrong\) or 1|at least one"):
            paired_sign_flip_p(bad, a[None])

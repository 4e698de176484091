"""SHASH as a scipy distribution, and the maximum-likelihood fits with BIC selection."""

import numpy as np
import pytest
from scipy import integrate, stats

from meliso.analysis.fits import FAMILIES, fit_distributions, fitted_pdf
from meliso.analysis.shash import shash
from meliso.workloads import vmm_population


@pytest.mark.parametrize(("eps", "delta"), [(0.0, 1.0), (0.8, 0.5), (-1.5, 2.0), (0.3, 0.2)])
def test_shash_pdf_integrates_to_one_and_matches_its_cdf(eps, delta):
    total, _ = integrate.quad(lambda v: shash.pdf(v, eps, delta), -np.inf, np.inf, limit=400)
    assert total == pytest.approx(1.0, abs=1e-7)
    for q in (0.01, 0.3, 0.5, 0.9, 0.999):
        x = shash.ppf(q, eps, delta, loc=1.0, scale=2.0)
        assert shash.cdf(x, eps, delta, loc=1.0, scale=2.0) == pytest.approx(q, rel=1e-10)
        # the density integrates to the cdf's increments (finite intervals: delta = 0.2 puts
        # the 0.999 quantile astronomically far out)
        lo = shash.ppf(q / 2, eps, delta, loc=1.0, scale=2.0)
        part, _ = integrate.quad(lambda v: shash.pdf(v, eps, delta, loc=1.0, scale=2.0),
                                 lo, x, limit=400)
        assert part == pytest.approx(q / 2, rel=1e-6)


def test_shash_reduces_to_the_normal_and_samples_follow_it():
    x = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(shash.pdf(x, 0.0, 1.0), stats.norm.pdf(x), rtol=1e-12)
    sample = shash.rvs(0.5, 0.7, size=20_000, random_state=3)
    assert stats.kstest(sample, lambda v: shash.cdf(v, 0.5, 0.7)).pvalue > 0.01


@pytest.mark.parametrize(
    ("family", "sample", "truth"),
    [
        ("shash", lambda r: shash.rvs(0.5, 0.7, loc=2, scale=3, size=32_000, random_state=r),
         {"epsilon": 0.5, "delta": 0.7, "loc": 2.0, "scale": 3.0}),
        ("johnsonsu",
         lambda r: stats.johnsonsu.rvs(1.0, 0.8, loc=-1, scale=0.5, size=32_000, random_state=r),
         {"a": 1.0, "b": 0.8, "loc": -1.0, "scale": 0.5}),
        ("normal", lambda r: stats.norm.rvs(0.3, 1e-4, size=32_000, random_state=r),
         {"loc": 0.3, "scale": 1e-4}),
    ],
)
def test_fits_recover_known_parameters_and_win_on_bic(family, sample, truth):
    report = fit_distributions(sample(1))
    fit = next(f for f in report.fits if f.family == family)
    assert fit.converged
    for key, value in truth.items():
        assert fit.params[key] == pytest.approx(value, rel=0.05, abs=0.02 * abs(truth.get(
            "scale", 1)))
    assert report.best is not None and report.best.family == family
    assert report.best.bic == min(f.bic for f in report.fits if f.converged)


def test_normal_mixture_recovered():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(-2, 0.5, 12_000), rng.normal(1, 1.0, 20_000)])
    report = fit_distributions(x, ("normal_mix2",))
    p = report.fits[0].params
    np.testing.assert_allclose(p["means"], [-2, 1], atol=0.05)
    np.testing.assert_allclose(p["sds"], [0.5, 1.0], atol=0.05)
    np.testing.assert_allclose(p["weights"], [0.375, 0.625], atol=0.02)


def test_information_criteria_and_ks_by_hand():
    x = np.random.default_rng(5).normal(1.0, 2.0, 5000)
    (fit,) = fit_distributions(x, ("normal",)).fits
    ll = stats.norm.logpdf(x, x.mean(), x.std()).sum()
    assert fit.loglik == pytest.approx(ll, rel=1e-9)
    assert fit.bic == pytest.approx(2 * np.log(5000) - 2 * ll)
    assert fit.aic == pytest.approx(4 - 2 * ll)
    assert fit.ks == pytest.approx(stats.kstest(x, "norm", (x.mean(), x.std())).statistic)


def test_heavy_tails_do_not_break_or_distort_the_fits():
    pop = vmm_population("Ag:a-Si", model="neurosim", trials=400)  # |e| up to the thousands
    e = pop.errors.reshape(-1)
    report = fit_distributions(e)
    assert {f.family for f in report.fits} == set(FAMILIES)
    for f in report.fits:
        assert f.converged and np.isfinite(f.loglik), f
    assert report.best is not None and report.best.family != "normal"
    # nothing was trimmed: the normal fit is the sample's own mean and sd
    finite = e[np.isfinite(e)]
    normal = next(f for f in report.fits if f.family == "normal")
    assert normal.params["scale"] == pytest.approx(finite.std(), rel=1e-9)
    grid = np.linspace(-5, 5, 11)
    assert np.all(np.isfinite(fitted_pdf(report.best, grid)))


def test_failures_are_reported_not_dropped():
    tiny = fit_distributions(np.array([1.0, 2.0, np.nan]))
    assert tiny.best is None
    assert all(not f.converged and "too few finite values" in f.message for f in tiny.fits)
    flat = fit_distributions(np.zeros(100))
    assert flat.best is None and all("zero spread" in f.message for f in flat.fits)
    with pytest.raises(ValueError, match="unknown families"):
        fit_distributions(np.zeros(100), ("cauchy",))

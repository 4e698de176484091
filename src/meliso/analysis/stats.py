"""Summary statistics of error populations: moments beside robust statistics.

Heavy-tailed populations (MELISO's two-point calibration, ``docs/neurosim.md``)
have sample moments dominated by a few values, so every summary carries the median, IQR,
percentiles and MAD beside the moments, and counts non-finite values instead of dropping them
silently. Moments and percentiles are taken over the finite values.

Conventions: ``variance`` is the unbiased sample variance (ddof = 1); ``skewness`` and
``kurtosis`` are the moment estimators g1 and g2 (excess kurtosis, 0 for a normal), as
``scipy.stats.skew`` / ``kurtosis`` with ``bias=True``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

STAT_KEYS = (
    "n", "n_nonfinite", "mean", "variance", "skewness", "kurtosis", "median", "iqr",
    "p0_5", "p2_5", "p25", "p75", "p97_5", "p99_5", "mad", "max_abs",
    "whisker_low", "whisker_high", "n_outliers",
)


def summarize(errors: ArrayLike, exact: ArrayLike | None = None) -> dict[str, float]:
    """Moments, robust statistics and non-finite count of ``errors`` (any shape, flattened).

    With ``exact`` (the exact products), ``rms_exact`` (RMS of A x) is added as a scale.
    """
    e = np.asarray(errors, dtype=np.float64).reshape(-1)
    finite = e[np.isfinite(e)]
    out: dict[str, float] = {"n": float(e.size), "n_nonfinite": float(e.size - finite.size)}
    nan = math.nan
    if finite.size:
        mean = float(finite.mean())
        dev = finite - mean
        m2 = float(np.mean(dev * dev))
        var = float(np.var(finite, ddof=1)) if finite.size > 1 else nan
        skew = float(np.mean(dev**3) / m2**1.5) if m2 > 0 else nan
        kurt = float(np.mean(dev**4) / m2**2 - 3.0) if m2 > 0 else nan
        p = np.percentile(finite, [0.5, 2.5, 25, 50, 75, 97.5, 99.5])
        median, q1, q3 = float(p[3]), float(p[2]), float(p[4])
        # box plot (Tukey): whiskers at the most extreme values within 1.5 IQR of the box
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = finite[(finite >= lo) & (finite <= hi)]
        out.update(
            mean=mean, variance=var, skewness=skew, kurtosis=kurt, median=median,
            iqr=q3 - q1, p0_5=float(p[0]), p2_5=float(p[1]), p25=q1, p75=q3,
            p97_5=float(p[5]), p99_5=float(p[6]),
            mad=float(np.median(np.abs(finite - median))), max_abs=float(np.abs(finite).max()),
            whisker_low=float(inside.min()), whisker_high=float(inside.max()),
            n_outliers=float(finite.size - inside.size),
        )
    else:
        out.update({k: nan for k in STAT_KEYS[2:]})
    if exact is not None:
        ex = np.asarray(exact, dtype=np.float64).reshape(-1)
        out["rms_exact"] = float(np.sqrt(np.mean(ex * ex)))
    return out


def tail_share(errors: ArrayLike, weights: ArrayLike, fraction: float = 0.01) -> float:
    """Share of the total squared error carried by the ``fraction`` of rows with smallest weight.

    ``errors`` (rows, ...) and ``weights`` (rows,): e.g. weights = |calibration span| to ask how
    much of the variance comes from the 1 % of rows with the smallest calibration span.
    Non-finite errors are excluded from both sums.
    """
    e = np.asarray(errors, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    sq = np.where(np.isfinite(e), e * e, 0.0).reshape(w.size, -1).sum(axis=1)
    total = sq.sum()
    if total == 0:
        return 0.0
    k = max(1, round(fraction * w.size))
    idx = np.argsort(w, kind="stable")[:k]
    return float(sq[idx].sum() / total)


#: Bootstrap resamples for the intervals of a population's IQR and variance.
BOOTSTRAP_RESAMPLES = 200


def _iqr_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.nanpercentile(x, [25, 75], axis=1)
    return np.asarray(q[1] - q[0])


def bootstrap_intervals(errors: ArrayLike, *, resamples: int = BOOTSTRAP_RESAMPLES,
                        level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Percentile-bootstrap intervals of the IQR and the variance of a population.

    ``errors`` (trials, outputs): the outputs of one trial share its matrix, input vector and
    programming, so they are not independent; whole trials are resampled (a cluster
    bootstrap), which keeps that correlation. Non-finite errors are left out of each resample's
    statistics, as :func:`summarize` leaves them out. Returns ``iqr_ci_low``, ``iqr_ci_high``,
    ``variance_ci_low``, ``variance_ci_high`` (NaN without finite errors).
    """
    e = np.asarray(errors, dtype=np.float64)
    e = e.reshape(e.shape[0], -1) if e.ndim > 1 else e.reshape(-1, 1)
    keys = ("iqr_ci_low", "iqr_ci_high", "variance_ci_low", "variance_ci_high")
    if e.size == 0 or not np.isfinite(e).any() or resamples < 2:
        return dict.fromkeys(keys, math.nan)
    rng = np.random.default_rng(seed)
    iqrs, variances = [], []
    chunk = max(1, int(4e6 // e.size))  # resamples at a time: a few 10 MB at most
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, e.shape[0], size=(min(chunk, resamples - start), e.shape[0]))
        sample = e[idx].reshape(idx.shape[0], -1)
        sample = np.where(np.isfinite(sample), sample, np.nan)
        iqrs.append(_iqr_rows(sample))
        variances.append(np.nanvar(sample, axis=1, ddof=1))
    tail = 100 * (1 - level) / 2
    iqr_lo, iqr_hi = np.percentile(np.concatenate(iqrs), [tail, 100 - tail])
    var_lo, var_hi = np.percentile(np.concatenate(variances), [tail, 100 - tail])
    return {"iqr_ci_low": float(iqr_lo), "iqr_ci_high": float(iqr_hi),
            "variance_ci_low": float(var_lo), "variance_ci_high": float(var_hi)}


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (e.g. a test accuracy), as fractions."""
    if n <= 0:
        return math.nan, math.nan
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def proportions_differ(k1: int, n1: int, k2: int, n2: int, level: float = 0.95) -> bool:
    """Whether two proportions k1/n1 and k2/n2 differ beyond binomial noise (two-sided
    two-proportion z test with the pooled proportion, at ``level``)."""
    if n1 <= 0 or n2 <= 0:
        return False
    from scipy.stats import norm

    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return k1 / n1 != k2 / n2
    return abs(k1 / n1 - k2 / n2) / se > float(norm.ppf(0.5 + level / 2))


#: Discordant images up to which the sign-flip test enumerates every sign pattern (exact), and
#: past which the normal approximation replaces Monte Carlo flips.
SIGN_FLIP_EXACT_MAX = 16
SIGN_FLIP_NORMAL_MIN = 2000
SIGN_FLIP_RESAMPLES = 20_000


def paired_sign_flip_p(correct_a: ArrayLike, correct_b: ArrayLike, seed: int = 0) -> float:
    """Two-sided p-value that two classifiers (or two settings of one) have the same accuracy
    on the same test images, from their per-image outcomes ``correct_a`` (chips_a, images) and
    ``correct_b`` (chips_b, images) (1 correct, 0 wrong; chips are averaged per image).

    The paired randomisation test: d_i = mean_a(i) - mean_b(i) per image, statistic |sum d_i|,
    the null distribution from flipping each image's sign (the two settings exchangeable on
    every image). Where every discordant image differs by the same amount (one chip each: the
    exact McNemar test) the null law is Binomial(k, 1/2) over the k discordant images, exactly;
    otherwise exact enumeration up to ``SIGN_FLIP_EXACT_MAX`` discordant images,
    ``SIGN_FLIP_RESAMPLES`` seeded Monte Carlo flips up to ``SIGN_FLIP_NORMAL_MIN``, beyond
    that the normal limit |sum d| / sqrt(sum d^2) (bounded terms: Lindeberg). Pairing removes
    the images' own difficulty from the noise, so it resolves differences the unpaired
    two-proportion test (:func:`proportions_differ`) cannot.
    """
    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or 0 in a.shape + b.shape:
        raise ValueError(f"per-image outcomes must be (chips, images) on the same images, at "
                         f"least one of each; got {a.shape} and {b.shape}")
    for x in (a, b):
        if not np.all((x == 0) | (x == 1)):
            raise ValueError("per-image outcomes must be 0 (wrong) or 1 (right); got values "
                             "outside {0, 1} or NaN")
    d = a.mean(axis=0) - b.mean(axis=0)
    d = d[np.abs(d) > 1e-12]
    k = d.size
    if k == 0:
        return 1.0
    observed = abs(float(d.sum())) * (1 - 1e-12)
    if np.all(np.abs(np.abs(d) - abs(d[0])) <= 1e-12):  # equal steps (one chip each): the
        from scipy.stats import binomtest  # sign-flip law is Binomial(k, 1/2), exactly

        return float(binomtest(int(np.sum(d > 0)), k, 0.5).pvalue)
    if k <= SIGN_FLIP_EXACT_MAX:
        patterns = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1) * 2 - 1
        return float(np.mean(np.abs(patterns @ d) >= observed))
    if k < SIGN_FLIP_NORMAL_MIN:
        rng = np.random.default_rng(seed)
        hits = 0
        for start in range(0, SIGN_FLIP_RESAMPLES, 1000):
            signs = rng.choice((-1.0, 1.0), size=(min(1000, SIGN_FLIP_RESAMPLES - start), k))
            hits += int(np.sum(np.abs(signs @ d) >= observed))
        return (hits + 1) / (SIGN_FLIP_RESAMPLES + 1)
    from scipy.stats import norm

    return float(2 * norm.sf(abs(float(d.sum())) / math.sqrt(float(np.sum(d * d)))))

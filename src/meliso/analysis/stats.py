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

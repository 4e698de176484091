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
from numpy.typing import ArrayLike

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

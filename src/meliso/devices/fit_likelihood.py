"""The likelihood of NeuroSim's one-pulse map and its intervals (``docs/devices.md``).

One pulse of a branch moves a cell's window fraction u as u' = rho u + c + Normal(0, sigma),
clipped to [0, 1] (:mod:`meliso.devices.fitting`); here its maximum-likelihood fit over the
measured transitions (a two-sided Tobit model: transitions ending on a window edge are
censored there), the choice of N (pulses per train, or free by a likelihood-ratio test) and
the profile-likelihood intervals of the NL label, N and sigma.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from .nonlinearity import NL_MAX, NL_SCALE, curve_deviation

FloatArray = NDArray[np.float64]
Direction = Literal["ltp", "ltd"]
#: |A| beyond which a branch is taken as linear (its curvature below the data's resolution).
LINEAR_A = 1e7
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _ols(x: FloatArray, y: FloatArray) -> tuple[float, float, FloatArray]:
    """y = rho x + c by least squares: (rho, c, residuals)."""
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if sxx <= 0:
        raise ParameterError("every measured conductance of a branch is the same: nothing to fit")
    rho = float(np.sum((x - xm) * (y - ym)) / sxx)
    c = float(ym - rho * xm)
    return rho, c, y - (rho * x + c)


def label_from_shape(a: float) -> float:
    """NeuroSim's NL label of the normalised shape ``a`` (inf: 0, a linear branch)."""
    if math.isinf(a):
        return 0.0
    label = NL_SCALE * float(curve_deviation(abs(a)))
    return label if a > 0 else -label


#: A transition ending within this fraction of the window's edge was clipped there.
EDGE = 1e-9
#: One pulse's noise is at least 1e-12 of the window (noiseless data converge there).
LOG_SIGMA_FLOOR = math.log(1e-12)
#: Likelihood-ratio p-value below which the data's own N replaces the pulses per train.
LEVELS_TEST_P = 0.01


def map_coefficients(kappa: float, levels: float, direction: Direction) -> tuple[float, float]:
    """(rho, c) of the one-pulse map u' = rho u + c in window fractions for curvature
    kappa = 1/A on a branch of ``levels`` pulses through both window edges (module docstring;
    kappa = 0 is the linear branch, u' = u +- 1/N)."""
    if kappa == 0.0:
        return 1.0, (1.0 if direction == "ltp" else -1.0) / levels
    if direction == "ltp":
        return math.exp(-kappa), -math.expm1(-kappa) / -math.expm1(-levels * kappa)
    return math.exp(kappa), -math.expm1(kappa) / -math.expm1(-levels * kappa)


@dataclass(frozen=True)
class MapFit:
    """Maximum-likelihood estimate of one branch's one-pulse map."""

    kappa: float              # curvature 1/A
    levels: float             # N, pulses across the window
    sigma: float              # one pulse's noise, window fractions
    residuals: FloatArray     # NaN where the transition is censored
    nll: float                # negative log-likelihood at the estimate


def _likelihood(x: FloatArray, y: FloatArray, direction: Direction
                ) -> tuple[Callable[[float, float, float], float], NDArray[np.bool_]]:
    """nll(kappa, log_sigma, levels): the branch's negative log-likelihood (two-sided Tobit:
    transitions ending on a window edge are censored there), and the uncensored count."""
    from scipy.special import log_ndtr

    upper, lower = y >= 1.0 - EDGE, y <= EDGE
    inside = ~(upper | lower)
    x_in, y_in, x_up, x_lo = x[inside], y[inside], x[upper], x[lower]
    n_in = x_in.size

    def nll(kappa: float, log_s: float, levels: float) -> float:
        # sigma floored: noiseless data would otherwise drive log(sigma) to -inf for ever
        log_s = max(log_s, LOG_SIGMA_FLOOR)
        if abs(kappa * levels) > 700:
            return 1e300
        rho, c = map_coefficients(kappa, levels, direction)
        inv_s = math.exp(-log_s)
        z = (y_in - (rho * x_in + c)) * inv_s
        ll = -0.5 * float(z @ z) - n_in * (log_s + _LOG_SQRT_2PI)
        if x_up.size:
            ll += float(np.sum(log_ndtr((rho * x_up + c - 1.0) * inv_s)))
        if x_lo.size:
            ll += float(np.sum(log_ndtr(-(rho * x_lo + c) * inv_s)))
        return -ll if math.isfinite(ll) else 1e300

    return nll, inside


def branch_map_fit(x: FloatArray, y: FloatArray, levels: float, direction: Direction, *,
                   free_levels: bool = False, levels0: float | None = None) -> MapFit:
    """The branch's curvature kappa = 1/A and one pulse's noise sigma (window fractions) by
    maximum likelihood, the curve held through both window edges in N pulses and the
    transitions censored at the edges (a cell pushed past an edge is read at the edge: a
    two-sided Tobit model). N is ``levels``, or with ``free_levels`` a third parameter of the
    likelihood started there or at ``levels0`` and bounded by 1 <= N <= ``levels`` (the
    pulses per train: a train at least reaches the window's edge, which its readings define)."""
    from scipy.optimize import minimize

    nll, inside = _likelihood(x, y, direction)
    # a start from least squares on the transitions inside the window
    xi, yi = (x[inside], y[inside]) if np.count_nonzero(inside) >= 3 else (x, y)
    rho0 = _ols(xi, yi)[0] if np.ptp(xi) > 0 else 1.0
    rho0 = min(max(rho0, 1e-3), 1e3)
    kappa0 = -math.log(rho0) if direction == "ltp" else math.log(rho0)
    log_n_lo, log_n_hi = 0.0, math.log(levels)

    def objective(theta: FloatArray) -> float:
        if free_levels and not log_n_lo <= theta[2] <= log_n_hi:
            return 1e300
        n = math.exp(float(theta[2])) if free_levels else levels
        return nll(float(theta[0]), float(theta[1]), n)

    n0 = min(levels0, levels) if free_levels and levels0 is not None else levels
    kappa0 = min(max(kappa0, -600.0 / n0), 600.0 / n0)  # exp(|kappa N|) stays finite
    rho_s, c_s = map_coefficients(kappa0, n0, direction)
    s0 = max(float(np.std(yi - (rho_s * xi + c_s))), 1e-6)
    start = [kappa0, math.log(s0)] + ([math.log(n0) - (1e-3 if n0 == levels else 0.0)]
                                      if free_levels else [])
    best = minimize(objective, np.array(start), method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 6000, "maxfev": 12000})
    kappa, log_s = float(best.x[0]), max(float(best.x[1]), LOG_SIGMA_FLOOR)
    n_fit = math.exp(float(best.x[2])) if free_levels else levels
    rho, c = map_coefficients(kappa, n_fit, direction)
    res = np.where(inside, y - (rho * x + c), np.nan)
    return MapFit(kappa, n_fit, math.exp(log_s), res, float(best.fun))


@dataclass(frozen=True)
class Intervals:
    """Confidence intervals of one branch's fit."""

    nl_label: tuple[float, float]
    sigma: tuple[float, float]
    levels: tuple[float, float]


#: Bisections of a profile interval's end: 2^-24 of its bracket.
BISECTIONS = 24


def _bounds(excess: Callable[[float], float], centre: float, step: float, lo_limit: float,
            hi_limit: float) -> tuple[float, float]:
    """Where ``excess`` (negative at ``centre``) crosses zero on each side within
    [lo_limit, hi_limit], stepping out by doubling ``step``; a limit itself where the excess
    is still negative there (the interval reaches it)."""
    if not excess(centre) < 0:
        return centre, centre
    ends = []
    for sign, limit in ((-1.0, lo_limit), (1.0, hi_limit)):
        h, t_in = step, centre
        while True:
            t_out = centre + sign * h
            if sign * (t_out - limit) >= 0:
                t_out = limit
            e = excess(t_out)
            if e >= 0:  # bisection on the sides first seen (the profile is re-optimised
                # from warm starts, so a re-evaluation may differ in its last digits)
                a, b = t_in, t_out
                for _ in range(BISECTIONS):
                    mid = 0.5 * (a + b)
                    a, b = (mid, b) if excess(mid) < 0 else (a, mid)
                ends.append(0.5 * (a + b))
                break
            if t_out == limit:
                ends.append(limit)
                break
            t_in, h = t_out, 2.0 * h
    return ends[0], ends[1]


def profile_intervals(x: FloatArray, y: FloatArray, fit: LevelsChoice, direction: Direction,
                      n_obs: float, level: float = 0.95) -> Intervals:
    """Confidence intervals at ``level`` of the NL label, sigma and N.

    The label's and N's from the profile likelihood with N free in [1, pulses per train]
    whichever N the estimate took (a train pulsed past saturation and a more strongly curved
    one may describe the data alike: the intervals then hold both), of t = N kappa = 1/a (the
    label is monotone in it) and of log N. The threshold is the likelihood-ratio equivalent of
    the F test of a Gaussian regression, 2 dl = n ln(1 + F(level; 1, n - 2) / (n - 2)) over
    the n uncensored transitions and the mean's two parameters (the small-sample form of the
    chi-square limit; asymptotic here, the model being non-linear and censored). sigma's from
    n s^2 / sigma^2 ~ chi^2(n - k), k the mean's parameters of the estimate (exact for linear
    uncensored Gaussian regression). Each interval holds its estimate."""
    from scipy.optimize import minimize
    from scipy.stats import chi2
    from scipy.stats import f as f_dist

    nll, inside = _likelihood(x, y, direction)
    n = int(np.count_nonzero(inside))
    dof = max(n - 2, 1)
    q = n * math.log1p(float(f_dist.ppf(level, 1, dof)) / dof)
    # the unconstrained optimum of the free-N model (the profiles' reference)
    free = branch_map_fit(x, y, n_obs, direction, free_levels=True, levels0=fit.levels)
    if free.nll > fit.nll:
        free = MapFit(fit.kappa, fit.levels, fit.sigma, fit.residuals, fit.nll)
    ref = free.nll
    log_n_hi = math.log(n_obs)
    opts = {"xatol": 1e-8, "fatol": 1e-9}
    warm = {"t": np.array([math.log(free.sigma), math.log(free.levels)]),
            "n": np.array([free.kappa, math.log(free.sigma)])}

    def profile_t(t: float) -> float:
        r = minimize(lambda th: nll(t / math.exp(th[1]), th[0], math.exp(th[1]))
                     if 0.0 <= th[1] <= log_n_hi else 1e300,
                     np.minimum(warm["t"], [np.inf, log_n_hi]), method="Nelder-Mead",
                     options=opts)
        warm["t"] = r.x
        return float(r.fun)

    def profile_n(log_n: float) -> float:
        n_ = math.exp(log_n)
        r = minimize(lambda th: nll(th[0], th[1], n_), warm["n"], method="Nelder-Mead",
                     options=opts)
        warm["n"] = r.x
        return float(r.fun)

    t_hat = free.kappa * free.levels
    t_lo, t_hi = _bounds(lambda t: profile_t(t) - ref - q / 2.0, t_hat,
                         max(0.05 * abs(t_hat), 0.02), -700.0, 700.0)
    labels = [clipped_label(t, 1.0) for t in (t_lo, t_hi)]
    est = clipped_label(fit.kappa, fit.levels)
    nl_ci = (min(labels[0], est), max(labels[1], est))
    n_lo, n_hi = _bounds(lambda ln: profile_n(ln) - ref - q / 2.0, math.log(free.levels),
                         0.02, 0.0, log_n_hi)
    levels_ci = (min(max(math.exp(n_lo), 1.0), fit.levels), max(math.exp(n_hi), fit.levels))
    if fit.sigma <= math.exp(LOG_SIGMA_FLOOR) * 1.0001:
        return Intervals(nl_ci, (0.0, fit.sigma), levels_ci)
    k = 2 if fit.source == "likelihood" else 1
    alpha = 1.0 - level
    s_ci = (fit.sigma * math.sqrt(n / chi2.ppf(1 - alpha / 2, max(n - k, 1))),
            fit.sigma * math.sqrt(n / chi2.ppf(alpha / 2, max(n - k, 1))))
    return Intervals(nl_ci, (min(s_ci[0], fit.sigma), max(s_ci[1], fit.sigma)), levels_ci)


def shape_of(kappa: float, levels: float) -> float:
    """The normalised shape a = A / N of curvature kappa = 1/A (inf: linear)."""
    if kappa == 0 or abs(1.0 / kappa) > LINEAR_A:
        return math.inf
    return 1.0 / (kappa * levels)


def clipped_label(kappa: float, levels: float) -> float:
    """The NL label of curvature kappa over N = ``levels`` pulses, clipped to NeuroSim's table
    (|NL| <= NL_MAX)."""
    return float(np.clip(label_from_shape(shape_of(kappa, levels)), -NL_MAX, NL_MAX))


@dataclass(frozen=True)
class LevelsChoice(MapFit):
    """A branch's map fit with where its N came from."""

    source: str = "pulses per train"
    p_value: float = 1.0


def select_levels(x: FloatArray, y: FloatArray, n_obs: float, direction: Direction, *,
                  arrival: float | None = None, source: str | None = None) -> LevelsChoice:
    """The branch's map with N = the pulses per train (NeuroSim's own convention: its
    ``nonlinear_fit.m`` takes the last pulse as the curve's end), unless the likelihood with N
    free is better by a likelihood-ratio test at p < ``LEVELS_TEST_P`` (one degree of freedom):
    then the data's own N (a train pulsed past the edge, where the cell sat clipped, says
    where the curve ends). ``arrival``: the pulse at which the traces first reach their end
    edge, a second start for the free fit. ``source`` forces the choice (the bootstrap repeats
    the data's)."""
    from scipy.stats import chi2

    fixed = branch_map_fit(x, y, n_obs, direction)
    if source == "pulses per train":
        return LevelsChoice(**vars(fixed))
    free = branch_map_fit(x, y, n_obs, direction, free_levels=True)
    if arrival is not None and 1 <= arrival < n_obs:
        alt = branch_map_fit(x, y, n_obs, direction, free_levels=True, levels0=arrival)
        if alt.nll < free.nll:
            free = alt
    lr = max(2.0 * (fixed.nll - free.nll), 0.0)
    p = float(chi2.sf(lr, 1))
    if source == "likelihood" or (source is None and p < LEVELS_TEST_P):
        return LevelsChoice(**vars(free), source="likelihood", p_value=p)
    return LevelsChoice(**vars(fixed), p_value=p)

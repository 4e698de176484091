"""Fit NeuroSim's device model to measured pulse responses (``docs/devices.md``).

A branch of the model (``docs/physics.md`` §1) moves a cell by one pulse as

    LTP:  G' = G(p(G) + 1),   LTD:  G' = G(p(G) - 1),   plus Normal(0, sigma (G_max - G_min)),

with G(p) = G_min + B (1 - exp(-p/A)). Written in G alone, one pulse is an affine map,

    G' = rho G + (1 - rho) G_inf + eps,     G_inf = G_min + B,
    rho = exp(-1/A) (LTP),  rho = exp(+1/A) (LTD),

so the measured transitions (G_k, G_k+1) of every trace of a branch, pooled over cycles, are a
linear regression whose slope gives A, whose fixed point gives B, and whose residuals are the
cycle-to-cycle noise itself: sigma_C2C = std(eps) / (G_max - G_min), exactly as the model scales
it (one pulse per step). The map is held through both window edges in N pulses (the curve
of the model itself); N is the pulses per train, NeuroSim's own convention, unless a free N is
better by a likelihood-ratio test (trains pulsed past saturation). The literature label follows
from the shape a = A / N, NL = sign(a) K D(|a|) (:mod:`meliso.devices.nonlinearity`). Fitting
the transitions instead of the trajectory keeps the estimate unbiased: the noise of a
pulse-by-pulse measurement accumulates along the trace (a random walk), but each transition
carries only its own pulse's noise. Intervals come from the profile likelihood
(:func:`profile_intervals`), standard errors from a parametric bootstrap.

Goodness of fit: R^2 of each trace against the model's noise-free trajectory from its first
point, the residuals' lag-1 autocorrelation and the Ljung-Box test of whiteness (structure the
model misses leaves correlated residuals), and warnings when the data cannot be this model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from .analog import AnalogDevice
from .nonlinearity import NL_MAX, NL_SCALE, curve_deviation

FloatArray = NDArray[np.float64]
Direction = Literal["ltp", "ltd"]
#: Fewest pulses (transitions) per branch that a fit accepts.
MIN_TRANSITIONS = 8
#: Readings that repeat the data's extreme exactly before it is taken as a clipped edge.
CLIPPED_REPEATS = 3
#: |A| beyond which a branch is taken as linear (its curvature below the data's resolution).
LINEAR_A = 1e7


@dataclass(frozen=True)
class Trace:
    """Conductances of one pulse train: before the first pulse, then after each, siemens."""

    direction: Direction
    g_s: FloatArray
    cycle: str = "0"
    device: str = "0"


@dataclass(frozen=True)
class BranchFit:
    """What one branch's traces say about the model."""

    direction: Direction
    g_start_s: float        # median first conductance of the traces
    g_end_s: float          # median last conductance
    rho: float              # slope of the one-pulse map
    g_inf_s: float          # its fixed point, G_min + B
    levels: float           # pulses that span the window, N (not rounded)
    pulses_observed: float  # median pulses per trace
    shape_a: float          # normalised shape a = A / N (inf: linear)
    nl_label: float         # NeuroSim's non-linearity label
    sigma_c2c: float        # one pulse's noise, fraction of the window
    transitions: int
    r2: float               # of the traces against the noise-free model trajectory
    residual_rms_s: float   # one-pulse residual RMS, siemens
    lag1_autocorr: float
    ljung_box_p: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    levels_source: str = "pulses per train"  # or "likelihood" (trains pulsed past the edge)
    levels_test_p: float = 1.0      # likelihood-ratio p of N = pulses per train
    # standard errors from a parametric bootstrap; 95 % intervals from the profile likelihood
    nl_label_se: float = math.nan
    sigma_c2c_se: float = math.nan
    levels_se: float = math.nan
    nl_label_ci: tuple[float, float] = (math.nan, math.nan)
    sigma_c2c_ci: tuple[float, float] = (math.nan, math.nan)
    levels_ci: tuple[float, float] = (math.nan, math.nan)


def _ols(x: FloatArray, y: FloatArray) -> tuple[float, float, FloatArray]:
    """y = rho x + c by least squares: (rho, c, residuals)."""
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    if sxx <= 0:
        raise ParameterError("every measured conductance of a branch is the same: nothing to fit")
    rho = float(np.sum((x - xm) * (y - ym)) / sxx)
    c = float(ym - rho * xm)
    return rho, c, y - (rho * x + c)


def ljung_box(residuals: list[FloatArray], lags: int) -> tuple[float, float]:
    """(lag-1 autocorrelation, Ljung-Box p-value over ``lags``) of residual sequences (one per
    trace, autocorrelations pooled within traces)."""
    from scipy.stats import chi2

    allr = np.concatenate(residuals)
    mean = allr.mean()
    denom = float(np.sum((allr - mean) ** 2))
    n = allr.size
    if denom <= 0 or n <= lags + 1:
        return 0.0, 1.0
    r = np.zeros(lags)
    for k in range(1, lags + 1):
        r[k - 1] = sum(float(np.sum((e[k:] - mean) * (e[:-k] - mean)))
                       for e in residuals if e.size > k) / denom
    q = n * (n + 2) * float(np.sum(r**2 / (n - np.arange(1, lags + 1))))
    return float(r[0]), float(chi2.sf(q, lags))


def label_from_shape(a: float) -> float:
    """NeuroSim's NL label of the normalised shape ``a`` (inf: 0, a linear branch)."""
    if math.isinf(a):
        return 0.0
    label = NL_SCALE * float(curve_deviation(abs(a)))
    return label if a > 0 else -label


def fit_branch(traces: list[Trace], g_min_s: float, g_max_s: float, *,
               intervals: bool = True) -> BranchFit:
    """Fit one branch (every trace one direction) on the window [g_min_s, g_max_s];
    ``intervals=False`` skips the profile-likelihood intervals (left NaN)."""
    direction = traces[0].direction
    span = g_max_s - g_min_s
    xs, ys = [], []
    warnings: list[str] = []
    outside = 0
    clean = []  # each trace's readings, NaN where an outlier
    for t in traces:
        u = (np.asarray(t.g_s, dtype=np.float64) - g_min_s) / span  # window fractions
        far = (u < -OUTLIER_FRAC) | (u > 1 + OUTLIER_FRAC)
        outside += int(np.count_nonzero(far))
        # a reading just beyond the window is read at its edge; one far beyond is no reading
        # of this cell (a clipped cell reads the edge itself): left out with its two steps
        u = np.where(far, np.nan, np.clip(u, 0.0, 1.0))
        clean.append(g_min_s + span * u)
        keep = np.isfinite(u[:-1]) & np.isfinite(u[1:])
        xs.append(u[:-1][keep])
        ys.append(u[1:][keep])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.size < MIN_TRANSITIONS:
        raise ParameterError(f"the {direction.upper()} branch has {x.size} pulse steps: "
                             f"allowed at least {MIN_TRANSITIONS}")
    inside = int(np.count_nonzero((y > EDGE) & (y < 1.0 - EDGE)))
    if inside < MIN_TRANSITIONS:
        raise ParameterError(f"the {direction.upper()} branch has {inside} pulse steps that end "
                             f"inside the window (the rest sit on its edges): allowed at least "
                             f"{MIN_TRANSITIONS}; the data do not show the curve")
    if outside:
        warnings.append(f"{outside} {direction.upper()} readings lie beyond the window by more "
                        f"than {OUTLIER_FRAC:.0%} of it (outliers?): left out, with the pulse "
                        "steps into and out of them")
    n_obs = float(np.median([t.g_s.size - 1 for t in traces]))
    u_start = float(np.median([(t.g_s[0] - g_min_s) / span for t in traces]))
    want = 0.0 if direction == "ltp" else 1.0
    if abs(u_start - want) > 0.1:  # (the end wanders with the accumulated noise: not checked)
        warnings.append(f"the {direction.upper()} traces start at {u_start:.2f} of the window, "
                        "not at its edge: the model's N (pulses across the window) is taken "
                        "as the pulses measured, which assumes edge-to-edge trains")
    arrival = _arrival(traces, g_min_s, g_max_s)
    mf = select_levels(x, y, n_obs, direction, arrival=arrival)
    kappa, sigma, res = mf.kappa, mf.sigma, mf.residuals
    ci = (profile_intervals(x, y, mf, direction, n_obs) if intervals else
          Intervals((math.nan, math.nan), (math.nan, math.nan), (math.nan, math.nan)))
    if mf.source == "likelihood":
        warnings.append(f"the {direction.upper()} traces stay on the window's edge longer than "
                        f"the model's curve allows for N = {n_obs:g} pulses per train (likelihood"
                        f"-ratio p = {mf.p_value:.2g}): N = {mf.levels:.1f} fitted from the data "
                        "(trains pulsed past saturation)")
    sign = 1.0 if direction == "ltp" else -1.0
    moving = (y > EDGE) & (y < 1.0 - EDGE)  # transitions clipped at an edge say nothing here
    step = float(np.median((y - x)[moving])) * span if np.any(moving) else 0.0
    if sign * step < 0:
        warnings.append(f"the {direction.upper()} traces do not move the way the branch should "
                        f"(median step {step:.3g} S): the data are not this model")
    levels = mf.levels
    a = shape_of(kappa, levels)
    rho = math.exp(-kappa) if direction == "ltp" else math.exp(kappa)
    g_inf = g_min_s + span / -math.expm1(-levels * kappa) if math.isfinite(a) else math.inf
    label = label_from_shape(a)
    if abs(label) > NL_MAX:
        warnings.append(f"NL = {label:.2f} lies beyond NeuroSim's table (|NL| <= {NL_MAX:g}): "
                        "clipped")
        label = math.copysign(NL_MAX, label)
    # R^2 of each trace against the noise-free trajectory from its first point
    ss_res = ss_tot = 0.0
    for t, g in zip(traces, clean, strict=True):
        k = np.arange(g.size)
        g0 = float(np.clip(t.g_s[0], g_min_s, g_max_s))
        det = g_inf + (g0 - g_inf) * rho**k if math.isfinite(g_inf) else g0 + step * k
        det = np.clip(det, g_min_s, g_max_s)
        ss_res += float(np.nansum((g - det) ** 2))
        ss_tot += float(np.nansum((g - np.nanmean(g)) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    chunks, start = [], 0
    for xk in xs:
        chunks.append(res[start:start + xk.size])
        start += xk.size
    chunks = [ch[np.isfinite(ch)] for ch in chunks]
    lags = max(1, min(10, res.size // 5))
    lag1, p_white = ljung_box(chunks, lags)
    if p_white < 0.01 and sigma > 1e-9:  # (noiseless data: residuals are rounding alone)
        warnings.append(f"the {direction.upper()} residuals are not white (Ljung-Box p = "
                        f"{p_white:.2g}, lag-1 autocorrelation {lag1:.2f}): the curve has "
                        "structure this model misses")
    return BranchFit(
        direction=direction, g_start_s=float(np.median([t.g_s[0] for t in traces])),
        g_end_s=float(np.median([t.g_s[-1] for t in traces])), rho=rho, g_inf_s=g_inf,
        levels=float(levels), pulses_observed=float(np.median([t.g_s.size - 1
                                                                for t in traces])),
        shape_a=a, nl_label=float(label), sigma_c2c=sigma, transitions=int(x.size), r2=r2,
        residual_rms_s=float(np.sqrt(np.nanmean(res**2))) * span, lag1_autocorr=lag1,
        ljung_box_p=p_white, warnings=tuple(warnings), levels_source=mf.source,
        levels_test_p=mf.p_value, nl_label_ci=ci.nl_label, sigma_c2c_ci=ci.sigma,
        levels_ci=ci.levels)


#: A transition ending within this fraction of the window's edge was clipped there.
EDGE = 1e-9
#: Readings beyond the window by more than this fraction of it are reported as outliers.
OUTLIER_FRAC = 0.05
#: One pulse's noise is at least 1e-12 of the window (noiseless data converge there).
LOG_SIGMA_FLOOR = math.log(1e-12)
#: Likelihood-ratio p-value below which the data's own N replaces the pulses per train.
LEVELS_TEST_P = 0.01
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


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
    labels = [float(np.clip(label_from_shape(shape_of(t, 1.0)), -NL_MAX, NL_MAX))
              for t in (t_lo, t_hi)]
    est = float(np.clip(label_from_shape(shape_of(fit.kappa, fit.levels)), -NL_MAX, NL_MAX))
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


@dataclass(frozen=True)
class LevelsChoice(MapFit):
    """A branch's map fit with where its N came from."""

    source: str = "pulses per train"
    p_value: float = 1.0


def _arrival(traces: list[Trace], g_min_s: float, g_max_s: float) -> float | None:
    """Median pulse at which the traces first read their end edge, a trace that never does
    counting as its length (None: no trace does)."""
    first, any_hit = [], False
    for t in traces:
        end = g_max_s if t.direction == "ltp" else g_min_s
        k = np.flatnonzero(np.abs(t.g_s[1:] - end) <= EDGE * (g_max_s - g_min_s))
        any_hit |= bool(k.size)
        first.append(float(k[0] + 1) if k.size else float(t.g_s.size))
    return float(np.median(first)) if any_hit else None


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


@dataclass(frozen=True)
class DeviceFit:
    """Both branches, the window and (several devices) the spread of the NL labels."""

    g_min_s: float
    g_max_s: float
    ltp: BranchFit
    ltd: BranchFit
    sigma_d2d: float
    devices: int
    cycles: int
    warnings: tuple[str, ...]
    sigma_d2d_ci: tuple[float, float] = (0.0, 0.0)

    def device_fields(self) -> dict[str, float | int]:
        """The AnalogDevice fields this fit determines."""
        return {"r_on_ohm": 1.0 / self.g_max_s, "on_off_ratio": self.g_max_s / self.g_min_s,
                "levels_ltp": max(1, round(self.ltp.levels)),
                "levels_ltd": max(1, round(self.ltd.levels)),
                "nl_ltp": round(self.ltp.nl_label, 3), "nl_ltd": round(self.ltd.nl_label, 3),
                "sigma_c2c": round(float(np.mean([self.ltp.sigma_c2c, self.ltd.sigma_c2c])), 6),
                "sigma_d2d": round(self.sigma_d2d, 3)}


def window(traces: list[Trace]) -> tuple[float, float, list[str]]:
    """(G_min, G_max) of the data: the medians of the branches' start and end points, and a
    warning when the two branches span different windows."""
    ltp = [t for t in traces if t.direction == "ltp"]
    ltd = [t for t in traces if t.direction == "ltd"]
    lo = [float(np.median([t.g_s[0] for t in ltp])), float(np.median([t.g_s[-1] for t in ltd]))]
    hi = [float(np.median([t.g_s[-1] for t in ltp])), float(np.median([t.g_s[0] for t in ltd]))]
    g_min, g_max = min(lo), max(hi)
    # a cell clipped at an edge reads the edge itself, again and again: where several readings
    # repeat the data's extreme exactly, that extreme is the edge (trains measured back to back
    # start wherever the previous one ended, so their ends are no estimate of it)
    allg = np.concatenate([t.g_s for t in traces])
    if np.count_nonzero(allg == allg.min()) >= CLIPPED_REPEATS:
        g_min = float(allg.min())
    if np.count_nonzero(allg == allg.max()) >= CLIPPED_REPEATS:
        g_max = float(allg.max())
    if not 0 < g_min < g_max:
        raise ParameterError(f"the data span G = {g_min:.3g} ... {g_max:.3g} S: allowed "
                             "0 < G_min < G_max (LTP rising, LTD falling)")
    warnings = []
    span = g_max - g_min
    if abs(lo[0] - lo[1]) > 0.1 * span or abs(hi[0] - hi[1]) > 0.1 * span:
        warnings.append(f"LTP spans {lo[0]:.3g} ... {hi[0]:.3g} S and LTD {lo[1]:.3g} ... "
                        f"{hi[1]:.3g} S: the model has one window, taken as their union; "
                        "each branch's own range is in the fit report")
    return g_min, g_max, warnings


def fit_device(traces: list[Trace], *, resamples: int = 100, seed: int = 0) -> DeviceFit:
    """Fit both branches jointly over every cycle; with several devices, each device's labels
    too, whose spread is the device-to-device variation (label units). ``resamples``: the
    parametric bootstrap behind the standard errors (0: none); the intervals of NL and
    sigma_C2C come from the likelihood itself."""
    dirs = {t.direction for t in traces}
    if dirs != {"ltp", "ltd"}:
        have = ", ".join(sorted(d.upper() for d in dirs)) or "none"
        raise ParameterError(f"the data hold {have} traces only: a fit needs both LTP "
                             "(potentiation, up) and LTD (depression, down) pulse trains")
    g_min, g_max, warnings = window(traces)
    work = sum(t.g_s.size - 1 for t in traces) * resamples
    if work > MAX_BOOTSTRAP_WORK:
        raise ParameterError(f"resamples = {resamples} x {work // max(resamples, 1)} pulse steps "
                             f"= {work} refitted steps: allowed at most {MAX_BOOTSTRAP_WORK} "
                             "(lower --resamples; 0 skips the bootstrap, the intervals remain)")
    rng = np.random.default_rng(seed)
    branches = []
    for d in ("ltp", "ltd"):
        mine = [t for t in traces if t.direction == d]
        branches.append(bootstrap_errors(fit_branch(mine, g_min, g_max), mine, g_min, g_max,
                                         resamples, rng))
    ltp, ltd = branches
    devices = sorted({t.device for t in traces})
    d2d, d2d_ci = 0.0, (0.0, 0.0)
    if len(devices) > 1:
        d2d, d2d_ci, note = device_to_device(traces, devices, (ltp, ltd), g_min, g_max, rng,
                                             resamples=max(resamples // 5, 20))
        warnings += note
    cycles = len({(t.device, t.cycle) for t in traces})
    return DeviceFit(g_min, g_max, ltp, ltd, d2d, len(devices), cycles,
                     tuple(warnings) + ltp.warnings + ltd.warnings, sigma_d2d_ci=d2d_ci)


def device_to_device(traces: list[Trace], devices: list[str], pooled: tuple[BranchFit, BranchFit],
                     g_min_s: float, g_max_s: float, rng: np.random.Generator, *,
                     resamples: int = 20, level: float = 0.95
                     ) -> tuple[float, tuple[float, float], list[str]]:
    """(sigma_D2D, its interval at ``level``, notes): the spread of the devices' own NL
    labels (the model draws each cell's labels as label + Normal(0, sigma_D2D), per branch).

    A random-effects estimate: each device's label is the truth plus its device offset plus
    its fit's error, so the devices' label variance s^2 (pooled over both branches, 2 (k - 1)
    degrees of freedom for k devices) is sigma_D2D^2 + the fits' own variance. That variance
    is measured, not assumed: ``resamples`` copies of every device's traces drawn from the
    pooled fit (no device-to-device spread), each device fitted as the data were; the
    variance of its label over the copies, averaged. sigma_D2D^2 = s^2 - that, floored at 0;
    its interval from dof s^2 / (sigma_D2D^2 + fit variance) ~ chi^2(dof), the same variance
    removed."""
    from scipy.stats import chi2

    labels, fit_var, notes = [], [], []
    for dev in devices:
        mine = [t for t in traces if t.device == dev]
        if {t.direction for t in mine} != {"ltp", "ltd"}:
            notes.append(f"device {dev!r} holds one direction only: left out of sigma_d2d")
            continue
        try:
            own_fits = [fit_branch([t for t in mine if t.direction == b.direction], g_min_s,
                                   g_max_s, intervals=False) for b in pooled]
        except ParameterError as exc:
            notes.append(f"device {dev!r} left out of sigma_d2d: {exc}")
            continue
        row = []
        for branch, f in zip(pooled, own_fits, strict=True):
            own = [t for t in mine if t.direction == branch.direction]
            row.append(f.nl_label)
            kappa = 0.0 if math.isinf(branch.shape_a) else 1 / (branch.shape_a * branch.levels)
            rho, c = map_coefficients(kappa, branch.levels, branch.direction)
            u = simulate_map(rho, c, branch.sigma_c2c, own, g_min_s, g_max_s, resamples, rng)
            null = [float(np.clip(label_from_shape(shape_of(m.kappa, m.levels)), -NL_MAX,
                                  NL_MAX))
                    for m in (select_levels(*transitions(u, r), f.pulses_observed,
                                            branch.direction, source=f.levels_source,
                                            arrival=f.levels) for r in range(resamples))]
            fit_var.append(float(np.var(null, ddof=1)))
        labels.append(row)
    if len(labels) < 2:
        return 0.0, (0.0, 0.0), [*notes, "sigma_d2d = 0: fewer than two devices could be "
                                 "fitted on both branches"]
    lab = np.asarray(labels)
    dof = 2 * (lab.shape[0] - 1)
    s2 = float(np.sum((lab - lab.mean(axis=0)) ** 2)) / dof
    noise = float(np.mean(fit_var))
    alpha = 1.0 - level
    lo = dof * s2 / float(chi2.ppf(1 - alpha / 2, dof)) - noise
    hi = dof * s2 / float(chi2.ppf(alpha / 2, dof)) - noise
    if noise >= s2:
        bound = (f"at most {math.sqrt(hi):.3g} (95 %)" if hi > 0 else
                 "no upper bound can be given (the spread is below the fits' errors even at "
                 "95 %)")
        notes.append(f"the devices' labels spread no more than their fits' own errors (spread "
                     f"{math.sqrt(s2):.3g}, fit error {math.sqrt(noise):.3g}): sigma_d2d = 0, "
                     f"{bound}")
    return (math.sqrt(max(s2 - noise, 0.0)),
            (math.sqrt(max(lo, 0.0)), math.sqrt(max(hi, 0.0))), notes)


def simulate_traces(device: AnalogDevice, rng: np.random.Generator, *, cycles: int = 1,
                    devices: int = 1, chained: bool = False,
                    pulses: tuple[int, int] | None = None) -> list[Trace]:
    """Pulse trains of the model itself: per device (its own NL labels when sigma_d2d > 0) and
    cycle, N_LTP pulses up from G_min and N_LTD pulses down from G_max, one at a time, with the
    device's C-to-C noise (what a measurement of the device would give). ``chained``: each
    train starts where the previous one ended (trains measured back to back). ``pulses``:
    pulses per LTP and LTD train (default: each branch's levels; more pulse it past the
    edge, where the cell sits clipped)."""
    from .analog import apply_pulses
    from .programming import cell_branches

    out = []
    for d in range(devices):
        ltp, ltd = cell_branches(device, (1,), rng)
        cell = np.array([device.g_min_s])
        for c in range(cycles):
            n_ltp, n_ltd = pulses or (device.levels_ltp, device.levels_ltd)
            for direction, start, n, sign in (("ltp", device.g_min_s, n_ltp, 1),
                                              ("ltd", device.g_max_s, n_ltd, -1)):
                if not chained:
                    cell = np.array([start])
                g = np.empty(n + 1)
                g[0] = cell[0]
                for k in range(n):
                    cell = apply_pulses(cell, np.array([sign], dtype=np.int64), device, rng,
                                        ltp=ltp, ltd=ltd, kernel="numpy")
                    g[k + 1] = cell[0]
                out.append(Trace(direction, g, cycle=str(c), device=str(d)))  # type: ignore[arg-type]
    return out


def simulate_map(rho: float, c: float, sigma: float, traces: list[Trace], g_min_s: float,
                 g_max_s: float, resamples: int, rng: np.random.Generator) -> list[FloatArray]:
    """``resamples`` copies of the traces (their starts and lengths) drawn from the one-pulse
    map u' = clip(rho u + c + Normal(0, sigma), 0, 1) in window fractions: per trace a
    (resamples, its length) array; traces of one length are drawn together, pulse by pulse."""
    span = g_max_s - g_min_s
    out: list[FloatArray] = [np.empty(0)] * len(traces)
    by_length: dict[int, list[int]] = {}
    for i, t in enumerate(traces):
        by_length.setdefault(t.g_s.size, []).append(i)
    for n, members in by_length.items():
        u = np.empty((resamples, len(members), n))
        u[:, :, 0] = np.clip([(traces[i].g_s[0] - g_min_s) / span for i in members], 0, 1)
        noise = rng.standard_normal(u.shape) * sigma
        for k in range(n - 1):
            u[:, :, k + 1] = np.clip(rho * u[:, :, k] + c + noise[:, :, k + 1], 0.0, 1.0)
        for j, i in enumerate(members):
            out[i] = u[:, j, :]
    return out


#: Most cells one simulate_map call holds (resamples x traces x longest trace): 32 MB.
MAX_SIMULATED_CELLS = 4_000_000
#: Most transitions x resamples a fit refits (the bootstrap's work: about a minute here).
MAX_BOOTSTRAP_WORK = 5_000_000


def _chunk(traces: list[Trace]) -> int:
    """Resamples simulated at once within ``MAX_SIMULATED_CELLS``."""
    return max(1, MAX_SIMULATED_CELLS // sum(t.g_s.size for t in traces))


def transitions(u: list[FloatArray], r: int) -> tuple[FloatArray, FloatArray]:
    """(x, y): the pulse-to-pulse pairs of copy ``r`` of simulated traces ``u``."""
    return (np.concatenate([ui[r, :-1] for ui in u]), np.concatenate([ui[r, 1:] for ui in u]))


def bootstrap_errors(fit: BranchFit, traces: list[Trace], g_min_s: float, g_max_s: float,
                     resamples: int, rng: np.random.Generator) -> BranchFit:
    """The fit with standard errors of its NL label, sigma_C2C and N from a parametric
    bootstrap: ``resamples`` data sets drawn from the fitted model itself (the
    one-pulse map, its noise, clipped at the edges), with the measured traces' starts and
    lengths, each fitted again the same way (N from the same source)."""
    import dataclasses

    if resamples < 2:
        return fit
    kappa = 0.0 if math.isinf(fit.shape_a) else 1.0 / (fit.shape_a * fit.levels)
    rho, c = map_coefficients(kappa, fit.levels, fit.direction)
    lengths = np.array([t.g_s.size for t in traces])
    n_obs = float(np.median(lengths - 1))
    labels, sigmas, levels = [], [], []
    for r in range(resamples):
        if r % (chunk := _chunk(traces)) == 0:
            u = simulate_map(rho, c, fit.sigma_c2c, traces, g_min_s, g_max_s,
                             min(chunk, resamples - r), rng)
        x, y = transitions(u, r % chunk)
        mf = select_levels(x, y, n_obs, fit.direction, source=fit.levels_source,
                           arrival=fit.levels if fit.levels_source == "likelihood" else None)
        labels.append(float(np.clip(label_from_shape(shape_of(mf.kappa, mf.levels)),
                                    -NL_MAX, NL_MAX)))
        sigmas.append(mf.sigma)
        levels.append(mf.levels)

    # the intervals are the profile likelihood's (fit_branch): these resamples give the
    # standard errors
    nl_se, s_se, n_se = (float(np.std(v, ddof=1)) for v in (labels, sigmas, levels))
    return dataclasses.replace(fit, nl_label_se=nl_se, sigma_c2c_se=s_se, levels_se=n_se)

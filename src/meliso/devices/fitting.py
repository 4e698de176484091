"""Fit NeuroSim's device model to measured pulse responses (``docs/devices.md``).

A branch of the model (``docs/physics.md`` §1) moves a cell by one pulse as

    LTP:  G' = G(p(G) + 1),   LTD:  G' = G(p(G) - 1),   plus Normal(0, sigma (G_max - G_min)),

with G(p) = G_min + B (1 - exp(-p/A)). Written in G alone, one pulse is an affine map,

    G' = rho G + (1 - rho) G_inf + eps,     G_inf = G_min + B,
    rho = exp(-1/A) (LTP),  rho = exp(+1/A) (LTD),

so the measured transitions (G_k, G_k+1) of every trace of a branch, pooled over cycles, are a
linear regression whose slope gives A, whose fixed point gives B, and whose residuals are the
cycle-to-cycle noise itself: sigma_C2C = std(eps) / (G_max - G_min), exactly as the model scales
it (one pulse per step). The number of pulses that spans the window follows from the curve,
N = -A ln(1 - (G_max - G_min) / B), and the literature label from the shape a = A / N,
NL = sign(a) K D(|a|) (:mod:`meliso.devices.nonlinearity`). Fitting the transitions instead of the
trajectory keeps the estimate unbiased: the noise of a pulse-by-pulse measurement accumulates
along the trace (a random walk), but each transition carries only its own pulse's noise.

Goodness of fit: R^2 of each trace against the model's noise-free trajectory from its first
point, the residuals' lag-1 autocorrelation and the Ljung-Box test of whiteness (structure the
model misses leaves correlated residuals), and warnings when the data cannot be this model.
"""

from __future__ import annotations

import math
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
    nl_label_se: float = math.nan   # standard errors from a parametric bootstrap
    sigma_c2c_se: float = math.nan


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


def fit_branch(traces: list[Trace], g_min_s: float, g_max_s: float) -> BranchFit:
    """Fit one branch (every trace one direction) on the window [g_min_s, g_max_s]."""
    direction = traces[0].direction
    span = g_max_s - g_min_s
    xs, ys = [], []
    for t in traces:
        u = (np.asarray(t.g_s, dtype=np.float64) - g_min_s) / span  # window fractions
        xs.append(u[:-1])
        ys.append(u[1:])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.size < MIN_TRANSITIONS:
        raise ParameterError(f"the {direction.upper()} branch has {x.size} pulse steps: "
                             f"allowed at least {MIN_TRANSITIONS}")
    warnings: list[str] = []
    n_obs = float(np.median([t.g_s.size - 1 for t in traces]))
    u_start = float(np.median([(t.g_s[0] - g_min_s) / span for t in traces]))
    want = 0.0 if direction == "ltp" else 1.0
    if abs(u_start - want) > 0.1:  # (the end wanders with the accumulated noise: not checked)
        warnings.append(f"the {direction.upper()} traces start at {u_start:.2f} of the window, "
                        "not at its edge: the model's N (pulses across the window) is taken "
                        "as the pulses measured, which assumes edge-to-edge trains")
    kappa, sigma, res = branch_map_fit(x, y, n_obs, direction)
    sign = 1.0 if direction == "ltp" else -1.0
    moving = (y > EDGE) & (y < 1.0 - EDGE)  # transitions clipped at an edge say nothing here
    step = float(np.median((y - x)[moving])) * span if np.any(moving) else 0.0
    if sign * step < 0:
        warnings.append(f"the {direction.upper()} traces do not move the way the branch should "
                        f"(median step {step:.3g} S): the data are not this model")
    levels = n_obs
    big_a = math.inf if kappa == 0 or abs(1.0 / kappa) > LINEAR_A else 1.0 / kappa
    rho = math.exp(-kappa) if direction == "ltp" else math.exp(kappa)
    g_inf = g_min_s + span / -math.expm1(-levels * kappa) if math.isfinite(big_a) else math.inf
    a = big_a / levels if math.isfinite(big_a) else math.inf
    label = label_from_shape(a)
    if abs(label) > NL_MAX:
        warnings.append(f"NL = {label:.2f} lies beyond NeuroSim's table (|NL| <= {NL_MAX:g}): "
                        "clipped")
        label = math.copysign(NL_MAX, label)
    # R^2 of each trace against the noise-free trajectory from its first point
    ss_res = ss_tot = 0.0
    for t in traces:
        g = np.asarray(t.g_s, dtype=np.float64)
        k = np.arange(g.size)
        det = g_inf + (g[0] - g_inf) * rho**k if math.isfinite(g_inf) else g[0] + step * k
        det = np.clip(det, g_min_s, g_max_s)
        ss_res += float(np.sum((g - det) ** 2))
        ss_tot += float(np.sum((g - g.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0
    chunks, start = [], 0
    for xk in xs:
        chunks.append(res[start:start + xk.size])
        start += xk.size
    chunks = [ch[np.isfinite(ch)] for ch in chunks]
    lags = max(1, min(10, res.size // 5))
    lag1, p_white = ljung_box(chunks, lags)
    if p_white < 0.01:
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
        ljung_box_p=p_white, warnings=tuple(warnings))


#: A transition ending within this fraction of the window's edge was clipped there.
EDGE = 1e-9
#: One pulse's noise is at least 1e-12 of the window (noiseless data converge there).
LOG_SIGMA_FLOOR = math.log(1e-12)


def map_coefficients(kappa: float, levels: float, direction: Direction) -> tuple[float, float]:
    """(rho, c) of the one-pulse map u' = rho u + c in window fractions for curvature
    kappa = 1/A on a branch of ``levels`` pulses through both window edges (module docstring;
    kappa = 0 is the linear branch, u' = u +- 1/N)."""
    if kappa == 0.0:
        return 1.0, (1.0 if direction == "ltp" else -1.0) / levels
    if direction == "ltp":
        return math.exp(-kappa), -math.expm1(-kappa) / -math.expm1(-levels * kappa)
    return math.exp(kappa), -math.expm1(kappa) / -math.expm1(-levels * kappa)


def branch_map_fit(x: FloatArray, y: FloatArray, levels: float, direction: Direction
                   ) -> tuple[float, float, FloatArray]:
    """The branch's curvature kappa = 1/A and one pulse's noise sigma (window fractions) by
    maximum likelihood, the curve held through both window edges in ``levels`` pulses and the
    transitions censored at the edges (a cell pushed past an edge is read at the edge: a
    two-sided Tobit model). Returns (kappa, sigma, residuals; NaN where censored)."""
    from scipy.optimize import minimize
    from scipy.stats import norm

    upper, lower = y >= 1.0 - EDGE, y <= EDGE
    inside = ~(upper | lower)
    # a start from least squares on the transitions inside the window
    xi, yi = (x[inside], y[inside]) if np.count_nonzero(inside) >= 3 else (x, y)
    rho0 = _ols(xi, yi)[0] if np.ptp(xi) > 0 else 1.0
    rho0 = min(max(rho0, 1e-3), 1e3)
    kappa0 = -math.log(rho0) if direction == "ltp" else math.log(rho0)

    def mean(kappa: float) -> FloatArray:
        rho, c = map_coefficients(kappa, levels, direction)
        return rho * x + c

    def nll(theta: FloatArray) -> float:
        # sigma floored: noiseless data would otherwise drive log(sigma) to -inf for ever
        kappa, log_s = float(theta[0]), max(float(theta[1]), LOG_SIGMA_FLOOR)
        if abs(kappa * levels) > 700:
            return 1e300
        sd, mu = math.exp(log_s), mean(kappa)
        ll = np.sum(norm.logpdf(y[inside], mu[inside], sd))
        ll += np.sum(norm.logsf(1.0, mu[upper], sd)) + np.sum(norm.logcdf(0.0, mu[lower], sd))
        return -float(ll) if np.isfinite(ll) else 1e300

    s0 = max(float(np.std(yi - mean(kappa0)[inside if xi is not x else slice(None)])), 1e-6)
    best = minimize(nll, np.array([kappa0, math.log(s0)]), method="Nelder-Mead",
                    options={"xatol": 1e-12, "fatol": 1e-9, "maxiter": 4000, "maxfev": 8000})
    kappa, log_s = float(best.x[0]), max(float(best.x[1]), LOG_SIGMA_FLOOR)
    res = np.where(inside, y - mean(kappa), np.nan)
    return kappa, math.exp(log_s), res


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
    parametric bootstrap behind the standard errors (0: none)."""
    dirs = {t.direction for t in traces}
    if dirs != {"ltp", "ltd"}:
        have = ", ".join(sorted(d.upper() for d in dirs)) or "none"
        raise ParameterError(f"the data hold {have} traces only: a fit needs both LTP "
                             "(potentiation, up) and LTD (depression, down) pulse trains")
    g_min, g_max, warnings = window(traces)
    rng = np.random.default_rng(seed)
    branches = []
    for d in ("ltp", "ltd"):
        mine = [t for t in traces if t.direction == d]
        branches.append(bootstrap_errors(fit_branch(mine, g_min, g_max), mine, g_min, g_max,
                                         resamples, rng))
    ltp, ltd = branches
    devices = sorted({t.device for t in traces})
    d2d = 0.0
    if len(devices) > 1:
        labels = []
        for dev in devices:
            mine = [t for t in traces if t.device == dev]
            if {t.direction for t in mine} != {"ltp", "ltd"}:
                continue
            labels.append([fit_branch([t for t in mine if t.direction == d], g_min,
                                      g_max).nl_label for d in ("ltp", "ltd")])
        if len(labels) > 1:
            # the spread of the devices' labels holds each device fit's own noise too: remove
            # it (a device has 1/n of the traces, so its label's variance is n times the
            # pooled fit's bootstrap variance)
            var = np.var(np.asarray(labels), axis=0, ddof=1)
            noise = np.array([ltp.nl_label_se, ltd.nl_label_se]) ** 2 * len(labels)
            if np.all(np.isfinite(noise)):
                var = np.maximum(var - noise, 0.0)
            else:
                warnings.append("sigma_d2d is the raw spread of the devices' labels (no "
                                "bootstrap: the fit noise is not removed)")
            d2d = float(np.mean(np.sqrt(var)))
    cycles = len({(t.device, t.cycle) for t in traces})
    return DeviceFit(g_min, g_max, ltp, ltd, d2d, len(devices), cycles,
                     tuple(warnings) + ltp.warnings + ltd.warnings)


def simulate_traces(device: AnalogDevice, rng: np.random.Generator, *, cycles: int = 1,
                    devices: int = 1, chained: bool = False) -> list[Trace]:
    """Pulse trains of the model itself: per device (its own NL labels when sigma_d2d > 0) and
    cycle, N_LTP pulses up from G_min and N_LTD pulses down from G_max, one at a time, with the
    device's C-to-C noise (what a measurement of the device would give). ``chained``: each
    train starts where the previous one ended (trains measured back to back)."""
    from .analog import apply_pulses
    from .programming import cell_branches

    out = []
    for d in range(devices):
        ltp, ltd = cell_branches(device, (1,), rng)
        cell = np.array([device.g_min_s])
        for c in range(cycles):
            for direction, start, n, sign in (("ltp", device.g_min_s, device.levels_ltp, 1),
                                              ("ltd", device.g_max_s, device.levels_ltd, -1)):
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


def bootstrap_errors(fit: BranchFit, traces: list[Trace], g_min_s: float, g_max_s: float,
                     resamples: int, rng: np.random.Generator) -> BranchFit:
    """The fit with standard errors of its NL label and sigma_C2C from a parametric
    bootstrap: ``resamples`` data sets drawn from the fitted model itself (the one-pulse map,
    its noise, clipped at the edges), with the measured traces' starts and lengths, each
    fitted again."""
    import dataclasses

    if resamples < 2:
        return fit
    span = g_max_s - g_min_s
    kappa = 0.0 if math.isinf(fit.shape_a) else 1.0 / (fit.shape_a * fit.levels)
    rho, c = map_coefficients(kappa, fit.levels, fit.direction)
    starts = np.array([(t.g_s[0] - g_min_s) / span for t in traces])
    lengths = [t.g_s.size for t in traces]
    labels, sigmas = [], []
    for _ in range(resamples):
        xs, ys = [], []
        for u0, n in zip(starts, lengths, strict=True):
            u = np.empty(n)
            u[0] = u0
            noise = rng.standard_normal(n - 1) * fit.sigma_c2c
            for k in range(n - 1):
                u[k + 1] = min(max(rho * u[k] + c + noise[k], 0.0), 1.0)
            xs.append(u[:-1])
            ys.append(u[1:])
        k_b, s_b, _ = branch_map_fit(np.concatenate(xs), np.concatenate(ys), fit.levels,
                                     fit.direction)
        a_b = math.inf if k_b == 0 or abs(1 / k_b) > LINEAR_A else 1.0 / (k_b * fit.levels)
        labels.append(float(np.clip(label_from_shape(a_b), -NL_MAX, NL_MAX)))
        sigmas.append(s_b)
    return dataclasses.replace(fit, nl_label_se=float(np.std(labels, ddof=1)),
                               sigma_c2c_se=float(np.std(sigmas, ddof=1)))

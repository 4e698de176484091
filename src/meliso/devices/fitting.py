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
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .._validation import ParameterError
from .analog import AnalogDevice
from .fit_likelihood import (
    EDGE,
    LINEAR_A,
    Direction,
    FloatArray,
    Intervals,
    MapFit,
    clipped_label,
    label_from_shape,
    map_coefficients,
    profile_intervals,
    select_levels,
    shape_of,
)
from .nonlinearity import NL_MAX

__all__ = ["EDGE", "LINEAR_A", "BranchFit", "DeviceFit", "MapFit", "Trace", "fit_branch",
           "fit_device", "label_from_shape", "map_coefficients", "simulate_traces"]

#: Fewest pulses (transitions) per branch that a fit accepts.
MIN_TRANSITIONS = 8
#: Readings that repeat the data's extreme exactly before it is taken as a clipped edge.
CLIPPED_REPEATS = 3
#: Readings beyond the window by more than this fraction of it are reported as outliers.
OUTLIER_FRAC = 0.05


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
            copies = refit_copies(branch, own, g_min_s, g_max_s, resamples, rng, like=f)
            null = [clipped_label(m.kappa, m.levels) for m in copies]
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


def refit_copies(branch: BranchFit, traces: list[Trace], g_min_s: float, g_max_s: float,
                 resamples: int, rng: np.random.Generator, *, like: BranchFit
                 ) -> Iterator[MapFit]:
    """``resamples`` copies of ``traces`` drawn from ``branch``'s one-pulse map and noise
    (:func:`simulate_map`, in chunks within ``MAX_SIMULATED_CELLS``), each fitted again as
    ``like`` was: its pulses per train and the source of its N."""
    kappa = 0.0 if math.isinf(branch.shape_a) else 1.0 / (branch.shape_a * branch.levels)
    rho, c = map_coefficients(kappa, branch.levels, branch.direction)
    arrival = like.levels if like.levels_source == "likelihood" else None
    chunk = _chunk(traces)
    for r in range(resamples):
        if r % chunk == 0:
            u = simulate_map(rho, c, branch.sigma_c2c, traces, g_min_s, g_max_s,
                             min(chunk, resamples - r), rng)
        yield select_levels(*transitions(u, r % chunk), like.pulses_observed,
                            branch.direction, source=like.levels_source, arrival=arrival)


def bootstrap_errors(fit: BranchFit, traces: list[Trace], g_min_s: float, g_max_s: float,
                     resamples: int, rng: np.random.Generator) -> BranchFit:
    """The fit with standard errors of its NL label, sigma_C2C and N from a parametric
    bootstrap: ``resamples`` data sets drawn from the fitted model itself (the
    one-pulse map, its noise, clipped at the edges), with the measured traces' starts and
    lengths, each fitted again the same way (N from the same source)."""
    import dataclasses

    if resamples < 2:
        return fit
    copies = list(refit_copies(fit, traces, g_min_s, g_max_s, resamples, rng, like=fit))
    # the intervals are the profile likelihood's (fit_branch): these resamples give the
    # standard errors
    nl_se, s_se, n_se = (float(np.std(v, ddof=1)) for v in (
        [clipped_label(m.kappa, m.levels) for m in copies], [m.sigma for m in copies],
        [m.levels for m in copies]))
    return dataclasses.replace(fit, nl_label_se=nl_se, sigma_c2c_se=s_se, levels_se=n_se)

"""Distribution fits of error populations and model selection (Chowdhury et al. 2024, Table II).

Candidate families, the ones the paper names plus the normal as a baseline:

- ``normal``: closed-form maximum likelihood;
- ``johnsonsu``: Johnson S_U (``scipy.stats.johnsonsu``, parameters a, b, loc, scale);
- ``shash``: Jones-Pewsey sinh-arcsinh (:mod:`meliso.analysis.shash`; epsilon, delta, loc, scale);
- ``normal_mix2`` / ``normal_mix3``: normal mixtures (``sklearn.mixture.GaussianMixture``;
  weights, means, standard deviations).

Every fit is a maximum-likelihood fit to the finite values of the sample (non-finite values are
counted, never fitted). The sample is first standardised by its median and IQR, which leaves
maximum likelihood unchanged (the log-likelihood shifts by n log(scale), added back) but keeps
the optimiser well conditioned whether errors are 1e-4 wide or heavy-tailed with |e| in the
thousands; nothing is clipped or trimmed. Johnson S_U and SHASH use L-BFGS with analytic
gradients, started at the normal-like shape and, if that does not converge, at a heavier tail.

Model selection: the lowest BIC = k ln n - 2 ln L (k free parameters: normal 2, Johnson S_U 4,
SHASH 4, c-component mixture 3c - 1). AIC = 2k - 2 ln L and the Kolmogorov-Smirnov statistic
sup |F_n - F| are reported beside it. A fit whose optimiser does not converge is kept in the
table with ``converged = False`` and its message, and is not eligible as the best fit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from .shash import shash

FloatArray = NDArray[np.float64]
FAMILIES = ("normal", "johnsonsu", "shash", "normal_mix2", "normal_mix3")
#: Each family as Chowdhury et al. 2024 (Table II) spell it.
FAMILY_NAMES = {"normal": "Normal", "johnsonsu": "Johnson SU", "shash": "SHASH",
                "normal_mix2": "Normal-2-Mixture", "normal_mix3": "Normal-3-Mixture"}


def family_name(family: str | None) -> str:
    """A family's name as the paper spells it (the key itself if unknown; "none" for None)."""
    if family is None:
        return "none"
    return FAMILY_NAMES.get(family, family)
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class FitResult:
    """One family fitted to a sample (parameters in the sample's own units)."""

    family: str
    params: dict[str, float | list[float]]
    converged: bool
    loglik: float
    n_params: int
    n: int
    ks: float
    message: str = ""

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.n_params * math.log(self.n) - 2 * self.loglik


@dataclass(frozen=True)
class FitReport:
    """All candidate fits of one sample and the best by BIC (``None`` if none converged)."""

    fits: list[FitResult]
    best: FitResult | None = field(default=None)

    def table(self) -> list[dict[str, object]]:
        """One row per family: converged, log-likelihood, AIC, BIC, KS, parameters."""
        return [
            {"family": f.family, "converged": f.converged, "loglik": f.loglik, "aic": f.aic,
             "bic": f.bic, "ks": f.ks, "params": f.params, "message": f.message}
            for f in self.fits
        ]


def _failed(family: str, k: int, n: int, message: str) -> FitResult:
    return FitResult(family, {}, False, math.nan, k, n, math.nan, message)


def _ks(z_sorted: FloatArray, cdf: Callable[[FloatArray], FloatArray]) -> float:
    """Kolmogorov-Smirnov statistic sup |F_n - F| of an already sorted sample."""
    f = cdf(z_sorted)
    n = z_sorted.size
    upper = np.arange(1, n + 1) / n - f
    lower = f - np.arange(n) / n
    return float(max(upper.max(), lower.max()))


def _fit_normal(z: FloatArray) -> tuple[dict[str, float], float, float, bool, str]:
    mu, sd = float(z.mean()), float(z.std())
    if sd == 0:
        return {}, math.nan, math.nan, False, "zero spread"
    ll = float(stats.norm.logpdf(z, mu, sd).sum())
    return {"loc": mu, "scale": sd}, ll, _ks(z, lambda v: stats.norm.cdf(v, mu, sd)), True, ""


def _johnsonsu_nll(theta: FloatArray, z: FloatArray) -> tuple[float, FloatArray]:
    a, log_b, xi, log_lam = theta
    b, lam = math.exp(log_b), math.exp(log_lam)
    u = (z - xi) / lam
    r = np.sqrt(1 + u * u)
    ash = np.arcsinh(u)
    w = a + b * ash
    ll = np.log(b) - log_lam - np.log(r) - _LOG_SQRT_2PI - 0.5 * w * w
    dll_du = -u / (r * r) - w * b / r
    grad = np.array([
        -w.sum(),
        (1 - b * w * ash).sum(),
        (-dll_du / lam).sum(),
        (-1 - dll_du * u).sum(),
    ])
    return -float(ll.sum()), -grad


def _shash_nll(theta: FloatArray, z: FloatArray) -> tuple[float, FloatArray]:
    eps, log_d, mu, log_s = theta
    d, s = math.exp(log_d), math.exp(log_s)
    y = (z - mu) / s
    ash = np.arcsinh(y)
    t = d * ash - eps
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(np.clip(t, -350.0, 350.0))  # one exp gives sinh, cosh and tanh
        inv = 1.0 / e
        sh, ch = 0.5 * (e - inv), 0.5 * (e + inv)
        r2 = 1 + y * y
        ll = log_d + np.log(ch) - _LOG_SQRT_2PI - 0.5 * np.log(r2) - 0.5 * sh * sh - log_s
        dll_dt = sh / ch - sh * ch
        dll_dy = -y / r2 + dll_dt * d / np.sqrt(r2)
        grad = np.array([
            (-dll_dt).sum(),
            (1 + dll_dt * d * ash).sum(),
            (-dll_dy / s).sum(),
            (-1 - dll_dy * y).sum(),
        ])
    value = -float(ll.sum())
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return math.inf, np.zeros(4)
    return value, -grad


def _lbfgs(nll: Callable[[FloatArray, FloatArray], tuple[float, FloatArray]], z: FloatArray,
           starts: list[list[float]]) -> tuple[FloatArray | None, float, bool, str]:
    best_x, best_f, ok, msg = None, math.inf, False, "no start converged"
    bounds = [(-50, 50), (-6, 6), (None, None), (-20, 20)]
    for x0 in starts:
        res = optimize.minimize(nll, np.array(x0, dtype=float), args=(z,), jac=True,
                                method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 500, "gtol": 1e-6})
        if np.isfinite(res.fun) and res.fun < best_f:
            best_x, best_f, ok, msg = res.x, float(res.fun), bool(res.success), str(res.message)
        if ok:  # later starts are fall-backs (on the study's populations they found the same)
            break
    return best_x, -best_f, ok, msg


def _fit_johnsonsu(z: FloatArray) -> tuple[dict[str, float], float, float, bool, str]:
    theta, ll, ok, msg = _lbfgs(_johnsonsu_nll, z, [[0, 0, 0, 0], [0, math.log(0.5), 0, 0]])
    if theta is None:
        return {}, math.nan, math.nan, False, msg
    a, b, xi, lam = theta[0], math.exp(theta[1]), theta[2], math.exp(theta[3])
    ks = _ks(z, lambda v: stats.johnsonsu.cdf(v, a, b, xi, lam))
    return {"a": a, "b": b, "loc": xi, "scale": lam}, ll, ks, ok, msg


def _fit_shash(z: FloatArray) -> tuple[dict[str, float], float, float, bool, str]:
    theta, ll, ok, msg = _lbfgs(_shash_nll, z, [[0, 0, 0, 0], [0, math.log(0.5), 0, 0]])
    if theta is None:
        return {}, math.nan, math.nan, False, msg
    eps, d, mu, s = theta[0], math.exp(theta[1]), theta[2], math.exp(theta[3])
    ks = _ks(z, lambda v: shash.cdf(v, eps, d, mu, s))
    return {"epsilon": eps, "delta": d, "loc": mu, "scale": s}, ll, ks, ok, msg


def _fit_mixture(z: FloatArray, c: int) -> tuple[dict[str, list[float]], float, float, bool, str]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    # Deterministic start: means at evenly spaced quantiles, equal weights, unit sds (in IQR
    # units); faster than k-means and better on heavy tails. tol is per sample in standardised
    # units (the total log-likelihood moves by < n 1e-4, far below the BIC gaps between
    # families); reg_covar floors each variance at 1e-6 IQR^2.
    means0 = np.percentile(z, np.linspace(50 / c, 100 - 50 / c, c))[:, None]
    gm = GaussianMixture(c, max_iter=300, tol=1e-4, reg_covar=1e-6, means_init=means0,
                         weights_init=np.full(c, 1.0 / c), precisions_init=np.ones((c, 1, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(z[:, None])
    w = gm.weights_.astype(float)
    mu = gm.means_[:, 0].astype(float)
    sd = np.sqrt(gm.covariances_.reshape(-1)).astype(float)
    ll = float(gm.score(z[:, None]) * z.size)
    order = np.argsort(mu)
    ks = _ks(z, lambda v: (w * special.ndtr((v[:, None] - mu) / sd)).sum(axis=1))
    params = {"weights": w[order].tolist(), "means": mu[order].tolist(),
              "sds": sd[order].tolist()}
    msg = "" if gm.converged_ else f"EM did not converge in {gm.max_iter} iterations"
    tiny = int((w * z.size < 5).sum())
    if tiny:
        msg = (msg + "; " if msg else "") + (
            f"{tiny} component(s) hold fewer than 5 points (isolated outliers)")
    return params, ll, ks, bool(gm.converged_), msg


_N_PARAMS = {"normal": 2, "johnsonsu": 4, "shash": 4, "normal_mix2": 5, "normal_mix3": 8}


def _to_sample_units(family: str, p: dict, center: float, scale: float) -> dict:
    out = dict(p)
    if family.startswith("normal_mix"):
        out["means"] = [center + scale * v for v in p["means"]]
        out["sds"] = [scale * v for v in p["sds"]]
        return out
    out["loc"] = center + scale * p["loc"]
    out["scale"] = scale * p["scale"]
    return out


def fit_distributions(sample: ArrayLike, families: tuple[str, ...] = FAMILIES) -> FitReport:
    """Fit every family in ``families`` to the finite values of ``sample``; best by BIC."""
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown families {sorted(unknown)}; choose from {FAMILIES}")
    x = np.asarray(sample, dtype=np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n < 20:
        return FitReport([_failed(f, _N_PARAMS[f], n, f"too few finite values ({n} < 20)")
                          for f in families])
    center = float(np.median(x))
    q1, q3 = np.percentile(x, [25, 75])
    scale = float(q3 - q1) / 1.349 or float(x.std())
    if scale == 0:
        return FitReport([_failed(f, _N_PARAMS[f], n, "the sample has zero spread")
                          for f in families])
    z = np.sort((x - center) / scale)  # sorted once: every fit's KS statistic needs it
    fitters: dict[str, Callable[[FloatArray], tuple]] = {
        "normal": _fit_normal, "johnsonsu": _fit_johnsonsu, "shash": _fit_shash,
        "normal_mix2": lambda v: _fit_mixture(v, 2), "normal_mix3": lambda v: _fit_mixture(v, 3),
    }
    fits = []
    for fam in families:
        try:
            params, ll_z, ks, ok, msg = fitters[fam](z)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            fits.append(_failed(fam, _N_PARAMS[fam], n, f"{type(exc).__name__}: {exc}"))
            continue
        if not params:
            fits.append(_failed(fam, _N_PARAMS[fam], n, msg))
            continue
        fits.append(FitResult(fam, _to_sample_units(fam, params, center, scale), ok,
                              ll_z - n * math.log(scale), _N_PARAMS[fam], n, ks, msg))
    eligible = [f for f in fits if f.converged and np.isfinite(f.loglik)]
    best = min(eligible, key=lambda f: f.bic) if eligible else None
    return FitReport(fits, best)


def fitted_pdf(fit: FitResult, x: ArrayLike) -> FloatArray:
    """Density of a fitted family at ``x`` (for plotting over a histogram)."""
    v = np.asarray(x, dtype=np.float64)
    p = fit.params
    if fit.family == "normal":
        return stats.norm.pdf(v, p["loc"], p["scale"])
    if fit.family == "johnsonsu":
        return stats.johnsonsu.pdf(v, p["a"], p["b"], p["loc"], p["scale"])
    if fit.family == "shash":
        return shash.pdf(v, p["epsilon"], p["delta"], p["loc"], p["scale"])
    w, mu, sd = (np.asarray(p[k], dtype=float) for k in ("weights", "means", "sds"))
    return (w * stats.norm.pdf(v[..., None], mu, sd)).sum(axis=-1)


def fit_from_record(family: str | None, params: dict[str, Any] | None) -> FitResult | None:
    """A plottable fit from a stored best-fit family and its parameters (None if there is
    none)."""
    if not family or not params or family not in FAMILIES:
        return None
    return FitResult(family, params, True, math.nan, 0, 1, math.nan)

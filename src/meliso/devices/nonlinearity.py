"""Non-linearity label -> normalised curve shape ``a`` (NeuroSim's device model).

NeuroSim describes a branch (LTP or LTD) of an analog synaptic device by the curve

    G(p) = B (1 - exp(-p / A)) + G_min,   A = a * N,   B = (G_max - G_min) / (1 - exp(-N / A))

(p the pulse number, N the number of levels). The literature quotes a *non-linearity label* NL
instead of ``a``. The label is the largest deviation of the normalised curve from a straight line,

    NL = K * max_{x in [0, 1]} (g_a(x) - x),   g_a(x) = (1 - e^{-x/a}) / (1 - e^{-1/a}),

with K = 10.10152544 (``docs/neurosim.md``, the NL table). The maximum has a closed form:
g_a'(x) = 1 at x* = -a ln(a (1 - e^{-1/a})), so the deviation D(a) = g_a(x*) - x* is evaluated
exactly, and ``a`` is found by bisection on log(a) (D is strictly decreasing in a) to full double
precision. A negative label gives a negative ``a`` (a convex curve); NL = 0 is an exactly linear
device (``a = inf``) in meliso's physics.

NeuroSim itself reads ``a`` from a 900-entry table of labels 0.01 ... 9.00, rounded to six
decimals; :func:`meliso.neurosim.device.neurosim_table` regenerates it from the same root
finding (``docs/neurosim.md``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Scale between the curve deviation and the literature label (not 1000/99; see module docstring).
NL_SCALE = 10.10152544
#: Largest |label| accepted: the end of NeuroSim's table.
NL_MAX = 9.0
#: Below this |label| the curve is taken as exactly linear (deviation < 1e-7 of the range).
NL_LINEAR_BELOW = 1e-6

_LOG_A_LO = np.log(1e-4)  # label ~ 10.09
_LOG_A_HI = np.log(1e12)  # label ~ 1e-12


def curve_deviation(a: ArrayLike) -> NDArray[np.float64]:
    """Largest deviation max_x (g_a(x) - x) of the normalised curve of shape ``a > 0``."""
    a = np.asarray(a, dtype=np.float64)
    c = -np.expm1(-1.0 / a)  # 1 - e^{-1/a}
    x_star = -a * np.log(a * c)
    return -np.expm1(-x_star / a) / c - x_star


def shape_by_bisection(labels: NDArray[np.float64]) -> NDArray[np.float64]:
    """Vectorised bisection of NL_SCALE * D(a) = label for label in (0, ~10.1)."""
    lo = np.full(labels.shape, _LOG_A_LO)
    hi = np.full(labels.shape, _LOG_A_HI)
    for _ in range(70):
        mid = 0.5 * (lo + hi)
        too_curved = NL_SCALE * curve_deviation(np.exp(mid)) > labels
        lo = np.where(too_curved, mid, lo)
        hi = np.where(too_curved, hi, mid)
    return np.exp(0.5 * (lo + hi))


def _deviation_slope(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """dD/da: by the envelope theorem, the partial derivative of g_a(x) in a at x = x*."""
    c = -np.expm1(-1.0 / a)
    x_star = -a * np.log(a * c)
    e_x = np.exp(-x_star / a)
    e_1 = np.exp(-1.0 / a)
    return (-(x_star * e_x) * c + (1.0 - e_x) * e_1) / (a * a * c * c)


@lru_cache(maxsize=1)
def _grid() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    log_labels = np.linspace(np.log(NL_LINEAR_BELOW), np.log(NL_MAX), 2001)
    return log_labels, np.log(shape_by_bisection(np.exp(log_labels)))


def _solve_fast(labels: NDArray[np.float64]) -> NDArray[np.float64]:
    """Same root as :func:`shape_by_bisection` for large arrays.

    log(a) is nearly linear in log(label) (a ~ K / (8 NL) for small labels), so interpolation on
    a log-log grid starts Newton's method on log(K D(a)) = log(NL) within ~1e-4; three steps
    reach double precision.
    """
    grid_x, grid_u = _grid()
    log_l = np.log(labels)
    u = np.interp(log_l, grid_x, grid_u)
    for _ in range(3):
        a = np.exp(u)
        dev = curve_deviation(a)
        u = u - (np.log(NL_SCALE * dev) - log_l) / (a * _deviation_slope(a) / dev)
    return np.exp(u)


@lru_cache(maxsize=4096)
def _shape_scalar(label: float) -> float:
    mag = abs(label)
    if mag < NL_LINEAR_BELOW:
        return float(np.inf)
    a = float(shape_by_bisection(np.array([mag]))[0])
    return a if label > 0 else -a


def shape_from_label(label: ArrayLike) -> NDArray[np.float64] | float:
    """Normalised curve shape ``a`` for a non-linearity label (scalar or array).

    Sign follows the label; |label| < 1e-6 gives ``inf`` (exactly linear). Labels beyond
    +-9 (the end of NeuroSim's table) raise ``ValueError``; per-cell arrays (device-to-device
    variation) should be clipped by the caller.
    """
    arr = np.asarray(label, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("non-linearity label must be finite")
    if np.any(np.abs(arr) > NL_MAX + 1e-12):
        raise ValueError(f"non-linearity label out of range: allowed -{NL_MAX} <= NL <= {NL_MAX}")
    if arr.ndim == 0:
        return _shape_scalar(float(arr))
    mag = np.abs(arr)
    out = np.full(arr.shape, np.inf)
    curved = mag >= NL_LINEAR_BELOW
    if np.any(curved):
        out[curved] = _solve_fast(mag[curved])
    return np.where(arr < 0, -out, out)

"""Multilevel analog RRAM device compatible with NeuroSim's model (Chowdhury et al. 2024, §III,
Table I).

Each branch (LTP: potentiation, LTD: depression) is a curve of conductance against pulse number
(``docs/physics.md``, the device model)::

    G(p) = B (1 - exp(-p / A)) + G_min,   p(G) = -A ln(1 - (G - G_min) / B),
    A = a N,   B = (G_max - G_min) / (1 - exp(-N / A))

evaluated with ``expm1`` and ``log1p`` so that a nearly linear curve (|A| >> N, B ~ A) loses
no digits to cancellation, with N levels and ``a`` the curve shape from the branch's
non-linearity label (:mod:`meliso.devices.nonlinearity`). Both branches run from G_min (p = 0)
to G_max (p = N); potentiation walks forward along the LTP curve, depression backward along
the LTD curve. NL = 0 is exactly linear, G(p) = G_min + (p / N)(G_max - G_min).

One programming event of n pulses (n > 0 LTP, n < 0 LTD) moves a cell from G to G(p(G) + n) on
that branch, adds cycle-to-cycle noise Normal(0, sigma_c2c (G_max - G_min)) sqrt(|n|) when n != 0,
and clips to [G_min, G_max]. The pulse position itself is not clamped; only G is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from .base import DeviceBase
from .nonlinearity import NL_MAX, shape_from_label

FloatArray = NDArray[np.float64]
#: Most conductance states per branch, 2^52: a weight then rounds to within 2^-53 of its tile's
#: scale, float64's own resolution (an ideal device of 52 bits is the exact reference).
MAX_WEIGHT_BITS = 52


class AnalogDevice(DeviceBase):
    """Parameters of a multilevel analog device (all SI units). Frozen; validated on creation."""

    kind: Literal["analog"] = "analog"
    r_on_ohm: float = Field(ge=1, le=1e12, description="low-resistance state R_on = 1/G_max, ohm")
    on_off_ratio: float = Field(
        gt=1, le=1e9, description="memory window G_max/G_min (= R_off/R_on)"
    )
    levels_ltp: int = Field(ge=1, le=1 << MAX_WEIGHT_BITS,
                            description="conductance states (pulses) of LTP")
    levels_ltd: int = Field(ge=1, le=1 << MAX_WEIGHT_BITS,
                            description="conductance states (pulses) of LTD")
    nl_ltp: float = Field(0.0, ge=-NL_MAX, le=NL_MAX, description="non-linearity label of LTP")
    nl_ltd: float = Field(0.0, ge=-NL_MAX, le=NL_MAX, description="non-linearity label of LTD")
    sigma_c2c: float = Field(
        0.0, ge=0, le=1, description="cycle-to-cycle variation, fraction of G_max - G_min"
    )
    sigma_d2d: float = Field(
        0.0, ge=0, le=5, description="device-to-device variation of the NL label (label units)"
    )
    v_read_v: float = Field(0.5, ge=1e-3, le=10, description="read voltage, V")
    g_init_frac: float = Field(
        0.0,
        ge=0,
        le=1,
        description="initial state cells are programmed from, fraction of the window (0 = G_min)",
    )
    write_v_ltp_v: float | None = Field(None, ge=-50, le=50,
                                        description="LTP write pulse amplitude, V")
    write_pulse_ltp_sec: float | None = Field(None, ge=0, le=1,
                                            description="LTP write pulse width, s")
    write_v_ltd_v: float | None = Field(None, ge=-50, le=50,
                                        description="LTD write pulse amplitude, V")
    write_pulse_ltd_sec: float | None = Field(None, ge=0, le=1,
                                            description="LTD write pulse width, s")

    @property
    def g_max_s(self) -> float:
        """G_max = 1 / R_on, siemens."""
        return 1.0 / self.r_on_ohm

    @property
    def g_min_s(self) -> float:
        """G_min = G_max / (on/off ratio), siemens."""
        return self.g_max_s / self.on_off_ratio

    @property
    def g_range_s(self) -> float:
        """G_max - G_min, siemens."""
        return self.g_max_s - self.g_min_s

    def shape_ltp(self) -> float:
        """Normalised LTP curve shape ``a`` (``inf`` when linear)."""
        return float(shape_from_label(self.nl_ltp))

    def shape_ltd(self) -> float:
        """Normalised LTD curve shape ``a`` (``inf`` when linear)."""
        return float(shape_from_label(self.nl_ltd))


@dataclass(frozen=True)
class Branch:
    """One branch of the pulse response: shape ``a`` (scalar or per cell) and its level count."""

    a: float | FloatArray
    levels: int

    def take(self, mask: NDArray[np.bool_]) -> Branch:
        """The branch restricted to the cells selected by ``mask`` (for per-cell shapes)."""
        if np.ndim(self.a) == 0:
            return self
        return Branch(np.asarray(self.a)[mask], self.levels)


def _curve_constants(branch: Branch, g_min_s: float, g_max_s: float) -> tuple[Any, Any, bool]:
    """(A, B, linear) of a branch; A and B are scalars or per-cell arrays."""
    n = float(branch.levels)
    a = np.asarray(branch.a, dtype=np.float64)
    if a.ndim == 0 and np.isinf(a):
        return None, None, True
    big_a = np.where(np.isinf(a), np.inf, a * n)
    with np.errstate(divide="ignore"):
        b = (g_max_s - g_min_s) / -np.expm1(-n / big_a)  # inf A -> b = inf (masked later)
    return big_a, b, False


def branch_conductance(p: FloatArray, branch: Branch, g_min_s: float, g_max_s: float) -> FloatArray:
    """G(p) of one branch, siemens (pulse positions ``p`` need not lie in 0 ... N)."""
    p = np.asarray(p, dtype=np.float64)
    big_a, b, linear = _curve_constants(branch, g_min_s, g_max_s)
    if linear:
        return g_min_s + (g_max_s - g_min_s) * (p / branch.levels)
    with np.errstate(invalid="ignore"):
        curved = b * -np.expm1(-p / big_a) + g_min_s
    if np.ndim(big_a) == 0:
        return curved
    lin = np.isinf(big_a)
    return np.where(lin, g_min_s + (g_max_s - g_min_s) * (p / branch.levels), curved)


def branch_position(g_s: FloatArray, branch: Branch, g_min_s: float, g_max_s: float) -> FloatArray:
    """Pulse position p(G) of conductances ``g_s`` on one branch (inverse of G(p))."""
    g = np.asarray(g_s, dtype=np.float64)
    big_a, b, linear = _curve_constants(branch, g_min_s, g_max_s)
    if linear:
        return branch.levels * (g - g_min_s) / (g_max_s - g_min_s)
    with np.errstate(invalid="ignore", divide="ignore"):  # saturated curves: log(0) -> inf
        curved = -big_a * np.log1p(-(g - g_min_s) / b)
    if np.ndim(big_a) == 0:
        return curved
    lin = np.isinf(big_a)
    return np.where(lin, branch.levels * (g - g_min_s) / (g_max_s - g_min_s), curved)


def apply_pulses(
    g_s: float | FloatArray,
    pulses: NDArray[np.int64],
    device: AnalogDevice,
    rng: np.random.Generator,
    *,
    ltp: Branch,
    ltd: Branch,
    kernel: Literal["auto", "numba", "numpy"] = "auto",
) -> FloatArray:
    """One programming event per cell: move ``g_s`` by signed ``pulses`` (new array, siemens).

    n > 0 walks the LTP curve forward, n < 0 the LTD curve backward, n = 0 leaves the cell
    untouched. Cycle-to-cycle noise Normal(0, sigma_c2c (G_max - G_min)) * sqrt(|n|) is added to
    every cell with n != 0, then G is clipped to [G_min, G_max] (``docs/physics.md`` §1.4 and
    §1.6).
    ``g_s`` may be a scalar (every cell in the same state, e.g. the initial state): its curve
    position is then computed once per branch.

    ``kernel``: ``numba`` runs one fused pass per cell (:mod:`meliso.devices._kernels`, scalar
    curve shapes only); ``numpy`` is its plain twin; ``auto`` picks numba whenever it applies.
    Both consume ``rng`` identically (one standard normal per moved cell, in flat order).
    """
    g_min, g_max = device.g_min_s, device.g_max_s
    pulses = np.asarray(pulses)
    uniform = np.ndim(g_s) == 0
    scalar_shapes = np.ndim(ltp.a) == 0 and np.ndim(ltd.a) == 0
    if kernel == "numba" and not scalar_shapes:
        raise ValueError("the numba kernel needs scalar curve shapes (no device-to-device spread)")
    if kernel != "numpy" and scalar_shapes:
        return _apply_pulses_numba(g_s, pulses, device, rng, ltp, ltd)
    g = np.full(pulses.shape, float(g_s)) if uniform else np.array(g_s, dtype=np.float64)
    for sign, branch in ((1, ltp), (-1, ltd)):
        mask = pulses > 0 if sign > 0 else pulses < 0
        if not np.any(mask):
            continue
        sub = branch.take(mask)
        start = g_s if uniform else g[mask]
        pos = branch_position(np.asarray(start, dtype=np.float64), sub, g_min, g_max)
        g[mask] = branch_conductance(pos + pulses[mask], sub, g_min, g_max)
    if device.sigma_c2c > 0:
        moved = np.flatnonzero(pulses)
        if moved.size:
            sigma = device.sigma_c2c * device.g_range_s
            flat = g.reshape(-1)
            steps = np.abs(pulses.reshape(-1)[moved]).astype(np.float64)
            flat[moved] += rng.standard_normal(moved.size) * sigma * np.sqrt(steps)
    np.clip(g, g_min, g_max, out=g)
    return g


def _apply_pulses_numba(
    g_s: float | FloatArray,
    pulses: NDArray[np.int64],
    device: AnalogDevice,
    rng: np.random.Generator,
    ltp: Branch,
    ltd: Branch,
) -> FloatArray:
    from ._kernels import move_cells

    flat_p = np.ascontiguousarray(pulses, dtype=np.int64).reshape(-1)
    uniform = np.ndim(g_s) == 0
    g_in = np.empty(0) if uniform else np.ascontiguousarray(g_s, dtype=np.float64).reshape(-1)
    g0 = float(g_s) if uniform else 0.0
    normals = np.empty(0)
    if device.sigma_c2c > 0:
        normals = rng.standard_normal(int(np.count_nonzero(flat_p)))
    out = np.empty(flat_p.size)
    move_cells(
        g_in, uniform, g0, flat_p,
        float(ltp.a), ltp.levels, float(ltd.a), ltd.levels,
        device.g_min_s, device.g_max_s, normals, device.sigma_c2c * device.g_range_s, out,
    )
    return out.reshape(pulses.shape)


def read_resistance_ohm(
    g_s: FloatArray, sigma_read: float, rng: np.random.Generator | None
) -> FloatArray:
    """Cell resistance seen by one read: 1/G times (1 + n), n ~ Normal(0, sigma_read) per read.

    The factor 1 + n is floored at 0.01: a resistance cannot turn negative in the far tail.
    """
    r = 1.0 / np.asarray(g_s, dtype=np.float64)
    if sigma_read > 0:
        if rng is None:
            raise ValueError("a random generator is needed when sigma_read > 0")
        factor = 1.0 + sigma_read * rng.standard_normal(r.shape)
        r = r * np.maximum(factor, 0.01)
    return r

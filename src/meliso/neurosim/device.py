"""NeuroSim V3.0's open-loop write as MELISO drives it: a weight *change* per cell.

This is the device component's ``neurosim`` option (``docs/neurosim.md``, steps
2-3). Where meliso's physics programs target fractions from an initial state the user chooses,
MELISO's NeuroSim starts every cell at G0 = 0.5 (G_max - G_min), without the +G_min term (quirk
Q1), and sends the pulses for the weight change dw = A on weights in [-1, 1]:

1. branch LTP if dw > 0, else LTD (dw = 0 included), with that branch's N and A;
2. d = dw / 2, rounded half away from zero to a multiple of 1/N;
3. p = int(d N), a C cast (one short for a few k when N = 97 or 100: quirk Q2);
4. A = sign(NL) T[idx] N from NeuroSim's table (:func:`neurosim_shape`, Q4),
   b = (G_max - G_min) / (1 - exp(-N / A));
5. x_p = -A log(1 - (G - G_min) / b), G' = b (1 - exp(-(x_p + p) / A)) + G_min, evaluated even
   for p = 0 (a log/exp round trip that can move G by a few ulps: Q3);
6. C-to-C: G' += eps sqrt(|p|), eps ~ Normal(0, sigma_c2c (G_max - G_min)), only when p != 0;
7. clip to [G_min, G_max].

Bit-exactness: steps 4-5 use ``exp`` and ``log``; NumPy's vectorised versions may differ from
the C library's by an ulp, so the write runs in a Numba kernel whose ``math.exp``/``math.log``
call the C library, as NeuroSim does. Everything else is +, -, *, / and casts, which IEEE 754
rounds identically everywhere.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from ..devices.analog import AnalogDevice
from ..devices.nonlinearity import shape_by_bisection
from ..devices.programming import ProgramResult

FloatArray = NDArray[np.float64]


@lru_cache(maxsize=1)
def neurosim_table() -> NDArray[np.float64]:
    """NeuroSim's 900-entry table of ``a`` for labels 0.01 ... 9.00, rounded to six decimals."""
    labels = np.arange(1, 901, dtype=np.float64) / 100.0
    table = np.round(shape_by_bisection(labels), 6)
    table.setflags(write=False)
    return table


def neurosim_shape(label: float) -> float:
    """NeuroSim's normalised shape for a label: sign(NL) * T[idx], idx = int(|NL| 100) - 1.

    The index is clamped to 0 ... 899 and sign(NL) is +1 only for NL > 0, so NL = 0 reads the
    0.01 entry with sign -1, a near-linear convex curve (``docs/neurosim.md``,
    quirk Q4). The arithmetic is NeuroSim's own double arithmetic: 0.29 * 100 truncates to 28.
    """
    idx = min(max(int(abs(label) * 100) - 1, 0), 899)
    sign = 1.0 if label > 0 else -1.0
    return sign * float(neurosim_table()[idx])


def neurosim_initial_conductance(device: AnalogDevice) -> float:
    """NeuroSim's initial state 0.5 (G_max - G_min), clipped to [G_min, G_max] (quirk Q1)."""
    g_max, g_min = device.g_max_s, device.g_min_s
    g0 = (0.0 - (-1.0)) / (1.0 - (-1.0)) * (g_max - g_min)
    return min(max(g0, g_min), g_max)


@njit(cache=True)
def pulse_count(dw: float, n: int) -> int:
    """MLP_NeuroSim's pulse count for a weight change ``dw`` on weights in [-1, 1]: d = dw / 2
    rounded half away from zero to a multiple of 1/N, then int(d N), a C cast (steps 1-3)."""
    d = dw / 2.0
    s = 1.0 if d >= 0 else -1.0
    v = (d * n) * s
    r = int(v)
    v = r + 1.0 if v - r >= 0.5 else float(r)
    d = (v * s) / n
    return int(d * n)


@njit(cache=True)
def neurosim_write_kernel(
    dw: np.ndarray,
    g0: float,
    n_ltp: int,
    n_ltd: int,
    a_ltp: float,
    a_ltd: float,
    g_min: float,
    g_max: float,
    normals: np.ndarray,
    sigma_s: float,
    out_g: np.ndarray,
    out_pulses: np.ndarray,
) -> None:
    """One NeuroSim write per cell from ``g0``; ``a_*`` are NeuroSim's A = sign T N.

    ``normals`` holds one standard normal per cell (used only where p != 0, so every cell's
    noise is the same whatever the other cells do).
    """
    b_ltp = (g_max - g_min) / (1.0 - math.exp(-n_ltp / a_ltp))
    b_ltd = (g_max - g_min) / (1.0 - math.exp(-n_ltd / a_ltd))
    for i in range(dw.size):
        if dw[i] > 0:
            n, a, b = n_ltp, a_ltp, b_ltp
        else:
            n, a, b = n_ltd, a_ltd, b_ltd
        p = pulse_count(dw[i], n)
        x_p = -a * math.log(1.0 - (g0 - g_min) / b)
        g = b * (1.0 - math.exp(-(x_p + p) / a)) + g_min
        if sigma_s != 0.0 and p != 0:
            g += normals[i] * sigma_s * math.sqrt(abs(p))
        out_g[i] = min(max(g, g_min), g_max)
        out_pulses[i] = p


def neurosim_write(
    device: AnalogDevice, dw: ArrayLike, rng: np.random.Generator | None = None
) -> ProgramResult:
    """Program every cell of ``dw`` (any shape) the NeuroSim way; pulses are signed counts."""
    w = np.ascontiguousarray(dw, dtype=np.float64)
    flat = w.reshape(-1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("weight changes must be finite")
    normals = np.empty(0)
    sigma_s = device.sigma_c2c * (device.g_max_s - device.g_min_s)
    if sigma_s != 0.0:
        if rng is None:
            raise ValueError("a random generator is needed when sigma_c2c > 0")
        normals = rng.standard_normal(flat.size)
    g = np.empty(flat.size)
    pulses = np.empty(flat.size, dtype=np.int64)
    neurosim_write_kernel(
        flat, neurosim_initial_conductance(device), device.levels_ltp, device.levels_ltd,
        neurosim_shape(device.nl_ltp) * device.levels_ltp,
        neurosim_shape(device.nl_ltd) * device.levels_ltd,
        device.g_min_s, device.g_max_s, normals, sigma_s, g, pulses,
    )
    ones = np.broadcast_to(np.int64(1), w.shape)
    return ProgramResult(g_s=g.reshape(w.shape), pulses=np.abs(pulses).reshape(w.shape),
                         iterations=ones, converged=None)

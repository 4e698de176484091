"""Numba kernels for programming: one fused pass per cell instead of a dozen array temporaries.

Each kernel has a plain-NumPy twin that the tests compare against:
``open_loop_pulses`` <-> :func:`meliso.devices.programming.pulse_count`,
``move_cells`` <-> :func:`meliso.devices.analog.apply_pulses` with ``kernel="numpy"``.
Only scalar curve shapes (no device-to-device variation) take this path. The noise draws are made
by the caller's ``numpy.random.Generator`` (one standard normal per moved cell, in flat order),
so both paths consume the generator identically.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def open_loop_pulses(
    target: np.ndarray, f0: float, n_ltp: int, n_ltd: int, out: np.ndarray
) -> int:
    """Signed pulse counts round_half_away((target - f0) N_branch) into ``out``; returns #moved."""
    moved = 0
    for i in range(target.size):
        d = target[i] - f0
        n = n_ltp if d > 0 else n_ltd
        v = abs(d * n)
        r = math.floor(v)
        k = int(r + 1.0) if v - r >= 0.5 else int(r)
        if d < 0:
            k = -k
        out[i] = k
        if k != 0:
            moved += 1
    return moved


@njit(cache=True)
def _curve_constants(a: float, n: int, g_min: float, g_max: float) -> tuple[float, float]:
    if math.isinf(a):
        return math.inf, math.inf
    big_a = a * n
    return big_a, (g_max - g_min) / -math.expm1(-n / big_a)


@njit(cache=True)
def _position(g: float, big_a: float, b: float, n: int, g_min: float, span: float) -> float:
    if math.isinf(big_a):
        return n * (g - g_min) / span
    return -big_a * math.log1p(-(g - g_min) / b)


@njit(cache=True)
def move_cells(
    g: np.ndarray,
    uniform: bool,
    g0: float,
    pulses: np.ndarray,
    a_ltp: float,
    n_ltp: int,
    a_ltd: float,
    n_ltd: int,
    g_min: float,
    g_max: float,
    normals: np.ndarray,
    sigma_s: float,
    out: np.ndarray,
) -> None:
    """Move every cell by its pulses along its branch, add C-to-C noise, clip (into ``out``)."""
    big_a_p, b_p = _curve_constants(a_ltp, n_ltp, g_min, g_max)
    big_a_d, b_d = _curve_constants(a_ltd, n_ltd, g_min, g_max)
    span = g_max - g_min
    # a uniform start has one position per branch: compute it once
    pos0_p = _position(g0, big_a_p, b_p, n_ltp, g_min, span)
    pos0_d = _position(g0, big_a_d, b_d, n_ltd, g_min, span)
    j = 0
    for i in range(pulses.size):
        gi = g0 if uniform else g[i]
        k = pulses[i]
        if k != 0:
            if k > 0:
                big_a, b, n, pos0 = big_a_p, b_p, n_ltp, pos0_p
            else:
                big_a, b, n, pos0 = big_a_d, b_d, n_ltd, pos0_d
            pos = pos0 if uniform else _position(gi, big_a, b, n, g_min, span)
            if math.isinf(big_a):
                gi = g_min + span * ((pos + k) / n)
            else:
                gi = b * -math.expm1(-(pos + k) / big_a) + g_min
            if sigma_s > 0.0:
                gi += normals[j] * sigma_s * math.sqrt(abs(k))
                j += 1
        out[i] = min(max(gi, g_min), g_max)

"""NeuroSim's cell read: access transistor plus position-dependent wire resistance.

``docs/neurosim.md``, step 5. The cell of output line i and input line k (of n
inputs) sees the series resistance

    R_s(i, k) = ((i + 1) r_w + (n - k) r_w) + R_acc,

with r_w = rho / (W^2 AR) * 4F = 0.1519304347826087 Ohm per segment (rho = 2.73e-8 Ohm m,
W = 100 nm, AR = 2.30, F = 32 nm; NeuroSim's subarray pass overwrites the first 0.2374 Ohm
estimate, quirk Q7; the literal is the build's double, evaluated in its own operation order),
and conducts I = V_r / ((1/G)(1 + eta) + R_s), eta the read noise (0 in MELISO's runs).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: NeuroSim's wire resistance per cell segment at 32 nm, 4F pitch (quirk Q7), ohm.
NEUROSIM_WIRE_OHM = 0.1519304347826087


def neurosim_series_resistance(
    m: int, n: int, r_access_ohm: float, r_wire_ohm: float = NEUROSIM_WIRE_OHM
) -> FloatArray:
    """R_s (m outputs, n inputs) in NeuroSim's operation order, ohm."""
    i = np.arange(m, dtype=np.float64)[:, None]
    k = np.arange(n, dtype=np.float64)[None, :]
    return ((i + 1.0) * r_wire_ohm + (n - k) * r_wire_ohm) + r_access_ohm


def neurosim_cell_currents(
    g_s: FloatArray, v_read_v: float, r_series_ohm: FloatArray, eta: FloatArray | float = 0.0
) -> FloatArray:
    """I = V_r / ((1/G)(1 + eta) + R_s), amperes (g_s (..., m, n), R_s (m, n))."""
    return v_read_v / ((1.0 / g_s) * (1.0 + eta) + r_series_ohm)

"""Ideal crossbar read: Kirchhoff's current law with no wire resistance.

Each bit line is held at 0 V; a cell of conductance g between a word line at V and that bit line
passes g V, and the column current is I_j = sum_i V_i g_ij (Chowdhury et al. 2024, §I). A series
element (the 1T1R access transistor) folds into the cell as g_eff = 1 / (1/g + R_series).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def series_conductance(g_s: ArrayLike, r_series_ohm: float | FloatArray) -> FloatArray:
    """Conductance of a cell in series with ``r_series_ohm``: 1 / (1/g + R), siemens."""
    g = np.asarray(g_s, dtype=np.float64)
    if np.all(np.asarray(r_series_ohm) == 0):
        return g
    return 1.0 / (1.0 / g + r_series_ohm)


def ideal_currents(g_s: FloatArray, v_in_v: FloatArray) -> FloatArray:
    """Column currents, amperes: ``v_in_v`` (..., batch, rows) @ ``g_s`` (..., rows, cols).

    Leading axes broadcast (independent arrays); the result is (..., batch, cols).
    """
    return np.matmul(v_in_v, g_s)

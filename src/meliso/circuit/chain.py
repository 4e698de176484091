"""Seed 003 Algorithm 1: the vectorised chain of series-parallel reductions.

For a 1T1R crossbar with bit-line segments only and every active row driven at the same read
voltage, each bit line is a two-terminal network between that voltage and the amplifier's
virtual ground. Walking down the rows, g_col <- (g_col + g_row) g_wire / (g_col + g_row + g_wire)
(cells of inactive rows gated to 0), and I = g_col V_read (seed 003 Alg. 1, lines 1-8; siemens
here instead of its microsiemens). It is exact under those conditions; :mod:`.ladder` carries a
current source along the same sweep and drops the equal-voltage condition.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@njit(cache=True, parallel=True)
def chain_kernel(g_s: np.ndarray, active: np.ndarray, v_read_v: np.ndarray, g_wire_s: float,
                 out: np.ndarray) -> None:
    """Algorithm 1 for every vector: ``active`` (batch, rows) bool, ``v_read_v`` (batch,)."""
    rows, cols = g_s.shape
    for b in prange(active.shape[0]):
        # rows outer, columns inner: g_s[i, :] is contiguous, so the column loop vectorises
        g_col = np.zeros(cols)
        for i in range(rows):
            if active[b, i]:
                for j in range(cols):
                    g_col[j] = (g_col[j] + g_s[i, j]) * g_wire_s / (
                        g_col[j] + g_s[i, j] + g_wire_s)
            else:
                for j in range(cols):
                    g_col[j] = g_col[j] * g_wire_s / (g_col[j] + g_wire_s)
        out[b] = g_col * v_read_v[b]


def chain_numpy(g_s: FloatArray, active: NDArray[np.bool_], v_read_v: FloatArray,
                g_wire_s: float) -> FloatArray:
    """Plain-NumPy twin of :func:`chain_kernel`: Algorithm 1 as the seed writes it."""
    g_col = np.zeros((active.shape[0], g_s.shape[1]))
    for i in range(g_s.shape[0]):
        g_row = np.where(active[:, i : i + 1], g_s[i], 0.0)
        g_col = (g_col + g_row) * g_wire_s / (g_col + g_row + g_wire_s)
    return g_col * v_read_v[:, None]

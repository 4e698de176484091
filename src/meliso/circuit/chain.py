"""Cubero-Cascante et al. 2025, Algorithm 1: the vectorised chain of series-parallel reductions.

For a 1T1R crossbar with bit-line segments only and every active row driven at the same read
voltage, each bit line is a two-terminal network between that voltage and the amplifier's virtual
ground. Walking down the rows, g_col <- (g_col + g_row) g_wire / (g_col + g_row + g_wire) (cells of
inactive rows gated to 0), and I = g_col V_read (Cubero-Cascante et al. 2025, Alg. 1, lines 1-8;
siemens here instead of its microsiemens). It is exact under those conditions; :mod:`.ladder`
carries a current source along the same sweep and drops the equal-voltage condition.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@njit(cache=True, parallel=True)
def chain_kernel(g_s: np.ndarray, active: np.ndarray, v_read_v: np.ndarray, r_wire_ohm: float,
                 renorm: int, out: np.ndarray) -> None:
    """Algorithm 1 for every vector: ``active`` (batch, rows) bool, ``v_read_v`` (batch,).

    The same recurrence without a division per step: g_col = N / D, a row's cell adds
    N += g D and the segment below adds D += r N (g_col -> g_col / (1 + r g_col)); every
    ``renorm`` rows D is rescaled to 1 (:func:`.ladder.renormalisation_interval`).
    """
    rows, cols = g_s.shape
    for b in prange(active.shape[0]):
        # rows outer, columns inner: g_s[i, :] is contiguous, so the column loop vectorises
        num = np.zeros(cols)
        den = np.ones(cols)
        for i in range(rows):
            if active[b, i]:
                for j in range(cols):
                    n_new = num[j] + g_s[i, j] * den[j]
                    num[j] = n_new
                    den[j] += r_wire_ohm * n_new
            else:
                for j in range(cols):
                    den[j] += r_wire_ohm * num[j]
            if (i + 1) % renorm == 0:
                for j in range(cols):
                    num[j] /= den[j]
                    den[j] = 1.0
        for j in range(cols):
            out[b, j] = num[j] / den[j] * v_read_v[b]


def chain_numpy(g_s: FloatArray, active: NDArray[np.bool_], v_read_v: FloatArray,
                g_wire_s: float) -> FloatArray:
    """Plain-NumPy twin of :func:`chain_kernel`: Algorithm 1 as the paper writes it."""
    g_col = np.zeros((active.shape[0], g_s.shape[1]))
    for i in range(g_s.shape[0]):
        g_row = np.where(active[:, i : i + 1], g_s[i], 0.0)
        g_col = (g_col + g_row) * g_wire_s / (g_col + g_row + g_wire_s)
    return g_col * v_read_v[:, None]

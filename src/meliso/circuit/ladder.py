"""Exact crossbar solvers for one kind of wire segment: bit-line or word-line ladders.

Geometry (issue 13, :func:`meliso.circuit.solve_currents`): word line i is driven at V_i before
column 0, with a segment r_w before every column; bit line j is held at 0 V by its amplifier
after the last row, with a segment r_b after every row; cell (i, j) of conductance g_ij joins
word-line node (i, j) to bit-line node (i, j).

Bit-line segments only (r_w = 0: every word-line node of row i is at V_i). Walk down each bit
line keeping the Norton equivalent (conductance G, current J) of everything above the present
node: a connected cell adds G += g, J += g V; the segment below turns it into
G <- G g_w / (G + g_w), J <- J g_w / (G + g_w), g_w = 1/r_b. After the last segment J is the
current into the amplifier. This is seed 003's Algorithm 1 (a series-parallel chain) with a
current source carried along, exact for any input voltages; it is one forward sweep of the
column's tridiagonal system, O(rows) per column and vector.

- ``1t1r``: a row at exactly 0 V has its transistors off, so the set of connected cells, and
  hence G, differs from vector to vector: a per-vector sweep (Numba kernel
  :func:`ladder_1t1r_kernel`, NumPy twin :func:`ladder_1t1r_numpy`).
- ``passive``: every cell is connected, G does not depend on the inputs and the network is
  linear and fixed: I = V @ G_eff with G_eff[i, j] = g_ij prod_{m >= i} k_mj, k the segment
  factors g_w / (G'_m + g_w). One O(rows cols) pass, then a matrix product.

Word-line segments only (r_b = 0: every bit line is at 0 V). Each row is a chain from its driver
with loads g_ij to ground. Looking right from node j the load is Y_j = g_j + Y_{j+1} g_w /
(Y_{j+1} + g_w) (Y beyond the last column is 0), and the voltage divides along the line:
W_0 = V g_w / (g_w + Y_0), W_{j+1} = W_j g_w / (g_w + Y_{j+1}). A row at 0 V carries no current
in either topology, so I = V @ G_eff with G_eff[i, j] = g_ij W_ij / V_i, fixed for all inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@njit(cache=True, parallel=True)
def ladder_1t1r_kernel(g_s: np.ndarray, v_in_v: np.ndarray, g_wire_s: float,
                       out: np.ndarray) -> None:
    """Bit-line ladder, 1T1R: ``out`` (batch, cols) from g (rows, cols) and V (batch, rows)."""
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    for b in prange(batch):
        # rows outer, columns inner: g_s[i, :] is contiguous, so the column loop vectorises
        big_g = np.zeros(cols)
        cur = np.zeros(cols)
        for i in range(rows):
            v = v_in_v[b, i]
            if v != 0.0:
                for j in range(cols):
                    big_g[j] += g_s[i, j]
                    cur[j] += g_s[i, j] * v
            for j in range(cols):
                k = g_wire_s / (big_g[j] + g_wire_s)
                big_g[j] *= k
                cur[j] *= k
        out[b] = cur


def ladder_1t1r_numpy(g_s: FloatArray, v_in_v: FloatArray, g_wire_s: float) -> FloatArray:
    """Plain-NumPy twin of :func:`ladder_1t1r_kernel` (vectorised over batch and columns)."""
    batch, rows = v_in_v.shape
    big_g = np.zeros((batch, g_s.shape[1]))
    cur = np.zeros_like(big_g)
    for i in range(rows):
        v = v_in_v[:, i : i + 1]
        on = v != 0.0
        big_g += np.where(on, g_s[i], 0.0)
        cur += np.where(on, g_s[i] * v, 0.0)
        k = g_wire_s / (big_g + g_wire_s)
        big_g *= k
        cur *= k
    return cur


def bitline_passive_matrix(g_s: FloatArray, g_wire_s: float) -> FloatArray:
    """G_eff of a passive array with bit-line segments only: I = V @ G_eff."""
    rows, cols = g_s.shape
    factors = np.empty((rows, cols))
    big_g = np.zeros(cols)
    for i in range(rows):
        big_g = big_g + g_s[i]
        factors[i] = g_wire_s / (big_g + g_wire_s)
        big_g = big_g * factors[i]
    # the current a cell injects at row i is scaled by every segment below it
    tail = np.cumprod(factors[::-1], axis=0)[::-1]
    return g_s * tail


def wordline_matrix(g_s: FloatArray, g_wire_s: float) -> FloatArray:
    """G_eff of an array with word-line segments only (either topology): I = V @ G_eff."""
    rows, cols = g_s.shape
    load = np.zeros((rows, cols))
    beyond = np.zeros(rows)
    for j in range(cols - 1, -1, -1):
        load[:, j] = g_s[:, j] + beyond
        beyond = load[:, j] * g_wire_s / (load[:, j] + g_wire_s)
    transfer = np.empty((rows, cols))
    w = np.ones(rows)
    for j in range(cols):
        w = w * g_wire_s / (g_wire_s + load[:, j])
        transfer[:, j] = w
    return g_s * transfer

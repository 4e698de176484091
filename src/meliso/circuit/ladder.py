"""Exact crossbar solvers for one kind of wire segment: bit-line or word-line ladders.

Geometry (issue 13, :func:`meliso.circuit.solve_currents`): word line i is driven at V_i before
column 0, with a segment r_w before every column; bit line j is held at 0 V by its amplifier
after the last row, with a segment r_b after every row; cell (i, j) of conductance g_ij joins
word-line node (i, j) to bit-line node (i, j).

Bit-line segments only (r_w = 0: every word-line node of row i is at V_i). Walk down each bit line
keeping the Norton equivalent (conductance G, current J) of everything above the present node: a
connected cell adds G += g, J += g V; the segment below turns it into G <- G g_w / (G + g_w), J <- J
g_w / (G + g_w), g_w = 1/r_b. After the last segment J is the current into the amplifier. This is
Cubero-Cascante et al.'s Algorithm 1 (a series-parallel chain) with a current source carried along,
exact for any input voltages; it is one forward sweep of the column's tridiagonal system, O(rows)
per column and vector.

- ``1t1r``: a row at exactly 0 V has its transistors off, so the set of connected cells, and
  hence G, differs from vector to vector: a per-vector sweep (Numba kernel
  :func:`ladder_1t1r_kernel`, NumPy twin :func:`ladder_1t1r_numpy`), in projective form
  (G = N / D, J = M / D) so that no step divides.
- ``passive``: every cell is connected, G does not depend on the inputs and the network is
  linear and fixed: I = V @ G_eff with G_eff[i, j] = g_ij prod_{m >= i} k_mj, k the segment
  factors g_w / (G'_m + g_w). One O(rows cols) pass (:func:`bitline_passive_kernel`), then a
  matrix product.

Word-line segments only (r_b = 0: every bit line is at 0 V). Each row is a chain from its driver
with loads g_ij to ground. Looking right from node j the load is Y_j = g_j + Y_{j+1} g_w /
(Y_{j+1} + g_w) (Y beyond the last column is 0), and the voltage divides along the line:
W_0 = V g_w / (g_w + Y_0), W_{j+1} = W_j g_w / (g_w + Y_{j+1}). A row at 0 V carries no current
in either topology, so I = V @ G_eff with G_eff[i, j] = g_ij W_ij / V_i, fixed for all inputs
(:func:`wordline_kernel`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def renormalisation_interval(g_s: FloatArray, r_wire_ohm: float) -> int:
    """Rows between rescalings of the projective sweep (:func:`ladder_1t1r_kernel`).

    The denominator grows by 1 + r G <= 1 + r sum_i g_ij per row (G never exceeds the column's
    total cell conductance), so after k rows it is at most (1 + r G_max)^k: k is chosen to keep
    that below 1e150, far from overflow.
    """
    growth = np.log10(1.0 + r_wire_ohm * float(g_s.sum(axis=0).max(initial=0.0)))
    return int(max(1, min(g_s.shape[0], 150.0 / growth))) if growth > 0 else g_s.shape[0]


@njit(cache=True, parallel=True)
def ladder_1t1r_kernel(g_s: np.ndarray, v_in_v: np.ndarray, r_wire_ohm: float, renorm: int,
                       out: np.ndarray) -> None:
    """Bit-line ladder, 1T1R: ``out`` (batch, cols) from g (rows, cols) and V (batch, rows).

    Projective form of the Norton sweep, free of divisions: G = N / D and J = M / D share a
    denominator; a connected cell adds N += g D, M += g V D; the segment below maps
    G -> G / (1 + r G) and J -> J / (1 + r G), i.e. D += r N. Every ``renorm`` rows the three
    are rescaled so that D = 1 (:func:`renormalisation_interval`). All terms are positive sums
    and products: no cancellation.
    """
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    for b in prange(batch):
        # rows outer, columns inner: g_s[i, :] is contiguous, so the column loop vectorises
        num = np.zeros(cols)
        den = np.ones(cols)
        cur = np.zeros(cols)
        for i in range(rows):
            v = v_in_v[b, i]
            if v != 0.0:
                for j in range(cols):
                    d = den[j]
                    n_new = num[j] + g_s[i, j] * d
                    num[j] = n_new
                    cur[j] += g_s[i, j] * v * d
                    den[j] = d + r_wire_ohm * n_new
            else:
                for j in range(cols):
                    den[j] += r_wire_ohm * num[j]
            if (i + 1) % renorm == 0:
                for j in range(cols):
                    scale = 1.0 / den[j]
                    num[j] *= scale
                    cur[j] *= scale
                    den[j] = 1.0
        for j in range(cols):
            out[b, j] = cur[j] / den[j]


def ladder_1t1r_numpy(g_s: FloatArray, v_in_v: FloatArray, r_wire_ohm: float,
                      renorm: int) -> FloatArray:
    """Plain-NumPy twin of :func:`ladder_1t1r_kernel` (vectorised over batch and columns)."""
    batch, rows = v_in_v.shape
    num = np.zeros((batch, g_s.shape[1]))
    den = np.ones_like(num)
    cur = np.zeros_like(num)
    for i in range(rows):
        v = v_in_v[:, i : i + 1]
        on = v != 0.0
        num = num + np.where(on, g_s[i] * den, 0.0)
        cur = cur + np.where(on, g_s[i] * v * den, 0.0)
        den = den + r_wire_ohm * num
        if (i + 1) % renorm == 0:
            num, cur, den = num / den, cur / den, np.ones_like(den)
    return np.asarray(cur / den)


@njit(cache=True)
def bitline_passive_kernel(g_s: np.ndarray, g_wire_s: float) -> np.ndarray:
    """G_eff of a passive array with bit-line segments only: I = V @ G_eff (Numba; NumPy twin
    :func:`bitline_passive_numpy`). k_ij = g_w / (G_ij + g_w) is the factor of the segment
    below row i; a cell's current is scaled by every factor from its row down."""
    rows, cols = g_s.shape
    out = np.empty((rows, cols))
    big_g = np.zeros(cols)
    for i in range(rows):  # rows outer: the column loop vectorises
        for j in range(cols):
            big = big_g[j] + g_s[i, j]
            k = g_wire_s / (big + g_wire_s)
            out[i, j] = k
            big_g[j] = big * k
    tail = np.ones(cols)
    for i in range(rows - 1, -1, -1):
        for j in range(cols):
            tail[j] *= out[i, j]
            out[i, j] = g_s[i, j] * tail[j]
    return out


def bitline_passive_numpy(g_s: FloatArray, g_wire_s: float) -> FloatArray:
    """Plain-NumPy twin of :func:`bitline_passive_kernel`."""
    rows, cols = g_s.shape
    factors = np.empty((rows, cols))
    big_g = np.zeros(cols)
    for i in range(rows):
        big_g = big_g + g_s[i]
        factors[i] = g_wire_s / (big_g + g_wire_s)
        big_g = big_g * factors[i]
    # the current a cell injects at row i is scaled by every segment below it
    tail = np.cumprod(factors[::-1], axis=0)[::-1]
    return np.asarray(g_s * tail)


@njit(cache=True)
def wordline_kernel(g_s: np.ndarray, g_wire_s: float) -> np.ndarray:
    """G_eff of an array with word-line segments only (either topology): I = V @ G_eff (Numba;
    NumPy twin :func:`wordline_numpy`). Serial on purpose: it is followed by a BLAS product,
    and two thread pools taking turns on few cores cost more than this O(rows cols) pass."""
    rows, cols = g_s.shape
    out = np.empty((rows, cols))
    for i in range(rows):
        load = np.empty(cols)
        beyond = 0.0
        for j in range(cols - 1, -1, -1):  # the load seen looking right from node j
            y = g_s[i, j] + beyond
            load[j] = y
            beyond = y * g_wire_s / (y + g_wire_s)
        w = 1.0
        for j in range(cols):  # the voltage divides along the line
            w *= g_wire_s / (g_wire_s + load[j])
            out[i, j] = g_s[i, j] * w
    return out


def wordline_numpy(g_s: FloatArray, g_wire_s: float) -> FloatArray:
    """Plain-NumPy twin of :func:`wordline_kernel` (vectorised over rows)."""
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
    return np.asarray(g_s * transfer)

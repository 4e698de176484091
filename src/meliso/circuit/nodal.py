"""Exact nodal analysis of a crossbar with word- and bit-line segments (any topology).

Unknowns are the word-line nodes W(i, j) (when r_w > 0) and the bit-line nodes B(i, j) (when
r_b > 0); with a zero segment resistance those nodes are known (W = V_i, B = 0). Kirchhoff's
current law at every unknown node gives a symmetric positive-definite system A u = f (a
conductance Laplacian with the drivers and the amplifiers' virtual grounds as fixed nodes).

With both segment kinds it is solved by conjugate gradients on the bit-line Schur complement
(:mod:`.pcg`, Numba, every vector in parallel, O(rows cols) per iteration), stopped on the true
residuals: every bit-line KCL row within ``PCG_TOL`` = 1e-14 of the magnitude of its terms (a
backward error) and the whole system's ||f - A u|| / ||f|| within ``PCG_ACCEPT_TOL`` = 1e-12
(where rounding stops the first short of 1e-14, 1e-12 is accepted for it too); a vector that
does not get there (the rounding floor of an extreme case) is solved by sparse LU instead. With
one segment kind, and as that fallback, sparse LU: in ``1t1r`` the rows at 0 V are switched off
(their cells removed, their word-line nodes at 0 V), so vectors with different active rows have
different systems and vectors that share a pattern share one factorisation (``passive`` has a
single one); the direct solve raises above a relative residual of 1e-10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from .._validation import ConvergenceError, ParameterError
from .pcg import schur_pcg_kernel

FloatArray = NDArray[np.float64]
MAX_RELATIVE_RESIDUAL = 1e-10
# PCG aims at ||f - K u|| / ||f|| <= PCG_TOL and, where rounding stops it short, accepts
# PCG_ACCEPT_TOL (the bound docs/physics.md §3.4 states for `nodal`); anything worse goes to the
# direct solve
PCG_TOL = 1e-14
PCG_ACCEPT_TOL = 1e-12
PCG_MAX_ITER = 500


@dataclass(frozen=True)
class NodalSolution:
    """Amplifier currents (batch, cols), and node voltages for checks (batch, rows, cols; empty
    when not asked for)."""

    currents_a: FloatArray
    wordline_v: FloatArray
    bitline_v: FloatArray
    driver_currents_a: FloatArray  # (batch, rows): current each driver delivers
    pcg_iterations: NDArray[np.int64]  # (batch,): CG iterations, -1 where solved directly


def _system(g_s: FloatArray, on: NDArray[np.bool_], r_b: float, r_w: float
            ) -> tuple[sp.csc_matrix, FloatArray, int]:
    """Matrix, unknown indices and the pieces needed for right-hand sides, for one pattern."""
    rows, cols = g_s.shape
    g = g_s * on[:, None]
    n_w = rows * cols if r_w > 0 else 0
    n_b = rows * cols if r_b > 0 else 0
    idx = np.arange(rows * cols).reshape(rows, cols)
    wi, bi = idx, idx + n_w  # indices when the node kind is unknown
    diag = np.zeros(n_w + n_b)
    off_r: list[NDArray[np.int64]] = []
    off_c: list[NDArray[np.int64]] = []
    off_v: list[FloatArray] = []

    def couple(a: NDArray[np.int64], b: NDArray[np.int64], cond: FloatArray) -> None:
        off_r.extend((a.ravel(), b.ravel()))
        off_c.extend((b.ravel(), a.ravel()))
        off_v.extend((-cond.ravel(), -cond.ravel()))

    if r_w > 0:
        g_w = 1.0 / r_w
        diag[: n_w] += g.ravel()  # cell to its bit-line node (known 0 V or unknown)
        diag[wi[:, 0]] += g_w  # segment from the driver
        diag[wi[:, :-1].ravel()] += g_w
        diag[wi[:, 1:].ravel()] += g_w
        couple(wi[:, :-1], wi[:, 1:], np.full((rows, cols - 1), g_w))
    if r_b > 0:
        g_b = 1.0 / r_b
        diag[n_w:] += g.ravel()  # cell to its word-line node (known V_i or unknown)
        diag[bi[:-1].ravel()] += g_b
        diag[bi[1:].ravel()] += g_b
        diag[bi[-1]] += g_b  # segment to the amplifier
        couple(bi[:-1], bi[1:], np.full((rows - 1, cols), g_b))
    if r_w > 0 and r_b > 0:
        couple(wi, bi, g)
    n = n_w + n_b
    rows_i = np.concatenate([np.arange(n), *off_r]) if off_r else np.arange(n)
    cols_i = np.concatenate([np.arange(n), *off_c]) if off_c else np.arange(n)
    vals = np.concatenate([diag, *off_v]) if off_v else diag
    a = sp.csc_matrix((vals, (rows_i, cols_i)), shape=(n, n))
    return a, g, n_w


def _direct(g_s: FloatArray, v: FloatArray, on: NDArray[np.bool_], r_b: float, r_w: float
            ) -> tuple[FloatArray, FloatArray]:
    """Word- and bit-line voltages (m, rows, cols) of vectors ``v`` (m, rows) that share the
    connected rows ``on``, by one sparse LU factorisation (or none without wires)."""
    rows, cols = g_s.shape
    m = v.shape[0]
    if r_w == 0 and r_b == 0:
        w = np.broadcast_to(v[:, :, None], (m, rows, cols))
        return w, np.zeros_like(w)
    a, g, n_w = _system(g_s, on, r_b, r_w)
    f = np.zeros((a.shape[0], m))
    if r_w > 0:
        f[np.arange(rows) * cols] = v.T / r_w  # drivers into column 0
    else:  # word lines at V_i feed the bit-line nodes through the cells
        f[:] = (g[None] * v[:, :, None]).reshape(m, -1).T
    lu = splu(a, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    u = lu.solve(f)
    res = np.linalg.norm(a @ u - f, axis=0) / np.maximum(np.linalg.norm(f, axis=0), 1e-300)
    if np.any(res > MAX_RELATIVE_RESIDUAL):
        raise ConvergenceError(
            f"nodal solve did not reach a relative residual of {MAX_RELATIVE_RESIDUAL:g}"
            f" (got {res.max():.3g}); the system is too ill-conditioned for double precision"
        )
    if r_w > 0:
        w = u[:n_w].T.reshape(m, rows, cols)
    else:
        w = np.broadcast_to(v[:, :, None], (m, rows, cols))
    bl = u[n_w:].T.reshape(m, rows, cols) if r_b > 0 else np.zeros_like(w)
    return w, bl


def nodal_solve(g_s: FloatArray, v_in_v: FloatArray, r_bitline_ohm: float, r_wordline_ohm: float,
                topology: str, solver: str = "auto", voltages: bool = True) -> NodalSolution:
    """Exact currents for inputs (batch, rows); see the module docstring.

    ``solver``: ``direct`` (sparse LU, one factorisation per set of connected rows), ``pcg``
    (:mod:`.pcg`, both segment kinds only: CG on the bit-line Schur complement to a relative
    residual of ``PCG_TOL``; a vector that does not get there is solved directly instead), or
    ``auto``: PCG with both segment kinds, sparse LU with one kind. ``voltages=False`` skips
    keeping the node voltages (2 batch rows cols floats): the solution then holds empty arrays.
    """
    if topology not in ("1t1r", "passive"):
        raise ParameterError(f"topology = {topology!r}: allowed 1t1r, passive")
    if solver not in ("auto", "direct", "pcg"):
        raise ParameterError(f"solver = {solver!r}: allowed auto, direct, pcg")
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    r_b, r_w = float(r_bitline_ohm), float(r_wordline_ohm)
    active = v_in_v != 0.0 if topology == "1t1r" else np.ones_like(v_in_v, dtype=bool)
    v_on = np.ascontiguousarray(v_in_v * active)  # off rows are at 0 V
    kept = batch if voltages else 0
    w_v = np.zeros((kept, rows, cols))
    b_v = np.zeros((kept, rows, cols))
    currents = np.empty((batch, cols))
    drive = np.empty((batch, rows))
    iterations = np.full(batch, -1, dtype=np.int64)
    if r_w > 0 and r_b > 0 and solver in ("auto", "pcg"):
        schur_pcg_kernel(np.ascontiguousarray(g_s), v_on, np.ascontiguousarray(active),
                         1.0 / r_w, 1.0 / r_b, PCG_TOL, PCG_ACCEPT_TOL, PCG_MAX_ITER,
                         currents, drive, iterations, w_v, b_v, 2 * numba.get_num_threads())
    patterns: dict[bytes, list[int]] = {}
    for k in np.flatnonzero(iterations < 0):  # not solved by PCG: the exact direct solve
        patterns.setdefault(active[k].tobytes(), []).append(int(k))
    for members in patterns.values():
        on = active[members[0]]
        w, bl = _direct(g_s, v_on[members], on, r_b, r_w)
        g_on = g_s * on[:, None]
        currents[members] = bl[:, -1, :] / r_b if r_b > 0 else (g_on[None] * w).sum(axis=1)
        if r_w > 0:
            drive[members] = (v_on[members] - w[:, :, 0]) / r_w
        else:
            drive[members] = (g_on[None] * (w - bl)).sum(axis=2)
        if voltages:
            w_v[members], b_v[members] = w, bl
    return NodalSolution(currents, w_v, b_v, drive, iterations)

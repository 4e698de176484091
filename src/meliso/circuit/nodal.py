"""Exact nodal analysis of a crossbar with word- and bit-line segments (any topology).

Unknowns are the word-line nodes W(i, j) (when r_w > 0) and the bit-line nodes B(i, j) (when
r_b > 0); with a zero segment resistance those nodes are known (W = V_i, B = 0). Kirchhoff's
current law at every unknown node gives a symmetric positive-definite system A u = f (a
conductance Laplacian with the drivers and the amplifiers' virtual grounds as fixed nodes),
solved by sparse LU. In ``1t1r`` the rows at 0 V are switched off (their cells removed, their
word-line nodes at 0 V), so vectors with different active rows have different systems; vectors
that share a pattern share one factorisation (``passive`` has a single one). Every solve is
checked: a relative residual above 1e-10 raises instead of returning a wrong current.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

FloatArray = NDArray[np.float64]
MAX_RELATIVE_RESIDUAL = 1e-10


@dataclass(frozen=True)
class NodalSolution:
    """Amplifier currents (batch, cols), and node voltages for checks (batch, rows, cols)."""

    currents_a: FloatArray
    wordline_v: FloatArray
    bitline_v: FloatArray
    driver_currents_a: FloatArray  # (batch, rows): current each driver delivers


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


def nodal_solve(g_s: FloatArray, v_in_v: FloatArray, r_bitline_ohm: float, r_wordline_ohm: float,
                topology: str) -> NodalSolution:
    """Exact currents for inputs (batch, rows); see the module docstring."""
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    r_b, r_w = float(r_bitline_ohm), float(r_wordline_ohm)
    active = v_in_v != 0.0 if topology == "1t1r" else np.ones_like(v_in_v, dtype=bool)
    currents = np.empty((batch, cols))
    w_v = np.empty((batch, rows, cols))
    b_v = np.zeros((batch, rows, cols))
    drive = np.empty((batch, rows))
    patterns: dict[bytes, list[int]] = {}
    for k in range(batch):
        patterns.setdefault(active[k].tobytes(), []).append(k)
    for members in patterns.values():
        on = active[members[0]]
        v = v_in_v[members] * on  # (m, rows); off rows are at 0 V
        if r_w == 0 and r_b == 0:
            w = np.broadcast_to(v[:, :, None], (len(members), rows, cols))
            bl = np.zeros_like(w)
        else:
            a, g, n_w = _system(g_s, on, r_b, r_w)
            f = np.zeros((a.shape[0], len(members)))
            if r_w > 0:
                f[np.arange(rows) * cols] = v.T / r_w  # drivers into column 0
            else:  # word lines at V_i feed the bit-line nodes through the cells
                f[:] = (g[None] * v[:, :, None]).reshape(len(members), -1).T
            lu = splu(a, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
            u = lu.solve(f)
            res = np.linalg.norm(a @ u - f, axis=0) / np.maximum(np.linalg.norm(f, axis=0),
                                                                 1e-300)
            if np.any(res > MAX_RELATIVE_RESIDUAL):
                raise ArithmeticError(
                    f"nodal solve did not reach a relative residual of {MAX_RELATIVE_RESIDUAL:g}"
                    f" (got {res.max():.3g}); the system is too ill-conditioned for double "
                    "precision"
                )
            if r_w > 0:
                w = u[:n_w].T.reshape(len(members), rows, cols)
            else:
                w = np.broadcast_to(v[:, :, None], (len(members), rows, cols))
            bl = u[n_w:].T.reshape(len(members), rows, cols) if r_b > 0 else np.zeros_like(w)
        g_on = g_s * on[:, None]
        if r_b > 0:
            out = bl[:, -1, :] / r_b
        else:
            out = (g_on[None] * w).sum(axis=1)
        if r_w > 0:
            d = (v - w[:, :, 0]) / r_w
        else:
            d = (g_on[None] * (w - bl)).sum(axis=2)
        currents[members], w_v[members], b_v[members], drive[members] = out, w, bl, d
    return NodalSolution(currents, w_v, b_v, drive)

"""Nodal analysis with both segment kinds by conjugate gradients on the bit-line Schur complement.

The crossbar's nodal system (:mod:`.nodal`) with word-line nodes W and bit-line nodes B is

    [ T    -D ] [W]   [f]       T = L_W + D: per row, the word-line chain (driver before
    [ -D  M   ] [B] = [0]       column 0) with the connected cells; M = L_B + D: per column,
                                the bit-line chain (amplifier after the last row) with the cells,

D = diag(g_ij) over the connected cells, f_ij = V_i / r_w at column 0. Both T and M are sets of
independent tridiagonal lines. Eliminating W exactly leaves the Schur complement

    S B = h,   S = M - D T^-1 D,   h = D T^-1 f,   then   W = T^-1 (f + D B),

which is symmetric positive definite. CG on it, preconditioned by M (one tridiagonal solve per
column), costs per iteration one line solve per active row (inside S) and one per column: O(rows
cols), no fill-in, no factorisation of the 2D network. The cells couple the two line families
weakly (g_ij << 1/r), so M^-1 S is close to the identity and CG converges in a few iterations
(measured by ``benchmarks/circuit.py``). Because W is recomputed exactly from B, the residual of
the whole system is the Schur residual, and the stopping test is on ||f - K u|| / ||f|| for the
full K, confirmed on the true residual before a vector is accepted.

In ``1t1r`` a row at 0 V is off: its cells are removed and its word line is at 0 V, so each vector
has its own M (and its own set of rows in S). ``passive`` connects every row.

Numba kernel :func:`schur_pcg_kernel` (vectors in parallel) with a plain-NumPy twin
:func:`meliso.circuit.pcg_twin.schur_pcg_numpy` that the tests compare against.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@njit(cache=True)
def wordline_inverse_pivots(g_s: np.ndarray, g_w: float) -> np.ndarray:
    """1 / pivots of the Thomas factorisation of every row's T = L_W + diag(g_i) (all cells on).

    T_i has diagonal g_ij + g_w + g_w [j < cols - 1] and off-diagonal -g_w; it is a
    diagonally dominant M-matrix, so elimination without pivoting is stable.
    """
    rows, cols = g_s.shape
    inv = np.empty((rows, cols))
    for i in range(rows):
        piv = g_s[i, 0] + g_w + (g_w if cols > 1 else 0.0)
        inv[i, 0] = 1.0 / piv
        for j in range(1, cols):
            diag = g_s[i, j] + g_w + (g_w if j < cols - 1 else 0.0)
            inv[i, j] = 1.0 / (diag - g_w * g_w * inv[i, j - 1])
    return inv


@njit(cache=True)
def _bitline_inverse_pivots(g_s: np.ndarray, on: np.ndarray, g_b: float, inv: np.ndarray
                            ) -> None:
    """Thomas 1 / pivots of every column's M = L_B + D, all columns at once (rows outer)."""
    rows, cols = g_s.shape
    for j in range(cols):
        inv[0, j] = 1.0 / ((g_s[0, j] if on[0] else 0.0) + g_b)
    for i in range(1, rows):
        for j in range(cols):
            d = g_s[i, j] if on[i] else 0.0
            inv[i, j] = 1.0 / (d + 2.0 * g_b - g_b * g_b * inv[i - 1, j])


@njit(cache=True)
def _wordline_solve(i: int, inv_w: np.ndarray, g_w: float, rhs: np.ndarray, out: np.ndarray
                    ) -> None:
    """out = T_i^-1 rhs for row i (forward and back substitution along the word line)."""
    cols = inv_w.shape[1]
    out[0] = rhs[0]
    for j in range(1, cols):
        out[j] = rhs[j] + g_w * inv_w[i, j - 1] * out[j - 1]
    out[cols - 1] *= inv_w[i, cols - 1]
    for j in range(cols - 2, -1, -1):
        out[j] = inv_w[i, j] * (out[j] + g_w * out[j + 1])


LANES = 8  # word lines solved together: two AVX2 vectors of independent recurrences


@njit(cache=True)
def cg_workspace(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray, np.ndarray]:
    """Scratch of one vector's Schur CG: (r, z, p, q, inv_b, members, inv_g, x, y)."""
    max_groups = (rows + LANES - 1) // LANES
    return (np.empty((rows, cols)), np.empty((rows, cols)), np.empty((rows, cols)),
            np.empty((rows, cols)), np.empty((rows, cols)),
            np.empty((max_groups, LANES), dtype=np.int64), np.empty((max_groups, cols, LANES)),
            np.empty((cols, LANES)), np.empty(cols))


@njit(cache=True)
def _group_wordlines(on: np.ndarray, inv_w: np.ndarray, members: np.ndarray,
                     inv_g: np.ndarray) -> int:
    """The connected rows in groups of ``LANES``: their indices into ``members`` (group, lane;
    -1 pads) and their Thomas factors interleaved into ``inv_g`` (group, cols, lane), so that
    one sweep along the word lines advances every lane at once. Returns the group count."""
    cols = inv_w.shape[1]
    n = 0
    for i in range(on.size):
        if on[i]:
            members[n // LANES, n % LANES] = i
            for j in range(cols):
                inv_g[n // LANES, j, n % LANES] = inv_w[i, j]
            n += 1
    n_groups = (n + LANES - 1) // LANES
    while n < n_groups * LANES:  # padding lanes: zero factors keep their solution at 0
        members[n // LANES, n % LANES] = -1
        inv_g[n // LANES, :, n % LANES] = 0.0
        n += 1
    return n_groups


@njit(cache=True)
def _wordline_solve_group(inv_g: np.ndarray, g_w: float, x: np.ndarray) -> None:
    """x (cols, LANES) <- T^-1 x for one group of word lines, in place."""
    cols = x.shape[0]
    for j in range(1, cols):
        for k in range(LANES):
            x[j, k] += g_w * inv_g[j - 1, k] * x[j - 1, k]
    for k in range(LANES):
        x[cols - 1, k] *= inv_g[cols - 1, k]
    for j in range(cols - 2, -1, -1):
        for k in range(LANES):
            x[j, k] = inv_g[j, k] * (x[j, k] + g_w * x[j + 1, k])


@njit(cache=True)
def _load_group(g_s: np.ndarray, members: np.ndarray, grp: int, src: np.ndarray, x: np.ndarray
                ) -> None:
    """x[:, lane] = D_i src_i for the rows i of group ``grp`` (0 in padding lanes)."""
    cols = g_s.shape[1]
    for k in range(LANES):
        i = members[grp, k]
        if i >= 0:
            for j in range(cols):
                x[j, k] = g_s[i, j] * src[i, j]
        else:
            x[:, k] = 0.0


@njit(cache=True)
def _bitline_laplacian_row(p: np.ndarray, i: int, g_b: float, y: np.ndarray, q: np.ndarray
                           ) -> float:
    """q[i] = y + g_b (2 p_i - p_{i-1} - p_{i+1}): the bit-line chains, open at the top (no
    segment above row 0), with a segment to the amplifier's 0 V below the last row. Returns
    p[i] . q[i]."""
    rows, cols = p.shape
    if rows == 1:
        for j in range(cols):
            q[i, j] = y[j] + g_b * p[i, j]
    elif i == 0:
        for j in range(cols):
            q[i, j] = y[j] + g_b * (p[i, j] - p[i + 1, j])
    elif i == rows - 1:
        for j in range(cols):
            q[i, j] = y[j] + g_b * (2.0 * p[i, j] - p[i - 1, j])
    else:
        for j in range(cols):
            q[i, j] = y[j] + g_b * (2.0 * p[i, j] - p[i - 1, j] - p[i + 1, j])
    pq = 0.0
    for j in range(cols):
        pq += p[i, j] * q[i, j]
    return pq


@njit(cache=True)
def _apply_schur(g_s: np.ndarray, on: np.ndarray, members: np.ndarray, n_groups: int,
                 inv_g: np.ndarray, g_w: float, g_b: float, p: np.ndarray, q: np.ndarray,
                 x: np.ndarray, y: np.ndarray) -> float:
    """q = S p = (L_B + D) p - D T^-1 D p; returns p . q. ``x`` (cols, LANES) and ``y`` (cols)
    are buffers."""
    rows, cols = p.shape
    pq = 0.0
    for i in range(rows):  # rows whose cells are off: the bit-line chains alone
        if not on[i]:
            y[:] = 0.0
            pq += _bitline_laplacian_row(p, i, g_b, y, q)
    for grp in range(n_groups):
        _load_group(g_s, members, grp, p, x)
        _wordline_solve_group(inv_g[grp], g_w, x)
        for k in range(LANES):
            i = members[grp, k]
            if i >= 0:
                for j in range(cols):
                    y[j] = g_s[i, j] * (p[i, j] - x[j, k])
                pq += _bitline_laplacian_row(p, i, g_b, y, q)
    return pq


@njit(cache=True)
def _precondition(r: np.ndarray, inv_b: np.ndarray, g_b: float, z: np.ndarray) -> float:
    """z = M^-1 r (tridiagonal solves down every column, vectorised across columns); returns
    r . z."""
    rows, cols = r.shape
    for j in range(cols):
        z[0, j] = r[0, j]
    for i in range(1, rows):
        for j in range(cols):
            z[i, j] = r[i, j] + g_b * inv_b[i - 1, j] * z[i - 1, j]
    return _back_substitute(r, inv_b, g_b, z)


@njit(cache=True)
def _back_substitute(r: np.ndarray, inv_b: np.ndarray, g_b: float, z: np.ndarray) -> float:
    """The backward sweep of :func:`_precondition`, fused with r . z."""
    rows, cols = r.shape
    rz = 0.0
    for j in range(cols):
        z[rows - 1, j] *= inv_b[rows - 1, j]
        rz += r[rows - 1, j] * z[rows - 1, j]
    for i in range(rows - 2, -1, -1):
        for j in range(cols):
            z[i, j] = inv_b[i, j] * (z[i, j] + g_b * z[i + 1, j])
            rz += r[i, j] * z[i, j]
    return rz


@njit(cache=True)
def _step(alpha: float, p: np.ndarray, q: np.ndarray, b: np.ndarray, r: np.ndarray,
          inv_b: np.ndarray, g_b: float, z: np.ndarray) -> tuple[float, float]:
    """B += alpha p, r -= alpha q and z = M^-1 r in one forward and one backward pass;
    returns (r . r, r . z)."""
    rows, cols = r.shape
    r2 = 0.0
    for i in range(rows):
        for j in range(cols):
            b[i, j] += alpha * p[i, j]
            ri = r[i, j] - alpha * q[i, j]
            r[i, j] = ri
            r2 += ri * ri
        if i == 0:
            z[0, :] = r[0, :]
        else:
            for j in range(cols):
                z[i, j] = r[i, j] + g_b * inv_b[i - 1, j] * z[i - 1, j]
    return r2, _back_substitute(r, inv_b, g_b, z)


@njit(cache=True)
def _wordlines_and_residual(g_s: np.ndarray, on: np.ndarray, v: np.ndarray, members: np.ndarray,
                            n_groups: int, inv_g: np.ndarray, g_w: float, g_b: float,
                            b: np.ndarray, w: np.ndarray, res_b: np.ndarray, x: np.ndarray
                            ) -> tuple[float, float, float]:
    """W = T^-1 (f + D B) row by row, then the true residuals of K [W; B] = [f; 0].

    Fills res_b = D W - M B (= h - S B, the bit-line rows) and returns (||res_b||, the norm of
    the bit-line rows' term magnitudes |D W| + |M| |B| (what each KCL sum cancels down from, the
    scale of its rounding), ||f + D B - T W|| (the word-line rows: rounding only, but
    measured, not assumed)).
    """
    rows, cols = b.shape
    total_w = 0.0
    total_b = 0.0
    scale_b = 0.0
    for i in range(rows):
        if not on[i]:
            w[i, :] = 0.0
    for grp in range(n_groups):
        _load_group(g_s, members, grp, b, x)
        for k in range(LANES):  # the drivers feed column 0
            if members[grp, k] >= 0:
                x[0, k] += g_w * v[members[grp, k]]
        _wordline_solve_group(inv_g[grp], g_w, x)
        for k in range(LANES):
            i = members[grp, k]
            if i < 0:
                continue
            for j in range(cols):
                w[i, j] = x[j, k]
            for j in range(cols):
                rhs = g_s[i, j] * b[i, j] + (g_w * v[i] if j == 0 else 0.0)
                tw = (g_s[i, j] + g_w + (g_w if j < cols - 1 else 0.0)) * w[i, j]
                if j > 0:
                    tw -= g_w * w[i, j - 1]
                if j < cols - 1:
                    tw -= g_w * w[i, j + 1]
                e = rhs - tw
                total_w += e * e
    for i in range(rows):
        for j in range(cols):
            d = g_s[i, j] if on[i] else 0.0
            mb = (d + g_b * (2.0 if i > 0 else 1.0)) * b[i, j]
            mag = abs(d * w[i, j]) + abs(mb)
            if i > 0:
                mb -= g_b * b[i - 1, j]
                mag += g_b * abs(b[i - 1, j])
            if i < rows - 1:
                mb -= g_b * b[i + 1, j]
                mag += g_b * abs(b[i + 1, j])
            e = d * w[i, j] - mb
            res_b[i, j] = e
            total_b += e * e
            scale_b += mag * mag
    return np.sqrt(total_b), np.sqrt(scale_b), np.sqrt(total_w)


@njit(cache=True)
def _verdict(res_b: float, scale_b: float, res_w: float, f_norm: float, tol: float,
             full_tol: float) -> bool:
    """Converged: the bit-line rows' residual within ``tol`` of their term magnitudes, and the
    whole system's ||f - K u|| within ``full_tol`` of ||f||."""
    return res_b <= tol * scale_b and np.sqrt(res_b * res_b + res_w * res_w) <= full_tol * f_norm


@njit(cache=True)
def _solve_vector(g_s: np.ndarray, on: np.ndarray, v: np.ndarray, inv_w: np.ndarray,
                  u0: np.ndarray, g_w: float, g_b: float, tol: float, accept_tol: float,
                  max_iter: int, w: np.ndarray, b: np.ndarray, r: np.ndarray, z: np.ndarray,
                  p: np.ndarray, q: np.ndarray, inv_b: np.ndarray, members: np.ndarray,
                  inv_g: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """One vector: fills W, B (rows, cols) and returns the CG iterations, or -1. ``r`` ... ``y``
    are work arrays (reused from vector to vector).

    Converged means, on the true residuals (:func:`_wordlines_and_residual`): the whole
    system's relative residual ||f - K u|| / ||f|| <= ``accept_tol`` (1e-12, the bound of
    ``docs/physics.md`` §3.4), and the bit-line rows' residual <= ``tol`` times their term
    magnitudes (a backward error: ||f|| alone, dominated by the drivers' V / r_w, would be a
    lax scale for the bit-line currents, and with r_w -> 0 would accept B = 0). Where rounding
    stops progress first, or after ``max_iter``, ``accept_tol`` is accepted in place of
    ``tol``.
    """
    rows, cols = g_s.shape
    f2 = 0.0
    for i in range(rows):
        if on[i]:
            f2 += (g_w * v[i]) ** 2
    f_norm = np.sqrt(f2)
    b[:, :] = 0.0
    n_groups = _group_wordlines(on, inv_w, members, inv_g)
    r2 = 0.0
    for i in range(rows):  # h = D T^-1 f, with T_i^-1 f_i = (g_w V_i) T_i^-1 e_0 = g_w V_i u0_i
        s = g_w * v[i] if on[i] else 0.0
        for j in range(cols):
            r[i, j] = g_s[i, j] * s * u0[i, j]
            r2 += r[i, j] * r[i, j]
    h_norm = np.sqrt(r2)
    if h_norm == 0.0:  # no driven cell: B = 0 exactly, W from its own lines
        _wordlines_and_residual(g_s, on, v, members, n_groups, inv_g, g_w, g_b, b, w, q, x)
        return 0
    _bitline_inverse_pivots(g_s, on, g_b, inv_b)
    rz = _precondition(r, inv_b, g_b, z)
    p[:, :] = z
    best = np.inf
    scale = h_norm  # the bit-line rows' term magnitudes, as of the last true residual
    it = 0
    while True:
        if np.sqrt(r2) <= tol * scale:
            res_b, scale, res_w = _wordlines_and_residual(g_s, on, v, members, n_groups, inv_g,
                                                          g_w, g_b, b, w, q, x)
            if _verdict(res_b, scale, res_w, f_norm, tol, accept_tol):
                return it
            if res_b >= 0.5 * best:  # no progress since the last check: rounding floor
                return it if _verdict(res_b, scale, res_w, f_norm, accept_tol, accept_tol) \
                    else -1
            best = min(best, res_b)
            r[:, :] = q  # restart from the true residual
            r2 = float(np.sum(r * r))
            rz = _precondition(r, inv_b, g_b, z)
            p[:, :] = z
        if it == max_iter:
            break
        pq = _apply_schur(g_s, on, members, n_groups, inv_g, g_w, g_b, p, q, x, y)
        if not pq > 0.0 or not np.isfinite(rz):  # breakdown: precision exhausted
            break
        r2, rz_new = _step(rz / pq, p, q, b, r, inv_b, g_b, z)
        beta = rz_new / rz
        rz = rz_new
        for i in range(rows):
            for j in range(cols):
                p[i, j] = z[i, j] + beta * p[i, j]
        it += 1
    res_b, scale, res_w = _wordlines_and_residual(g_s, on, v, members, n_groups, inv_g, g_w, g_b,
                                                  b, w, q, x)
    return it if _verdict(res_b, scale, res_w, f_norm, accept_tol, accept_tol) else -1


@njit(cache=True)
def wordline_first_column(inv_w: np.ndarray, g_w: float) -> np.ndarray:
    """u0_i = T_i^-1 e_0 for every row: the word line's response to its driver."""
    rows, cols = inv_w.shape
    u0 = np.empty((rows, cols))
    e0 = np.zeros(cols)
    e0[0] = 1.0
    for i in range(rows):
        _wordline_solve(i, inv_w, g_w, e0, u0[i])
    return u0


@njit(cache=True, parallel=True)
def schur_pcg_kernel(g_s: np.ndarray, v_in_v: np.ndarray, on: np.ndarray, g_w: float,
                     g_b: float, tol: float, accept_tol: float, max_iter: int,
                     currents_out: np.ndarray, drive_out: np.ndarray, iters_out: np.ndarray,
                     w_out: np.ndarray, b_out: np.ndarray, n_chunks: int) -> None:
    """Every vector of ``v_in_v`` (batch, rows) with its connected rows ``on`` (batch, rows).

    Outputs: amplifier currents g_b B[last] into ``currents_out`` (batch, cols), driver
    currents g_w (V - W[:, 0]) into ``drive_out`` (batch, rows), CG iterations into
    ``iters_out`` (-1: the true relative residual reached neither ``tol`` nor, where rounding
    stopped it, ``accept_tol``), and the node voltages into ``w_out``, ``b_out`` (batch, rows,
    cols), unless those have a batch size of 0 (then only scratch arrays are used). The batch
    is dealt out in ``n_chunks`` interleaved chunks (a small multiple of the thread count),
    each with its own work arrays, allocated once.
    """
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    keep = w_out.shape[0] > 0
    inv_w = wordline_inverse_pivots(g_s, g_w)
    u0 = wordline_first_column(inv_w, g_w)
    n_chunks = max(1, min(batch, n_chunks))
    for c in prange(n_chunks):
        w_tmp = np.empty((rows, cols))
        b_tmp = np.empty((rows, cols))
        r, z, p, q, inv_b, members, inv_g, x, y = cg_workspace(rows, cols)
        for k in range(c, batch, n_chunks):
            w = w_out[k] if keep else w_tmp
            b = b_out[k] if keep else b_tmp
            iters_out[k] = _solve_vector(g_s, on[k], v_in_v[k], inv_w, u0, g_w, g_b, tol,
                                         accept_tol, max_iter, w, b, r, z, p, q, inv_b,
                                         members, inv_g, x, y)
            for j in range(cols):
                currents_out[k, j] = g_b * b[rows - 1, j]
            for i in range(rows):
                drive_out[k, i] = g_w * (v_in_v[k, i] - w[i, 0]) if on[k, i] else 0.0

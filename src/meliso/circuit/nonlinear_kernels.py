"""Numba kernels of the non-linear crossbar solve (:mod:`.nonlinear`), every vector in
parallel: the per-vector Schur CG with general right-hand sides, the Picard (secant)
iteration and Newton with the symmetric part of the Jacobian (``newton-cg``). Their
NumPy references are the ``newton-direct`` and ``picard`` paths, compared in
``tests/test_nonlinear_circuit.py``."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from .iv_numba import ACC_NONE, cell_current, cell_iv, element_from, node_element
from .pcg import (
    LANES,
    _apply_schur,
    _bitline_inverse_pivots,
    _group_wordlines,
    _precondition,
    _solve_vector,
    _step,
    _wordline_solve_group,
    cg_workspace,
    wordline_first_column,
    wordline_inverse_pivots,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
@njit(cache=True, parallel=True)
def schur_pcg_per_vector_kernel(g_eff: np.ndarray, v_in_v: np.ndarray, on: np.ndarray,
                                g_w: float, g_b: float, tol: float, accept_tol: float,
                                max_iter: int, iters_out: np.ndarray, w_out: np.ndarray,
                                b_out: np.ndarray, n_chunks: int) -> None:
    """:func:`meliso.circuit.pcg.schur_pcg_kernel` with conductances of its own per vector:
    ``g_eff`` (batch, rows, cols). The same CG (:func:`meliso.circuit.pcg._solve_vector`,
    unchanged) with each vector's word-line Thomas factors; node voltages into ``w_out`` and
    ``b_out`` (batch, rows, cols), CG iterations (-1: not converged) into ``iters_out``."""
    rows, cols = g_eff.shape[1], g_eff.shape[2]
    batch = v_in_v.shape[0]
    n_chunks = max(1, min(batch, n_chunks))
    for ch in prange(n_chunks):
        r, z, p, q, inv_b, members, inv_g, x, y = cg_workspace(rows, cols)
        for k in range(ch, batch, n_chunks):
            g = g_eff[k]
            inv_w = wordline_inverse_pivots(g, g_w)
            u0 = wordline_first_column(inv_w, g_w)
            iters_out[k] = _solve_vector(g, on[k], v_in_v[k], inv_w, u0, g_w, g_b, tol,
                                         accept_tol, max_iter, w_out[k], b_out[k], r, z, p, q,
                                         inv_b, members, inv_g, x, y)


@njit(cache=True, parallel=True)
def picard_kernel(g_s: np.ndarray, v_in_v: np.ndarray, on: np.ndarray, g_w: float, g_b: float,
                  ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int,
                  ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, tol: float, accept_tol: float,
                  step_tol: float, max_iter: int, cg_tol: float, cg_accept_tol: float,
                  cg_max_iter: int, w_io: np.ndarray, b_io: np.ndarray, iters_out: np.ndarray,
                  inner_out: np.ndarray, status_out: np.ndarray, n_chunks: int) -> None:
    """The secant iteration of :func:`_picard`, every vector in parallel, elements by
    :mod:`.iv_numba`: ``w_io``/``b_io`` (batch, rows, cols) hold the start and receive the
    solution; ``status_out``: 1 converged, 0 not within ``max_iter``, -1 a CG solve or an
    element's internal-node solve failed (the caller falls back to sparse-LU Newton)."""
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    n_chunks = max(1, min(batch, n_chunks))
    for ch in prange(n_chunks):
        r, z, p, q, inv_b, members, inv_g, x, y = cg_workspace(rows, cols)
        g_eff = np.empty((rows, cols))
        cur = np.empty((rows, cols))
        w_new = np.empty((rows, cols))
        b_new = np.empty((rows, cols))
        y_cell = np.empty((rows, cols))  # cell voltages: warm starts of the internal node
        rw = np.empty((rows, cols))  # residuals (only their norms are used here)
        rb = np.empty((rows, cols))
        for k in range(ch, batch, n_chunks):
            w, b, v = w_io[k], b_io[k], v_in_v[k]
            vmax = 1e-300
            for i in range(rows):
                vmax = max(vmax, abs(v[i]))
            y_cell[:, :] = np.nan  # internal-node solves start from the divider
            step = np.inf
            best = np.inf
            status = 0
            inner = 0
            it = 0
            while True:
                failed = False
                for i in range(rows):
                    for j in range(cols):
                        if not on[k, i]:
                            cur[i, j] = 0.0
                            g_eff[i, j] = 0.0
                            continue
                        d = w[i, j] - b[i, j]
                        if ak == ACC_NONE and d != 0.0:  # a bare cell: no derivative needed
                            el = cell_current(ck, cp, cx, cc, g_s[i, j], d)
                            da = 0.0
                        else:
                            el, da, _, ok, y_cell[i, j] = element_from(
                                ck, cp, cx, cc, ak, ap, ax, ac, g_s[i, j], w[i, j], b[i, j],
                                y_cell[i, j])
                            failed |= not ok
                        cur[i, j] = el
                        ge = el / d if d != 0.0 else da
                        g_eff[i, j] = ge if ge > 0.0 else 0.0
                if failed:
                    status = -1
                    break
                err = _residuals_into(g_s, v, g_w, g_b, w, b, cur, cur, rw, rb)
                small = step <= step_tol * vmax
                if (err <= tol and small) or (err <= accept_tol and err >= 0.5 * best
                                              and small):
                    status = 1
                    break
                best = min(best, err)
                if it >= max_iter:
                    break
                inv_w = wordline_inverse_pivots(g_eff, g_w)
                u0 = wordline_first_column(inv_w, g_w)
                # inexact secant steps: the linear solve only as tight as the non-linear
                # residual it corrects (1e-3 of it), down to the linear solver's own bounds
                lin_tol = min(1e-6, max(cg_tol, 1e-3 * err))
                cg = _solve_vector(g_eff, on[k], v, inv_w, u0, g_w, g_b, lin_tol,
                                   max(cg_accept_tol, lin_tol), cg_max_iter, w_new, b_new, r, z,
                                   p, q, inv_b, members, inv_g, x, y)
                if cg < 0:
                    status = -1
                    break
                inner += cg
                step = 0.0
                for i in range(rows):
                    for j in range(cols):
                        step = max(step, abs(w_new[i, j] - w[i, j]), abs(b_new[i, j] - b[i, j]))
                        w[i, j] = w_new[i, j]
                        b[i, j] = b_new[i, j]
                it += 1
            iters_out[k] = it
            inner_out[k] = inner
            status_out[k] = status


@njit(cache=True)
def _residuals_into(g: np.ndarray, v: np.ndarray, g_w: float, g_b: float, w: np.ndarray,
                    b: np.ndarray, cur: np.ndarray, cur_b: np.ndarray, rw: np.ndarray,
                    rb: np.ndarray) -> float:
    """The larger of the two KCL families' backward errors ||R|| / ||terms|| (as
    :func:`_backward_errors`), the element currents leaving the word-line nodes ``cur`` and
    entering the bit-line nodes ``cur_b`` given (the same array for two-terminal elements; they
    differ by the internal node's residual while it is an unknown); R_W and R_B stored in
    ``rw``, ``rb`` (rows, cols)."""
    rows, cols = w.shape
    rw2 = mw2 = rb2 = mb2 = 0.0
    for i in range(rows):
        for j in range(cols):
            el = cur[i, j]
            left = v[i] if j == 0 else w[i, j - 1]
            r = g_w * (w[i, j] - left) + el
            m = g_w * (abs(w[i, j]) + abs(left)) + abs(el)
            if j < cols - 1:
                r += g_w * (w[i, j] - w[i, j + 1])
                m += g_w * (abs(w[i, j]) + abs(w[i, j + 1]))
            rw[i, j] = r
            rw2 += r * r
            mw2 += m * m
            el = cur_b[i, j]
            below = b[i + 1, j] if i < rows - 1 else 0.0
            r = g_b * (b[i, j] - below) - el
            m = g_b * (abs(b[i, j]) + abs(below)) + abs(el)
            if i > 0:
                r += g_b * (b[i, j] - b[i - 1, j])
                m += g_b * (abs(b[i, j]) + abs(b[i - 1, j]))
            rb[i, j] = r
            rb2 += r * r
            mb2 += m * m
    ew = math.sqrt(rw2 / mw2) if rw2 > 0 else 0.0
    eb = math.sqrt(rb2 / mb2) if rb2 > 0 else 0.0
    return max(ew, eb)


@njit(cache=True)
def _newton_step_cg(a: np.ndarray, a_w: np.ndarray, a_b: np.ndarray, on: np.ndarray,
                    rw: np.ndarray, rb: np.ndarray, g_w: float, g_b: float, eta: float,
                    max_iter: int, dw: np.ndarray, db: np.ndarray, r: np.ndarray, z: np.ndarray,
                    p: np.ndarray, q: np.ndarray, inv_b: np.ndarray, members: np.ndarray,
                    inv_g: np.ndarray, x: np.ndarray, y: np.ndarray) -> int:
    """Solve K [dW; dB] = -[R_W; R_B] for the linear crossbar K with element conductances
    ``a`` and shunts to ground of ``a_w - a`` at the word-line nodes and ``a_b - a`` at the
    bit-line nodes (a_w, a_b >= a: the symmetric approximation of the Jacobian, see
    :func:`newton_cg_kernel`): the Schur complement of :mod:`.pcg` with a general right-hand
    side, T the word-line tridiagonals with ``a_w`` on their diagonals, D = diag(a),

        S dB = -R_B - D T^-1 R_W,    dW = T^-1 (-R_W + D dB),    S = L_B + diag(a_b) - D T^-1 D,

    by CG preconditioned with M = L_B + diag(a_b) (the existing kernels :func:`~.pcg._apply_schur`,
    :func:`~.pcg._step`), to ||residual|| <= ``eta`` ||rhs|| (an inexact Newton step: the outer
    loop checks the true non-linear residual). Returns CG iterations, -1 on breakdown."""
    rows, cols = a.shape
    inv_w = wordline_inverse_pivots(a_w, g_w)
    n_groups = _group_wordlines(on, inv_w, members, inv_g)
    for i in range(rows):  # r = -R_B (+ D T^-1 (-R_W) on the connected rows, below)
        for j in range(cols):
            r[i, j] = -rb[i, j]
            db[i, j] = 0.0
            dw[i, j] = 0.0
    for grp in range(n_groups):
        for lane in range(LANES):
            i = members[grp, lane]
            for j in range(cols):
                x[j, lane] = -rw[i, j] if i >= 0 else 0.0
        _wordline_solve_group(inv_g[grp], g_w, x)
        for lane in range(LANES):
            i = members[grp, lane]
            if i >= 0:
                for j in range(cols):
                    r[i, j] += a[i, j] * x[j, lane]
    h2 = 0.0
    for i in range(rows):
        for j in range(cols):
            h2 += r[i, j] * r[i, j]
    it = 0
    if h2 > 0.0:
        _bitline_inverse_pivots(a_b, on, g_b, inv_b)
        rz = _precondition(r, inv_b, g_b, z)
        p[:, :] = z
        r2 = h2
        while r2 > eta * eta * h2 and it < max_iter:
            pq = _apply_schur(a, on, members, n_groups, inv_g, g_w, g_b, p, q, x, y)
            for i in range(rows):  # the bit-line shunts
                if on[i]:
                    for j in range(cols):
                        e = a_b[i, j] - a[i, j]
                        q[i, j] += e * p[i, j]
                        pq += e * p[i, j] * p[i, j]
            if not pq > 0.0 or not np.isfinite(rz):
                return -1
            r2, rz_new = _step(rz / pq, p, q, db, r, inv_b, g_b, z)
            beta = rz_new / rz
            rz = rz_new
            for i in range(rows):
                for j in range(cols):
                    p[i, j] = z[i, j] + beta * p[i, j]
            it += 1
    for grp in range(n_groups):  # dW = T^-1 (-R_W + D dB)
        for lane in range(LANES):
            i = members[grp, lane]
            for j in range(cols):
                x[j, lane] = -rw[i, j] + a[i, j] * db[i, j] if i >= 0 else 0.0
        _wordline_solve_group(inv_g[grp], g_w, x)
        for lane in range(LANES):
            i = members[grp, lane]
            if i >= 0:
                for j in range(cols):
                    dw[i, j] = x[j, lane]
    return it


@njit(cache=True, inline="always")
def _element_node(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int,
                  ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, g: float, vw: float, vb: float,
                  y_cell: np.ndarray, ky: np.ndarray, i: int, j: int, cur: np.ndarray,
                  cur_b: np.ndarray) -> tuple[float, float, bool, float, float]:
    """:func:`.iv_numba.node_element` at element (i, j), its state kept in the kernel's arrays:
    ``y_cell`` the cell voltage, ``cur`` = I_c, ``cur_b`` = I_a, ``ky`` = (k_r, k_w, k_b) (the
    condensed current I_eff = I_c - (1 - k_w) r_x enters through the right-hand side).
    Returns (dI/dV_w, dI/dV_b, ok, r_x, |I_c| + |I_a|)."""
    fc, ia, da, dc, ok, yc, k_r, k_w, k_b = node_element(ck, cp, cx, cc, ak, ap, ax, ac, g, vw,
                                                         vb, y_cell[i, j])
    y_cell[i, j] = yc
    cur[i, j] = fc
    cur_b[i, j] = ia
    ky[0, i, j] = k_r
    ky[1, i, j] = k_w
    ky[2, i, j] = k_b
    return da, dc, ok, fc - ia, abs(fc) + abs(ia)


@njit(cache=True, parallel=True)
def newton_cg_kernel(g_s: np.ndarray, v_in_v: np.ndarray, on: np.ndarray, g_w: float,
                     g_b: float, ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray,
                     ak: int, ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, tol: float,
                     accept_tol: float, step_tol: float, max_iter: int, cg_max_iter: int,
                     w_io: np.ndarray, b_io: np.ndarray, iters_out: np.ndarray,
                     inner_out: np.ndarray, status_out: np.ndarray, n_chunks: int) -> None:
    """Newton with a symmetric approximation of the Jacobian, every vector in parallel, each
    step by :func:`_newton_step_cg`.

    Bare cells: the element block of the Jacobian, d(I)/d(V_w, V_b) = (a, -a), is symmetric and
    the step is Newton's. With an access device the internal node is an unknown
    (:func:`_element_node`, one model evaluation per element and iteration) and the condensed
    block (d_w, d_b) = (dI/dV_w, dI/dV_b) has d_w != -d_b (the transistor's g_m and g_mb act
    from the bit-line side). It is split as a series conductance a = min(d_w, -d_b) plus a shunt
    to ground of -d_b - a at the bit-line node (or d_w - a at the word-line node): symmetric
    and positive definite, so the Schur CG still applies, and only the controlled-source part
    a - max(d_w, -d_b) of one off-diagonal entry is dropped (a quasi-Newton step converging
    linearly at the rate of that part: ~1e-3 per step for the level-1 preset at 1 Ohm, against
    ~3e-3 for the symmetric part 0.5 (d_w - d_b)).

    Converged: the backward error of every KCL family (word-line, bit-line and internal nodes)
    at ``tol`` and the error left in the node voltages at ``step_tol`` times the largest drive:
    the last step, or where the steps contract by theta < 1/2, theta / (1 - theta) times it
    (which saves the step that would only confirm a fast contraction; a falling backward error
    alone is no such proof here: it is dominated by the wires' terms).
    ``status_out``: 1 converged, 0 not within ``max_iter``, -1 the residual stopped falling, a
    CG or an internal-node solve failed (the caller then uses the damped sparse-LU Newton)."""
    rows, cols = g_s.shape
    batch = v_in_v.shape[0]
    n_chunks = max(1, min(batch, n_chunks))
    explicit = ak != ACC_NONE
    for ch in prange(n_chunks):
        r, z, p, q, inv_b, members, inv_g, x, y = cg_workspace(rows, cols)
        a_c = np.empty((rows, cols))  # the symmetric Jacobian: couplings and diagonals
        a_w = np.empty((rows, cols))
        a_b = np.empty((rows, cols))
        cur = np.empty((rows, cols))
        cur_b = np.empty((rows, cols))
        rw = np.empty((rows, cols))
        rb = np.empty((rows, cols))
        dw = np.empty((rows, cols))
        db = np.empty((rows, cols))
        y_cell = np.empty((rows, cols))
        ky = np.zeros((3, rows, cols)) if explicit else np.zeros((3, 1, 1))
        for k in range(ch, batch, n_chunks):
            w, b, v = w_io[k], b_io[k], v_in_v[k]
            vmax = 1e-300
            for i in range(rows):
                vmax = max(vmax, abs(v[i]))
            y_cell[:, :] = np.nan
            step = np.inf
            step_prev = np.inf
            best = np.inf
            last = np.inf
            rises = 0
            status = 0
            inner = 0
            it = 0
            while True:
                failed = False
                ru2 = mu2 = 0.0
                for i in range(rows):
                    for j in range(cols):
                        if not on[k, i]:
                            cur[i, j] = 0.0
                            cur_b[i, j] = 0.0
                            a_c[i, j] = a_w[i, j] = a_b[i, j] = 0.0
                            if explicit:
                                ky[0, i, j] = ky[1, i, j] = ky[2, i, j] = 0.0
                            continue
                        if not explicit:  # a bare cell
                            el, da = cell_iv(ck, cp, cx, cc, g_s[i, j], w[i, j] - b[i, j])
                            dc = -da
                            cur[i, j] = el
                            cur_b[i, j] = el
                        else:
                            da, dc, ok, ru, mu = _element_node(
                                ck, cp, cx, cc, ak, ap, ax, ac, g_s[i, j], w[i, j], b[i, j],
                                y_cell, ky, i, j, cur, cur_b)
                            failed |= not ok
                            ru2 += ru * ru
                            mu2 += mu * mu
                        a = max(0.0, min(da, -dc))
                        a_c[i, j] = a
                        a_w[i, j] = max(a, da)
                        a_b[i, j] = max(a, -dc)
                if failed:
                    status = -1
                    break
                err = _residuals_into(g_s, v, g_w, g_b, w, b, cur, cur_b, rw, rb)
                if ru2 > 0.0:
                    err = max(err, math.sqrt(ru2 / mu2))
                    for i in range(rows):  # the condensed right-hand side (see _element_node)
                        for j in range(cols):
                            ru = cur[i, j] - cur_b[i, j]
                            rw[i, j] -= (1.0 - ky[1, i, j]) * ru
                            rb[i, j] -= ky[1, i, j] * ru
                # the error left after the last step, by the contraction theta it showed
                # (Hairer & Wanner, Solving ODEs II, sec. IV.8: theta / (1 - theta) |step|,
                # for a linearly or faster converging iteration)
                # (from the second step on: one step shows no contraction)
                theta = step / step_prev if step_prev < np.inf else 1.0
                left = step * theta / (1.0 - theta) if theta < 0.5 else step
                small = step <= step_tol * vmax or left <= step_tol * vmax
                if (err <= tol and small) or (err <= accept_tol and err >= 0.5 * best
                                              and small):
                    status = 1
                    break
                rises = rises + 1 if err >= last else 0
                if rises >= 3 or not np.isfinite(err):
                    status = -1
                    break
                last = err
                best = min(best, err)
                if it >= max_iter:
                    break
                eta = max(1e-15, min(1e-4, 100.0 * err))
                cg = _newton_step_cg(a_c, a_w, a_b, on[k], rw, rb, g_w, g_b, eta, cg_max_iter,
                                     dw, db, r, z, p, q, inv_b, members, inv_g, x, y)
                if cg < 0:
                    status = -1
                    break
                inner += cg
                step_prev = step
                step = 0.0
                for i in range(rows):
                    for j in range(cols):
                        step = max(step, abs(dw[i, j]), abs(db[i, j]))
                        w[i, j] += dw[i, j]
                        b[i, j] += db[i, j]
                        if explicit:
                            y_cell[i, j] += (-ky[0, i, j] + ky[1, i, j] * dw[i, j]
                                             + ky[2, i, j] * db[i, j])
                it += 1
            iters_out[k] = it
            inner_out[k] = inner
            status_out[k] = status

"""Crossbars of non-linear cells and access transistors: Newton on the nodal equations.

    solve_nonlinear(g_s, v_in_v, *, r_bitline_ohm, r_wordline_ohm, topology, cell_iv, access,
                    tol=1e-13, max_newton=60, method="auto") -> NonlinearSolution

Same geometry as :func:`meliso.circuit.solve_currents` (``docs/physics.md`` §3.3): unknowns are
the word-line nodes W (when r_w > 0) and the bit-line nodes B (when r_b > 0); each element
(:func:`meliso.circuit.iv.series_element`: cell, then access transistor) carries I(W_ij, B_ij)
from word-line node (i, j) to bit-line node (i, j). Kirchhoff's current law, as outflow minus
inflow at every unknown node,

    R_W(i,j) = g_w (W_ij - W_i,j-1) + g_w (W_ij - W_i,j+1) [j < cols-1] + I_ij   (W_i,-1 = V_i)
    R_B(i,j) = g_b (B_ij - B_i-1,j) [i > 0] + g_b (B_ij - B_i+1,j) - I_ij      (B_rows,j = 0)

is solved for R = 0. The Jacobian has the sparsity of the linear nodal matrix, with the element
block [[a, c], [-a, -c]], a = dI/dW, c = dI/dB. A two-terminal element (cell and resistor, or a
table transistor) has c = -a and a symmetric Jacobian; a MOSFET's current depends on its source
voltage through V_GS and the body effect, not on W - B alone, so c != -a and the Jacobian is
not symmetric.

Methods (``method``):

- ``lines`` (one segment kind; ``auto`` picks it): exact Newton. The network is then a set of
  independent lines (word lines with r_b = 0, bit lines with r_w = 0), the Jacobian tridiagonal
  per line: every line of every vector is solved at once by a vectorised Thomas sweep, damped
  by backtracking on ||R||.
- ``newton-cg`` (both kinds; ``auto`` picks it, measured fastest): Newton whose step solves a
  linear crossbar with a general right-hand side -R by the Schur-complement CG of :mod:`.pcg`
  (its kernels, exact tridiagonal line solves, preconditioner M), to a relative residual
  eta = min(1e-4, 100 ||R||) (inexact Newton). A Numba kernel over the vectors in parallel,
  elements by :mod:`.iv_numba`. For two-terminal elements the linear crossbar is the Jacobian.
  With an access device each element's internal node is an unknown too, condensed into the
  element (one model evaluation per element and step, no inner solve), and the element block
  (a, c) is split into a series conductance min(a, -c) and a shunt to ground at one of its
  nodes (symmetric and positive definite); only the controlled-source part of one off-diagonal
  entry is left out, a quasi-Newton step contracting by ~1e-3 (see
  :func:`.nonlinear_kernels.newton_cg_kernel`): 4 steps instead of 3 on the benchmark.
- ``picard`` (both kinds; issue 26's option (b)): the secant (chord) iteration: g_eff =
  I(W, B) / (W - B) per element (dI/dV where W = B), the linear crossbar with those conductances
  solved by the existing CG (:func:`~.pcg._solve_vector`, unchanged, each vector with its own
  conductances); its fixed point is the non-linear solution; it converges linearly (7
  iterations to 1e-13 on the benchmark).
- ``newton-gmres`` (option (a)): Newton, each step by GMRES on the non-symmetric Jacobian
  (scipy), preconditioned by the sparse LU of the small-signal nodal matrix, one factorisation
  per set of connected rows, shared by the vectors and the Newton steps; one vector at a time.
- ``newton-direct``: Newton with a sparse LU of every Jacobian (the plain reference, and the
  fallback of ``newton-cg`` and ``picard`` for a vector they do not settle).

The sparse Newton steps are damped by backtracking on ||R|| (halving until it decreases; the
Numba kernels instead hand a vector whose residual stops falling to ``newton-direct``). All
start from the linear solution with the small-signal conductances (elements at 0 V).
Convergence is
tested on the true non-linear residual: for each node family (W, B, and internal nodes where
they are unknowns) ||R|| <= ``tol`` times the norm of the magnitudes of its KCL terms (a
backward error, like the linear CG's, see :mod:`.nodal`), and the last update below
``STEP_TOL`` max|V_in| (``newton-cg``: the error left after it, estimated from the steps'
contraction). A vector that gets neither
there nor within ``ACCEPT_TOL`` raises :class:`~meliso.ConvergenceError` (an
ArithmeticError); NaN never leaves.
"""

from __future__ import annotations

from typing import Literal

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.linalg import LinearOperator, gmres, splu

from .._memory import check_memory
from .._validation import ConvergenceError, ParameterError
from .checks import check_inputs
from .iv import AccessIV, CellIV, LinearCell, small_signal_conductance
from .iv_numba import encode
from .lines_kernel import lines_kernel
from .nodal import PCG_ACCEPT_TOL, PCG_MAX_ITER, PCG_TOL, _direct, _system, nodal_solve
from .nonlinear_kernels import newton_cg_kernel, picard_kernel, schur_pcg_per_vector_kernel
from .nonlinear_memory import path_of, solve_bytes, sparse_lu_bytes
from .nonlinear_net import (
    ACCEPT_TOL,
    NONLINEAR_METHODS,
    STEP_TOL,
    TOL,
    NonlinearSolution,
    _backward_errors,
    _line_search,
    _lu_solve,
    _Net,
    _sub,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
NonlinearMethod = Literal["auto", "lines", "newton-cg", "picard", "newton-gmres",
                          "newton-direct"]


def _thomas(diag: FloatArray, off: float, rhs: FloatArray) -> FloatArray:
    """Solve lines along the last axis: tridiagonal with ``diag`` and constant off-diagonal
    ``off`` (diagonally dominant: no pivoting)."""
    n = diag.shape[-1]
    c = np.empty_like(diag)  # modified super-diagonal
    d = np.empty_like(rhs)
    c[..., 0] = off / diag[..., 0]
    d[..., 0] = rhs[..., 0] / diag[..., 0]
    for k in range(1, n):
        den = diag[..., k] - off * c[..., k - 1]
        c[..., k] = off / den
        d[..., k] = (rhs[..., k] - off * d[..., k - 1]) / den
    x = np.empty_like(rhs)
    x[..., n - 1] = d[..., n - 1]
    for k in range(n - 2, -1, -1):
        x[..., k] = d[..., k] - c[..., k] * x[..., k + 1]
    return x


def _lines_step(net: _Net, w: FloatArray, b: FloatArray, a: FloatArray, c: FloatArray,
                rw: FloatArray, rb: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The exact Newton step (dW, dB) with one segment kind."""
    if net.g_w > 0:  # word lines: along the columns
        cols = w.shape[2]
        diag = a + net.g_w * (1.0 + (np.arange(cols) < cols - 1))
        return _thomas(diag, -net.g_w, -rw), np.zeros_like(b)
    rows = b.shape[1]  # bit lines: along the rows
    diag = -c + net.g_b * (1.0 + (np.arange(rows) > 0))[:, None]
    step = _thomas(np.swapaxes(diag, 1, 2), -net.g_b, np.swapaxes(-rb, 1, 2))
    return np.zeros_like(w), np.swapaxes(step, 1, 2)


def _newton_lines(net: _Net, w: FloatArray, b: FloatArray, tol: float, max_newton: int
                  ) -> tuple[FloatArray, FloatArray, IntArray, NDArray[np.bool_]]:
    """Batched damped Newton with tridiagonal Jacobians; returns (W, B, iterations, ok)."""
    m = w.shape[0]
    iters = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=bool)
    vmax = np.maximum(np.abs(net.v).max(axis=1), 1e-300)
    step = np.full(m, np.inf)
    active = np.arange(m)
    best = np.full(m, np.inf)
    for _ in range(max_newton + 1):
        sub = _sub(net, active)
        wa, ba = w[active], b[active]
        i, a, c = sub.element(wa, ba)
        err, merit = _backward_errors(sub, wa, ba, i)
        good = (err <= tol) & (step[active] <= STEP_TOL * vmax[active])
        stalled = (err <= ACCEPT_TOL) & (err >= 0.5 * best[active])
        best[active] = np.minimum(best[active], err)
        done = good | stalled
        ok[active[done]] = True
        active = active[~done]
        if active.size == 0 or iters.max(initial=0) >= max_newton:
            break
        keep = ~done
        sub = _sub(net, active)
        wa, ba, a, c, merit = wa[keep], ba[keep], a[keep], c[keep], merit[keep]
        rw, rb, _, _ = sub.residual(wa, ba, i[keep])
        dw, db = _lines_step(sub, wa, ba, a, c, rw, rb)
        wn, bn = _line_search(sub, wa, ba, dw, db, merit, tol)
        step[active] = np.maximum(np.abs(wn - wa).max(axis=(1, 2)),
                                  np.abs(bn - ba).max(axis=(1, 2)))
        w[active], b[active] = wn, bn
        iters[active] += 1
    return w, b, iters, ok


def _linear_solve_per_vector(net: _Net, g_eff: FloatArray, r_b: float, r_w: float
                             ) -> tuple[FloatArray, FloatArray, IntArray]:
    """Node voltages of linear crossbars with per-vector conductances (m, rows, cols)."""
    m, rows, cols = g_eff.shape
    w = np.zeros((m, rows, cols))
    b = np.zeros((m, rows, cols))
    iters = np.full(m, -1, dtype=np.int64)
    schur_pcg_per_vector_kernel(np.ascontiguousarray(g_eff), np.ascontiguousarray(net.v),
                                np.ascontiguousarray(net.on), net.g_w, net.g_b, PCG_TOL,
                                PCG_ACCEPT_TOL, PCG_MAX_ITER, iters, w, b,
                                2 * numba.get_num_threads())
    for k in np.flatnonzero(iters < 0):  # CG stalled: sparse LU
        wk, bk = _direct(g_eff[k], net.v[k:k + 1], net.on[k], r_b, r_w)
        w[k], b[k] = wk[0], bk[0]
    return w, b, iters


def _picard(net: _Net, w: FloatArray, b: FloatArray, tol: float, max_iter: int, r_b: float,
            r_w: float) -> tuple[FloatArray, FloatArray, IntArray, IntArray, NDArray[np.bool_]]:
    """Secant iteration, batched: returns (W, B, outer iterations, CG iterations, ok)."""
    m = w.shape[0]
    iters = np.zeros(m, dtype=np.int64)
    inner = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=bool)
    vmax = np.maximum(np.abs(net.v).max(axis=1), 1e-300)
    step = np.full(m, np.inf)
    best = np.full(m, np.inf)
    active = np.arange(m)
    for _ in range(max_iter + 1):
        sub = _sub(net, active)
        wa, ba = w[active], b[active]
        i, a, _ = sub.element(wa, ba)
        err, _ = _backward_errors(sub, wa, ba, i)
        good = (err <= tol) & (step[active] <= STEP_TOL * vmax[active])
        stalled = (err <= ACCEPT_TOL) & (err >= 0.5 * best[active]) & \
            (step[active] <= STEP_TOL * vmax[active])
        best[active] = np.minimum(best[active], err)
        done = good | stalled
        ok[active[done]] = True
        active = active[~done]
        if active.size == 0 or iters.max(initial=0) >= max_iter:
            break
        keep = ~done
        sub = _sub(net, active)
        wa, ba, i, a = wa[keep], ba[keep], i[keep], a[keep]
        d = wa - ba
        with np.errstate(divide="ignore", invalid="ignore"):
            g_eff = np.where(d != 0.0, i / d, a)
        g_eff = np.maximum(g_eff, 0.0) * sub.on[:, :, None]
        wn, bn, cg = _linear_solve_per_vector(sub, g_eff, r_b, r_w)
        inner[active] += np.maximum(cg, 0)
        step[active] = np.maximum(np.abs(wn - wa).max(axis=(1, 2)),
                                  np.abs(bn - ba).max(axis=(1, 2)))
        w[active], b[active] = wn, bn
        iters[active] += 1
    return w, b, iters, inner, ok


def _jacobian_parts(rows: int, cols: int, r_b: float, r_w: float
                    ) -> tuple[sp.csc_matrix, IntArray, IntArray]:
    """The wire Laplacian (cells removed) and the element entries' (row, col) indices."""
    n_w = rows * cols if r_w > 0 else 0
    a_wire, _, _ = _system(np.zeros((rows, cols)), np.zeros(rows, dtype=bool), r_b, r_w)
    idx = np.arange(rows * cols)
    wi, bi = idx, idx + n_w
    if r_w > 0 and r_b > 0:
        er = np.concatenate([wi, wi, bi, bi])
        ec = np.concatenate([wi, bi, wi, bi])
    elif r_w > 0:
        er, ec = wi, wi
    else:
        er, ec = bi - n_w, bi - n_w
    return a_wire, er, ec


def _newton_sparse(net: _Net, w: FloatArray, b: FloatArray, tol: float, max_newton: int,
                   r_b: float, r_w: float, krylov: bool
                   ) -> tuple[FloatArray, FloatArray, IntArray, IntArray, NDArray[np.bool_]]:
    """Damped Newton one vector at a time: each step by sparse LU (``krylov=False``) or by
    GMRES preconditioned with the LU of the small-signal nodal matrix (``krylov=True``)."""
    m, rows, cols = w.shape
    a_wire, er, ec = _jacobian_parts(rows, cols, r_b, r_w)
    n = a_wire.shape[0]
    iters = np.zeros(m, dtype=np.int64)
    inner = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=bool)
    g0 = small_signal_conductance(net.cell, net.access, net.g)
    precond: dict[bytes, LinearOperator] = {}
    for k in range(m):
        sub = _sub(net, np.array([k]))
        wk, bk = w[k:k + 1].copy(), b[k:k + 1].copy()
        vmax = max(float(np.abs(net.v[k]).max()), 1e-300)
        step, best = np.inf, np.inf
        if krylov:
            key = net.on[k].tobytes()
            if key not in precond:
                lu = splu(_system(g0, net.on[k], r_b, r_w)[0], permc_spec="MMD_AT_PLUS_A",
                          options={"SymmetricMode": True})
                precond[key] = LinearOperator((n, n), matvec=lu.solve, dtype=np.float64)
        for _ in range(max_newton + 1):
            i, a, c = sub.element(wk, bk)
            err_a, merit = _backward_errors(sub, wk, bk, i)
            err = float(err_a[0])
            settled = err <= ACCEPT_TOL and err >= 0.5 * best
            if (err <= tol and step <= STEP_TOL * vmax) or settled:
                ok[k] = True
                break
            best = min(best, err)
            if iters[k] >= max_newton:
                break
            rw, rb, _, _ = sub.residual(wk, bk, i)
            rhs = -np.concatenate([rw[0].ravel()] * (r_w > 0) + [rb[0].ravel()] * (r_b > 0))
            if r_w > 0 and r_b > 0:
                vals = np.concatenate([a[0].ravel(), c[0].ravel(), -a[0].ravel(),
                                       -c[0].ravel()])
            else:
                vals = (a[0] if r_w > 0 else -c[0]).ravel()
            jac = (a_wire + sp.csc_matrix((vals, (er, ec)), shape=(n, n))).tocsc()
            if krylov:
                count = [0]

                def cb(_: object, count: list[int] = count) -> None:
                    count[0] += 1

                du, info = gmres(jac, rhs, rtol=1e-6, atol=0.0, restart=60, maxiter=20,
                                 M=precond[net.on[k].tobytes()], callback=cb,
                                 callback_type="pr_norm")
                inner[k] += count[0]
                if info != 0 or not np.all(np.isfinite(du)):
                    du = _lu_solve(jac, rhs)
            else:
                du = _lu_solve(jac, rhs)
            dw = du[: rows * cols].reshape(1, rows, cols) if r_w > 0 else np.zeros_like(wk)
            db = du[n - rows * cols:].reshape(1, rows, cols) if r_b > 0 else np.zeros_like(bk)
            wn, bn = _line_search(sub, wk, bk, dw, db, merit, tol)
            step = max(float(np.abs(wn - wk).max()), float(np.abs(bn - bk).max()))
            wk, bk = wn, bn
            iters[k] += 1
        w[k], b[k] = wk[0], bk[0]
    return w, b, iters, inner, ok


# --------------------------------------------------------------------------- entry point


def solve_nonlinear(
    g_s: ArrayLike,
    v_in_v: ArrayLike,
    *,
    r_bitline_ohm: float = 0.0,
    r_wordline_ohm: float = 0.0,
    topology: str = "1t1r",
    cell_iv: CellIV | None = None,
    access: AccessIV | None = None,
    tol: float = TOL,
    max_newton: int = 60,
    method: NonlinearMethod = "auto",
) -> NonlinearSolution:
    """Amplifier currents of a crossbar of non-linear elements; see the module docstring.

    ``g_s`` (rows, cols) are the cells' programmed (small-signal) conductances, ``v_in_v``
    (batch, rows) or (rows,) the driver voltages. ``cell_iv`` defaults to
    :class:`~meliso.circuit.iv.LinearCell`, ``access`` to none. ``tol`` (1e-15 ... 1e-6) is the
    backward error asked of every KCL family; ``max_newton`` (1 ... 1000) bounds the outer
    iterations. Returns (batch, cols) currents even for a single vector. The memory is
    estimated before anything is allocated (:func:`~.nonlinear_memory.solve_bytes`; past the
    budget a :class:`~meliso._memory.MemoryRefusal`, a ParameterError, says how much); the
    NumPy paths solve a large batch in chunks of ``nonlinear_memory.CHUNK_BYTES`` working
    memory (every vector is solved on its own, so the answer is the same).
    """
    r_b, r_w = float(r_bitline_ohm), float(r_wordline_ohm)
    g, v, _ = check_inputs(g_s, v_in_v, r_b, r_w, topology, "nodal")
    if method not in NONLINEAR_METHODS:
        raise ParameterError(f"method = {method!r}: allowed {', '.join(NONLINEAR_METHODS)}")
    if not (1e-15 <= tol <= 1e-6):
        raise ParameterError(f"tol = {tol!r} is out of range: allowed 1e-15 <= tol <= 1e-6")
    if not (1 <= max_newton <= 1000):
        raise ParameterError(f"max_newton = {max_newton!r} is out of range: allowed "
                             "1 <= max_newton <= 1000")
    both = r_b > 0 and r_w > 0
    if method == "lines" and both:
        raise ParameterError("method 'lines' is for one segment kind; with both r_bitline_ohm "
                             "and r_wordline_ohm > 0 use 'picard', 'newton-gmres' or "
                             "'newton-direct'")
    if method in ("picard", "newton-cg") and not both:
        raise ParameterError(f"method {method!r} needs both segment kinds (r_bitline_ohm > 0 "
                             "and r_wordline_ohm > 0); use 'auto' or 'lines'")
    cell: CellIV = cell_iv if cell_iv is not None else LinearCell()
    m, rows = v.shape
    cols = g.shape[1]
    if method == "auto":
        method = "newton-cg" if both else "lines"
    path = path_of(method, r_b, r_w, encode(cell, access) is not None)
    need, chunk = solve_bytes(path, rows, cols, m)
    check_memory(need, f"the non-linear solve of {m} vectors on {rows}x{cols} ({path})",
                 "solve fewer vectors at a time or a smaller array")
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are raised below
        return _chunked(g, v, r_b, r_w, topology, cell, access, tol, max_newton, method, chunk)


def _chunked(g: FloatArray, v: FloatArray, r_b: float, r_w: float, topology: str,
             cell: CellIV, access: AccessIV | None, tol: float, max_newton: int, method: str,
             chunk: int) -> NonlinearSolution:
    """:func:`_solve` over chunks of ``chunk`` vectors."""
    m, rows = v.shape
    cols = g.shape[1]
    if chunk >= m:
        return _solve(g, v, r_b, r_w, topology, cell, access, tol, max_newton, method)
    out = np.empty((m, cols))
    iters = np.empty(m, dtype=np.int64)
    inner = np.empty(m, dtype=np.int64)
    w = np.empty((m, rows, cols))
    b = np.empty((m, rows, cols))
    for k0 in range(0, m, chunk):
        part = _solve(g, v[k0:k0 + chunk], r_b, r_w, topology, cell, access, tol, max_newton,
                      method)
        sl = slice(k0, k0 + chunk)
        out[sl], iters[sl], inner[sl] = part.currents_a, part.newton_iterations, \
            part.inner_iterations
        w[sl], b[sl] = part.wordline_v, part.bitline_v
    return NonlinearSolution(out, iters, inner, part.method, w, b)


def _solve(g: FloatArray, v: FloatArray, r_b: float, r_w: float, topology: str, cell: CellIV,
           access: AccessIV | None, tol: float, max_newton: int, method: str
           ) -> NonlinearSolution:
    """:func:`solve_nonlinear` on validated inputs, one chunk of vectors."""
    m, rows = v.shape
    cols = g.shape[1]
    on = v != 0.0 if topology == "1t1r" else np.ones_like(v, dtype=bool)
    v_on = np.ascontiguousarray(v * on)
    net = _Net(g, v_on, on, 1.0 / r_w if r_w > 0 else 0.0, 1.0 / r_b if r_b > 0 else 0.0,
               cell, access)
    zeros = np.zeros(m, dtype=np.int64)
    if r_b == 0 and r_w == 0:
        w0 = np.broadcast_to(v_on[:, :, None], (m, rows, cols)).copy()
        b0 = np.zeros((m, rows, cols))
        i, _, _ = net.element(w0, b0)
        return NonlinearSolution(i.sum(axis=1), zeros, zeros.copy(), "ideal", w0, b0)
    g0 = small_signal_conductance(cell, access, g)
    if method == "lines":  # start from the ideal wires (the first Newton step is the
        # linear solve at the cells' operating points: no factorisation per input pattern)
        w = np.broadcast_to(v_on[:, :, None], (m, rows, cols)).copy()
        b = np.zeros((m, rows, cols))
        inner = zeros.copy()
    else:
        start = nodal_solve(g0, v, r_b, r_w, topology, voltages=True)
        w, b = start.wordline_v, start.bitline_v  # fresh arrays: updated in place
        inner = np.maximum(start.pcg_iterations, 0)
    if method == "lines" and (enc := encode(cell, access)) is not None:
        out = np.empty((m, cols))
        iters = np.zeros(m, dtype=np.int64)
        status = np.zeros(m, dtype=np.int64)
        (ck, cp, cx, cc), (ak, ap, ax, ac) = enc
        bitline = r_b > 0
        lines_kernel(np.ascontiguousarray(g), v_on, np.ascontiguousarray(on),
                     net.g_b if bitline else net.g_w, bitline, ck, cp, cx, cc, ak, ap, ax, ac,
                     tol, ACCEPT_TOL, STEP_TOL, max_newton, out, b if bitline else w, iters,
                     status)
        bad = np.flatnonzero(status != 1)
        if bad.size:  # the NumPy Newton with its line search for what the kernel left
            wb, bb, it2, ok2 = _newton_lines(_sub(net, bad), w[bad], b[bad], tol, max_newton)
            if not np.all(ok2):
                raise ConvergenceError(f"non-linear crossbar solve (lines) did not converge for "
                                      f"vector {int(bad[~ok2][0])} in {max_newton} iterations")
            sub = _sub(net, bad)
            out[bad] = (sub.g_b * bb[:, -1, :] if bitline else
                        sub.element(wb, bb)[0].sum(axis=1))
            w[bad], b[bad] = wb, bb
            iters[bad] += it2
        if not np.all(np.isfinite(out)):
            raise ConvergenceError("non-linear crossbar solve produced non-finite currents")
        return NonlinearSolution(out, iters, inner, method, w, b)
    if method == "lines":
        w, b, iters, ok = _newton_lines(net, w, b, tol, max_newton)
    elif method in ("picard", "newton-cg"):
        enc = encode(cell, access)
        if enc is None:  # a model without a Numba twin: the NumPy secant iteration
            w, b, iters, more, ok = _picard(net, w, b, tol, max_newton, r_b, r_w)
        else:
            (ck, cp, cx, cc), (ak, ap, ax, ac) = enc
            iters = np.zeros(m, dtype=np.int64)
            more = np.zeros(m, dtype=np.int64)
            status = np.zeros(m, dtype=np.int64)
            w, b = np.ascontiguousarray(w), np.ascontiguousarray(b)
            args = (np.ascontiguousarray(g), v_on, np.ascontiguousarray(on), net.g_w, net.g_b,
                    ck, cp, cx, cc, ak, ap, ax, ac, tol, ACCEPT_TOL, STEP_TOL, max_newton)
            if method == "picard":
                picard_kernel(*args, PCG_TOL, PCG_ACCEPT_TOL, PCG_MAX_ITER, w, b, iters, more,
                              status, 2 * numba.get_num_threads())
            else:
                newton_cg_kernel(*args, PCG_MAX_ITER, w, b, iters, more, status,
                                 2 * numba.get_num_threads())
            ok = status == 1
            if np.any(status < 0):  # restart those from the linear solution
                bad = np.flatnonzero(status < 0)
                again = nodal_solve(g0, v[bad], r_b, r_w, topology, voltages=True)
                w[bad], b[bad] = again.wordline_v, again.bitline_v
        inner = inner + more
        if not np.all(ok):  # the sparse-LU Newton for the vectors the secant did not settle
            bad = np.flatnonzero(~ok)
            check_memory(sparse_lu_bytes(rows, cols), f"the sparse-LU fallback of the "
                         f"non-linear solve on {rows}x{cols}", "use a smaller array")
            wb, bb, it2, _, ok2 = _newton_sparse(_sub(net, bad), w[bad], b[bad], tol,
                                                 max_newton, r_b, r_w, krylov=False)
            w[bad], b[bad], ok[bad] = wb, bb, ok2
            iters[bad] += it2
    else:
        w, b, iters, more, ok = _newton_sparse(net, w, b, tol, max_newton, r_b, r_w,
                                               krylov=method == "newton-gmres")
        inner = inner + more
    if not np.all(ok):
        k = int(np.flatnonzero(~ok)[0])
        raise ConvergenceError(f"non-linear crossbar solve ({method}) did not converge for "
                              f"vector {k} in {max_newton} iterations (backward error above "
                              f"{ACCEPT_TOL:g})")
    if net.g_b > 0:
        out = net.g_b * b[:, -1, :]
    else:
        out = net.element(w, b)[0].sum(axis=1)
    if not np.all(np.isfinite(out)):
        raise ConvergenceError("non-linear crossbar solve produced non-finite currents")
    return NonlinearSolution(out, iters, inner, method, w, b)

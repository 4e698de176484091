"""Newton on crossbars with one segment kind, line by line (Numba; every vector in parallel).

With bit-line segments only (r_w = 0) every word-line node is its driver's voltage and each
column is an independent chain: unknowns B_0 ... B_{R-1} (row 0 farthest from the amplifier,
which holds the node after row R-1 at 0 V). Kirchhoff's law at B_i, outflow minus inflow,

    F_i = g_b [(B_i - B_{i-1}) [i > 0] + (B_i - B_{i+1})] - I_i(V_i, B_i),   B_R = 0,

is tridiagonal in B with dF_i/dB_i = g_b (1 + [i > 0]) - dI_i/dV_b and -g_b beside it; Newton
solves it by the Thomas algorithm, to the backward error max |F_i| <= tol sum of |terms| and a
step below ``step_tol`` max |V|. The output is g_b B_{R-1}. With word-line segments only
(r_b = 0) the bit lines are at 0 V and each row is a chain from its driver before column 0:

    F_j = g_w [(W_j - W_{j-1}) + (W_j - W_{j+1}) [j < C-1]] + I_j(W_j, 0),   W_{-1} = V_i,

and the outputs are the column sums of I_ij. Rows at 0 V in ``1t1r`` are off (no current).
Elements are cells (:func:`.iv_numba.cell_iv`) or cells in series with an access device whose
internal node is a further unknown of the same Newton iteration, condensed into the element
(:func:`.iv_numba.node_element`: one model evaluation per element and step, the internal
nodes' KCL a third residual family); the line search moves them along the same Newton
direction. The NumPy reference is ``_newton_lines`` in :mod:`.nonlinear` (batched Newton with
a line search, each internal node solved at every evaluation); the tests compare the two.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .iv_numba import ACC_NONE, cell_iv, node_element

#: Halvings of a Newton step before a line gives up (then status -1: the caller falls back).
MAX_HALVINGS = 30


@njit(cache=True)
def _thomas_line(diag: np.ndarray, off: float, rhs: np.ndarray, c: np.ndarray,
                 out: np.ndarray) -> None:
    """Solve a tridiagonal line with ``diag`` and constant off-diagonal ``off`` into ``out``
    (diagonally dominant: no pivoting); ``c`` is scratch."""
    n = diag.size
    c[0] = off / diag[0]
    out[0] = rhs[0] / diag[0]
    for k in range(1, n):
        den = diag[k] - off * c[k - 1]
        c[k] = off / den
        out[k] = (rhs[k] - off * out[k - 1]) / den
    for k in range(n - 2, -1, -1):
        out[k] -= c[k] * out[k + 1]


@njit(cache=True)
def _kcl(u: np.ndarray, drive: float, bitline: bool, g_seg: float, g: np.ndarray,
         vfix: np.ndarray, on: np.ndarray, ck: int, cp: np.ndarray, cx: np.ndarray,
         cc: np.ndarray, ak: int, ap: np.ndarray, ax: np.ndarray, ac: np.ndarray,
         y: np.ndarray, ky: np.ndarray, f: np.ndarray, dia: np.ndarray, cur: np.ndarray
         ) -> tuple[float, float, bool]:
    """One line at node voltages ``u``: the condensed residual ``f`` and its Jacobian diagonal
    ``dia`` (the Newton system; with an access device each element's internal node is an
    unknown condensed into it, :func:`.iv_numba.node_element`, at the cell voltages ``y``,
    which are updated where they had to be re-solved, with ``ky`` = (k_r, dy/du) for the next
    step), the element currents entering the bit line ``cur``. Returns (backward error: max
    |true residual| / max term over the line's and the internal nodes, merit max |true
    residual|, every element converged)."""
    n = u.size
    worst = 0.0
    scale = 0.0
    worst_x = 0.0
    scale_x = 0.0
    good = True
    bare = ak == ACC_NONE
    for k in range(n):
        if bitline:
            left = u[k - 1] if k > 0 else u[k]
            right = u[k + 1] if k < n - 1 else 0.0
            seg = g_seg * ((u[k] - left) + (u[k] - right))
            d_seg = g_seg * ((1.0 if k > 0 else 0.0) + 1.0)
        else:
            left = u[k - 1] if k > 0 else drive
            right = u[k + 1] if k < n - 1 else u[k]
            seg = g_seg * ((u[k] - left) + (u[k] - right))
            d_seg = g_seg * (1.0 + (1.0 if k < n - 1 else 0.0))
        i_true = 0.0  # the element's current at this line's node
        i_bl = 0.0  # and where it enters the bit line
        i_eff = 0.0
        d_el = 0.0
        if on[k]:
            vw = vfix[k] if bitline else u[k]
            vb = u[k] if bitline else 0.0
            if bare:
                i_true, d_el = cell_iv(ck, cp, cx, cc, g[k], vw - vb)
                i_eff = i_true
                i_bl = i_true
                if bitline:
                    d_el = -d_el
            else:
                fc, ia, da, dc, ok, yk, k_r, k_w, k_b = node_element(
                    ck, cp, cx, cc, ak, ap, ax, ac, g[k], vw, vb, y[k])
                y[k] = yk
                good = good and ok
                rx = fc - ia
                i_true = ia if bitline else fc
                i_bl = ia
                i_eff = ia + k_w * rx
                d_el = dc if bitline else da
                ky[0, k] = k_r
                ky[1, k] = k_b if bitline else k_w
                worst_x = max(worst_x, abs(rx))
                scale_x = max(scale_x, abs(fc) + abs(ia))
        cur[k] = i_bl
        if bitline:
            f[k] = seg - i_eff
            dia[k] = d_seg - d_el
            r_true = seg - i_true
        else:
            f[k] = seg + i_eff
            dia[k] = d_seg + d_el
            r_true = seg + i_true
        worst = max(worst, abs(r_true))
        scale = max(scale, abs(i_true) + abs(g_seg * (u[k] - left)) + abs(g_seg * (u[k] - right)))
    err = worst / scale if scale > 0 else 0.0
    if scale_x > 0:
        err = max(err, worst_x / scale_x)
    return err, max(worst, worst_x), good


@njit(cache=True, parallel=True)
def lines_kernel(g_s: np.ndarray, v_in_v: np.ndarray, on: np.ndarray, g_seg: float,
                 bitline: bool, ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray,
                 ak: int, ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, tol: float,
                 accept_tol: float, step_tol: float, max_newton: int, currents: np.ndarray,
                 nodes: np.ndarray, iterations: np.ndarray, status: np.ndarray) -> None:
    """Every vector (prange) and line: damped Newton from the ideal wires. ``currents``
    (batch, cols) out, the unknown node voltages into ``nodes`` (batch, rows, cols: the
    bit-line or the word-line nodes); ``iterations`` the most Newton steps of a line;
    ``status`` 1 converged, -1 not (the caller solves that vector another way)."""
    batch, rows = v_in_v.shape
    cols = g_s.shape[1]
    lines = cols if bitline else rows
    n = rows if bitline else cols
    for b in prange(batch):
        u = np.empty(n)
        du = np.empty(n)
        trial = np.empty(n)
        y = np.empty(n)
        y_old = np.empty(n)
        ky = np.zeros((2, n))
        ky_old = np.zeros((2, n))
        f = np.empty(n)
        dia = np.empty(n)
        cur = np.empty(n)
        scratch = np.empty(n)
        gl = np.empty(n)
        vfix = np.empty(n)
        onl = np.empty(n, dtype=np.bool_)
        out = np.zeros(cols)
        vmax = 0.0
        for i in range(rows):
            vmax = max(vmax, abs(v_in_v[b, i]))
        st = 1
        most = 0
        for line in range(lines):
            drive = 0.0
            for k in range(n):
                if bitline:
                    gl[k] = g_s[k, line]
                    vfix[k] = v_in_v[b, k]
                    onl[k] = on[b, k]
                    u[k] = 0.0
                else:
                    gl[k] = g_s[line, k]
                    onl[k] = on[b, line]
                    u[k] = v_in_v[b, line]
                y[k] = np.nan
            if not bitline:
                drive = v_in_v[b, line]
                if not onl[0] and drive == 0.0:  # an off row carries nothing
                    continue
            err, merit, _ = _kcl(u, drive, bitline, g_seg, gl, vfix, onl, ck, cp, cx, cc, ak,
                                 ap, ax, ac, y, ky, f, dia, cur)
            step = np.inf
            best = np.inf
            it = 0
            done = False
            while it <= max_newton:
                if (err <= tol and step <= step_tol * max(vmax, 1e-300)) or \
                        (err <= accept_tol and err >= 0.5 * best):
                    done = True
                    break
                if it == max_newton:
                    break
                best = min(best, err)
                for k in range(n):
                    scratch[k] = -f[k]
                _thomas_line(dia, -g_seg, scratch, trial, du)
                # damped: halve until the true residual does not grow (the internal nodes
                # move along the same Newton direction)
                norm0 = merit
                y_old[:] = y
                ky_old[:, :] = ky
                lam = 1.0
                for _ in range(MAX_HALVINGS):
                    for k in range(n):
                        trial[k] = u[k] + lam * du[k]
                        y[k] = y_old[k] + lam * (-ky_old[0, k] + ky_old[1, k] * du[k])
                    e_new, norm1, ok = _kcl(trial, drive, bitline, g_seg, gl, vfix, onl, ck, cp,
                                            cx, cc, ak, ap, ax, ac, y, ky, f, dia, cur)
                    # as the NumPy twin's line search: the full step also where it lands
                    # within tol (at the rounding floor the residual need not fall, and
                    # halving would only cost evaluations)
                    if ok and (norm1 <= norm0 * (1.0 - 1e-4 * lam) or norm1 == 0.0
                               or e_new <= tol):
                        break
                    lam *= 0.5
                step = 0.0
                for k in range(n):
                    step = max(step, abs(trial[k] - u[k]))
                    u[k] = trial[k]
                err = e_new
                merit = norm1
                it += 1
            most = max(most, it)
            if not done:
                st = -1
                break
            if bitline:
                out[line] = g_seg * u[n - 1]
                for k in range(n):
                    nodes[b, k, line] = u[k]
            else:
                for k in range(n):
                    out[k] += cur[k]
                    nodes[b, line, k] = u[k]
        iterations[b] = most
        status[b] = st
        for j in range(cols):
            currents[b, j] = out[j]

"""Numba scalar twins of the :mod:`.iv` models and of :func:`meliso.circuit.iv.series_element`.

The secant (Picard) solver of :mod:`.nonlinear` evaluates every element of every vector in each
iteration; in NumPy that is a dozen temporaries of (batch, rows, cols) per model call. These
scalar functions do the same arithmetic element by element inside the parallel kernel. The
models travel as codes and parameter arrays (:func:`encode`); the NumPy versions in :mod:`.iv`
are the reference, and ``tests/test_nonlinear_circuit.py`` compares the two.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from .iv import (
    SERIES_MAX_ITER,
    SERIES_STEP_TOL,
    FixedAccess,
    Level1NMOS,
    LinearCell,
    SinhCell,
    TableAccess,
    TableCell,
    _Table,
)

FloatArray = NDArray[np.float64]
CELL_LINEAR, CELL_SINH, CELL_TABLE = 0, 1, 2
ACC_NONE, ACC_FIXED, ACC_LEVEL1, ACC_TABLE = 0, 1, 2, 3

Encoded = tuple[int, FloatArray, FloatArray, FloatArray]


def _table_arrays(t: _Table) -> tuple[FloatArray, FloatArray, FloatArray]:
    ends = np.array([t.y_end[0], t.y_end[1], t.slope_end[0], t.slope_end[1]])
    return ends, np.ascontiguousarray(t.x), np.ascontiguousarray(t.c)


def encode(cell: object, access: object | None) -> tuple[Encoded, Encoded] | None:
    """(cell code, params, table x, table c), the same for the access device; None for a model
    without a Numba twin (the NumPy path is then used)."""
    empty_x, empty_c = np.zeros(2), np.zeros((4, 1))
    if isinstance(cell, LinearCell):
        c_enc: Encoded = (CELL_LINEAR, np.zeros(1), empty_x, empty_c)
    elif isinstance(cell, SinhCell):
        c_enc = (CELL_SINH, np.array([cell.v0_v]), empty_x, empty_c)
    elif isinstance(cell, TableCell):
        c_enc = (CELL_TABLE, *_table_arrays(cell._table))
    else:
        return None
    if access is None or (isinstance(access, FixedAccess) and access.r_ohm == 0.0):
        a_enc: Encoded = (ACC_NONE, np.zeros(1), empty_x, empty_c)
    elif isinstance(access, FixedAccess):
        a_enc = (ACC_FIXED, np.array([access.r_ohm]), empty_x, empty_c)
    elif isinstance(access, Level1NMOS):
        a_enc = (ACC_LEVEL1, np.array([access.beta_a_per_v2, access.vto_v, access.gamma_sqrt_v,
                                       access.phi_v, access.lambda_per_v, access.v_gate_v]),
                 empty_x, empty_c)
    elif isinstance(access, TableAccess):
        a_enc = (ACC_TABLE, *_table_arrays(access._table))
    else:
        return None
    return c_enc, a_enc


@njit(cache=True, inline="always")
def _table(ends: np.ndarray, x: np.ndarray, c: np.ndarray, v: float) -> tuple[float, float]:
    n = x.size
    if v < x[0]:
        return ends[0] + ends[2] * (v - x[0]), ends[2]
    if v > x[n - 1]:
        return ends[1] + ends[3] * (v - x[n - 1]), ends[3]
    k = int(np.searchsorted(x, v, side="right")) - 1
    k = min(max(k, 0), n - 2)
    t = v - x[k]
    y = ((c[0, k] * t + c[1, k]) * t + c[2, k]) * t + c[3, k]
    dy = (3.0 * c[0, k] * t + 2.0 * c[1, k]) * t + c[2, k]
    return y, dy


@njit(cache=True, inline="always")
def cell_iv(kind: int, p: np.ndarray, x: np.ndarray, c: np.ndarray, g: float, v: float
            ) -> tuple[float, float]:
    """(I, dI/dV) of a cell of conductance g at V."""
    if kind == CELL_LINEAR:
        return g * v, g
    if kind == CELL_SINH:
        return g * p[0] * math.sinh(v / p[0]), g * math.cosh(v / p[0])
    y, dy = _table(p, x, c, v)
    return g * y, g * dy


@njit(cache=True)
def cell_current(kind: int, p: np.ndarray, x: np.ndarray, c: np.ndarray, g: float, v: float
                 ) -> float:
    """I of a cell (without the derivative: the secant iteration's common case)."""
    if kind == CELL_LINEAR:
        return g * v
    if kind == CELL_SINH:
        return g * p[0] * math.sinh(v / p[0])
    return g * _table(p, x, c, v)[0]


@njit(cache=True, inline="always")
def _level1(p: np.ndarray, vd: float, vs: float) -> tuple[float, float, float]:
    beta, vto, gamma, phi, lam, vg = p[0], p[1], p[2], p[3], p[4], p[5]
    fwd = vd >= vs
    hi = vd if fwd else vs
    lo = vs if fwd else vd
    vds = hi - lo
    vgs = vg - lo
    vbs = -lo
    sqphi = math.sqrt(phi)
    if vbs <= 0:
        sarg = math.sqrt(phi - vbs)
        dsarg = -0.5 / sarg
    else:
        sarg = max(0.0, sqphi - vbs / (sqphi + sqphi))
        dsarg = -0.5 / sqphi if sarg > 0 else 0.0
    von = (vto - gamma * sqphi) + gamma * sarg
    vgst = vgs - von
    if vgst <= 0:
        return 0.0, 0.0, 0.0
    betap = beta * (1.0 + lam * vds)
    if vgst <= vds:
        ids = betap * vgst * vgst * 0.5
        gm = betap * vgst
        gds = lam * beta * vgst * vgst * 0.5
    else:
        ids = betap * vds * (vgst - 0.5 * vds)
        gm = betap * vds
        gds = betap * (vgst - vds) + lam * beta * vds * (vgst - 0.5 * vds)
    gmbs = gm * (-gamma * dsarg)
    d_src = -(gm + gds + gmbs)
    if fwd:
        return ids, gds, d_src
    return -ids, -d_src, -gds


@njit(cache=True, inline="always")
def access_iv(kind: int, p: np.ndarray, x: np.ndarray, c: np.ndarray, vd: float, vs: float
              ) -> tuple[float, float, float]:
    """(I from d to s, dI/dV_d, dI/dV_s) of the access device."""
    if kind == ACC_FIXED:
        gr = 1.0 / p[0]
        return (vd - vs) * gr, gr, -gr
    if kind == ACC_LEVEL1:
        return _level1(p, vd, vs)
    y, dy = _table(p, x, c, vd - vs)
    return y, dy, -dy


@njit(cache=True, inline="always")
def _divider(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int, ap: np.ndarray,
             ax: np.ndarray, ac: np.ndarray, g: float, d: float, vb: float) -> float:
    """The cell's share of the element voltage ``d`` with both devices at their small-signal
    conductances (the start of every internal-node solve; half where neither conducts)."""
    _, gc0 = cell_iv(ck, cp, cx, cc, g, 0.0)
    _, gd0, _ = access_iv(ak, ap, ax, ac, vb, vb)
    return d * gd0 / (gc0 + gd0) if gc0 + gd0 > 0 else 0.5 * d


@njit(cache=True)
def element(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int, ap: np.ndarray,
            ax: np.ndarray, ac: np.ndarray, g: float, vw: float, vb: float
            ) -> tuple[float, float, float, bool]:
    """(I, dI/dV_w, dI/dV_b, converged) of one element: :func:`meliso.circuit.iv.series_element`
    (same safeguarded Newton on the cell voltage y and stopping rule; it also stops, without
    re-evaluating, where the series equation already holds to rounding, |I_cell - I_acc| <=
    4e-16 (|I_cell| + |I_acc|): the secant and Newton kernels warm-start it at the root)."""
    i, a, c, ok, _ = element_from(ck, cp, cx, cc, ak, ap, ax, ac, g, vw, vb, np.nan)
    return i, a, c, ok


@njit(cache=True, inline="always")
def element_from(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int,
                 ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, g: float, vw: float, vb: float,
                 y_guess: float) -> tuple[float, float, float, bool, float]:
    """:func:`element` started from the cell voltage ``y_guess`` where it lies in the bracket
    (the secant iteration passes the previous iteration's); also returns the cell voltage."""
    d = vw - vb
    if ak == ACC_NONE:
        i, gc = cell_iv(ck, cp, cx, cc, g, d)
        return i, gc, -gc, True, d
    if d == 0.0:
        _, gc = cell_iv(ck, cp, cx, cc, g, 0.0)
        _, gd, gs = access_iv(ak, ap, ax, ac, vb, vb)
        den = gc + gd
        if den > 0:
            return 0.0, gc * gd / den, gc * gs / den, True, 0.0
        return 0.0, 0.0, 0.0, True, 0.0
    lo = min(d, 0.0)
    hi = max(d, 0.0)
    if lo < y_guess < hi:
        y = y_guess
    else:
        y = min(max(_divider(ck, cp, cx, cc, ak, ap, ax, ac, g, d, vb), lo), hi)
    prev = np.inf
    scale = max(abs(vw), abs(vb))
    ok = False
    for _ in range(SERIES_MAX_ITER):
        fc, gc = cell_iv(ck, cp, cx, cc, g, y)
        ia, gd, gs = access_iv(ak, ap, ax, ac, vw - y, vb)
        res = fc - ia
        if abs(res) <= 4e-16 * (abs(fc) + abs(ia)):  # a root to rounding: done, no re-evaluation
            den = gc + gd
            if den > 0:
                return fc, gc * gd / den, gc * gs / den, True, y
            return fc, 0.0, 0.0, True, y
        if res < 0:
            lo = y
        if res > 0:
            hi = y
        slope = gc + gd
        y_new = y - res / slope if slope > 0 else np.nan
        bad = not (lo <= y_new <= hi) or abs(y_new - y) > 0.5 * prev
        if bad:
            y_new = 0.5 * (lo + hi)
        step = abs(y_new - y)
        prev = np.inf if bad else step
        if res == 0.0 or hi - lo <= 0:
            ok = True
            break
        y = y_new
        if step <= SERIES_STEP_TOL * scale:
            ok = True
            break
    fc, gc = cell_iv(ck, cp, cx, cc, g, y)
    _, gd, gs = access_iv(ak, ap, ax, ac, vw - y, vb)
    den = gc + gd
    if den > 0:
        return fc, gc * gd / den, gc * gs / den, ok, y
    return fc, 0.0, 0.0, ok, y


@njit(cache=True, inline="always")
def node_element(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int,
                 ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, g: float, vw: float, vb: float,
                 y: float) -> tuple[float, float, float, float, bool, float, float, float, float]:
    """One 1T1R element whose internal node x = V_w - y is an unknown of the caller's Newton
    iteration, not solved to convergence here: both models evaluated once at the cell voltage
    ``y``, the node's KCL residual r_x = I_c - I_a condensed into the element. Linearising both
    devices and eliminating dV_x,

        dV_x = (r_x + g_c dV_w - g_s dV_b) / (g_c + g_d),

    the element carries I_eff = (g_d I_c + g_c I_a) / (g_c + g_d) with dI/dV_w = g_c g_d / den,
    dI/dV_b = g_c g_s / den (g_c = dI_c/dy, g_d = dI_a/dV_x, g_s = dI_a/dV_b, den = g_c + g_d):
    the Newton step of the whole system (line and internal nodes), one evaluation per element.
    After a step (dV_w, dV_b) the caller updates y += -k_r + k_w dV_w + k_b dV_b.

    ``y`` NaN starts from the small-signal divider; a ``y`` outside [min(V_w - V_b, 0),
    max(V_w - V_b, 0)] (both devices are monotone and pass no current at 0 V, so the solution
    lies inside) is replaced by the safeguarded solve of :func:`element_from` (r_x = 0).
    Returns (I_c, I_a, dI/dV_w, dI/dV_b, ok, y used, k_r, k_w, k_b); I_c leaves the word-line
    node, I_a enters the bit-line node, I_eff = I_c - (1 - k_w) r_x = I_a + k_w r_x."""
    d = vw - vb
    ok = True
    if np.isnan(y):
        y = _divider(ck, cp, cx, cc, ak, ap, ax, ac, g, d, vb)
    if not (min(d, 0.0) <= y <= max(d, 0.0)):
        _, _, _, ok, y = element_from(ck, cp, cx, cc, ak, ap, ax, ac, g, vw, vb, np.nan)
    fc, gc = cell_iv(ck, cp, cx, cc, g, y)
    ia, gd, gs = access_iv(ak, ap, ax, ac, vw - y, vb)
    den = gc + gd
    if not den > 0.0:  # no conductance on either side (no current): r_x split evenly
        return fc, ia, 0.0, 0.0, ok, y, 0.0, 0.5, 0.0
    inv = 1.0 / den
    return fc, ia, gc * gd * inv, gc * gs * inv, ok, y, (fc - ia) * inv, gd * inv, gs * inv


@njit(cache=True)
def elements_numba(ck: int, cp: np.ndarray, cx: np.ndarray, cc: np.ndarray, ak: int,
                   ap: np.ndarray, ax: np.ndarray, ac: np.ndarray, g: np.ndarray,
                   vw: np.ndarray, vb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`element` over flat arrays (for the tests against the NumPy version)."""
    n = g.size
    i = np.empty(n)
    a = np.empty(n)
    c = np.empty(n)
    for k in range(n):
        i[k], a[k], c[k], ok = element(ck, cp, cx, cc, ak, ap, ax, ac, g[k], vw[k], vb[k])
        if not ok:
            i[k] = np.nan
    return i, a, c

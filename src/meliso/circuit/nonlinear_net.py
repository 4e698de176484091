"""The non-linear crossbar network (:mod:`.nonlinear`): its nodes, KCL residuals, backward
errors and the damped line search shared by every method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from .._validation import ConvergenceError
from .iv import AccessIV, CellIV, series_element

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
NonlinearMethod = Literal["auto", "lines", "newton-cg", "picard", "newton-gmres",
                          "newton-direct"]
NONLINEAR_METHODS = ("auto", "lines", "newton-cg", "picard", "newton-gmres", "newton-direct")
#: Default backward-error tolerance of the non-linear residual (per node family).
TOL = 1e-13
#: Accepted where rounding stops progress short of ``tol``.
ACCEPT_TOL = 1e-11
#: Last update, relative to max |V_in|, for convergence.
STEP_TOL = 1e-11
MAX_LINE_SEARCH = 40


@dataclass(frozen=True)
class NonlinearSolution:
    """Amplifier currents (batch, cols) in amperes, per-vector outer iterations (Newton or
    Picard steps), inner iterations (CG or GMRES, summed over the outer ones; 0 for direct
    and line solves), the method used, and the node voltages (batch, rows, cols)."""

    currents_a: FloatArray
    newton_iterations: IntArray
    inner_iterations: IntArray
    method: str
    wordline_v: FloatArray
    bitline_v: FloatArray


@dataclass
class _Net:
    """One batch's network: conductances, inputs, connected rows and models."""

    g: FloatArray  # (rows, cols)
    v: FloatArray  # (m, rows), 0 on rows that are off
    on: NDArray[np.bool_]  # (m, rows)
    g_w: float  # 0: no word-line segments (W = V)
    g_b: float  # 0: no bit-line segments (B = 0)
    cell: CellIV
    access: AccessIV | None

    def element(self, w: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(I, dI/dW, dI/dB), zero on rows that are off."""
        mask = self.on[:, :, None]
        i, a, c = series_element(self.cell, self.access, self.g[None], w, b)
        return i * mask, a * mask, c * mask

    def residual(self, w: FloatArray, b: FloatArray, i: FloatArray
                 ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(R_W, R_B, |terms|_W, |terms|_B), each (m, rows, cols) (zeros where absent)."""
        rw = np.zeros_like(w)
        mw = np.zeros_like(w)
        rb = np.zeros_like(w)
        mb = np.zeros_like(w)
        if self.g_w > 0:
            left = np.concatenate([self.v[:, :, None], w[:, :, :-1]], axis=2)
            rw += self.g_w * (w - left) + i
            mw += self.g_w * (np.abs(w) + np.abs(left)) + np.abs(i)
            rw[:, :, :-1] += self.g_w * (w[:, :, :-1] - w[:, :, 1:])
            mw[:, :, :-1] += self.g_w * (np.abs(w[:, :, :-1]) + np.abs(w[:, :, 1:]))
        if self.g_b > 0:
            below = np.concatenate([b[:, 1:], np.zeros_like(b[:, :1])], axis=1)
            rb += self.g_b * (b - below) - i
            mb += self.g_b * (np.abs(b) + np.abs(below)) + np.abs(i)
            rb[:, 1:] += self.g_b * (b[:, 1:] - b[:, :-1])
            mb[:, 1:] += self.g_b * (np.abs(b[:, 1:]) + np.abs(b[:, :-1]))
        return rw, rb, mw, mb

    def currents(self, w: FloatArray, b: FloatArray, i: FloatArray) -> FloatArray:
        if self.g_b > 0:
            return self.g_b * b[:, -1, :]
        return i.sum(axis=1)


def _norms(r: FloatArray) -> FloatArray:
    return np.sqrt(np.einsum("kij,kij->k", r, r))


def _backward_errors(net: _Net, w: FloatArray, b: FloatArray, i: FloatArray
                     ) -> tuple[FloatArray, FloatArray]:
    """Per vector: the larger of the two families' ||R|| / ||terms||, and ||R|| (merit)."""
    rw, rb, mw, mb = net.residual(w, b, i)
    nw, nb = _norms(rw), _norms(rb)
    with np.errstate(divide="ignore", invalid="ignore"):
        ew = np.where(nw > 0, nw / _norms(mw), 0.0)
        eb = np.where(nb > 0, nb / _norms(mb), 0.0)
    err = np.maximum(ew, eb)
    if not np.all(np.isfinite(err)):
        raise ConvergenceError("non-linear solve: the residual is not finite (an element "
                              "current overflowed: voltages far outside the model's range?)")
    return err, np.sqrt(nw * nw + nb * nb)


# --------------------------------------------------------------------------- one segment kind


def _sub(net: _Net, k: IntArray) -> _Net:
    return _Net(net.g, net.v[k], net.on[k], net.g_w, net.g_b, net.cell, net.access)


def _line_search(net: _Net, w: FloatArray, b: FloatArray, dw: FloatArray, db: FloatArray,
                 merit: FloatArray, tol: float) -> tuple[FloatArray, FloatArray]:
    """Backtracking on ||R||: the full step where it lowers the residual or lands within
    ``tol`` (at the rounding floor ||R|| need not fall), else halved up to ``MAX_LINE_SEARCH``
    times (the last trial is taken regardless)."""
    lam = np.ones(w.shape[0])
    wn, bn = w + dw, b + db
    pending = np.arange(w.shape[0])
    for _ in range(MAX_LINE_SEARCH):
        sub = _sub(net, pending)
        i, _, _ = sub.element(wn[pending], bn[pending])
        e_new, m_new = _backward_errors(sub, wn[pending], bn[pending], i)
        worse = ~(m_new < merit[pending]) & (merit[pending] > 0) & ~(e_new <= tol)
        pending = pending[worse]
        if pending.size == 0:
            break
        lam[pending] *= 0.5
        wn[pending] = w[pending] + lam[pending, None, None] * dw[pending]
        bn[pending] = b[pending] + lam[pending, None, None] * db[pending]
    return wn, bn


# --------------------------------------------------------------------------- both kinds


def _lu_solve(jac: sp.csc_matrix, rhs: FloatArray) -> FloatArray:
    """A Newton step by sparse LU; a singular Jacobian (every element's conductance lost to
    underflow or overflow) is a :class:`ConvergenceError`, not SuperLU's RuntimeError."""
    try:
        return np.asarray(splu(jac).solve(rhs))
    except RuntimeError as exc:
        raise ConvergenceError(f"non-linear crossbar solve: the Newton Jacobian is singular "
                               f"({exc}): the elements' currents overflowed (a sinh cell's V0 "
                               "far below the read voltage?) or every element is off") from None

"""The plain-NumPy twin of :func:`meliso.circuit.pcg.schur_pcg_kernel`: the same Schur-complement
PCG (see :mod:`meliso.circuit.pcg` for the method), written for clarity, one vector at a time,
that the tests compare the Numba kernel against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _thomas_inverse_pivots_numpy(diag: FloatArray, g_wire_s: float) -> FloatArray:
    """1 / pivots of lines along the last axis with diagonal ``diag`` and off-diagonal -g."""
    inv = np.empty_like(diag)
    inv[..., 0] = 1.0 / diag[..., 0]
    for k in range(1, diag.shape[-1]):
        inv[..., k] = 1.0 / (diag[..., k] - g_wire_s * g_wire_s * inv[..., k - 1])
    return inv


def _thomas_solve_numpy(inv: FloatArray, g_wire_s: float, rhs: FloatArray) -> FloatArray:
    """Solve lines along the last axis (factored by :func:`_thomas_inverse_pivots_numpy`)."""
    out = np.array(rhs, dtype=np.float64)
    n = out.shape[-1]
    for k in range(1, n):
        out[..., k] += g_wire_s * inv[..., k - 1] * out[..., k - 1]
    out[..., n - 1] *= inv[..., n - 1]
    for k in range(n - 2, -1, -1):
        out[..., k] = inv[..., k] * out[..., k] + g_wire_s * inv[..., k] * out[..., k + 1]
    return out


@dataclass(frozen=True)
class _Vector:
    """One vector's system for the NumPy twin: connected cells ``d``, inputs, line factors."""

    d: FloatArray  # (rows, cols) connected cell conductances
    v: FloatArray  # (rows,) driver voltages, 0 on rows that are off
    on: NDArray[np.bool_]
    inv_w: FloatArray  # (rows, cols) word-line Thomas factors
    inv_b: FloatArray  # (cols, rows) bit-line Thomas factors of this vector
    g_w: float
    g_b: float

    @property
    def above(self) -> FloatArray:
        return np.where(np.arange(self.d.shape[0]) > 0, self.g_b, 0.0)[:, None]

    def solve_t(self, rhs: FloatArray) -> FloatArray:
        out = np.zeros_like(rhs)
        out[self.on] = _thomas_solve_numpy(self.inv_w[self.on], self.g_w, rhs[self.on])
        return out

    def laplacian_b(self, x: FloatArray) -> FloatArray:
        out = (self.g_b + self.above) * x
        out[1:] -= self.g_b * x[:-1]
        out[:-1] -= self.g_b * x[1:]
        return out

    def schur(self, p: FloatArray) -> FloatArray:
        return np.asarray(self.d * (p - self.solve_t(self.d * p)) + self.laplacian_b(p))

    def precondition(self, r: FloatArray) -> FloatArray:
        return _thomas_solve_numpy(self.inv_b, self.g_b, r.T).T

    def wordlines(self, b: FloatArray) -> FloatArray:
        rhs = self.d * b
        rhs[:, 0] += self.g_w * self.v
        return self.solve_t(rhs)

    def residuals(self, b: FloatArray) -> tuple[float, float, float, FloatArray]:
        """As :func:`_wordlines_and_residual`: (||res_b||, term scale, ||res_w||, res_b)."""
        d, g_w, g_b = self.d, self.g_w, self.g_b
        w = self.wordlines(b)
        res_b = d * w - (d * b + self.laplacian_b(b))
        mag = np.abs(d * w) + (d + g_b + self.above) * np.abs(b)
        mag[1:] += g_b * np.abs(b[:-1])
        mag[:-1] += g_b * np.abs(b[1:])
        right = np.where(np.arange(d.shape[1]) < d.shape[1] - 1, g_w, 0.0)
        tw = (d + g_w + right) * w
        tw[:, 1:] -= g_w * w[:, :-1]
        tw[:, :-1] -= g_w * w[:, 1:]
        res_w = d * b - tw
        res_w[:, 0] += g_w * self.v
        res_w[~self.on] = 0.0
        return (float(np.sqrt(np.sum(res_b**2))), float(np.sqrt(np.sum(mag**2))),
                float(np.sqrt(np.sum(res_w**2))), res_b)


def _twin_verdict(res_b: float, scale: float, res_w: float, f_norm: float, bound: float,
                  full_tol: float) -> bool:
    return bool(res_b <= bound * scale and np.hypot(res_b, res_w) <= full_tol * f_norm)


def _twin_solve(sys_k: _Vector, u0: FloatArray, tol: float, accept_tol: float, max_iter: int
                ) -> tuple[FloatArray, int]:
    """B and the iterations (-1: not converged) of one vector, as :func:`_solve_vector`."""
    f_norm = sys_k.g_w * float(np.sqrt(np.sum(sys_k.v**2)))
    b = np.zeros_like(sys_k.d)
    r = sys_k.d * (sys_k.g_w * sys_k.v)[:, None] * u0
    h_norm = float(np.sqrt(np.sum(r * r)))
    if h_norm == 0.0:
        return b, 0
    z = sys_k.precondition(r)
    rz = float(np.sum(r * z))
    p = z.copy()
    best, scale, it = np.inf, h_norm, 0
    while True:
        if np.sqrt(np.sum(r * r)) <= tol * scale:
            res_b, scale, res_w, res = sys_k.residuals(b)
            if _twin_verdict(res_b, scale, res_w, f_norm, tol, accept_tol):
                return b, it
            if res_b >= 0.5 * best:
                ok = _twin_verdict(res_b, scale, res_w, f_norm, accept_tol, accept_tol)
                return b, it if ok else -1
            best, r = min(best, res_b), res
            z = sys_k.precondition(r)
            rz, p = float(np.sum(r * z)), z.copy()
        if it == max_iter:
            break
        q = sys_k.schur(p)
        pq = float(np.sum(p * q))
        if not pq > 0.0 or not np.isfinite(rz):
            break
        alpha = rz / pq
        b = b + alpha * p
        r = r - alpha * q
        z = sys_k.precondition(r)
        rz_new = float(np.sum(r * z))
        p = z + (rz_new / rz) * p
        rz = rz_new
        it += 1
    res_b, scale, res_w, _ = sys_k.residuals(b)
    return b, it if _twin_verdict(res_b, scale, res_w, f_norm, accept_tol, accept_tol) else -1


def schur_pcg_numpy(g_s: FloatArray, v_in_v: FloatArray, on: NDArray[np.bool_], g_w: float,
                    g_b: float, tol: float, accept_tol: float, max_iter: int
                    ) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Plain-NumPy twin of :func:`schur_pcg_kernel`: (W, B, iterations), one vector at a time,
    the line solves vectorised across lines."""
    batch, rows = v_in_v.shape
    cols = g_s.shape[1]
    right = np.where(np.arange(cols) < cols - 1, g_w, 0.0)
    above = np.where(np.arange(rows) > 0, g_b, 0.0)[:, None]
    inv_w = _thomas_inverse_pivots_numpy(g_s + g_w + right, g_w)  # (rows, cols): along j
    e0 = np.zeros((rows, cols))
    e0[:, 0] = 1.0
    u0 = _thomas_solve_numpy(inv_w, g_w, e0)
    w_all = np.zeros((batch, rows, cols))
    b_all = np.zeros((batch, rows, cols))
    iters = np.zeros(batch, dtype=np.int64)
    for k in range(batch):
        d = g_s * on[k][:, None]
        inv_b = _thomas_inverse_pivots_numpy((d + g_b + above).T, g_b)  # (cols, rows): along i
        sys_k = _Vector(d, v_in_v[k] * on[k], on[k], inv_w, inv_b, g_w, g_b)
        b_all[k], iters[k] = _twin_solve(sys_k, u0, tol, accept_tol, max_iter)
        w_all[k] = sys_k.wordlines(b_all[k])
    return w_all, b_all, iters

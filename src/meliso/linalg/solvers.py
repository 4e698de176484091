"""Iterative solvers whose every matrix-vector product runs on simulated crossbars.

Each takes an operator ``A`` with ``matvec`` (a :class:`CrossbarMatrix`, or the exact matrix for
reference), the right-hand side b and the exact matrix ``exact`` (SciPy sparse or dense) to
measure progress honestly: the reported residual is always ||b - A_exact x|| / ||b|| in float64,
never the solver's own estimate through the noisy products.

- :func:`richardson` (with ``omega``; Jacobi when ``diag`` is given): x += omega D^-1 (b - A x);
- :func:`cg`: conjugate gradients (A symmetric positive definite);
- :func:`gmres`: restarted GMRES(k) with modified Gram-Schmidt;
- :func:`kaczmarz`: randomized block Kaczmarz over rows of tiles (transposed reads);
- :func:`pdhg`: linear programs min c^T x, A x <= b, x >= 0 (transposed reads);
- :func:`refine`: mixed-precision iterative refinement around any of them: the residual
  r = b - A x in float64 with the exact matrix, an inner solve A d ~ r on the crossbars (to a
  loose relative tolerance), x += d. Each outer step shrinks the error by about the inner
  solve's relative error, so imprecise analog products still reach float64 accuracy
  (Le Gallo et al., Nature Electronics 2018). That needs the inner solve to contract: the
  crossbars' error on the smooth (small-eigenvalue) modes must stay below the smallest
  eigenvalue of A. An update that does not lower the float64 residual is rejected and the
  refinement stops, unconverged.

Every result reports iterations, the residual history, crossbar products (MVMs) and the
crossbar energy of the run (:attr:`CrossbarMatrix.energy_j`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._memory import check_memory
from .._validation import ParameterError

FloatArray = NDArray[np.float64]
METHODS = ("richardson", "jacobi", "cg", "gmres", "kaczmarz")
#: Vectors of the system's size a solve keeps at once (GMRES(30)'s basis and refinement's own).
SOLVER_VECTORS = 40


@dataclass
class SolveResult:
    """Outcome of a solve: x, whether ||b - A x|| / ||b|| <= tol (exact A, float64), the
    iterations (outer ones for refinement, steps for Kaczmarz, Arnoldi steps for GMRES), the
    residual history (per iteration; per sweep for Kaczmarz, per restart for GMRES), the
    products of the whole matrix on crossbars (MVMs), and the energy of this solve."""

    x: FloatArray
    converged: bool
    iterations: int
    residuals: list[float]
    mvms: float
    method: str
    inner_iterations: list[int] = field(default_factory=list)
    energy_j: float = 0.0
    programming: dict[str, float] = field(default_factory=dict)

    @property
    def relative_residual(self) -> float:
        return self.residuals[-1] if self.residuals else float("nan")

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "converged": self.converged,
                "iterations": self.iterations, "relative_residual": self.relative_residual,
                "mvms": self.mvms, "energy_j": self.energy_j,
                "inner_iterations": self.inner_iterations, "programming": self.programming}

    def __post_init__(self) -> None:
        self.residuals = [float(r) for r in self.residuals]


def _matvec(a: Any) -> Callable[[FloatArray], FloatArray]:
    if hasattr(a, "matvec"):
        return lambda v: np.asarray(a.matvec(v), dtype=np.float64)
    return lambda v: np.asarray(a @ v, dtype=np.float64)


def _mvms(a: Any) -> float:
    return float(getattr(a, "mvms", 0.0))


def _energy(a: Any) -> float:
    return float(getattr(a, "energy_j", 0.0))


def _programming(a: Any) -> dict[str, float]:
    """Cells and pulses the operator's arrays took to program (one programming per matrix)."""
    summary = getattr(a, "programming_summary", None)
    return dict(summary()) if callable(summary) else {}


def _residual(exact: Any, b: FloatArray, x: FloatArray, b_norm: float) -> float:
    return float(np.linalg.norm(b - exact @ x) / b_norm)


def _check(b: ArrayLike, exact: Any, tol: float, maxiter: int) -> tuple[FloatArray, float]:
    v = np.asarray(b, dtype=np.float64)
    if v.ndim != 1 or v.shape[0] != exact.shape[0] or not np.all(np.isfinite(v)):
        raise ParameterError(f"b must be a finite vector of {exact.shape[0]} entries")
    if not tol > 0:
        raise ParameterError(f"tol = {tol!r} is out of range: allowed tol > 0")
    if maxiter < 1:
        raise ParameterError(f"maxiter = {maxiter!r} is out of range: allowed maxiter >= 1")
    norm = float(np.linalg.norm(v))
    if norm == 0:
        raise ParameterError("b is zero: the solution is x = 0")
    return v, norm


def richardson(a: Any, b: ArrayLike, exact: Any, *, tol: float = 1e-6, maxiter: int = 500,
               omega: float | None = None, diag: ArrayLike | None = None,
               x0: ArrayLike | None = None, inner_tol: float | None = None) -> SolveResult:
    """x += omega D^-1 (b - A x); D = I, or the diagonal ``diag`` (Jacobi). ``omega`` defaults
    to 1 for Jacobi and 1 / ||A||_inf otherwise (convergent for SPD A)."""
    b, b_norm = _check(b, exact, tol, maxiter)
    mv = _matvec(a)
    d = np.ones_like(b) if diag is None else np.asarray(diag, dtype=np.float64)
    if not np.all(np.isfinite(d)) or np.any(d == 0):
        raise ParameterError("Jacobi needs a finite, non-zero diagonal")
    if omega is None:
        omega = 1.0 if diag is not None else 1.0 / float(abs(sp.csr_matrix(exact)).sum(1).max())
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.float64)
    start, e0 = _mvms(a), _energy(a)
    residuals: list[float] = []
    for _ in range(maxiter):
        r = b - mv(x)
        if inner_tol is not None:  # an inner solve: stop on the crossbars' own residual
            residuals.append(float(np.linalg.norm(r)) / b_norm)
            if residuals[-1] <= inner_tol:
                break
        x = x + omega * r / d
        if inner_tol is None:
            residuals.append(_residual(exact, b, x, b_norm))
            if residuals[-1] <= tol or not np.isfinite(residuals[-1]):
                break
    if inner_tol is not None:
        final = _residual(exact, b, x, b_norm)
        return SolveResult(x, final <= tol, len(residuals), residuals, _mvms(a) - start,
                           "jacobi" if diag is not None else "richardson",
                           energy_j=_energy(a) - e0, programming=_programming(a))
    return SolveResult(x, residuals[-1] <= tol, len(residuals), residuals, _mvms(a) - start,
                       "jacobi" if diag is not None else "richardson", energy_j=_energy(a) - e0,
                       programming=_programming(a))


def cg(a: Any, b: ArrayLike, exact: Any, *, tol: float = 1e-6, maxiter: int = 1000,
       x0: ArrayLike | None = None, inner_tol: float | None = None) -> SolveResult:
    """Conjugate gradients; stops when the exact relative residual reaches ``tol`` (or, with
    ``inner_tol``, when the solver's own recursive residual falls by that factor: the inner
    solve of :func:`refine`)."""
    b, b_norm = _check(b, exact, tol, maxiter)
    mv = _matvec(a)
    start, e0 = _mvms(a), _energy(a)
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=np.float64)
    r = b - mv(x) if x0 is not None else b.copy()
    p = r.copy()
    rr = float(r @ r)
    residuals: list[float] = []
    for _ in range(maxiter):
        q = mv(p)
        pq = float(p @ q)
        if not pq > 0:  # the noisy operator is not positive along p: stop here
            break
        alpha = rr / pq
        x = x + alpha * p
        r = r - alpha * q
        rr_new = float(r @ r)
        if inner_tol is not None:
            residuals.append(float(np.sqrt(rr_new)) / b_norm)
            if residuals[-1] <= inner_tol:
                break
        else:
            residuals.append(_residual(exact, b, x, b_norm))
            if residuals[-1] <= tol:
                break
        p = r + (rr_new / rr) * p
        rr = rr_new
    final = _residual(exact, b, x, b_norm)
    return SolveResult(x, final <= tol, len(residuals), residuals or [final],
                       _mvms(a) - start, "cg", energy_j=_energy(a) - e0,
                       programming=_programming(a))


def gmres(a: Any, b: ArrayLike, exact: Any, *, tol: float = 1e-6, maxiter: int = 1000,
          restart: int = 30, x0: ArrayLike | None = None,
          inner_tol: float | None = None) -> SolveResult:
    """Restarted GMRES(``restart``) with modified Gram-Schmidt and Givens rotations."""
    b, b_norm = _check(b, exact, tol, maxiter)
    if restart < 1:
        raise ParameterError(f"restart = {restart} is out of range: allowed restart >= 1")
    mv = _matvec(a)
    n = b.shape[0]
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=np.float64)
    start, e0 = _mvms(a), _energy(a)
    residuals: list[float] = []
    total = 0
    done = False
    while total < maxiter and not done:
        r = b - mv(x) if total or x0 is not None else b.copy()
        beta = float(np.linalg.norm(r))
        if beta == 0:
            break
        k_max = min(restart, maxiter - total)
        v = np.zeros((k_max + 1, n))
        h = np.zeros((k_max + 1, k_max))
        cs, sn = np.zeros(k_max), np.zeros(k_max)
        g = np.zeros(k_max + 1)
        g[0] = beta
        v[0] = r / beta
        k = 0
        for k in range(k_max):
            w = mv(v[k])
            for j in range(k + 1):
                h[j, k] = float(w @ v[j])
                w = w - h[j, k] * v[j]
            h[k + 1, k] = arnoldi_norm = float(np.linalg.norm(w))
            if arnoldi_norm > 0:
                v[k + 1] = w / arnoldi_norm
            for j in range(k):
                t = cs[j] * h[j, k] + sn[j] * h[j + 1, k]
                h[j + 1, k] = -sn[j] * h[j, k] + cs[j] * h[j + 1, k]
                h[j, k] = t
            denom = float(np.hypot(h[k, k], h[k + 1, k]))
            cs[k], sn[k] = (h[k, k] / denom, h[k + 1, k] / denom) if denom > 0 else (1.0, 0.0)
            h[k, k] = cs[k] * h[k, k] + sn[k] * h[k + 1, k]
            h[k + 1, k] = 0.0
            g[k + 1] = -sn[k] * g[k]
            g[k] = cs[k] * g[k]
            total += 1
            estimate = abs(g[k + 1]) / b_norm
            if inner_tol is not None and estimate <= inner_tol:
                done = True
                break
            if estimate <= tol * 0.5 or arnoldi_norm == 0:  # converged, or an invariant space
                break
        y = np.linalg.solve(np.triu(h[: k + 1, : k + 1]), g[: k + 1])
        x = x + v[: k + 1].T @ y
        residuals.append(abs(g[k + 1]) / b_norm if inner_tol is not None
                         else _residual(exact, b, x, b_norm))
        if inner_tol is None and residuals[-1] <= tol:
            done = True
    final = _residual(exact, b, x, b_norm)
    return SolveResult(x, final <= tol, total, residuals or [final], _mvms(a) - start,
                       "gmres", energy_j=_energy(a) - e0,
                       programming=_programming(a))


def method_solver(method: str) -> Callable[..., SolveResult]:
    """The solver function of ``method`` (one of :data:`METHODS`)."""
    if method == "jacobi":
        def jacobi(a: Any, b: ArrayLike, exact: Any, **kw: Any) -> SolveResult:
            return richardson(a, b, exact, diag=sp.csr_matrix(exact).diagonal(), **kw)
        return jacobi
    solvers: dict[str, Callable[..., SolveResult]] = {
        "cg": cg, "gmres": gmres, "kaczmarz": kaczmarz, "richardson": richardson}
    if method not in solvers:
        raise ParameterError(f"method = {method!r}: allowed {', '.join(METHODS)}")
    return solvers[method]


def solve(a: Any, b: ArrayLike, exact: Any, *, method: str = "cg", refined: bool = True,
          tol: float = 1e-10, maxiter: int = 100) -> SolveResult:
    """Solve A x = b with ``method`` on the crossbars ``a``, inside mixed-precision refinement
    (``refined``) or alone; ``exact`` is A in float64 (for the true residual)."""
    check_memory(8 * SOLVER_VECTORS * exact.shape[0],
                 f"a solve with {exact.shape[0]} unknowns", "use a smaller system")
    if refined:
        return refine(a, b, exact, method=method, tol=tol, maxiter=maxiter)
    return method_solver(method)(a, b, exact, tol=tol, maxiter=maxiter)


def refine(a: Any, b: ArrayLike, exact: Any, *, method: str = "cg", tol: float = 1e-10,
           maxiter: int = 100, inner_tol: float = 1e-2, inner_maxiter: int = 200,
           **inner: Any) -> SolveResult:
    """Mixed-precision iterative refinement around ``method`` (cg | gmres | richardson |
    jacobi | kaczmarz): r = b - A_exact x in float64, d ~ A^-1 r on the crossbars, x += d."""
    b, b_norm = _check(b, exact, tol, maxiter)
    solver = method_solver(method)
    x = np.zeros_like(b)
    start, e0 = _mvms(a), _energy(a)
    residuals: list[float] = []
    inner_its: list[int] = []
    exact_csr = sp.csr_matrix(exact)
    for _ in range(maxiter):
        r = b - exact_csr @ x
        # the inner solve sees the residual scaled to norm 1 (the crossbars' input range)
        scale = float(np.linalg.norm(r))
        rs = r / scale
        res = solver(a, rs, exact_csr, tol=inner_tol, maxiter=inner_maxiter,
                     inner_tol=inner_tol, **inner)
        candidate = x + scale * res.x
        inner_its.append(res.iterations)
        new = _residual(exact_csr, b, candidate, b_norm)
        if not new < (residuals[-1] if residuals else 1.0):
            # the inner solve made things worse: its operator is too far from A to contract
            residuals.append(residuals[-1] if residuals else 1.0)
            break
        x = candidate
        residuals.append(new)
        if residuals[-1] <= tol:
            break
        if len(residuals) >= 3 and residuals[-1] >= 0.99 * residuals[-3]:
            break  # no progress in two outer steps: the inner solve no longer contracts
    return SolveResult(x, residuals[-1] <= tol, len(residuals), residuals, _mvms(a) - start,
                       f"refine({method})", inner_its, energy_j=_energy(a) - e0,
                       programming=_programming(a))


def _spectral_norm(exact: Any, iterations: int = 50, seed: int = 0) -> float:
    """||A||_2 by power iteration on A^T A (digital set-up, float64)."""
    m = sp.csr_matrix(exact)
    v = np.random.default_rng(seed).normal(size=m.shape[1])
    norm = 0.0
    for _ in range(iterations):
        w = m.T @ (m @ v)
        norm = float(np.linalg.norm(w))
        if norm == 0:
            return 0.0
        v = w / norm
    return float(np.sqrt(norm))


def kaczmarz(a: Any, b: ArrayLike, exact: Any, *, tol: float = 1e-6, maxiter: int = 10000,
             seed: int = 0, x0: ArrayLike | None = None,
             inner_tol: float | None = None) -> SolveResult:
    """Randomized block Kaczmarz over the crossbars' block rows: pick block row i with
    probability ||A_i||_F^2 / ||A||_F^2, read r_i = b_i - A_i x (only that row of tiles) and
    step x += A_i^T r_i / ||A_i||_2^2 (a transposed read of the same tiles). Needs
    ``a.block_matvec`` / ``a.block_rmatvec`` (:class:`CrossbarMatrix`). The exact residual is
    checked once per sweep (as many steps as block rows)."""
    b, b_norm = _check(b, exact, tol, maxiter)
    if not hasattr(a, "block_matvec"):
        raise ParameterError("kaczmarz needs a CrossbarMatrix (block row reads)")
    m_csr = sp.csr_matrix(exact)
    n_blocks = a.grid[0]
    rows = [a.block_rows(i) for i in range(n_blocks)]
    fro = np.array([float(np.sum(m_csr[r].data ** 2)) for r in rows])
    norms2 = np.array([_spectral_norm(m_csr[r]) ** 2 for r in rows])
    live = fro > 0
    prob = np.where(live, fro, 0.0) / fro[live].sum()
    rng = np.random.default_rng(seed)
    x = np.zeros(m_csr.shape[1]) if x0 is None else np.array(x0, dtype=np.float64)
    start, e0 = _mvms(a), _energy(a)
    residuals: list[float] = []
    steps = 0
    while steps < maxiter:
        seen = 0.0  # the crossbars' own block residuals of this sweep
        for i in rng.choice(n_blocks, size=min(n_blocks, maxiter - steps), p=prob):
            r_i = b[rows[i]] - a.block_matvec(int(i), x)
            seen += float(r_i @ r_i)
            x = x + a.block_rmatvec(int(i), r_i) / norms2[i]
            steps += 1
        if inner_tol is not None:  # an inner solve: the sweep's analog residual estimate
            residuals.append(float(np.sqrt(seen)) / b_norm)
            if residuals[-1] <= inner_tol:
                break
            continue
        residuals.append(_residual(m_csr, b, x, b_norm))
        if residuals[-1] <= tol or not np.isfinite(residuals[-1]):
            break
    final = _residual(m_csr, b, x, b_norm)
    return SolveResult(x, final <= tol, steps, residuals, _mvms(a) - start, "kaczmarz",
                       energy_j=_energy(a) - e0,
                       programming=_programming(a))


@dataclass
class LPResult(SolveResult):
    """A PDHG run: x, the dual y, and the objective c^T x."""

    y: FloatArray = field(default_factory=lambda: np.zeros(0))
    objective: float = float("nan")


def pdhg(a: Any, b: ArrayLike, c: ArrayLike, exact: Any, *, tol: float = 1e-4,
         maxiter: int = 20000, check_every: int = 50) -> LPResult:
    """min c^T x subject to A x <= b, x >= 0 by the primal-dual hybrid gradient method
    (Chambolle-Pock), every A x and A^T y on the crossbars (A^T by transposed reads):

        x+ = max(0, x - tau (c + A^T y)),  y+ = max(0, y + sigma (A (2 x+ - x) - b)),

    tau = sigma = 0.9 / ||A||_2. Converged when, with the exact A in float64, the primal
    infeasibility ||max(0, A x - b)|| / (1 + ||b||), the dual infeasibility
    ||max(0, -(c + A^T y))|| / (1 + ||c||) and the relative duality gap |c^T x + b^T y| /
    (1 + |c^T x| + |b^T y|) are all at most ``tol``; ``residuals`` holds the largest of the
    three at every check."""
    m_csr = sp.csr_matrix(exact)
    bv = np.asarray(b, dtype=np.float64)
    cv = np.asarray(c, dtype=np.float64)
    if bv.shape != (m_csr.shape[0],) or cv.shape != (m_csr.shape[1],):
        raise ParameterError(f"b must have {m_csr.shape[0]} entries and c {m_csr.shape[1]}")
    if not (tol > 0 and maxiter >= 1 and check_every >= 1):
        raise ParameterError("tol > 0, maxiter >= 1 and check_every >= 1 are required")
    mv = _matvec(a)

    def rmv(v: FloatArray) -> FloatArray:
        if hasattr(a, "rmatvec"):
            return np.asarray(a.rmatvec(v), dtype=np.float64)
        return np.asarray(a.T @ v, dtype=np.float64)
    step = 0.9 / max(_spectral_norm(m_csr), 1e-300)
    x = np.zeros(m_csr.shape[1])
    y = np.zeros(m_csr.shape[0])
    start, e0 = _mvms(a), _energy(a)
    residuals: list[float] = []
    it = 0
    while it < maxiter:
        x_new = np.maximum(0.0, x - step * (cv + rmv(y)))
        y = np.maximum(0.0, y + step * (mv(2 * x_new - x) - bv))
        x = x_new
        it += 1
        if it % check_every == 0 or it == maxiter:
            primal = float(np.linalg.norm(np.maximum(0.0, m_csr @ x - bv))
                           / (1 + np.linalg.norm(bv)))
            dual = float(np.linalg.norm(np.maximum(0.0, -(cv + m_csr.T @ y)))
                         / (1 + np.linalg.norm(cv)))
            cx, by = float(cv @ x), float(bv @ y)
            gap = abs(cx + by) / (1 + abs(cx) + abs(by))
            residuals.append(max(primal, dual, gap))
            if residuals[-1] <= tol:
                break
    return LPResult(x, bool(residuals and residuals[-1] <= tol), it, residuals,
                    _mvms(a) - start, "pdhg", energy_j=_energy(a) - e0,
                    programming=_programming(a), y=y, objective=float(cv @ x))

"""Whole tasks on crossbar matrices, as the command line runs them: program a problem, then
solve it or measure its products; each returns one record of plain values."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._memory import check_memory
from .._progress import Progress, tick
from .._validation import ParameterError
from ..devices import Device
from .matrix import CrossbarMatrix
from .problems import problem
from .reading import MAX_ENTRY_ABS, MIN_PEAK_ABS
from .solvers import method_solver, solve

#: Vectors per product while measuring (a progress step each).
VECTORS_PER_PRODUCT = 16


class _Counted:
    """A crossbar matrix that reports every product to ``progress`` (an iterative solve)."""

    def __init__(self, matrix: CrossbarMatrix, progress: Progress | None) -> None:
        self._matrix, self._progress, self._products = matrix, progress, 0

    def _tick(self) -> None:
        self._products += 1
        tick(self._progress, "crossbar products", self._products, None)

    def matvec(self, x: Any) -> Any:
        self._tick()
        return self._matrix.matvec(x)

    def rmatvec(self, y: Any) -> Any:
        self._tick()
        return self._matrix.rmatvec(y)

    def __matmul__(self, x: Any) -> Any:
        return self.matvec(x)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._matrix, name)


def program_matrix(exact: Any, device: Device, *, tile: tuple[int, int] = (256, 256),
                   residual_arrays: int = 0, programming: str = "open-loop",
                   progress: Progress | None = None) -> tuple[CrossbarMatrix, float]:
    """``exact`` programmed on crossbars, and the seconds programming took."""
    t0 = time.perf_counter()
    hw = CrossbarMatrix(exact, device, tile=tile, residual_arrays=residual_arrays,
                        programming=programming, progress=progress)
    return hw, time.perf_counter() - t0


def program_problem(matrix: str, device: Device, *, tile: tuple[int, int] = (256, 256),
                    residual_arrays: int = 0, programming: str = "open-loop",
                    progress: Progress | None = None) -> tuple[Any, CrossbarMatrix, float]:
    """The exact matrix of ``matrix`` (:func:`.problem`), it programmed on crossbars, and the
    seconds programming took."""
    exact = problem(matrix)
    hw, seconds = program_matrix(exact, device, tile=tile, residual_arrays=residual_arrays,
                                 programming=programming, progress=progress)
    return exact, hw, seconds


def solve_task(matrix: str, device: Device, *, method: str = "cg", refine: bool = True,
               tol: float = 1e-10, maxiter: int = 100, tile: tuple[int, int] = (256, 256),
               residual_arrays: int = 6, programming: str = "write-verify",
               progress: Progress | None = None) -> dict[str, Any]:
    """Program ``matrix`` and solve A x = 1 on it: the solve's record (residual, iterations,
    products, energy, times, programming counts)."""
    if not 0 < tol < 1:
        raise ParameterError(f"--tol = {tol}: allowed 0 < tol < 1")
    method_solver(method)  # an unknown method fails before anything is programmed
    exact = problem(matrix)
    if exact.shape[0] != exact.shape[1]:  # checked before programming, which takes long
        raise ParameterError(f"matrix {matrix}: A is {exact.shape[0]}x{exact.shape[1]}; solving "
                             "A x = b needs a square matrix (matvec measures products)")
    hw, t_program = program_matrix(exact, device, tile=tile, residual_arrays=residual_arrays,
                                   programming=programming, progress=progress)
    t0 = time.perf_counter()
    res = solve(_Counted(hw, progress), np.ones(exact.shape[0]), exact, method=method,
                refined=refine, tol=tol, maxiter=maxiter)
    return {**res.summary(), "unknowns": int(exact.shape[0]), "tiles": hw.n_tiles,
            "arrays": hw.arrays, "device": device.name, "seconds_programming": t_program,
            "seconds_solve": time.perf_counter() - t0,
            **{f"programming_{k}": v for k, v in hw.programming_summary().items()}}


def matvec_task(matrix: str, device: Device, *, vectors: int = 10, seed: int = 0,
                tile: tuple[int, int] = (256, 256), residual_arrays: int = 0,
                programming: str = "open-loop", progress: Progress | None = None
                ) -> dict[str, Any]:
    """Program ``matrix`` and measure its products with random vectors (:func:`product_errors`)."""
    exact, hw, t_program = program_problem(matrix, device, tile=tile,
                                           residual_arrays=residual_arrays,
                                           programming=programming, progress=progress)
    errors = product_errors(hw, exact, vectors=vectors, seed=seed, progress=progress)
    return {"unknowns": int(exact.shape[0]), "tiles": hw.n_tiles, "arrays": hw.arrays,
            "device": device.name, "seconds_programming": t_program, **errors}


def _error_statistics(y: Any, ref: Any) -> dict[str, float]:
    """Relative, RMS and largest error of ``y`` against ``ref``; refuses a result that is not
    finite (with no NumPy warning), which :func:`.as_sparse`'s magnitude bounds should
    prevent."""
    with np.errstate(all="ignore"):
        err = y - ref
        stats = {"relative_error": float(np.linalg.norm(err) / np.linalg.norm(ref)),
                 "error_rms": float(np.sqrt(np.mean(err**2))),
                 "error_max_abs": float(np.abs(err).max())}
    bad = [k for k, v in stats.items() if not np.isfinite(v)]
    if bad or not np.all(np.isfinite(y)):
        raise ParameterError(
            f"the products of this matrix are not finite ({', '.join(bad) or 'y'} = NaN or inf): "
            f"allowed entries with {MIN_PEAK_ABS:g} <= max |A_ij| <= {MAX_ENTRY_ABS:g}; rescale "
            "the matrix")
    return stats


def product_errors(hw: CrossbarMatrix, exact: Any, *, vectors: int = 10, seed: int = 0,
                   progress: Progress | None = None) -> dict[str, float]:
    """Multiply ``vectors`` random x ~ N(0, 1) on the crossbars ``hw`` and against ``exact``
    (float64): relative error ||y - A x|| / ||A x||, RMS and largest error, seconds and energy
    per product. The inputs' memory is checked before they are drawn."""
    if isinstance(vectors, bool) or not isinstance(vectors, int) or not 1 <= vectors <= 100_000:
        raise ParameterError(f"vectors = {vectors!r} is out of range: allowed integer "
                             "1 <= vectors <= 100000")
    m, n = exact.shape
    check_memory(8 * vectors * (n + 3 * m), f"{vectors} vectors of {n} entries",
                 "use fewer --vectors")
    x = np.random.default_rng(seed).normal(size=(vectors, n))
    energy0 = hw.energy_j
    y = np.empty((vectors, m))
    t0 = time.perf_counter()
    for k in range(0, vectors, VECTORS_PER_PRODUCT):
        y[k:k + VECTORS_PER_PRODUCT] = hw @ x[k:k + VECTORS_PER_PRODUCT]
        tick(progress, "products", min(k + VECTORS_PER_PRODUCT, vectors), vectors)
    seconds = time.perf_counter() - t0
    with np.errstate(all="ignore"):
        ref = x @ exact.T
    return {**_error_statistics(y, ref),
            "seconds_per_matvec": seconds / vectors,
            "energy_j_per_matvec": (hw.energy_j - energy0) / vectors}

"""Large matrices on many crossbars: block-sparse tiling, forward and transposed products.

    A = CrossbarMatrix(a, device="EpiRAM", tile=(256, 256), **core_settings)
    y = A @ x            # forward read: x (n,) or (B, n) -> (m,) or (B, m)
    z = A.T @ y          # transposed read of the same arrays: (m,) or (B, m) -> (n,) or (B, n)

``a`` is a dense array, a SciPy sparse matrix or the path of a Matrix Market file. It is cut
into blocks of ``tile`` = (rows of a crossbar = inputs, columns = outputs); only blocks holding a
non-zero are programmed, as one stacked :class:`meliso.core.AnalogCore` (one crossbar tile per
block, every block with its own scale), so that a sparse 65 536 x 65 536 system needs memory for
its non-zero blocks only. Every core setting (mapping, programming, input bits, calibration,
wires...) applies to every block. A product reads every block at once and adds the partial sums
of each output block digitally.

Error compensation (``residual_arrays=k``): after programming, each array's effective matrix is
measured by unit-vector reads; the residual A - (sum of the arrays so far) is programmed on one
more array, at its own scale, k times, and a product adds every array's read. Each array leaves
about the device's relative programming error of what it stores, so the error falls roughly
geometrically with k (the multi-array scheme of Song et al., Science 2024).

Counters: ``mvms`` (products), ``tile_reads`` (crossbar reads), ``programming_summary()``
(cells written and pulses), and ``energy_j``: every tile read charged as seed 003 eq. 8 charges
one, with every row driven at full V_read (an upper bound for analog inputs) and one 8-bit
conversion per output column (:mod:`meliso.periphery.energy` defaults).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError
from ..core import AnalogCore
from ..devices import Device
from ..periphery.energy import EnergyModel

FloatArray = NDArray[np.float64]


def as_sparse(a: ArrayLike | sp.spmatrix | sp.sparray | str | Path) -> sp.csr_matrix:
    """A dense array, a SciPy sparse matrix or a Matrix Market file, as CSR float64."""
    if isinstance(a, str | Path):
        path = Path(a)
        if not path.is_file():
            raise ParameterError(f"matrix file '{path}' does not exist")
        try:
            m = scipy.io.mmread(str(path))
        except (ValueError, OSError) as exc:
            raise ParameterError(f"{path} is not a Matrix Market file: {exc}") from None
        out = sp.csr_matrix(m, dtype=np.float64)
    elif sp.issparse(a):
        out = sp.csr_matrix(a, dtype=np.float64)
    else:
        arr = np.asarray(a, dtype=np.float64)
        if arr.ndim != 2:
            raise ParameterError(f"a matrix must be 2-D; got shape {arr.shape}")
        out = sp.csr_matrix(arr)
    if min(out.shape) == 0:
        raise ParameterError(f"the matrix is empty (shape {out.shape})")
    if not np.all(np.isfinite(out.data)):
        raise ParameterError("the matrix holds NaN or infinite entries")
    out.eliminate_zeros()
    return out


class CrossbarMatrix:
    """A matrix programmed block-sparsely onto crossbar tiles (module docstring)."""

    def __init__(self, a: Any, device: str | Device = "EpiRAM", *,
                 tile: tuple[int, int] = (256, 256), rng: np.random.Generator | int | None = 0,
                 energy: EnergyModel | None = None, residual_arrays: int = 0,
                 **settings: Any) -> None:
        self.matrix = as_sparse(a)
        self.shape: tuple[int, int] = (int(self.matrix.shape[0]), int(self.matrix.shape[1]))
        rows_t, cols_t = (int(tile[0]), int(tile[1]))
        if rows_t < 1 or cols_t < 1:
            raise ParameterError(f"tile = {tile!r} is out of range: allowed positive sizes")
        self.tile = (rows_t, cols_t)
        m, n = self.shape
        coo = self.matrix.tocoo()
        out_block = coo.row // cols_t  # output blocks: crossbar columns carry outputs
        in_block = coo.col // rows_t  # input blocks: crossbar rows carry inputs
        blocks = np.unique(np.stack([out_block, in_block], axis=1), axis=0)
        self.blocks: NDArray[np.int64] = blocks  # (S, 2): (output block, input block)
        stack = np.zeros((len(blocks), cols_t, rows_t))
        index = {(int(b[0]), int(b[1])): s for s, b in enumerate(blocks)}
        s_of = np.array([index[(int(i), int(j))] for i, j in zip(out_block, in_block,
                                                                    strict=True)])
        stack[s_of, coo.row - out_block * cols_t, coo.col - in_block * rows_t] = coo.data
        if not isinstance(residual_arrays, int) or not 0 <= residual_arrays <= 8:
            raise ParameterError(f"residual_arrays = {residual_arrays!r} is out of range: "
                                 "allowed integer 0 <= residual_arrays <= 8")
        gen = np.random.default_rng(rng)
        self.cores = [AnalogCore(stack, device, rng=gen, tile_rows=rows_t, tile_cols=cols_t,
                                 **settings)]
        for _ in range(residual_arrays):
            residual = stack - _sum([_effective(c) for c in self.cores])
            self.cores.append(AnalogCore(residual, device, rng=gen, tile_rows=rows_t,
                                         tile_cols=cols_t, **settings))
        self.core = self.cores[0]
        self.grid = (-(-m // cols_t), -(-n // rows_t))
        self.mvms = 0
        self.tile_reads = 0
        model = energy if energy is not None else EnergyModel()
        rows_p, cols_p = self.core.physical_shape
        g_mean = float(np.mean(self.core.g_s)) if self.core.g_s.size else 0.0
        v = self.core.device.v_read_v
        self.energy_per_read_j = (rows_p * model.e_rd_j(cols_p) + cols_t * model.e_adc_j(8, rows_p)
                                  + rows_p * cols_p * g_mean * v * v * model.t_read_s)

    @property
    def energy_j(self) -> float:
        """Energy of every tile read so far, joules (module docstring)."""
        return self.tile_reads * self.energy_per_read_j

    @property
    def n_tiles(self) -> int:
        """Programmed crossbar tiles (blocks with a non-zero)."""
        return len(self.blocks)

    @property
    def T(self) -> _Transposed:
        return _Transposed(self)

    def programming_summary(self) -> dict[str, float]:
        """Tiles and arrays programmed, cells written and pulses (all arrays)."""
        per = [c.programming_summary() for c in self.cores]
        return {"tiles": float(self.n_tiles), "arrays": float(len(self.cores)),
                "cells": sum(p["cells"] for p in per),
                "pulses_total": sum(p["pulses_total"] for p in per)}

    def _blocks_in(self, x: FloatArray, block_col: int, size: int, length: int) -> FloatArray:
        """(S, B, size) slices of x (B, length) for each block's ``block_col`` index."""
        b = x.shape[0]
        padded = np.zeros((b, -(-length // size) * size))
        padded[:, :length] = x
        chunks = padded.reshape(b, -1, size)  # (B, blocks, size)
        return np.ascontiguousarray(chunks[:, self.blocks[:, block_col]].transpose(1, 0, 2))

    def _gather(self, y_blocks: FloatArray, block_col: int, size: int, length: int
                ) -> FloatArray:
        """Sum (S, B, size) partial results into (B, length) by each block's index."""
        b = y_blocks.shape[1]
        n_blocks = -(-length // size)
        out = np.zeros((n_blocks, b, size))
        np.add.at(out, self.blocks[:, block_col], y_blocks)
        return out.transpose(1, 0, 2).reshape(b, -1)[:, :length]

    def matvec(self, x: ArrayLike) -> FloatArray:
        """A x on the crossbars: x (n,) or (B, n) -> (m,) or (B, m)."""
        m, n = self.shape
        arr = _check_vector(x, n, "x")
        x2 = arr.reshape(-1, n)
        xs = self._blocks_in(x2, 1, self.tile[0], n)
        y = self._gather(_sum([c.matvec(xs) for c in self.cores]), 0, self.tile[1], m)
        self.mvms += x2.shape[0]
        self.tile_reads += x2.shape[0] * self.n_tiles * len(self.cores)
        return y[0] if arr.ndim == 1 else y

    def rmatvec(self, y: ArrayLike) -> FloatArray:
        """A^T y by a transposed read of the same crossbars: y (m,) or (B, m) -> (n,) or
        (B, n)."""
        m, n = self.shape
        arr = _check_vector(y, m, "y")
        y2 = arr.reshape(-1, m)
        ys = self._blocks_in(y2, 0, self.tile[1], m)
        x = self._gather(_sum([c.rmatvec(ys) for c in self.cores]), 1, self.tile[0], n)
        self.mvms += y2.shape[0]
        self.tile_reads += y2.shape[0] * self.n_tiles * len(self.cores)
        return x[0] if arr.ndim == 1 else x

    def __matmul__(self, x: ArrayLike) -> FloatArray:
        return self.matvec(x)


class _Transposed:
    """``A.T``: products by transposed reads of ``A``'s crossbars."""

    def __init__(self, parent: CrossbarMatrix) -> None:
        self.parent = parent
        self.shape = (parent.shape[1], parent.shape[0])

    def __matmul__(self, y: ArrayLike) -> FloatArray:
        return self.parent.rmatvec(y)

    def matvec(self, y: ArrayLike) -> FloatArray:
        return self.parent.rmatvec(y)


def _sum(parts: list[FloatArray]) -> FloatArray:
    """Digital sum of the arrays' partial results."""
    out = parts[0].copy()
    for part in parts[1:]:
        out += part
    return out


def _effective(core: AnalogCore) -> FloatArray:
    """The matrices (S, m, n) a stacked core actually multiplies by, measured by reading it
    with unit vectors (what a controller would store after programming)."""
    eye = np.broadcast_to(np.eye(core.n), (core.n_stack, core.n, core.n))
    return np.asarray(core.matvec(np.ascontiguousarray(eye))).transpose(0, 2, 1)


def _check_vector(x: ArrayLike, length: int, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] != length:
        raise ParameterError(f"{name} must be ({length},) or (B, {length}); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} holds NaN or infinite entries")
    return arr

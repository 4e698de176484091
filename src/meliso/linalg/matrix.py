"""Large matrices on many crossbars: block-sparse tiling, forward and transposed products.

    A = CrossbarMatrix(a, device="EpiRAM", tile=(256, 256), **core_settings)
    y = A @ x            # forward read: x (n,) or (B, n) -> (m,) or (B, m)
    z = A.T @ y          # transposed read of the same arrays: (m,) or (B, m) -> (n,) or (B, n)

``a`` is a dense array, a SciPy sparse matrix or the path of a Matrix Market file (read and
checked by :mod:`.reading`). It is cut into blocks of ``tile`` = (rows of a crossbar = inputs,
columns = outputs); only blocks holding a non-zero are programmed, as one stacked
:class:`meliso.core.AnalogCore` (one crossbar tile per block, every block with its own scale),
so that a sparse 65 536 x 65 536 system needs memory for its non-zero blocks only. Every core
setting (mapping, programming, input bits, calibration, wires...) applies to every block. A
product reads every block at once and adds the partial sums of each output block digitally.

Error compensation (``residual_arrays=k``): after programming, each array's effective matrix is
measured by unit-vector reads; the residual A - (sum of the arrays so far) is programmed on one
more array, at its own scale, k times, and a product adds every array's read. Each array leaves
about the device's relative programming error of what it stores, so the error falls roughly
geometrically with k (the multi-array scheme of Song et al., Science 2024).

Repeated reads (``reads=k``): every product is read k times and averaged, which divides the
variance of read noise (``sigma_read``) by k and leaves programming errors as they are.

Counters: ``mvms`` (products of the whole matrix; a read of one row of tiles counts as its
fraction), ``forward_reads`` and ``transposed_reads`` (crossbar tile reads: one per input bit plane,
and in a transposed read one per weight slice), ``programming_summary()`` (cells, pulses, and the
reads that measured the arrays for residual programming), and ``energy_j``: every tile read charged
as Cubero-Cascante et al. 2025, eq. 8 charges one, every driven line at full V_read (an upper bound
for analog inputs) and one 8-bit conversion per sensed line (columns forward, rows transposed;
:mod:`meliso.periphery.energy` defaults).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._memory import check_memory
from .._progress import Progress, tick
from .._validation import ParameterError
from ..core import AnalogCore
from ..core.plan import plan_core
from ..devices import Device, get_device
from ..periphery.energy import EnergyModel
from .reading import as_sparse

FloatArray = NDArray[np.float64]


def _blocks_in(x: FloatArray, blocks: NDArray[np.int64], block_col: int, size: int,
               length: int) -> FloatArray:
    """(S, B, size) slices of x (B, length) for each block's ``block_col`` index."""
    b = x.shape[0]
    padded = np.zeros((b, -(-length // size) * size))
    padded[:, :length] = x
    chunks = padded.reshape(b, -1, size)  # (B, blocks, size)
    return np.ascontiguousarray(chunks[:, blocks[:, block_col]].transpose(1, 0, 2))


def _gather(y_blocks: FloatArray, blocks: NDArray[np.int64], block_col: int, size: int,
            length: int) -> FloatArray:
    """Sum (S, B, size) partial results into (B, length) by each block's index."""
    b = y_blocks.shape[1]
    out = np.zeros((-(-length // size), b, size))
    np.add.at(out, blocks[:, block_col], y_blocks)
    return out.transpose(1, 0, 2).reshape(b, -1)[:, :length]


class MatrixPart:
    """Some blocks of a :class:`CrossbarMatrix`, programmed with their own random stream
    (``SeedSequence([seed, index])``), so that the numbers do not depend on where a part lives:
    in this process or on a Dask worker (an actor that programs its tiles once)."""

    def __init__(self, rows: NDArray[np.int64], cols: NDArray[np.int64], data: FloatArray,
                 blocks: NDArray[np.int64], shape: tuple[int, int], tile: tuple[int, int],
                 device: str | Device, seed: int, index: int, residual_arrays: int,
                 settings: dict[str, Any], reads: int = 1) -> None:
        rows_t, cols_t = tile
        self.reads = reads
        self.blocks, self.shape, self.tile = blocks, shape, tile
        index_of = {(int(b[0]), int(b[1])): k for k, b in enumerate(blocks)}
        out_block, in_block = rows // cols_t, cols // rows_t
        s_of = np.array([index_of[(int(i), int(j))] for i, j in zip(out_block, in_block,
                                                                       strict=True)],
                        dtype=np.int64)
        stack = np.zeros((len(blocks), cols_t, rows_t))
        stack[s_of, rows - out_block * cols_t, cols - in_block * rows_t] = data
        gen = np.random.default_rng(np.random.SeedSequence([seed, index]))
        self.cores = [AnalogCore(stack, device, rng=gen, tile_rows=rows_t, tile_cols=cols_t,
                                 **settings)]
        own_scale = {**settings, "weight_range": None}  # each residual at its own scale
        for _ in range(residual_arrays):
            residual = stack - _sum([_effective(c, reads) for c in self.cores])
            self.cores.append(AnalogCore(residual, device, rng=gen, tile_rows=rows_t,
                                         tile_cols=cols_t, **own_scale))
        # reads spent measuring the arrays (unit vectors, every earlier array each time)
        self.measurement_reads = sum(k * len(blocks) * rows_t * reads
                                     for k in range(1, residual_arrays + 1))

    def matvec(self, x2: FloatArray, out_block: int | None = None) -> FloatArray:
        """This part's partial sums of A x, (B, m), for x (B, n); with ``out_block`` only the
        tiles of that block of rows are read (the others get no input and return nothing)."""
        xs = _blocks_in(x2, self.blocks, 1, self.tile[0], self.shape[1])
        idle = None if out_block is None else self.blocks[:, 0] != out_block
        if idle is not None:
            xs[idle] = 0.0
        y = _sum([c.matvec(xs) for c in self.cores for _ in range(self.reads)]) / self.reads
        if idle is not None:
            y[idle] = 0.0
        return _gather(y, self.blocks, 0, self.tile[1], self.shape[0])

    def rmatvec(self, y2: FloatArray, out_block: int | None = None) -> FloatArray:
        """This part's partial sums of A^T y, (B, n), for y (B, m) (``out_block``: as in
        :meth:`matvec`)."""
        ys = _blocks_in(y2, self.blocks, 0, self.tile[1], self.shape[0])
        idle = None if out_block is None else self.blocks[:, 0] != out_block
        if idle is not None:
            ys[idle] = 0.0
        x = _sum([c.rmatvec(ys) for c in self.cores for _ in range(self.reads)]) / self.reads
        if idle is not None:
            x[idle] = 0.0
        return _gather(x, self.blocks, 1, self.tile[0], self.shape[1])

    def summary(self) -> dict[str, Any]:
        """Programming counts and what the energy model needs."""
        per = [c.programming_summary() for c in self.cores]
        core = self.cores[0]
        return {"tiles": len(self.blocks), "arrays": len(self.cores),
                "cells": sum(p["cells"] for p in per),
                "pulses_total": sum(p["pulses_total"] for p in per),
                "measurement_reads": self.measurement_reads,
                "g_sum_s": float(core.g_s.sum()), "g_count": int(core.g_s.size),
                "physical_shape": core.physical_shape, "v_read_v": core.device.v_read_v}


#: float64 values a programmed cell keeps (conductance, pulses, iterations, read conductance).
RESIDENT_PER_CELL = 5


def programming_bytes(blocks: int, tile: tuple[int, int], device: Device,
                      settings: dict[str, Any], residual_arrays: int, part_blocks: int) -> int:
    """Peak memory of programming ``blocks`` tiles: what every programmed cell keeps, plus the
    transient peak of programming one part (:class:`meliso.core.plan.CorePlan`)."""
    part = plan_core((min(blocks, part_blocks), tile[1], tile[0]), device,
                     {"tile_rows": tile[0], "tile_cols": tile[1], **settings})
    cells = part.cells * -(-blocks // part_blocks) * (residual_arrays + 1)
    return 8 * RESIDENT_PER_CELL * cells + part.program_bytes()


def product_bytes(shape: tuple[int, int], vectors: int, blocks: int, tile: tuple[int, int],
                  arrays: int) -> int:
    """Peak memory of one product of ``vectors`` vectors: the vectors cut into blocks and every
    tile's column currents (``benchmarks/memory.py``: at most 6 float64 per vector entry and 8
    per tile column and vector)."""
    m, n = shape
    return 8 * vectors * (6 * (m + n) + 8 * blocks * arrays * max(tile))


def _programming_advice(shape: tuple[int, int], tile: tuple[int, int]) -> str:
    """What to change when programming needs too much memory. Every programmed tile is stored
    whole, so smaller tiles cover the non-zeros with less padding (never more cells); a tile
    larger than the matrix stores mostly padding."""
    m, n = shape
    rows_t, cols_t = tile
    if rows_t > n or cols_t > m:
        return (f"the {rows_t}x{cols_t} tile is larger than the {m}x{n} matrix needs (at most "
                f"{n}x{m}, ROWS = inputs, COLS = outputs): use smaller tiles, fewer residual "
                "arrays or a smaller matrix")
    return ("use smaller tiles (less padding around the non-zeros), fewer residual arrays or "
            "a smaller matrix")


class CrossbarMatrix:
    """A matrix programmed block-sparsely onto crossbar tiles (module docstring).

    The non-zero blocks are split, in order, into parts of ``part_blocks`` blocks; each part is
    programmed with its own random stream. With a Dask ``client`` every part is an actor on a
    worker, which programs its tiles once and keeps them; a product sends x to every part and
    adds their partial sums. The parts, and hence the numbers, are the same either way.
    """

    def __init__(self, a: Any, device: str | Device = "EpiRAM", *,
                 tile: tuple[int, int] = (256, 256), seed: int = 0,
                 energy: EnergyModel | None = None, residual_arrays: int = 0,
                 part_blocks: int = 256, client: Any = None, reads: int = 1,
                 progress: Progress | None = None, **settings: Any) -> None:
        self.matrix = as_sparse(a)
        self.shape: tuple[int, int] = (int(self.matrix.shape[0]), int(self.matrix.shape[1]))
        rows_t, cols_t = (int(tile[0]), int(tile[1]))
        if rows_t < 1 or cols_t < 1:
            raise ParameterError(f"tile = {tile!r} is out of range: allowed positive sizes")
        if not isinstance(residual_arrays, int) or not 0 <= residual_arrays <= 8:
            raise ParameterError(f"residual_arrays = {residual_arrays!r} is out of range: "
                                 "allowed integer 0 <= residual_arrays <= 8")
        if part_blocks < 1:
            raise ParameterError(f"part_blocks = {part_blocks} is out of range: allowed >= 1")
        if not isinstance(reads, int) or reads < 1:
            raise ParameterError(f"reads = {reads!r} is out of range: allowed integer >= 1")
        self.reads = reads
        self.tile = (rows_t, cols_t)
        m, n = self.shape
        coo = self.matrix.tocoo()
        out_block = coo.row // cols_t  # output blocks: crossbar columns carry outputs
        in_block = coo.col // rows_t  # input blocks: crossbar rows carry inputs
        blocks = np.unique(np.stack([out_block, in_block], axis=1), axis=0)
        self.blocks: NDArray[np.int64] = blocks  # (S, 2): (output block, input block)
        # validate the device and settings, and the memory, before any part is built
        dev = get_device(device) if isinstance(device, str) else device
        check_memory(programming_bytes(len(blocks), self.tile, dev, settings, residual_arrays,
                                       part_blocks),
                     f"{len(blocks)} tiles of {rows_t}x{cols_t} x {residual_arrays + 1} arrays",
                     _programming_advice(self.shape, self.tile))
        plan = plan_core((1, 1, 1), dev, settings)  # the settings, validated once
        if plan.config.resolved_calibration == "two-point":
            self._check_two_point(coo, out_block, in_block, blocks, residual_arrays)
        order = np.lexsort((in_block, out_block))
        key = out_block[order] * (blocks[:, 1].max() + 1) + in_block[order]
        block_key = blocks[:, 0] * (blocks[:, 1].max() + 1) + blocks[:, 1]
        part_of_entry = np.searchsorted(block_key, key) // part_blocks
        self.client = client
        self.parts: list[Any] = []
        for index, start in enumerate(range(0, len(blocks), part_blocks)):
            mine = order[part_of_entry == index]
            args = (coo.row[mine].astype(np.int64), coo.col[mine].astype(np.int64),
                    coo.data[mine], blocks[start:start + part_blocks], self.shape, self.tile,
                    device, seed, index, residual_arrays, dict(settings), reads)
            if client is None:
                self.parts.append(MatrixPart(*args))
                tick(progress, "programming tiles", min(start + part_blocks, len(blocks)),
                     len(blocks))
            else:
                self.parts.append(client.submit(MatrixPart, *args, actor=True, pure=False))
        if client is not None:
            self.parts = [f.result() for f in self.parts]
        summaries = self._call("summary")
        self.arrays = summaries[0]["arrays"]
        self._programming = {k: sum(p[k] for p in summaries)
                             for k in ("cells", "pulses_total", "measurement_reads")}
        self.grid = (-(-m // cols_t), -(-n // rows_t))
        self.mvms = 0.0
        # crossbar reads per tile and product: one per input bit plane (bit-serial inputs),
        # and in a transposed read one per weight slice too
        planes = plan.config.input_bits or 1
        slices = plan.slicing.slices if plan.mapping == "differential" else 1
        self._reads_forward, self._reads_transposed = planes, planes * slices
        self.forward_reads = 0
        self.transposed_reads = 0
        model = energy if energy is not None else EnergyModel()
        rows_p, cols_p = summaries[0]["physical_shape"]
        g_mean = (sum(p["g_sum_s"] for p in summaries)
                  / max(1, sum(p["g_count"] for p in summaries)))
        v = summaries[0]["v_read_v"]
        cells = rows_p * cols_p * g_mean * v * v * model.t_read_sec
        # a forward read drives the rows and converts the columns; a transposed read drives
        # the columns and converts the rows
        self.energy_per_read_j = (rows_p * model.e_rd_j(cols_p) + cols_t * model.e_adc_j(8, rows_p)
                                  + cells)
        self.energy_per_transposed_read_j = (cols_p * model.e_rd_j(rows_p)
                                             + rows_t * model.e_adc_j(8, cols_p) + cells)

    @property
    def tile_reads(self) -> int:
        """Crossbar tile reads so far (forward and transposed)."""
        return self.forward_reads + self.transposed_reads

    def _check_two_point(self, coo: Any, out_block: Any, in_block: Any, blocks: Any,
                         residual_arrays: int) -> None:
        """MELISO's two-point calibration divides each tile row by its programmed span,
        proportional to the row's sum: refuse it where a real row of a tile sums to (about)
        zero, and with residual arrays (whose rows all sum to about zero)."""
        if residual_arrays:
            raise ParameterError("calibration = 'two-point' forces each array's row sums to "
                                 "A's, so residual arrays would store ~0: allowed "
                                 "residual_arrays = 0 with it, or calibration = 'none'")
        cols_t = self.tile[1]
        lookup = {(int(b[0]), int(b[1])): k for k, b in enumerate(blocks)}
        sums = np.zeros((len(blocks), cols_t))
        peak = np.zeros((len(blocks), cols_t))
        real = np.zeros((len(blocks), cols_t), dtype=bool)
        for k, b in enumerate(blocks):
            n_rows = min(cols_t, self.shape[0] - int(b[0]) * cols_t)
            real[k, :n_rows] = True
        for i, j, r, v in zip(out_block, in_block, coo.row, coo.data, strict=True):
            k = lookup[(int(i), int(j))]
            sums[k, r - i * cols_t] += v
            peak[k, r - i * cols_t] = max(peak[k, r - i * cols_t], abs(v))
        bad = real & (np.abs(sums) <= 1e-9 * np.maximum(peak, 1e-300))
        if bad.any():
            raise ParameterError(
                "calibration = 'two-point' divides each output row of a tile by its span, "
                f"zero where the row sums to zero (here {int(bad.sum())} of {int(real.sum())} "
                "tile rows): allowed calibration = 'none' for this matrix and tile size")

    def _call(self, method: str, *args: Any) -> list[Any]:
        """``method`` on every part: in this process, or on the workers in parallel."""
        if self.client is None:
            return [getattr(p, method)(*args) for p in self.parts]
        futures = [getattr(p, method)(*args) for p in self.parts]
        return [f.result() for f in futures]

    @property
    def energy_j(self) -> float:
        """Energy of every tile read so far, joules (module docstring)."""
        return (self.forward_reads * self.energy_per_read_j
                + self.transposed_reads * self.energy_per_transposed_read_j)

    @property
    def n_tiles(self) -> int:
        """Programmed crossbar tiles (blocks with a non-zero)."""
        return len(self.blocks)

    @property
    def T(self) -> _Transposed:
        return _Transposed(self)

    def programming_summary(self) -> dict[str, float]:
        """Tiles and arrays programmed, cells written and pulses (all arrays)."""
        return {"tiles": float(self.n_tiles), "arrays": float(self.arrays),
                "cells": float(self._programming["cells"]),
                "pulses_total": float(self._programming["pulses_total"]),
                "measurement_reads": float(self._programming["measurement_reads"])}

    def _product(self, v: ArrayLike, transposed: bool) -> FloatArray:
        """Every part's partial sums of A v (or A^T v), added, and the reads counted."""
        length = self.shape[0] if transposed else self.shape[1]
        arr = _check_vector(v, length, "y" if transposed else "x")
        v2 = arr.reshape(-1, length)
        check_memory(product_bytes(self.shape, v2.shape[0], self.n_tiles, self.tile,
                                   self.arrays),
                     f"a product of {v2.shape[0]} vectors with the {self.shape[0]}x"
                     f"{self.shape[1]} matrix", "multiply fewer vectors at once")
        out = _sum(self._call("rmatvec" if transposed else "matvec", v2))
        self.mvms += v2.shape[0]
        reads = v2.shape[0] * self.n_tiles * self.arrays * self.reads
        if transposed:
            self.transposed_reads += reads * self._reads_transposed
        else:
            self.forward_reads += reads * self._reads_forward
        return out[0] if arr.ndim == 1 else out

    def matvec(self, x: ArrayLike) -> FloatArray:
        """A x on the crossbars: x (n,) or (B, n) -> (m,) or (B, m)."""
        return self._product(x, transposed=False)

    def rmatvec(self, y: ArrayLike) -> FloatArray:
        """A^T y by a transposed read of the same crossbars: y (m,) or (B, m) -> (n,) or
        (B, n)."""
        return self._product(y, transposed=True)

    def __matmul__(self, x: ArrayLike) -> FloatArray:
        return self.matvec(x)

    def block_rows(self, out_block: int) -> slice:
        """The rows of A in block ``out_block`` (one row of crossbar tiles)."""
        size = self.tile[1]
        return slice(out_block * size, min(self.shape[0], (out_block + 1) * size))

    def block_matvec(self, out_block: int, x: ArrayLike) -> FloatArray:
        """A[rows of ``out_block``] x, reading only that block row's tiles: (rows in block,)."""
        x2 = _check_vector(x, self.shape[1], "x").reshape(1, -1)
        y = _sum(self._call("matvec", x2, out_block))[0, self.block_rows(out_block)]
        tiles = int(np.sum(self.blocks[:, 0] == out_block))
        self.mvms += tiles / self.n_tiles  # a fraction of a whole product
        self.forward_reads += tiles * self.arrays * self.reads * self._reads_forward
        return y

    def block_rmatvec(self, out_block: int, y_block: ArrayLike) -> FloatArray:
        """A[rows of ``out_block``]^T y_block by transposed reads of that block row: (n,)."""
        rows = self.block_rows(out_block)
        y = np.zeros((1, self.shape[0]))
        y[0, rows] = np.asarray(y_block, dtype=np.float64)
        x = _sum(self._call("rmatvec", y, out_block))[0]
        tiles = int(np.sum(self.blocks[:, 0] == out_block))
        self.mvms += tiles / self.n_tiles
        self.transposed_reads += tiles * self.arrays * self.reads * self._reads_transposed
        return x


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


def _effective(core: AnalogCore, reads: int = 1) -> FloatArray:
    """The matrices (S, m, n) a stacked core actually multiplies by, measured by reading it
    with unit vectors, ``reads`` times averaged (what a controller would store after
    programming)."""
    eye = np.ascontiguousarray(np.broadcast_to(np.eye(core.n), (core.n_stack, core.n, core.n)))
    total = _sum([np.asarray(core.matvec(eye)) for _ in range(reads)]) / reads
    return total.transpose(0, 2, 1)


def _check_vector(x: ArrayLike, length: int, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] != length:
        raise ParameterError(f"{name} must be ({length},) or (B, {length}); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} holds NaN or infinite entries")
    return arr

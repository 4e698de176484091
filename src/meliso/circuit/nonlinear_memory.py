"""Memory of a non-linear crossbar solve (:func:`meliso.circuit.nonlinear.solve_nonlinear`),
estimated before it allocates: the kept node voltages plus the working set of the path it
takes, from the peaks ``benchmarks/memory.py`` measures (estimate / peak within 1 ... 4)."""

from __future__ import annotations

import math

import numba

#: Working memory (beyond the kept node voltages) a chunk of vectors may take on the NumPy
#: paths; larger batches are solved in chunks of this size (results are per vector).
CHUNK_BYTES = 256 * 2**20


def path_of(method: str, r_b: float, r_w: float, numba_twin: bool) -> str:
    """Which implementation a solve takes (for its memory estimate); ``method`` as
    :func:`~meliso.circuit.nonlinear.solve_nonlinear` takes it, ``auto`` included."""
    if r_b == 0 and r_w == 0:
        return "ideal"
    if method == "auto":
        method = "newton-cg" if r_b > 0 and r_w > 0 else "lines"
    if method in ("newton-direct", "newton-gmres"):
        return method
    if not numba_twin:
        return "numpy"
    return "numba-lines" if method == "lines" else "numba"


def solve_bytes(path: str, rows: int, cols: int, vectors: int) -> tuple[float, int]:
    """(estimated bytes, vectors per chunk) of a solve of ``vectors`` vectors taking ``path``:
    the kept node voltages (16 bytes a node pair and vector), one chunk's working set and the
    fixed scratch of :func:`working_bytes`."""
    per_vector, fixed = working_bytes(path, rows, cols)
    chunk = max(1, min(vectors, int(CHUNK_BYTES // per_vector)))
    return 16.0 * rows * cols * vectors + per_vector * chunk + fixed, chunk


def working_bytes(path: str, rows: int, cols: int) -> tuple[float, float]:
    """(bytes per vector, fixed bytes) a solve needs beyond the kept node voltages (16 bytes a
    node pair a vector): the traced peaks of ``benchmarks/memory.py`` per node and vector,
    rounded up (NumPy model evaluation with its temporaries: about 40 arrays for the ideal
    wires, up to 60 for models without a Numba twin (with the access device's internal-node
    solve); the sparse Newton's LU and GMRES, one vector at a time: :func:`sparse_lu_bytes`),
    and for the Numba kernels their per-thread-chunk scratch (~24 arrays of rows x cols, not
    seen by tracemalloc)."""
    node = 8.0 * rows * cols
    if path == "ideal":
        return 48 * node, 0.0
    if path == "numpy":
        return 72 * node, 0.0
    if path == "numba-lines":  # the kernel's scratch is a few lines per vector
        return 4 * node, 0.0
    if path == "newton-direct":
        return 4 * node, sparse_lu_bytes(rows, cols)
    if path == "newton-gmres":
        return 4 * node, 0.75 * sparse_lu_bytes(rows, cols)
    return 4 * node, 26 * node * 2 * numba.get_num_threads()


def sparse_lu_bytes(rows: int, cols: int) -> float:
    """Peak of one sparse-LU Newton solve of a rows x cols crossbar (SuperLU's fill-in is
    allocated in C: measured as the growth of the peak resident set, 443 and 521 arrays of
    rows x cols at 128 and 256, growing like log2 of the size): 80 log2(max(rows, cols))
    arrays, at least 256."""
    node = 8.0 * rows * cols
    return max(256.0, 80.0 * math.log2(max(rows, cols, 2))) * node

"""Matrices as the crossbar tasks take them: a dense array, a SciPy sparse matrix or a Matrix
Market file, read as CSR float64 and checked before use: a file's header before its body
(size, kind, memory), then finite entries of a size whose products stay normal float64
numbers (:func:`check_magnitudes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from .._memory import check_memory
from .._validation import ParameterError

FloatArray = NDArray[np.float64]


#: Bytes per stored entry while a Matrix Market file is read and converted (row and column
#: indices, value, the CSR copy and SciPy's temporaries), and per dense entry.
MM_BYTES_PER_ENTRY = 64
DENSE_BYTES_PER_ENTRY = 24
#: Most bytes one entry line of a coordinate file can take less than: a line is at least
#: "i j v\n" (6 characters), so a file of S bytes holds at most S / 2 entries.
MM_MIN_BYTES_PER_ENTRY = 2


def check_matrix_market(path: Path) -> tuple[int, int, int, str]:
    """(rows, cols, entries, format) of a Matrix Market file, from its header alone; refuses
    complex matrices, headers that promise more entries than the file can hold, and matrices
    that cannot fit in memory."""
    try:
        rows, cols, entries, fmt, field, _ = scipy.io.mminfo(str(path))
    except (ValueError, OSError, IndexError, TypeError) as exc:
        raise ParameterError(f"{path} is not a Matrix Market file: {exc}") from None
    if field not in ("real", "integer", "pattern"):
        raise ParameterError(f"{path} holds a {field} matrix: allowed real, integer or pattern "
                             "(a crossbar stores real numbers; split a complex matrix into "
                             "its real and imaginary parts)")
    if min(rows, cols) < 1:
        raise ParameterError(f"{path}: the header declares a {rows}x{cols} matrix: allowed "
                             "at least 1x1")
    size = path.stat().st_size
    if fmt == "coordinate":
        if entries > size // MM_MIN_BYTES_PER_ENTRY:
            raise ParameterError(f"{path}: the header declares {entries} entries, more than "
                                 f"a file of {size} bytes can hold")
        need = MM_BYTES_PER_ENTRY * entries
    else:
        need = DENSE_BYTES_PER_ENTRY * rows * cols
    check_memory(need + 8 * (rows + cols), f"the {rows}x{cols} matrix in {path.name} "
                 f"({entries} entries)", "use a smaller matrix")
    return rows, cols, entries, fmt


#: Allowed magnitudes of a matrix's entries: every |A_ij| <= MAX_ENTRY_ABS and the largest at
#: least MIN_PEAK_ABS, so that products with vectors of any sensible size, and their squared
#: errors and norms (about |A|^2 n), stay normal float64 numbers (1e+-308): no overflow to inf,
#: no underflow of a whole matrix to subnormals or zero.
MAX_ENTRY_ABS = 1e100
MIN_PEAK_ABS = 1e-100


def _open_matrix_file(path: Path) -> Any:
    """The matrix in a Matrix Market file (header checked first)."""
    if path.is_dir():
        raise ParameterError(f"matrix file '{path}' is a directory, not a file: give the path "
                             "of a Matrix Market (.mtx) file")
    if not path.exists():
        raise ParameterError(f"matrix file '{path}' does not exist")
    if not path.is_file():
        raise ParameterError(f"matrix file '{path}' is not a regular file: give the path of a "
                             "Matrix Market (.mtx) file")
    check_matrix_market(path)
    try:
        return scipy.io.mmread(str(path))
    except (ValueError, OSError, IndexError, TypeError, OverflowError) as exc:
        raise ParameterError(f"{path} is not a valid Matrix Market file: {exc}") from None


def check_magnitudes(data: FloatArray, name: str) -> None:
    """Refuse entries whose size would make products or their errors overflow or underflow
    (:data:`MAX_ENTRY_ABS`, :data:`MIN_PEAK_ABS`); ``data`` holds the non-zero entries."""
    peak = float(np.max(np.abs(data)))
    if not MIN_PEAK_ABS <= peak <= MAX_ENTRY_ABS:
        raise ParameterError(
            f"{name}: largest |entry| = {peak:.3g} is out of range: allowed "
            f"{MIN_PEAK_ABS:g} <= max |A_ij| <= {MAX_ENTRY_ABS:g} (products and their squared "
            "errors must stay finite, normal float64 numbers): rescale the matrix")


def as_sparse(a: ArrayLike | sp.spmatrix | sp.sparray | str | Path) -> sp.csr_matrix:
    """A dense array, a SciPy sparse matrix or a Matrix Market file, as CSR float64, with
    finite entries of sensible size (:func:`check_magnitudes`)."""
    name = "the matrix"
    if isinstance(a, str | Path):
        path = Path(a)
        name = f"matrix file '{path}'"
        m = _open_matrix_file(path)
        if np.iscomplexobj(m):  # pragma: no cover - the header check refuses these first
            raise ParameterError(f"{path} holds a complex matrix")
        out = sp.csr_matrix(m, dtype=np.float64)
    elif sp.issparse(a):
        out = sp.csr_matrix(a, dtype=np.float64)
    else:
        arr = np.asarray(a, dtype=np.float64)
        if arr.ndim != 2:
            raise ParameterError(f"a matrix must be 2-D; got shape {arr.shape}")
        out = sp.csr_matrix(arr)
    with np.errstate(over="ignore"):  # repeats that add up to inf are refused just below
        out.sum_duplicates()  # a CSR may repeat an entry; products add repeats, so must we
    if min(out.shape) == 0:
        raise ParameterError(f"the matrix is empty (shape {out.shape})")
    if not np.all(np.isfinite(out.data)):
        raise ParameterError(f"{name} holds NaN or infinite entries")
    out.eliminate_zeros()
    if out.nnz == 0:
        raise ParameterError(f"{name} is all zeros: nothing to program")
    check_magnitudes(out.data, name)
    return out

"""A population's raw errors as a file a user opens with NumPy, pandas or any Parquet reader.

``.npy``: the errors e = y − A·x as a float64 array (trials, outputs), read with
``numpy.load(path)`` (no pickle inside). ``.parquet``: one row per output of every trial with
``trial``, ``output``, ``error``, ``exact`` (A·x) and ``y`` (the hardware's output), read with
``pandas.read_parquet`` or ``pyarrow.parquet.read_table``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from .._validation import ParameterError
from .population import Population

#: File suffixes :func:`save_errors` writes.
ERROR_FORMATS = (".npy", ".parquet")


def check_errors_path(path: str | Path, *, force: bool = False,
                      option: str = "--save-errors") -> Path:
    """``path`` as a file :func:`save_errors` may write: a known suffix, an existing folder, and
    no existing file unless ``force`` (checked before any simulation runs)."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{option} = {str(path)!r} is a folder: give a file name")
    if path.suffix.lower() not in ERROR_FORMATS:
        raise ParameterError(f"{option} = {str(path)!r}: allowed a file ending in "
                             f"{' or '.join(ERROR_FORMATS)}")
    if not path.parent.is_dir():
        raise ParameterError(f"{option} = {str(path)!r}: the folder {str(path.parent)!r} does "
                             "not exist")
    if (path.exists() or path.is_symlink()) and not force:
        raise ParameterError(f"{option} = {str(path)!r} exists: meliso does not overwrite it "
                             "(pass --force to replace it)")
    return path


def save_errors(pop: Population, path: str | Path, *, force: bool = False) -> Path:
    """Write ``pop``'s errors to ``path`` (``.npy`` or ``.parquet``, see the module), atomically."""
    path = check_errors_path(path, force=force)
    if path.is_symlink():  # replace the link itself, never the file it points to
        path.unlink()
    if path.suffix.lower() == ".npy":
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(pop.errors, dtype=np.float64), allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    trials, outputs = pop.errors.shape
    table = pa.table({
        "trial": np.repeat(np.arange(trials, dtype=np.int32), outputs),
        "output": np.tile(np.arange(outputs, dtype=np.int32), trials),
        "error": pop.errors.reshape(-1), "exact": pop.exact.reshape(-1),
        "y": pop.y.reshape(-1),
    })
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path

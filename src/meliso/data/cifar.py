"""CIFAR-10 from either of its releases, without executing anything the files hold.

- Binary release (``cifar-10-batches-bin``: ``data_batch_1.bin`` ... ``data_batch_5.bin``,
  ``test_batch.bin``): records of 1 label byte then 3072 pixel bytes (1024 red, 1024 green,
  1024 blue, row-major 32 x 32). Plain bytes; preferred when both releases are present.
- Python release (``cifar-10-batches-py``: ``data_batch_1`` ... ``test_batch``): pickled
  dictionaries. A pickle can name any callable, so these are read by :class:`BatchUnpickler`,
  which admits only what those files contain: NumPy's array and dtype reconstructors and the
  latin-1 byte codec of Python 3's protocol 2. Anything else (``os.system``, ``eval``...) is
  refused before it is looked up, so nothing runs. ``numpy.ndarray`` itself is never callable:
  it may appear only as the class argument of ``_reconstruct(ndarray, (0,), dtype)``, whose
  empty array is then filled from bytes held in the file. So every array's memory is bounded by
  the file's size (a called ``ndarray(shape, dtype, buffer, offset, strides)`` with zero strides
  would turn one byte into a (10**9, 3072) view).

Every batch is then checked: no more images than the file can hold (3073 bytes each), arrays
that hold their own contiguous data, ``data`` an (N, 3072) uint8 array, ``labels`` N integers
0 ... 9.
"""

from __future__ import annotations

import codecs
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError

RECORD_BYTES = 1 + 3 * 32 * 32
#: Largest batch file accepted (a real one is 31 MB).
MAX_BATCH_BYTES = 256 << 20
TRAIN_STEMS = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_STEM = "test_batch"


def _latin1(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as protocol 2 uses it for bytes: latin-1 only."""
    if encoding.lower().replace("-", "") != "latin1":
        raise pickle.UnpicklingError(f"codec {encoding!r} refused (only latin-1 is admitted)")
    return codecs.encode(text, "latin1")


class _Admitted:
    """A callable a batch may name. Its state cannot be set: a pickle's BUILD on it is refused."""

    __slots__ = ("_func", "_name")

    def __init__(self, name: str, func: Callable[..., Any]) -> None:
        self._name = name
        self._func = func

    def __call__(self, *args: Any) -> Any:
        return self._func(*args)

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError(f"{self._name} cannot be given a state")


class _ArrayClass:
    """What the name ``numpy.ndarray`` resolves to: the class argument of NumPy's array
    reconstructor, never a callable. Calling ``ndarray(shape, dtype, buffer, offset, strides)``
    would build a view far larger than the file (zero strides over one byte)."""

    __slots__ = ()

    def __call__(self, *args: Any) -> Any:
        raise pickle.UnpicklingError("numpy.ndarray may only be named as the class of NumPy's "
                                     "array reconstructor, not called")

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError("numpy.ndarray cannot be given a state")


_ARRAY_CLASS = _ArrayClass()


def _reconstruct_empty(reconstruct: Callable[..., Any]) -> Callable[..., Any]:
    """NumPy's ``_reconstruct(ndarray, (0,), dtype)`` as pickles use it: an empty array that
    ``__setstate__`` then fills from bytes held in the file. Other classes or shapes (which would
    allocate before any data is read) are refused."""

    def checked(subtype: Any, shape: Any, dtype: Any) -> Any:
        if subtype is not _ARRAY_CLASS:
            raise pickle.UnpicklingError("NumPy's array reconstructor accepts only the class "
                                         "numpy.ndarray")
        if not isinstance(shape, tuple) or shape != (0,):
            raise pickle.UnpicklingError(f"NumPy's array reconstructor called with shape "
                                         f"{shape!r}: allowed (0,) (the data follows as state)")
        return reconstruct(np.ndarray, shape, dtype)

    return checked


def _admitted() -> dict[tuple[str, str], Any]:
    reconstruct: Any = np.zeros(1).__reduce__()[0]  # NumPy's array reconstructor
    frombuffer: Any = np.zeros(1).__reduce_ex__(5)[0]  # protocol 5's buffer reconstructor
    out: dict[tuple[str, str], Any] = {("numpy", "ndarray"): _ARRAY_CLASS,
                                       ("numpy", "dtype"): np.dtype,
                                       ("_codecs", "encode"): _Admitted("_codecs.encode", _latin1)}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(module, "_reconstruct")] = _Admitted(f"{module}._reconstruct",
                                                  _reconstruct_empty(reconstruct))
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        out[(module, "_frombuffer")] = _Admitted(f"{module}._frombuffer", frombuffer)
    return out


class BatchUnpickler(pickle.Unpickler):
    """An unpickler that resolves only NumPy arrays, dtypes and latin-1 bytes."""

    _ADMITTED = _admitted()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ADMITTED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: a CIFAR-10 batch holds only NumPy arrays "
                "and plain Python values") from None


def _backing_bytes(array: NDArray[Any]) -> int:
    """Bytes of the memory that really holds ``array`` (its own, or the bytes it views)."""
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.owndata:
            return int(base.nbytes)
        base = base.base
    try:
        return memoryview(base).nbytes
    except TypeError:
        return 0


def _check_array_memory(path: Path, key: str, value: Any) -> None:
    """Refuse an array that is not contiguous or claims more memory than backs it."""
    if not isinstance(value, np.ndarray):
        return
    contiguous = value.flags.c_contiguous or value.flags.f_contiguous
    if not contiguous or _backing_bytes(value) < value.nbytes:
        raise ParameterError(f"{path}: {key!r} is an array view of shape {value.shape} that "
                             "does not hold its own contiguous data; a CIFAR-10 batch holds "
                             "plain arrays")


def _check_image_count(path: Path, data: Any, file_bytes: int) -> None:
    """Refuse more images than the file can hold (each takes at least 3073 bytes)."""
    count = len(data) if isinstance(data, np.ndarray) and data.ndim else 0
    if count * RECORD_BYTES > file_bytes:
        raise ParameterError(f"{path}: 'data' claims {count} images but the file holds "
                             f"{file_bytes} bytes: allowed at most {file_bytes // RECORD_BYTES} "
                             f"images ({RECORD_BYTES} bytes each)")


def _check_batch(path: Path, data: Any, labels: Any
                 ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3072:
        what = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                else type(data).__name__)
        raise ParameterError(f"{path}: 'data' is a {what}; a CIFAR-10 batch holds an "
                             "(N, 3072) uint8 array")
    y = np.asarray(labels)
    if y.dtype.kind not in "iu" or y.shape != (len(data),):
        raise ParameterError(f"{path}: 'labels' must be {len(data)} integers (one per image)")
    if len(y) == 0:
        raise ParameterError(f"{path} holds no images")
    if y.min() < 0 or y.max() > 9:
        raise ParameterError(f"{path}: labels range {int(y.min())} ... {int(y.max())}: allowed "
                             "0 ... 9")
    return data, y.astype(np.int64)


def _read_limited(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_BATCH_BYTES:
        raise ParameterError(f"{path} holds {size} bytes: a CIFAR-10 batch holds at most "
                             f"{MAX_BATCH_BYTES}")
    return path.read_bytes()


def read_python_batch(path: Path) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Images (N, 3072) and labels (N,) of one python-release batch (restricted unpickling)."""
    raw = _read_limited(path)
    try:
        batch = BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, RecursionError) as exc:
        raise ParameterError(f"{path} is not a CIFAR-10 python batch: {exc}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ParameterError(f"{path} is not a CIFAR-10 python batch (a dict with b'data' and "
                             "b'labels')")
    _check_image_count(path, batch[b"data"], len(raw))
    for key in (b"data", b"labels"):
        _check_array_memory(path, key.decode(), batch[key])
    return _check_batch(path, batch[b"data"], batch[b"labels"])


def read_binary_batch(path: Path) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Images (N, 3072) and labels (N,) of one binary-release batch."""
    raw = _read_limited(path)
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise ParameterError(f"{path} holds {len(raw)} bytes: a binary CIFAR-10 batch holds "
                             f"whole records of {RECORD_BYTES} bytes")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    return _check_batch(path, records[:, 1:], records[:, 0])


def find_release(data_dir: Path) -> tuple[Path, Callable[[Path], Any], str] | None:
    """(folder, batch reader, file suffix) of the release found in ``data_dir``, or None."""
    for folder in (data_dir / "cifar-10-batches-bin", data_dir):
        if (folder / f"{TEST_STEM}.bin").is_file():
            return folder, read_binary_batch, ".bin"
    for folder in (data_dir / "cifar-10-batches-py", data_dir):
        if (folder / TEST_STEM).is_file():
            return folder, read_python_batch, ""
    return None

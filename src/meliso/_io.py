"""Atomic file writes: readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


#: Called with every path :func:`atomic_write_bytes` is about to write, before any folder is
#: made: an open run folder records its files and refuses paths that leave it
#: (:mod:`meliso.experiments.rundir`).
_WRITE_GUARDS: ContextVar[tuple[Callable[[Path], None], ...]] = ContextVar(
    "meliso_write_guards", default=())


@contextmanager
def guard_writes(guard: Callable[[Path], None]) -> Iterator[None]:
    """Call ``guard(path)`` before every atomic write inside this context."""
    token = _WRITE_GUARDS.set((*_WRITE_GUARDS.get(), guard))
    try:
        yield
    finally:
        _WRITE_GUARDS.reset(token)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then ``os.replace`` it into place."""
    path = Path(path)
    for guard in _WRITE_GUARDS.get():
        guard(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Atomic write of UTF-8 text."""
    atomic_write_bytes(path, text.encode())


def write_csv(path: str | Path, rows: Iterable[dict[str, Any]], columns: list[str]) -> None:
    """Atomic CSV of ``columns`` from ``rows`` (other keys ignored, missing ones empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _finite_or_null(v: Any) -> Any:
    if isinstance(v, float | np.floating) and not np.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite_or_null(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite_or_null(x) for x in v]
    return v


def to_json(obj: Any, **dumps_kwargs: Any) -> str:
    """Strict JSON: NaN and inf become null, NumPy scalars and arrays plain numbers and lists."""
    return json.dumps(_finite_or_null(obj), default=_json_default, **dumps_kwargs)

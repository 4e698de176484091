"""Output folders meliso may write into: its own (a marker file), new ones or empty ones.

Every folder a run or a study writes is *claimed* first:

- a folder that does not exist is created with a marker file ``.meliso-run`` (JSON: what it
  holds, which meliso made it);
- an empty folder gets the marker;
- a folder with the marker is meliso's own and may be resumed (or, with ``force``, cleared of
  the files meliso wrote and recomputed);
- any other folder (non-empty, no marker) is refused: meliso never writes beside, let alone
  over, files it did not create.

While a run writes, it holds an exclusive lock on ``.meliso-lock`` in its folder (``flock``,
released by the kernel if the process dies): a second run into the same folder is refused at
once with a message naming the first one's process, instead of computing every point twice.

:func:`clear` removes only what meliso writes: the names in :data:`OWN_FILES`, the files with
meliso's suffixes inside :data:`OWN_DIRS`, and, recursively, sub-folders carrying a marker.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from .._io import atomic_write_text
from .._validation import ParameterError

MARKER = ".meliso-run"
LOCK = ".meliso-lock"
#: What a marked folder holds: one run (points, results, report) or a study of several runs.
Kind = Literal["run", "study"]
#: Names of the files meliso writes at the top of a run or study folder.
OWN_FILES = frozenset({"config.yaml", "code.json", "study.json", "results.parquet",
                       "report.md", "report.html"})
OWN_SUFFIXES = frozenset({".csv"})
#: Sub-folders meliso writes, and the suffixes of the files it writes into them.
OWN_DIRS = {"points": (".json",), "errors": (".npy",), "figures": (".png", ".pdf", ".svg"),
            "checkpoints": (".pt",)}
#: Names a run may take (``name:`` in an experiment file): no path separators, no leading dot.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME_RE = re.compile(NAME_PATTERN)


def check_name(name: str, field: str = "name") -> str:
    """``name`` if it is a safe folder name, else :class:`ParameterError`."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ParameterError(
            f"{field} = {name!r}: allowed 1-64 letters, digits, '_', '.' and '-', starting with "
            "a letter or digit (it names the run's folder)")
    return name


def read_marker(root: Path) -> dict[str, Any] | None:
    """The marker of ``root`` (None if it has none)."""
    path = root / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("kind") not in ("run", "study"):
        raise ParameterError(f"{path} is damaged; if {root} is a meliso run, delete the "
                             "folder and run again")
    return data


def claim(root: str | Path, kind: Kind, study: str | None = None) -> Path:
    """Make ``root`` a meliso folder of ``kind`` (see the module docstring) and return it."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ParameterError(f"--out {root} is a file, not a folder: choose a folder")
    marker = read_marker(root) if root.is_dir() else None
    if marker is not None:
        if marker["kind"] != kind or marker.get("study") != study:
            held = f"a {marker['kind']} of {marker.get('study') or 'an experiment'}"
            raise ParameterError(f"{root} holds meliso's {held}, not a {kind} of "
                                 f"{study or 'an experiment'}: choose another --out")
        return root
    if root.is_dir() and any(p.name != LOCK for p in root.iterdir()):
        raise ParameterError(
            f"{root} is not empty and was not created by meliso (no {MARKER} file): meliso "
            "writes only into new or empty folders and its own runs; choose another --out")
    root.mkdir(parents=True, exist_ok=True)
    from .. import __version__

    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    atomic_write_text(root / MARKER, json.dumps({"kind": kind, "study": study, "meliso":
                                                 __version__, "created": stamp}))
    return root


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the folder's exclusive lock, or refuse at once if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield
        return
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise ParameterError(
                f"another meliso process (pid {holder}) is writing into {root}: wait for it "
                "to finish, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _own_temporary(path: Path) -> bool:
    """A temporary file of :func:`meliso._io.atomic_write_bytes` left by a killed process."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def clear(root: Path) -> None:
    """Remove what meliso wrote in ``root`` (a claimed folder), leaving every other file."""
    for entry in list(root.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            suffixes = OWN_DIRS.get(entry.name)
            if read_marker(entry) is not None:
                clear(entry)
                for name in (MARKER, LOCK):
                    (entry / name).unlink(missing_ok=True)
            elif suffixes is not None:
                for f in entry.iterdir():
                    if f.is_file() and not f.is_symlink() and (f.suffix in suffixes
                                                               or _own_temporary(f)):
                        f.unlink()
            else:
                continue
            if not any(entry.iterdir()):
                entry.rmdir()
        elif entry.name in OWN_FILES or entry.suffix in OWN_SUFFIXES or _own_temporary(entry):
            entry.unlink()


@contextmanager
def run_folder(root: str | Path, kind: Kind, *, study: str | None = None,
               force: bool = False) -> Iterator[Path]:
    """Claim ``root``, hold its lock while the caller writes, and with ``force`` clear it
    first (recompute in place, nothing stale kept)."""
    path = claim(root, kind, study)
    with locked(path):
        if force:
            clear(path)
        yield path

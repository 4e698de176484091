"""Output folders meliso may write into: its own (a marker file), new ones or empty ones.

Every folder a run or a study writes is *claimed* first, under its lock:

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
The lock file is opened without following links and must be a plain file of meliso's
(one link, a few bytes), so a planted link cannot make meliso write anywhere else.

Every file meliso writes into an open folder is first recorded in its list ``.meliso-files``
(one path per line, relative to the folder); a write whose path would leave the folder
through a symbolic link is refused. :func:`clear` (``--force``) removes exactly the files on
that list, the temporary files of their interrupted writes, and, under their own locks, the
same in sub-folders that are runs of their own; a file a user put in the folder stays.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from .._io import atomic_write_text, guard_writes
from .._validation import ParameterError

MARKER = ".meliso-run"
LOCK = ".meliso-lock"
#: The list of the files meliso wrote into the folder (relative paths, one per line).
MANIFEST = ".meliso-files"
#: Files of meliso's own bookkeeping: never listed, never cleared.
BOOKKEEPING = frozenset({MARKER, LOCK, MANIFEST})
#: What a marked folder holds: one run (points, results, report) or a study of several runs.
Kind = Literal["run", "study"]
#: Names a run may take (``name:`` in an experiment file): no path separators, no leading dot.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: A lock file holds a process id: anything longer is not meliso's.
_LOCK_MAX_BYTES = 32
#: The temporary file of an interrupted atomic write of NAME: ``.NAME.<8 random>.tmp``.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")


def read_marker(root: Path) -> dict[str, Any] | None:
    """The marker of ``root`` (None if it has none)."""
    path = root / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("kind") not in ("run", "study"):
        raise ParameterError(f"{path} is damaged; if {root} is a meliso run, delete the "
                             "folder and run again")
    return data


def _check_kind(root: Path, marker: dict[str, Any], kind: Kind, study: str | None) -> None:
    if marker["kind"] != kind or marker.get("study") != study:
        held = f"a {marker['kind']} of {marker.get('study') or 'an experiment'}"
        raise ParameterError(f"{root} holds meliso's {held}, not a {kind} of "
                             f"{study or 'an experiment'}: choose another --out")


def _refuse_foreign(root: Path) -> None:
    """Refuse a non-empty folder without a marker (only meliso's bookkeeping files allowed)."""
    if root.is_dir() and any(p.name not in BOOKKEEPING for p in root.iterdir()):
        raise ParameterError(
            f"{root} is not empty and was not created by meliso (no {MARKER} file): meliso "
            "writes only into new or empty folders and its own runs; choose another --out")


def _prepare(root: Path, kind: Kind, study: str | None) -> None:
    """Check ``root`` before locking it, and make it if it does not exist."""
    if root.exists() and not root.is_dir():
        raise ParameterError(f"--out {root} is a file, not a folder: choose a folder")
    marker = read_marker(root) if root.is_dir() else None
    if marker is not None:
        _check_kind(root, marker, kind, study)
    else:
        _refuse_foreign(root)
    root.mkdir(parents=True, exist_ok=True)


def _mark(root: Path, kind: Kind, study: str | None) -> None:
    """Under the lock: check ``root`` again and write its marker if it has none."""
    marker = read_marker(root)
    if marker is not None:
        _check_kind(root, marker, kind, study)
        return
    _refuse_foreign(root)
    from .. import __version__

    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    atomic_write_text(root / MARKER, json.dumps({"kind": kind, "study": study, "meliso":
                                                 __version__, "created": stamp}))


def claim(root: str | Path, kind: Kind, study: str | None = None) -> Path:
    """Make ``root`` a meliso folder of ``kind`` (see the module docstring) and return it."""
    root = Path(root)
    _prepare(root, kind, study)
    with locked(root):
        _mark(root, kind, study)
    return root


def _open_plain(path: Path, flags: int, what: str) -> int:
    """Open ``path`` without following a link; refuse anything but a plain file with one link
    (a planted link, hard link, folder or device is not meliso's file)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            raise ParameterError(f"{path} is not meliso's {what} (a link or a folder): remove "
                                 "it or choose another --out") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise ParameterError(f"{path} is not meliso's {what} (not a plain file of its own): "
                             "remove it or choose another --out")
    return fd


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the folder's exclusive lock, or refuse at once if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield
        return
    fd = _open_plain(root / LOCK, os.O_RDWR | os.O_CREAT, "lock file")
    try:
        if os.fstat(fd).st_size > _LOCK_MAX_BYTES:
            raise ParameterError(f"{root / LOCK} is not meliso's lock file (too large): remove "
                                 "it or choose another --out")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            holder = os.pread(fd, _LOCK_MAX_BYTES, 0).decode(errors="replace").strip() or "?"
            raise ParameterError(
                f"another meliso process (pid {holder}) is writing into {root}: wait for it "
                "to finish, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _relative(root: Path, path: Path) -> Path | None:
    """``path`` relative to ``root`` (lexically), or None if it lies elsewhere."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        return None
    return rel if rel.parts and ".." not in rel.parts else None


def _check_inside(root: Path, rel: Path) -> None:
    """Refuse a path under ``root`` that would leave it: a linked sub-folder on the way, or a
    folder where the file should be."""
    here = root
    for part in rel.parts[:-1]:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            raise ParameterError(f"{here} is a link or a file where meliso keeps a folder: "
                                 f"meliso writes only inside {root}; remove it or choose "
                                 "another --out")
    if (root / rel).is_dir() and not (root / rel).is_symlink():
        raise ParameterError(f"{root / rel} is a folder where meliso writes a file: remove it "
                             "or choose another --out")


def _inside_sub_run(root: Path, rel: Path) -> bool:
    """Whether ``rel`` lies in a sub-folder of ``root`` that is a run of its own."""
    here = root
    for part in rel.parts[:-1]:
        here = here / part
        if (here / MARKER).is_file():
            return True
    return False


def read_manifest(root: Path) -> list[Path]:
    """The files meliso wrote into ``root`` (relative paths; entries that would leave the
    folder are ignored)."""
    path = root / MANIFEST
    if not path.exists() and not path.is_symlink():
        return []
    fd = _open_plain(path, os.O_RDONLY, "file list")
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    out = []
    for line in dict.fromkeys(lines):
        rel = Path(line)
        if line and not rel.is_absolute() and ".." not in rel.parts and \
                rel.parts[0] not in BOOKKEEPING:
            out.append(rel)
    return out


class _Recorder:
    """Records every file written under ``root`` (outside its sub-runs) before it is written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = _open_plain(root / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                              "file list")
        self.seen = {str(p) for p in read_manifest(root)}

    def __call__(self, path: Path) -> None:
        rel = _relative(self.root, path)
        if rel is None:
            return
        _check_inside(self.root, rel)
        if rel.parts[0] in BOOKKEEPING or _inside_sub_run(self.root, rel) or \
                str(rel) in self.seen:
            return
        os.write(self.fd, (str(rel) + "\n").encode())
        self.seen.add(str(rel))

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        self.seen.clear()


_RECORDERS: dict[str, _Recorder] = {}


@contextmanager
def writing(root: Path) -> Iterator[None]:
    """Hold ``root``'s lock and record every file written into it (see the module)."""
    with locked(root):
        recorder = _Recorder(root)
        key = os.path.abspath(root)
        _RECORDERS[key] = recorder
        try:
            with guard_writes(recorder):
                yield
        finally:
            _RECORDERS.pop(key, None)
            os.close(recorder.fd)


def own_subdir(root: Path, name: str) -> Path:
    """``root/name`` as a real folder inside ``root`` (made if missing; a link is refused)."""
    path = root / name
    _check_inside(root, Path(name) / "x")
    path.mkdir(exist_ok=True)
    return path


def _remove_written(root: Path, rel: Path) -> None:
    """Remove the file meliso wrote at ``rel`` and the temporaries of its interrupted writes."""
    try:
        _check_inside(root, rel)
    except ParameterError:
        return  # a link on the way: nothing of meliso's lies behind it
    target = root / rel
    if target.is_symlink() or target.is_file():
        target.unlink()
    folder = target.parent
    if folder.is_dir():
        for tmp in folder.glob(f".{target.name}.*.tmp"):
            m = _TEMPORARY.match(tmp.name)
            if m and m["name"] == target.name and (tmp.is_file() or tmp.is_symlink()):
                tmp.unlink()


def clear(root: Path) -> None:
    """Remove what meliso wrote in ``root`` (a claimed folder whose lock the caller holds, see
    the module), leaving every other file; sub-runs are cleared under their own locks."""
    listed = read_manifest(root)
    if not listed and any(p.name not in BOOKKEEPING for p in root.iterdir()):
        raise ParameterError(f"{root} was made by an older meliso that kept no list of the "
                             "files it wrote, so --force cannot tell them from yours: delete "
                             "the folder yourself, or choose another --out")
    for sub in sorted(root.iterdir()):
        if sub.is_dir() and not sub.is_symlink() and read_marker(sub) is not None:
            with writing(sub):
                clear(sub)
    for rel in listed:
        _remove_written(root, rel)
    for folder in sorted({root / rel.parent for rel in listed if rel.parent.parts},
                         key=lambda p: -len(p.parts)):
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
    recorder = _RECORDERS.get(os.path.abspath(root))
    if recorder is not None:
        recorder.reset()


@contextmanager
def run_folder(root: str | Path, kind: Kind, *, study: str | None = None,
               force: bool = False) -> Iterator[Path]:
    """Claim ``root``, hold its lock and record what the caller writes, and with ``force``
    clear it first (recompute in place, nothing stale kept)."""
    path = Path(root)
    _prepare(path, kind, study)
    with writing(path):
        _mark(path, kind, study)
        if force:
            clear(path)
        yield path

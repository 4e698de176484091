"""What every command shares: one-line errors (exit 2), one table style, JSON, progress bars,
and the options several commands take."""

from __future__ import annotations

import errno
import functools
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from .._io import to_json
from .._progress import Progress as ProgressCallback
from .._validation import ConvergenceError, MelisoWarning, MissingExtraError, ParameterError
from ._app import app

out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="no progress bars (log lines for runs)")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="override a device field, FIELD=VALUE (repeatable)")]
SeedOpt = Annotated[int, typer.Option(min=0, help="random seed")]


def fail(message: str) -> NoReturn:
    """Print one error line and exit with code 2."""
    # the message as plain text: a user's own text in it ("[/" from a YAML file) is no markup
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False,
              soft_wrap=True)
    raise typer.Exit(code=2)


def os_message(exc: OSError) -> str:
    """What went wrong with the file system, in words, with what to do."""
    where = f" {exc.filename}" if exc.filename else ""
    advice = {
        errno.ENOSPC: "the disk is full: free some space or choose another --out",
        errno.EDQUOT: "the disk quota is exhausted: free some space or choose another --out",
        errno.EROFS: "the file system is read-only: choose another --out",
        errno.EACCES: "permission denied: choose a folder you can write to (--out)",
        errno.EPERM: "operation not permitted: choose a folder you can write to (--out)",
        errno.ENAMETOOLONG: "a file name is too long: choose a shorter --out or name",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "the path is a folder, not a file",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"cannot use{where}: {advice}"


def _show(message: Any, category: type[Warning], *rest: Any) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@contextmanager
def _meliso_warnings() -> Iterator[None]:
    """meliso's warnings as one yellow line each; other libraries' as they come."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", MelisoWarning)
        default = warnings.showwarning

        def show(message: Any, category: type[Warning], *rest: Any) -> None:
            (_show if issubclass(category, MelisoWarning) else default)(message, category, *rest)

        warnings.showwarning = show  # type: ignore[assignment]
        yield


def command(*args: Any, group: typer.Typer | None = None, **kwargs: Any
            ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command (on ``group``, a sub-command group, or the top level) whose bad
    input, file-system and memory failures are one clear line and exit code 2, never a
    traceback."""
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(*a: Any, **k: Any) -> Any:
            with _meliso_warnings():
                try:
                    return fn(*a, **k)
                except ValueError as exc:  # ParameterError and the libraries' own checks
                    fail(str(exc))
                except ConvergenceError as exc:  # inputs that drive a model out of range
                    fail(f"{exc} (check the device and circuit settings: the models are "
                         "driven outside their range)")
                except FileNotFoundError as exc:
                    fail(str(exc) if not exc.filename else f"{exc.filename} does not exist")
                except OSError as exc:
                    fail(os_message(exc))
                except MissingExtraError as exc:
                    fail(str(exc))
                except MemoryError:
                    fail("out of memory: lower the sizes (the estimate before allocating "
                         "missed this case; please report it)")
        return (group or app).command(*args, **kwargs)(guarded)
    return register


def table(columns: list[str]) -> Table:
    """A table in the style every command uses (its title printed above it: :func:`title`)."""
    t = Table(header_style="bold")
    for k, name in enumerate(columns):
        t.add_column(name, justify="left" if k == 0 else "right")
    return t


def title(text: str) -> None:
    """A table's title, one bold line."""
    out.print(f"[bold]{text}[/]", highlight=False, soft_wrap=True)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return " x ".join(_cell(v) for v in value) if all(
            isinstance(v, int) for v in value) else ", ".join(_cell(v) for v in value)
    return str(value)


def show(heading: str, record: Mapping[str, Any], as_json: bool, notes: list[str] | None = None
         ) -> None:
    """Print a command's result: one JSON object, or a quantity/value table and its notes."""
    if as_json:
        typer.echo(to_json(dict(record)))
        return
    t = table(["quantity", "value"])
    for key, value in record.items():
        if not isinstance(value, dict):
            t.add_row(key, _cell(value))
    title(heading)
    out.print(t)
    for note in notes or []:
        err.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)


def parse_value(text: str) -> Any:
    """A ``--set`` value: None, a boolean, an integer, a float or the text itself."""
    low = text.strip().lower()
    if low in {"none", "null"}:
        return None
    if low in {"true", "false"}:
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``--set FIELD=VALUE`` options as a dict."""
    settings: dict[str, Any] = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise ParameterError(f"--set expects FIELD=VALUE (e.g. --set sigma_c2c=0.02); got "
                                 f"'{item}'")
        settings[field.strip()] = parse_value(value)
    return settings


def parse_shape(text: str, option: str) -> tuple[int, int]:
    """``ROWSxCOLS`` as two positive integers."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        rows, cols = (int(p) for p in parts)
    except ValueError:
        raise ParameterError(f"{option} expects ROWSxCOLS with positive integers (e.g. 32x32); "
                             f"got '{text}'") from None
    if rows < 1 or cols < 1:
        raise ParameterError(f"{option} expects positive sizes: allowed ROWS >= 1 and COLS >= 1; "
                             f"got '{text}'")
    return rows, cols


@contextmanager
def progress_bars(quiet: bool) -> Iterator[ProgressCallback | None]:
    """A progress callback that draws one bar per kind of step on stderr (None if quiet)."""
    if quiet:
        yield None
        return
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=err, transient=True)
    tasks: dict[str, TaskID] = {}

    def report(what: str, done: int, total: int | None) -> None:
        if what not in tasks:
            tasks[what] = bars.add_task(what, total=total)
        bars.update(tasks[what], completed=done, total=total)

    with bars:
        yield report


class RunProgress:
    """Progress of a run's points on stderr: one bar per experiment, or log lines (quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Progress | None = None

    def log(self, message: str) -> None:
        """One line on stderr for a step that is not a point (training a network...)."""
        err.print(message, highlight=False, markup=False)

    def start(self, name: str) -> Callable[[int, int, dict[str, Any], bool], None]:
        """A callback for one experiment's points (closes the previous experiment's bar)."""
        self.close()

        def label(record: dict[str, Any]) -> str:
            return ", ".join(f"{k}={v}" for k, v in record.get("params", {}).items()) or "base"

        if self.quiet:
            def log(done: int, total: int, record: dict[str, Any], cached: bool) -> None:
                seconds = record.get("seconds_simulation", record.get("seconds", 0.0))
                what = "cached" if cached else f"{seconds:.2f} s"
                err.print(f"[{name}] {done}/{total} {label(record)} ({what})", highlight=False,
                          markup=False)
            return log
        bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                       MofNCompleteColumn(), TextColumn("{task.fields[last]}"), console=err)
        task = bar.add_task(name, total=None, last="")

        def update(done: int, total: int, record: dict[str, Any], cached: bool) -> None:
            if self._bar is not bar:  # the bar appears with the first point, so an input
                self.close()          # refused before any point leaves only the error
                bar.start()
                self._bar = bar
            bar.update(task, completed=done, total=total,
                       last=label(record) + (" (cached)" if cached else ""))
        return update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

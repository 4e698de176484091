"""Progress of long steps, reported to whoever asks: ``progress(what, done, total)``.

Library functions that can take long (training epochs, programming many tiles, products of
large matrices, solver iterations) take an optional ``progress`` callable and call it as they
go; the command line shows a bar, a notebook can print, tests can record. ``total`` is None
when it is not known in advance (an iterative solver that stops on convergence).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]


def tick(progress: Progress | None, what: str, done: int, total: int | None) -> None:
    """Report ``done`` of ``total`` steps of ``what`` (no-op without a callback)."""
    if progress is not None:
        progress(what, done, total)

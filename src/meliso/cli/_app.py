"""The Typer application every command module registers with, and the console entry point."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__

app = typer.Typer(
    help="meliso: analog vector-matrix multiplication on simulated RRAM crossbars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # usage errors as one plain line, like meliso's own errors
)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"meliso {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print meliso's version and exit")
    ] = False,
) -> None:
    """meliso: analog vector-matrix multiplication on simulated RRAM crossbars."""


def main() -> None:
    """Console-script entry point (``meliso`` and ``python -m meliso``)."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted; finished points are kept and a re-run resumes", err=True)
        sys.exit(130)

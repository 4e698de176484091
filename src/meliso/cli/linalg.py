"""``meliso solve`` and ``meliso matvec``: linear algebra with every product on crossbars."""

from __future__ import annotations

from typing import Annotated

import typer

from ..devices import get_device
from ..linalg import matvec_task, solve_task
from ._common import (
    JsonOpt,
    QuietOpt,
    SeedOpt,
    SetOpt,
    command,
    parse_sets,
    parse_shape,
    progress_bars,
    show,
)

Matrix = Annotated[str, typer.Option(
    help="a Matrix Market file, poisson2d:N (N^2 unknowns) or random-spd:N")]
Device = Annotated[str, typer.Option(help="device preset")]
Tile = Annotated[str, typer.Option(help="crossbar tile ROWSxCOLS")]
Arrays = Annotated[int, typer.Option(
    min=0, max=8, help="residual arrays: program the measured error of the arrays so far, "
                       "k times")]
Programming = Annotated[str, typer.Option(help="open-loop | write-verify")]
Method = Annotated[str, typer.Option(help="cg | gmres | richardson | jacobi | kaczmarz")]
Refine = Annotated[bool, typer.Option(
    "--refine/--no-refine", help="mixed-precision refinement around the method")]
Tol = Annotated[float, typer.Option(help="target ||b - A x|| / ||b|| (exact A, float64)")]
MaxIter = Annotated[int, typer.Option(min=1, max=1_000_000,
                                      help="iterations (outer ones with --refine)")]
Vectors = Annotated[int, typer.Option(min=1, max=100_000, help="random x ~ N(0, 1) vectors")]


@command()
def solve(matrix: Matrix = "poisson2d:32", device: Device = "EpiRAM", method: Method = "cg",
          refine: Refine = True, tol: Tol = 1e-10, maxiter: MaxIter = 100,
          tile: Tile = "256x256", residual_arrays: Arrays = 6,
          programming: Programming = "write-verify", set_: SetOpt = None,
          quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Solve A x = b (b = ones) with every matrix-vector product on simulated crossbars.

    The defaults (write-and-verify programming, six residual arrays, refinement around CG)
    reach 1e-10 on 2-D Poisson for every device of Chowdhury et al. Table I; fewer arrays or
    open-loop programming show where the analog products alone stop."""
    dev = get_device(device, **parse_sets(set_))
    with progress_bars(quiet or as_json) as progress:
        result = solve_task(matrix, dev, method=method, refine=refine, tol=tol, maxiter=maxiter,
                            tile=parse_shape(tile, "--tile"), residual_arrays=residual_arrays,
                            programming=programming, progress=progress)
    state = "converged" if result["converged"] else "did not converge"
    show(f"{result['method']} on {dev.name}: {state}", result, as_json)


@command()
def matvec(matrix: Matrix = "poisson2d:32", device: Device = "EpiRAM", tile: Tile = "256x256",
           residual_arrays: Arrays = 0, programming: Programming = "open-loop",
           vectors: Vectors = 10, seed: SeedOpt = 0, set_: SetOpt = None,
           quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Products y = A x on simulated crossbars: error statistics against the exact A x."""
    dev = get_device(device, **parse_sets(set_))
    with progress_bars(quiet or as_json) as progress:
        result = matvec_task(matrix, dev, vectors=vectors, seed=seed,
                             tile=parse_shape(tile, "--tile"), residual_arrays=residual_arrays,
                             programming=programming, progress=progress)
    show(f"Products on {dev.name}: {matrix}", result, as_json)

"""``meliso vmm``: a Monte-Carlo VMM error population (Chowdhury et al. 2024's protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..devices import get_device
from ..workloads import vmm_population
from ..workloads.export import check_errors_path, save_errors
from ._common import JsonOpt, SeedOpt, SetOpt, command, parse_sets, parse_shape, show
from ._options import core_options


@command()
@core_options(exclude=frozenset({"tile_rows", "tile_cols"}))
def vmm(
    device: Annotated[str, typer.Option(help="device preset (see `meliso devices`)")] = "Ag:a-Si",
    set_: SetOpt = None,
    size: Annotated[str, typer.Option(help="matrix size ROWSxCOLS")] = "32x32",
    tile: Annotated[str, typer.Option(help="crossbar tile ROWSxCOLS (inputs x outputs)")] = "32x32",
    trials: Annotated[int, typer.Option(min=1, help="number of random (A, x) pairs")] = 1000,
    seed: SeedOpt = 0,
    save_errors_to: Annotated[Path | None, typer.Option(
        "--save-errors", help="also write the raw errors: FILE.npy (trials x outputs) or "
        "FILE.parquet (trial, output, error, exact, y)")] = None,
    force: Annotated[bool, typer.Option(help="replace an existing --save-errors file")] = False,
    as_json: JsonOpt = False,
    core: dict[str, Any] | None = None,
) -> None:
    """Monte-Carlo VMM error population: A ~ U[-1, 1], x ~ U[0, 1], e = y - A x.

    Binary (LRS/HRS) presets store bit-sliced weights on differential pairs."""
    if save_errors_to is not None:  # before simulating: a bad path costs nothing
        check_errors_path(save_errors_to, force=force)
    rows, cols = parse_shape(size, "--size")
    tile_rows, tile_cols = parse_shape(tile, "--tile")
    dev = get_device(device, **parse_sets(set_))
    pop = vmm_population(dev, trials=trials, rows=rows, cols=cols, seed=seed,
                         tile_rows=tile_rows, tile_cols=tile_cols, **(core or {}))
    summary = pop.summary()
    notes = pop.notes()
    if save_errors_to is not None:
        summary["errors_file"] = str(save_errors(pop, save_errors_to, force=force))
        notes.append(f"raw errors written to {summary['errors_file']}")
    show(f"VMM error population: {dev.name}, {summary['model']} model, {trials} x {rows}x{cols}",
         summary, as_json, notes)

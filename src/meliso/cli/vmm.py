"""``meliso vmm``: a Monte-Carlo VMM error population (Chowdhury et al. 2024's protocol)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..devices import get_device
from ..workloads import vmm_population
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
    as_json: JsonOpt = False,
    core: dict[str, Any] | None = None,
) -> None:
    """Monte-Carlo VMM error population: A ~ U[-1, 1], x ~ U[0, 1], e = y - A x.

    Binary (LRS/HRS) presets store bit-sliced weights on differential pairs."""
    rows, cols = parse_shape(size, "--size")
    tile_rows, tile_cols = parse_shape(tile, "--tile")
    dev = get_device(device, **parse_sets(set_))
    pop = vmm_population(dev, trials=trials, rows=rows, cols=cols, seed=seed,
                         tile_rows=tile_rows, tile_cols=tile_cols, **(core or {}))
    summary = pop.summary()
    show(f"VMM error population: {dev.name}, {summary['model']} model, {trials} x {rows}x{cols}",
         summary, as_json, pop.notes())

"""``meliso train``: binary and ternary networks (the recipe of Cubero-Cascante et al.), and the
float networks that ``meliso.nn.to_analog`` runs on multilevel crossbars."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import JsonOpt, QuietOpt, SeedOpt, command, fail, progress_bars, show

Net = Annotated[str, typer.Argument(help="lenet5 | vgg7 (BNN, TNN) | mlp, lenet5 (float)")]
Quant = Annotated[str, typer.Argument(help="BNN | TNN | float")]
Dataset = Annotated[str, typer.Option(
    help="digits | mnist5k (bundled) | mnist | cifar10 (need --data-dir)")]
DataDir = Annotated[str | None, typer.Option(help="folder of MNIST / CIFAR-10 files")]
Epochs = Annotated[int | None, typer.Option(
    min=1, max=10_000, help="epochs (default: lenet5 15, vgg7 50; float: mlp 10, lenet5 8)")]
Out = Annotated[str | None, typer.Option(
    help="checkpoint path (default: runs/checkpoints/NET-QUANT-DATASET.pt)")]
Force = Annotated[bool, typer.Option("--force", help="replace an existing meliso checkpoint")]


@command()
def train(net: Net, quant: Quant, dataset: Dataset = "mnist5k", data_dir: DataDir = None,
          epochs: Epochs = None, seed: SeedOpt = 0, out: Out = None, force: Force = False,
          quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Train a binary or ternary network and save a checkpoint with its test accuracy."""
    try:
        from ..nn import train_checkpoint
    except ImportError as exc:
        fail(str(exc))
    with progress_bars(quiet or as_json) as progress:
        result = train_checkpoint(net, quant, dataset, data_dir=data_dir, epochs=epochs,
                                  seed=seed, out=out, force=force, progress=progress)
    show(f"{net} {quant} on {dataset}", result, as_json)

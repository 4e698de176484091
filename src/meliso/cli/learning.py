"""``meliso learn``: train MLP_NeuroSim's network on a device by write pulses (on-chip
learning, ``docs/learning.md``) and print its accuracy, pulses, write energy and speed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..learning import train_insitu
from ._common import JsonOpt, QuietOpt, SeedOpt, SetOpt, command, parse_sets, progress_bars, show

Device = Annotated[str, typer.Argument(help="a multilevel device preset (ignored by software)")]
LearnModel = Annotated[str, typer.Option(
    "--model", help="physics (differential pairs) | neurosim (MLP_NeuroSim's path) | software")]
Epochs = Annotated[int, typer.Option(min=1, max=10_000, help="training epochs")]
Images = Annotated[int, typer.Option(min=1, max=1_000_000,
                                     help="random training images per epoch")]
Dataset = Annotated[str, typer.Option(help="mnist5k (bundled) | mnist (needs --data-dir)")]
DataDir = Annotated[str | None, typer.Option(help="folder with the MNIST IDX files")]
EvalEvery = Annotated[int, typer.Option(min=1, max=10_000, help="epochs between test runs")]


@command()
def learn(device: Device, model: LearnModel = "physics", epochs: Epochs = 125,
          images: Images = 8000, eval_every: EvalEvery = 5, dataset: Dataset = "mnist5k",
          data_dir: DataDir = None, seed: SeedOpt = 0, set_: SetOpt = None,
          quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Train on the device by write pulses (MLP_NeuroSim's 400-100-10 MNIST benchmark)."""
    from ..devices import get_device

    dev = None if model == "software" else get_device(device, **parse_sets(set_))
    with progress_bars(quiet or as_json) as progress:
        def on_epoch(epoch: int, _: float | None) -> None:
            if progress is not None:
                progress("training epochs", epoch, epochs)

        res = train_insitu(dev, model=model, epochs=epochs, images_per_epoch=images,
                           eval_every=eval_every, dataset=dataset, data_dir=data_dir,
                           seed=seed, on_epoch=on_epoch)
    record: dict[str, Any] = {
        "device": res.device, "model": model, "dataset": dataset, **res.summary(),
        "test_images": res.test_images,
        "images_per_second": res.images_per_second, "seconds": res.seconds,
        "accuracy_by_epoch_pct": {int(e): 100 * float(a)
                                  for e, a in zip(res.epochs, res.accuracy, strict=True)}}
    show(f"on-chip learning: {res.device}, {model} model", record, as_json,
         notes=[f"accuracy after epochs {', '.join(str(int(e)) for e in res.epochs)}: "
                + ", ".join(f"{100 * a:.1f} %" for a in res.accuracy),
                "interval: 95 % Wilson over the test images; energy: the cells' write energy "
                "(docs/learning.md)"])

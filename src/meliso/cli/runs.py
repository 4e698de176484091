"""``meliso run``, ``meliso report`` and ``meliso reproduce``: experiments and the papers' studies
on the experiment engine (cached, resumable, serial or Dask)."""

from __future__ import annotations

from typing import Annotated

import typer

from .._validation import ParameterError, validate_model
from ..experiments import load_experiment
from ..experiments.executor import Executor
from ..experiments.runner import run_experiment
from ..studies import rebuild_report
from ..studies.analog_nn.run import reproduce_analog_nn
from ..studies.bnn_tnn.run import reproduce_cim
from ..studies.neurosim_mlp.run import reproduce_neurosim_mlp
from ..studies.vmm_errors.study import MODELS, reproduce_meliso
from ._common import JsonOpt, QuietOpt, RunProgress, command, show

ExecutorKind = Annotated[str, typer.Option("--executor", help="serial | dask")]
Workers = Annotated[int | None, typer.Option(help="Dask LocalCluster workers (default 2)")]
Scheduler = Annotated[str | None, typer.Option(help="address of an existing Dask scheduler")]
Timeout = Annotated[float, typer.Option(
    help="seconds to wait for the Dask scheduler before giving up")]
Force = Annotated[bool, typer.Option(
    "--force", help="recompute a finished run in place (its earlier results are removed)")]
Out = Annotated[str | None, typer.Option(help="output folder (default: runs/NAME)")]
STUDIES = ("meliso", "cim", "analog-nn", "neurosim-mlp")
Study = Annotated[str, typer.Argument(
    help="meliso (Chowdhury et al. 2024: VMM errors) | cim (Cubero-Cascante et al. 2025: "
         "BNN/TNN on crossbars) | analog-nn (float networks on the multilevel devices) | "
         "neurosim-mlp (MLP_NeuroSim's on-chip learning benchmark)")]
Quick = Annotated[bool, typer.Option(
    "--quick", help="meliso: 100 trials per point; cim: fewer technologies, sizes, R_p, ADC bits "
                    "and images; analog-nn: two chips, 200 images, three values per sweep; "
                    "neurosim-mlp: 5 epochs of 2000 images, two runs, two ablations")]
Model = Annotated[str, typer.Option(help="meliso, neurosim-mlp: physics | neurosim | both")]
Dataset = Annotated[str, typer.Option(
    help="cim, analog-nn: mnist5k (bundled) | digits (bundled) | mnist | cifar10 (need "
         "--data-dir); neurosim-mlp: mnist5k | mnist")]
DataDir = Annotated[str | None, typer.Option(
    help="cim, analog-nn, neurosim-mlp: folder with the MNIST IDX files or a CIFAR-10 "
         "release")]
Seeds = Annotated[int | None, typer.Option(
    min=1, max=50, help="robustness: meliso: run seeds (default 5); cim: disjoint test "
                        "samples (default 5); analog-nn: programmed chips (default 3); "
                        "neurosim-mlp: training runs per device and model (default 3)")]


def executor(kind: str, workers: int | None, scheduler: str | None, timeout_sec: float
             ) -> Executor:
    return validate_model(Executor, {"kind": kind, "workers": workers, "scheduler": scheduler,
                                     "timeout_sec": timeout_sec})


@command()
def run(experiment: Annotated[str, typer.Argument(help="experiment YAML file")],
        out: Out = None, executor_kind: ExecutorKind = "serial", workers: Workers = None,
        scheduler: Scheduler = None, scheduler_timeout: Timeout = 10.0, force: Force = False,
        quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Run an experiment file: every sweep point, cached and resumable, then its report."""
    ex = executor(executor_kind, workers, scheduler, scheduler_timeout)
    config = load_experiment(experiment)
    with RunProgress(quiet) as progress:
        result = run_experiment(config, out or f"runs/{config.name}", executor=ex, force=force,
                                on_point=None if as_json else progress.start(config.name))
    failed = sum(1 for r in result.rows if r.get("status") == "failed")
    show(f"Run {config.name}", {"points": len(result.rows), "computed": result.computed,
                                "cached": result.cached, "failed": failed,
                                "results": str(result.run_dir / "results.parquet"),
                                "report": str(result.run_dir / "report.md")}, as_json,
         [f"{failed} points failed (no finite output); report.md lists them with the reason"]
         if failed else [])


@command()
def report(run_dir: Annotated[str, typer.Argument(
        help="a run or study folder meliso wrote (meliso run, meliso reproduce)")],
           as_json: JsonOpt = False) -> None:
    """Rebuild a run's or a study's figures and report from its stored results."""
    show("Report", {"report": str(rebuild_report(run_dir))}, as_json)


@command()
def reproduce(study: Study, out: Out = None, quick: Quick = False, model: Model = "both",
              dataset: Dataset = "mnist5k", data_dir: DataDir = None, seeds: Seeds = None,
              executor_kind: ExecutorKind = "serial", workers: Workers = None,
              scheduler: Scheduler = None, scheduler_timeout: Timeout = 10.0,
              force: Force = False, quiet: QuietOpt = False, as_json: JsonOpt = False) -> None:
    """Reproduce a paper's study end to end: CSVs, figures and a report (cached, resumable)."""
    if study not in STUDIES or model not in (*MODELS, "both"):
        raise ParameterError(f"study = {study!r}, --model = {model!r}: allowed studies are: "
                             f"{', '.join(STUDIES)}; models: {', '.join(MODELS)} or both")
    if study not in ("meliso", "neurosim-mlp") and model != "both":
        raise ParameterError(f"--model = {model!r}: the {study} study has no read model to "
                             "choose; --model applies to the meliso and neurosim-mlp studies")
    ex = executor(executor_kind, workers, scheduler, scheduler_timeout)
    folder = out or (f"runs/{study}-quick" if quick else f"runs/{study}")
    with RunProgress(quiet) as progress:
        if study == "cim":
            path = reproduce_cim(folder, dataset=dataset, quick=quick, data_dir=data_dir,
                                 executor=ex, force=force, samples=seeds,
                                 on_point=None if as_json else progress.start("cim"))
        elif study == "neurosim-mlp":
            path = reproduce_neurosim_mlp(folder, dataset=dataset, quick=quick,
                                          data_dir=data_dir, executor=ex, force=force,
                                          seeds=seeds, models=None if model == "both"
                                          else (model,),
                                          on_point=None if as_json else progress.start(study))
        elif study == "analog-nn":
            path = reproduce_analog_nn(folder, dataset=dataset, quick=quick, data_dir=data_dir,
                                       executor=ex, force=force, chips=seeds,
                                       log=None if as_json or quiet else progress.log,
                                       on_point=None if as_json else progress.start(study))
        else:
            models = MODELS if model == "both" else (model,)
            path = reproduce_meliso(folder, quick=quick, models=models,
                                    executor=ex, force=force,
                                    on_point=None if as_json else progress.start,
                                    **({"seeds": seeds} if seeds is not None else {}))
    show(f"Study {study}", {"study": study, "report": str(path)}, as_json)

"""The built-in MELISO study (Chowdhury et al. 2024): Figs. 2-5 and Table II, both models.

``meliso reproduce meliso`` runs the five study experiments shipped in ``experiments/*.yaml``
beside this module (the same files ``meliso run`` accepts), each into its own cached,
resumable run directory under ``OUT``, then writes the study's own outputs into ``OUT``:

- ``table2.csv`` (model, device, nonideal, best_fit and the statistics), ``fig2a.csv``
  (weight_bits), ``fig2b.csv`` (memory_window), ``fig3.csv`` (nl), ``fig4.csv`` (with_nl, c2c);
- ``figures/``: the paper's figures as PNG and PDF, for each model;
- ``report.md``: the paper's Table II beside both models and, for every finding, whether
  each model reproduces it, with the numbers and the mechanism
  (:mod:`.findings`, with the claims and mechanisms in ``findings.yaml``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ..._io import atomic_write_text, write_csv
from ..._validation import ParameterError
from ..._yaml import load_yaml_text
from ...experiments.config import ExperimentConfig, load_experiment
from ...experiments.executor import SERIAL, Executor, Session, open_session
from ...experiments.rundir import run_folder
from ...experiments.runner import ProgressCallback, run_experiment
from ...experiments.store import read_results
from .report import write_study_report

STUDY = "meliso"
EXPERIMENTS = ("fig2a", "fig2b", "fig3", "fig4", "table2")
SWEPT = {"fig2a": ["weight_bits"], "fig2b": ["memory_window"], "fig3": ["nl"],
         "fig4": ["with_nl", "c2c"], "table2": ["device", "nonideal"]}
STAT_COLUMNS = ["mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5", "p97_5"]
MODELS = ("physics", "neurosim")
QUICK_TRIALS = 100


def study_file(name: str) -> Path:
    """Path of a shipped study file (``experiments/fig2a.yaml``, ``paper_table2.csv``...)."""
    return Path(str(resources.files(__package__) / name))


def study_config(name: str, *, quick: bool = False,
                 models: tuple[str, ...] = MODELS) -> ExperimentConfig:
    """A study experiment, with fewer trials (``quick``) or fewer models if asked."""
    path = study_file(f"experiments/{name}.yaml")
    data: dict[str, Any] = load_yaml_text(path.read_text(), str(path))
    if quick:
        data["trials"] = QUICK_TRIALS
        data["name"] = f"{name}-quick"
    data["sweep"]["grid"]["model"] = list(models)
    return load_experiment(data)


def paper_table2() -> list[dict[str, Any]]:
    """Table II of Chowdhury et al. 2024, as published (shipped as data)."""
    rows = list(csv.DictReader(io.StringIO(study_file("paper_table2.csv").read_text())))
    for r in rows:
        r["nonideal"] = r["nonideal"] == "true"
        for k in ("mean", "variance", "skewness", "kurtosis"):
            r[k] = float(r[k])
    return rows


def reproduce_meliso(
    out: str | Path = "runs/meliso",
    *,
    quick: bool = False,
    models: tuple[str, ...] = MODELS,
    executor: Executor | Session = SERIAL,
    on_point: Callable[[str], ProgressCallback] | None = None,
    force: bool = False,
) -> Path:
    """Run the whole study into ``out`` and write its CSVs, figures and report.

    ``out`` must be new, empty or a MELISO study meliso made; ``force`` recomputes it in place.
    """
    unknown = sorted(set(models) - set(MODELS))
    if unknown or not models:
        raise ParameterError(f"model = {unknown or models}: allowed physics, neurosim or both")
    configs = [study_config(name, quick=quick, models=models) for name in EXPERIMENTS]
    with run_folder(out, "study", study=STUDY, force=force) as root, \
            open_session(executor) as session:  # one Dask cluster for the whole study
        results: dict[str, list[dict[str, Any]]] = {}
        for name, config in zip(EXPERIMENTS, configs, strict=True):
            callback = on_point(config.name) if on_point is not None else None
            # the study writes its own figures and report below; `meliso report OUT/NAME`
            # builds a run's generic one on demand
            run = run_experiment(config, root / config.name, executor=session,
                                 on_point=callback, report=False)
            results[name] = run.rows
        atomic_write_text(root / "study.json", json.dumps(
            {"study": STUDY, "quick": quick, "models": list(models)}))
        return write_meliso_outputs(root, results, quick=quick)


def write_meliso_outputs(root: Path, results: dict[str, list[dict[str, Any]]], *,
                         quick: bool) -> Path:
    """The study's CSVs, figures and report.md from its experiments' rows."""
    for name, rows in results.items():
        cols = ["model", *SWEPT[name]]
        if name == "table2":
            cols.append("best_fit")
        write_csv(root / f"{name}.csv", rows, [*cols, *STAT_COLUMNS, "n", "n_nonfinite",
                                               *([] if name == "table2" else ["best_fit"])])
    return write_study_report(root, results, paper_table2(), quick=quick)


def rebuild_meliso(root: Path) -> Path:
    """``meliso report`` of a study folder: its outputs again from the stored runs."""
    try:
        study = json.loads((root / "study.json").read_text())
        quick = bool(study["quick"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ParameterError(f"{root} has no readable study.json: the study did not finish; "
                             "run `meliso reproduce meliso` into it again") from None
    results = {}
    for name in EXPERIMENTS:
        run = root / (f"{name}-quick" if quick else name)
        results[name] = read_results(run)
    return write_meliso_outputs(root, results, quick=quick)

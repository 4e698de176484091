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
from .layout import EXPERIMENTS, SWEPT, run_name
from .report import write_study_report

STUDY = "meliso"
STAT_COLUMNS = ["mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5", "p97_5"]
CI_COLUMNS = ["iqr_ci_low", "iqr_ci_high", "variance_ci_low", "variance_ci_high"]
MODELS = ("physics", "neurosim")
QUICK_TRIALS = 100
#: Run seeds every experiment runs with; the verdicts state their robustness across them.
SEEDS = 5


def study_file(name: str) -> Path:
    """Path of a shipped study file (``experiments/fig2a.yaml``, ``paper_table2.csv``...)."""
    return Path(str(resources.files(__package__) / name))


def study_config(name: str, *, quick: bool = False, models: tuple[str, ...] = MODELS,
                 seed: int = 0) -> ExperimentConfig:
    """A study experiment, with fewer trials (``quick``), fewer models, or another run seed.

    Seed 0 is the study's primary run (fits and bootstrap intervals, the CSVs and figures);
    the other seeds are run for the verdicts' robustness, with the fits only where a finding
    needs them (Table II)."""
    path = study_file(f"experiments/{name}.yaml")
    data: dict[str, Any] = load_yaml_text(path.read_text(), str(path))
    if quick:
        data["trials"] = QUICK_TRIALS
    data["name"] = run_name(name, quick=quick, seed=seed)
    data["seed"] = seed
    if seed:
        data["bootstrap"] = 0
        if name != "table2":
            data["fit"] = False
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
    seeds: int = SEEDS,
    executor: Executor | Session = SERIAL,
    on_point: Callable[[str], ProgressCallback] | None = None,
    force: bool = False,
) -> Path:
    """Run the whole study into ``out`` with ``seeds`` run seeds and write its CSVs, figures
    and report. ``out`` must be new, empty or a MELISO study meliso made; ``force`` recomputes
    it in place."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown or not models:
        raise ParameterError(f"model = {unknown or models}: allowed physics, neurosim or both")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 50:
        raise ParameterError(f"seeds = {seeds!r} is out of range: allowed integer 1 <= seeds "
                             "<= 50")
    configs = [[study_config(name, quick=quick, models=models, seed=seed)
                for name in EXPERIMENTS] for seed in range(seeds)]
    with run_folder(out, "study", study=STUDY, force=force) as root, \
            open_session(executor) as session:  # one Dask cluster for the whole study
        by_seed: list[dict[str, list[dict[str, Any]]]] = []
        for seed_configs in configs:
            results: dict[str, list[dict[str, Any]]] = {}
            for name, config in zip(EXPERIMENTS, seed_configs, strict=True):
                callback = on_point(config.name) if on_point is not None else None
                # the study writes its own figures and report below; `meliso report OUT/NAME`
                # builds a run's generic one on demand
                run = run_experiment(config, root / config.name, executor=session,
                                     on_point=callback, report=False)
                results[name] = run.rows
            by_seed.append(results)
        atomic_write_text(root / "study.json", json.dumps(
            {"study": STUDY, "quick": quick, "models": list(models), "seeds": seeds}))
        return write_meliso_outputs(root, by_seed, quick=quick)


def write_meliso_outputs(root: Path, by_seed: list[dict[str, list[dict[str, Any]]]], *,
                         quick: bool) -> Path:
    """The study's CSVs (the points of the first run seed, with their intervals), figures and
    report.md from the rows of every run seed."""
    for name, rows in by_seed[0].items():
        cols = ["model", *SWEPT[name]]
        if name == "table2":
            cols.append("best_fit")
        write_csv(root / f"{name}.csv", rows, [*cols, *STAT_COLUMNS, "n", "n_nonfinite",
                                               *([] if name == "table2" else ["best_fit"]),
                                               *CI_COLUMNS])
    return write_study_report(root, by_seed, paper_table2(), quick=quick)


def rebuild_meliso(root: Path) -> Path:
    """``meliso report`` of a study folder: its outputs again from the stored runs."""
    try:
        study = json.loads((root / "study.json").read_text())
        quick, seeds = bool(study["quick"]), int(study.get("seeds", 1))
    except (OSError, ValueError, KeyError, TypeError):
        raise ParameterError(f"{root} has no readable study.json: the study did not finish; "
                             "run `meliso reproduce meliso` into it again") from None
    by_seed = [{name: read_results(root / run_name(name, quick=quick, seed=seed))
                for name in EXPERIMENTS} for seed in range(seeds)]
    return write_meliso_outputs(root, by_seed, quick=quick)

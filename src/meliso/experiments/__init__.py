"""Experiments: YAML files -> validated configs -> sweep points -> executors -> run directories."""

from .config import ExperimentConfig, PointSpec, load_experiment, resolve_point
from .runner import RunResult, run_experiment
from .store import read_results

__all__ = ["ExperimentConfig", "PointSpec", "RunResult", "load_experiment", "read_results",
           "resolve_point", "run_experiment"]

"""Experiments: YAML files -> validated configs -> sweep points -> executors -> run directories."""

from .config import ExperimentConfig, PointSpec, load_experiment, resolve_point

__all__ = ["ExperimentConfig", "PointSpec", "load_experiment", "resolve_point"]

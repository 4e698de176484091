"""Crossbar circuits: output currents from conductances and word-line voltages."""

from .ideal import ideal_currents, series_conductance
from .solve import METHODS, TOPOLOGIES, solve_currents

__all__ = [
    "METHODS",
    "TOPOLOGIES",
    "ideal_currents",
    "series_conductance",
    "solve_currents",
]

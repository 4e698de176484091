"""Crossbar circuits: output currents from conductances and word-line voltages."""

from .ideal import ideal_currents, series_conductance
from .solve import METHODS, TOPOLOGIES, solve_currents
from .wires import Wires

__all__ = [
    "METHODS",
    "TOPOLOGIES",
    "Wires",
    "ideal_currents",
    "series_conductance",
    "solve_currents",
]

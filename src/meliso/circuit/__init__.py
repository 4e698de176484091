"""Crossbar circuits: output currents from conductances and word-line voltages."""

from .ideal import ideal_currents, series_conductance
from .neurosim import NEUROSIM_WIRE_OHM, neurosim_cell_currents, neurosim_series_resistance
from .solve import METHODS, TOPOLOGIES, solve_currents

__all__ = [
    "METHODS",
    "NEUROSIM_WIRE_OHM",
    "TOPOLOGIES",
    "ideal_currents",
    "neurosim_cell_currents",
    "neurosim_series_resistance",
    "series_conductance",
    "solve_currents",
]

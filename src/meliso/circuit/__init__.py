"""Crossbar circuits: output currents from conductances and word-line voltages."""

from .ideal import ideal_currents, series_conductance

__all__ = ["ideal_currents", "series_conductance"]

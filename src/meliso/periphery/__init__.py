"""Periphery between the array and the digital result: ADCs (NeuroSim's per-plane digitiser)."""

from .neurosim_adc import NEUROSIM_ADC_COUNTS, neurosim_plane_read, sequential_sum

__all__ = ["NEUROSIM_ADC_COUNTS", "neurosim_plane_read", "sequential_sum"]

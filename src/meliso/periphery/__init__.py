"""Periphery between the array and the digital result: ADCs (seed 003 eqs. 4-7, NeuroSim's
per-plane digitiser) and the CIM-core energy model (seed 003 eqs. 8-9)."""

from .adc import adc_convert, calibration_target, check_adc_bits, layer_scale, max_code
from .energy import EnergyModel, adc_energy_j, row_driver_energy_j, tile_energy_j
from .neurosim_adc import NEUROSIM_ADC_COUNTS, neurosim_plane_read, sequential_sum

__all__ = [
    "NEUROSIM_ADC_COUNTS",
    "EnergyModel",
    "adc_convert",
    "adc_energy_j",
    "calibration_target",
    "check_adc_bits",
    "layer_scale",
    "max_code",
    "neurosim_plane_read",
    "row_driver_energy_j",
    "sequential_sum",
    "tile_energy_j",
]

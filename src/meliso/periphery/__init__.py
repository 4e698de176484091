"""Periphery between the array and the digital result: ADCs (Cubero-Cascante et al. 2025,
eqs. 4-7) and the CIM-core energy model (their eqs. 8-9). NeuroSim's per-plane digitiser is in
:mod:`meliso.neurosim.adc`."""

from .adc import adc_convert, calibration_target, check_adc_bits, layer_scale, max_code
from .energy import EnergyModel, adc_energy_j, row_driver_energy_j, tile_energy_j

__all__ = [
    "EnergyModel",
    "adc_convert",
    "adc_energy_j",
    "calibration_target",
    "check_adc_bits",
    "layer_scale",
    "max_code",
    "row_driver_energy_j",
    "tile_energy_j",
]

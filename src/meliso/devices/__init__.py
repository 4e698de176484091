"""Device physics: multilevel analog RRAM (NeuroSim-compatible), binary LRS/HRS, presets."""

from .._numeric import round_half_away
from .analog import AnalogDevice, Branch, apply_pulses, branch_conductance, branch_position
from .binary import BinaryDevice, program_binary, program_binary_array
from .nonlinearity import shape_from_label
from .presets import TABLE_I, TABLE_III, Device, all_presets, get_device, preset_names
from .programming import (
    ProgramResult,
    cell_branches,
    program_open_loop,
    program_write_verify,
    pulse_count,
)

__all__ = [
    "TABLE_I",
    "TABLE_III",
    "AnalogDevice",
    "BinaryDevice",
    "Branch",
    "Device",
    "ProgramResult",
    "all_presets",
    "apply_pulses",
    "branch_conductance",
    "branch_position",
    "cell_branches",
    "get_device",
    "preset_names",
    "program_binary",
    "program_binary_array",
    "program_open_loop",
    "program_write_verify",
    "pulse_count",
    "round_half_away",
    "shape_from_label",
]

"""The ``neurosim`` read model: MELISO's NeuroSim read path, registered with the core.

What it declares (``docs/neurosim.md``): its defaults (one device per entry against NeuroSim's
nominal mid current, MELISO's two-point calibration, 10-bit inputs in [0, 1]) and every core
setting it cannot model, with the reason; analog devices only, without device-to-device or
read noise (MELISO runs NeuroSim without them). One array holds one whole matrix (no tiling):
n input rows, m output columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from ..core.config import AnalogCoreConfig
from ..core.plan import CorePlan
from ..core.readmodel import Allowed
from ..devices import AnalogDevice, Device
from ..mapping import NO_SLICING, Slicing
from .arrays import NeuroSimArrays

FloatArray = NDArray[np.float64]
_WIRES = "0 (NeuroSim's own wire model applies)"


class NeuroSimModel:
    """MELISO's NeuroSim, bit for bit; registered as ``neurosim``."""

    name = "neurosim"
    defaults: Mapping[str, Any] = MappingProxyType({
        "mapping": "reference", "calibration": "two-point", "input_bits": 10,
        "input_range": 1.0})
    refuses: Mapping[str, Allowed] = MappingProxyType({
        "mapping": Allowed((None, "reference"), "'reference' (one device per entry against "
                           "NeuroSim's nominal mid current)"),
        "programming": Allowed(("open-loop",), "'open-loop' (NeuroSim has no write-and-verify)"),
        "weight_slices": Allowed((None, 1), "1"),
        "bits_per_slice": Allowed((None,), "None"),
        "weight_range": Allowed((None, 1.0), "1 (weights in [-1, 1])"),
        "input_range": Allowed((None, 1.0), "1 (inputs in [0, 1], wrapped beyond)"),
        "r_bitline_ohm": Allowed((0.0,), _WIRES),
        "r_wordline_ohm": Allowed((0.0,), _WIRES),
        "circuit": Allowed(("auto", "ideal"), "'auto' or 'ideal' (no wire solver)"),
        "topology": Allowed(("1t1r",), "'1t1r'"),
        "cell_iv": Allowed(("linear",), "'linear' (NeuroSim's cells are resistors)"),
        "access": Allowed(("device",), "'device' (NeuroSim's fixed 15 kOhm access resistance)"),
        "cell_v0_v": Allowed((None,), "None"),
        "v_gate_v": Allowed((None,), "None"),
        "adc_bits": Allowed((None,), "None (NeuroSim digitises with its own 65535-count "
                            "counter)"),
        "adc_full_scale": Allowed((None,), "None"),
    })
    #: peak bytes per cell while programming (measured: ``benchmarks/memory.py``)
    program_bytes_per_cell = 8 * 6

    def check(self, device: Device, cfg: AnalogCoreConfig) -> Slicing:
        """An analog device without device-to-device or read noise; no slicing."""
        if not isinstance(device, AnalogDevice):
            raise ParameterError(
                f"model = 'neurosim' needs an analog device; '{device.name}' is binary")
        for field in ("sigma_d2d", "sigma_read"):
            if getattr(device, field) != 0:
                raise ParameterError(
                    f"{field} = {getattr(device, field)} is not modelled by the neurosim model "
                    f"(MELISO runs NeuroSim without it): allowed {field} = 0")
        return NO_SLICING

    def grid(self, m: int, n: int, cfg: AnalogCoreConfig) -> tuple[int, int]:
        return 1, 1

    def physical_shape(self, m: int, n: int, cfg: AnalogCoreConfig, slicing: Slicing
                       ) -> tuple[int, int]:
        return n, m

    def bytes_per_cell(self, cfg: AnalogCoreConfig) -> int:
        return self.program_bytes_per_cell

    def program(self, plan: CorePlan, stack: FloatArray, rng: np.random.Generator
                ) -> NeuroSimArrays:
        assert isinstance(plan.device, AnalogDevice)  # checked by check()
        bits = plan.config.resolved_input_bits  # None (analog inputs): the declared default
        input_bits = int(self.defaults["input_bits"]) if bits is None else bits
        return NeuroSimArrays(stack, plan.device, rng, input_bits=input_bits)

"""MELISO's NeuroSim arrays: the read path composed from this package's components.

Bit for bit the path of MELISO b155f3d's NeuroSim (``docs/neurosim.md``):

- devices: every cell written once with dw = A from G0 = 0.5 (G_max - G_min)
  (:func:`meliso.neurosim.device.neurosim_write`, quirks Q1-Q4);
- circuit: I = V_r / (1/G + R_s(i, k)), 15 kOhm access transistor plus position-dependent wire
  (:mod:`meliso.neurosim.circuit`);
- inputs: 10-bit bit-serial inputs, not clipped (wrap-around, Q5-Q6)
  (:func:`meliso.neurosim.inputs.neurosim_input_levels`);
- periphery: per-plane digitisation against the nominal mid current with 65535 counts of the
  nominal range, the two currents truncated separately (Q8), planes combined with the 1/2 gain
  (:mod:`meliso.neurosim.adc`).

One array holds one whole matrix (MELISO's setup; no tiling), one device per entry, entry A[i][k]
on output line i and input line k. ``raw`` is NeuroSim's ``Output[0][i]`` with scaling off.
Read noise and device-to-device variation are not part of MELISO's runs and are rejected.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from ..devices import AnalogDevice, ProgramResult
from .adc import NEUROSIM_ADC_COUNTS, neurosim_plane_read, sequential_sum
from .circuit import neurosim_cell_currents, neurosim_series_resistance
from .device import neurosim_write
from .inputs import neurosim_input_levels

FloatArray = NDArray[np.float64]


class NeuroSimArrays:
    """A stack of S NeuroSim arrays, one per matrix of ``a`` (S, m, n)."""

    #: NeuroSim counts no energy here and digitises with its own fixed ADC.
    counters: None = None
    adc_full_scale: None = None

    def __init__(
        self,
        a: FloatArray,
        device: AnalogDevice,
        rng: np.random.Generator | None,
        *,
        input_bits: int = 10,
    ) -> None:
        if not 1 <= input_bits <= 24:
            raise ParameterError(
                f"input_bits = {input_bits} is out of range: allowed 1 <= input_bits <= 24"
            )
        self.device = device
        self.input_bits = input_bits
        _, m, n = a.shape
        self.program_result: ProgramResult = neurosim_write(device, a, rng)
        self.g_s: FloatArray = self.program_result.g_s
        r_series = neurosim_series_resistance(m, n, device.r_access_ohm)
        self.i_cell = neurosim_cell_currents(self.g_s, device.v_read_v, r_series)
        v, r_acc = device.v_read_v, device.r_access_ohm
        self.i_max_a = v / (1.0 / device.g_max_s + r_acc)
        self.i_min_a = v / (1.0 / device.g_min_s + r_acc)
        self.i_mid_a = (self.i_max_a + self.i_min_a) / 2.0
        span = sequential_sum(self.i_max_a, n) - sequential_sum(self.i_min_a, n)
        self.q_a = span / NEUROSIM_ADC_COUNTS

    def read(self, x: FloatArray, *, record: list[FloatArray] | None = None) -> FloatArray:
        """Decoded outputs (S, B, m): twice NeuroSim's raw output (its 1/2 gain undone; exact
        in binary). NeuroSim's ADC is fixed: no signals to ``record``."""
        if record is not None:
            raise ParameterError("model = 'neurosim' digitises with NeuroSim's own fixed ADC; "
                                 "ADC calibration needs model = 'physics'")
        return 2.0 * self.raw(x)

    def read_transposed(self, y: FloatArray) -> FloatArray:
        """NeuroSim reads forward only."""
        raise ParameterError("transposed reads are modelled for model = 'physics' only")

    def raw(self, x: FloatArray) -> FloatArray:
        """NeuroSim's raw outputs (S, B, m) for inputs (S, B, n): about sum_k (A_ik / 2) x_k."""
        levels = np.ascontiguousarray(neurosim_input_levels(x, self.input_bits))
        out = np.empty((*x.shape[:-1], self.g_s.shape[1]))
        neurosim_plane_read(
            np.ascontiguousarray(self.i_cell), levels, self.input_bits, self.i_mid_a, self.q_a,
            NEUROSIM_ADC_COUNTS, out,
        )
        return out

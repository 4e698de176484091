"""The programmed state of a network's layers before training (``docs/learning.md``).

Each layer is a set of arrays the kernels update in place (:mod:`meliso.learning._kernels`):
conductances, what a read of each cell gives, the decoded weights and each cell's curve
constants. Initial weights w0 are drawn from {-1, -2/3, ..., 1} (MLP_NeuroSim's
``WeightInitialize``) and written ideally (the subject here is training, not programming):

- ``neurosim``: MLP_NeuroSim's ideal write G = (w0 + 1) / 2 (G_max - G_min), without the
  + G_min term, clipped to [G_min, G_max] (``Array::WriteCell``; quirk Q1 of
  ``docs/neurosim.md``); one device per weight; each cell read through its access transistor
  and its position-dependent wire (``Array::ReadCell``); curve shapes from NeuroSim's table;
- ``physics``: a differential pair per weight at window fractions f+- = (1 +- w0) / 2, so
  w = f+ - f- and both devices have the same head-room; read through the access transistor;
  curve shapes from meliso's exact NL label map (NL = 0 is linear);
- ``software``: the weights themselves.

Device-to-device variation draws each cell's NL labels once (label + Normal(0, sigma_d2d),
clipped to +-9), as meliso's programming does (NeuroSim differs: ``docs/learning.md`` §6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from ..devices import AnalogDevice
from ..devices.nonlinearity import NL_MAX, shape_from_label
from ..neurosim.device import neurosim_table

FloatArray = NDArray[np.float64]


@dataclass
class LayerState:
    """One layer's arrays (C columns = outputs, R rows = inputs, D devices per weight)."""

    g: FloatArray          # (D, C, R) conductance, S (software: the weights)
    sig: FloatArray        # (D, C, R) read of each cell: current, A (software: the weights)
    w: FloatArray          # (C, R) weights as the algorithm sees them
    a_ltp: FloatArray      # (D, C, R) curve constant A of the LTP branch (inf: linear)
    b_ltp: FloatArray
    a_ltd: FloatArray
    b_ltd: FloatArray
    r_series_ohm: FloatArray  # (C, R) series resistance of each cell's read path

    def constants(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        return self.a_ltp, self.b_ltp, self.a_ltd, self.b_ltd, self.r_series_ohm


def initial_weights(shape: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    """Weights drawn uniformly from {-1, -2/3, -1/3, 0, 1/3, 2/3, 1} (MLP_NeuroSim)."""
    return rng.integers(-3, 4, size=shape).astype(np.float64) / 3.0


def read_currents(device: AnalogDevice) -> tuple[float, float]:
    """(I_max, I_min): the read current of a cell at G_max and at G_min through its access
    transistor, V_read / (1/G + R_access) (NeuroSim's GetMaxReadCurrent, no wire)."""
    v, r = device.v_read_v, device.r_access_ohm
    return v / (1.0 / device.g_max_s + r), v / (1.0 / device.g_min_s + r)


def _labels(nl: float, device: AnalogDevice, shape: tuple[int, ...],
            rng: np.random.Generator) -> FloatArray:
    if device.sigma_d2d == 0:
        return np.full(shape, float(nl))
    return np.clip(nl + device.sigma_d2d * rng.standard_normal(shape), -NL_MAX, NL_MAX)


def _neurosim_a(labels: FloatArray) -> FloatArray:
    """NeuroSim's normalised shape per cell: sign(NL) T[int(|NL| 100) - 1] (quirk Q4)."""
    idx = np.clip((np.abs(labels) * 100).astype(np.int64) - 1, 0, 899)
    return np.where(labels > 0, 1.0, -1.0) * neurosim_table()[idx]


def _curve(a: FloatArray, levels: int, g_range_s: float) -> tuple[FloatArray, FloatArray]:
    big_a = a * levels
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(np.isinf(big_a), np.inf, g_range_s / -np.expm1(-levels / big_a))
    return big_a, b


def layer_state(model: str, device: AnalogDevice | None, w0: FloatArray,
                rng: np.random.Generator, wire_segment_ohm: float) -> LayerState:
    """The layer of initial weights ``w0`` (C, R) under ``model``."""
    cols, rows = w0.shape
    if model == "software" or device is None:
        g = w0[None].copy()
        zeros = np.zeros_like(g)
        return LayerState(g, g.copy(), w0.copy(), zeros, zeros, zeros, zeros,
                          np.zeros((cols, rows)))
    if device.sigma_read > 0:
        raise ParameterError(f"sigma_read = {device.sigma_read!r}: read noise is not modelled "
                             "in on-chip learning; allowed sigma_read = 0")
    g_min, g_max, span = device.g_min_s, device.g_max_s, device.g_range_s
    i_max, i_min = read_currents(device)
    if not i_max - i_min > 1e-9 * i_max:
        raise ParameterError(
            f"r_on_ohm = {device.r_on_ohm!r}, on_off_ratio = {device.on_off_ratio!r}, "
            f"r_access_ohm = {device.r_access_ohm!r}: the read currents of G_max and G_min "
            f"differ by {(i_max - i_min) / i_max:.1e} of I_max, so no weight can be read; "
            "allowed: a window whose currents differ by more than 1e-9 of I_max")
    n_dev = 1 if model == "neurosim" else 2
    shape = (n_dev, cols, rows)
    lab_ltp = _labels(device.nl_ltp, device, shape, rng)
    lab_ltd = _labels(device.nl_ltd, device, shape, rng)
    if model == "neurosim":
        a_ltp, a_ltd = _neurosim_a(lab_ltp), _neurosim_a(lab_ltd)
        g = np.clip((w0 + 1.0) / 2.0 * span, g_min, g_max)[None]
        c = np.arange(cols)[:, None]
        k = np.arange(rows)[None, :]
        r_series = ((c + 1) * wire_segment_ohm + (rows - k) * wire_segment_ohm
                    + device.r_access_ohm)
    else:
        a_ltp = np.asarray(shape_from_label(lab_ltp), dtype=np.float64)
        a_ltd = np.asarray(shape_from_label(lab_ltd), dtype=np.float64)
        frac = np.stack([(1.0 + w0) / 2.0, (1.0 - w0) / 2.0])
        g = g_min + frac * span
        r_series = np.full((cols, rows), device.r_access_ohm)
    big_a_ltp, b_ltp = _curve(a_ltp, device.levels_ltp, span)
    big_a_ltd, b_ltd = _curve(a_ltd, device.levels_ltd, span)
    sig = device.v_read_v / (1.0 / g + r_series[None])
    if model == "neurosim":
        w = (np.clip(sig[0], i_min, i_max) - i_min) / (i_max - i_min) * 2.0 - 1.0
    else:
        w = (sig[0] - sig[1]) / (i_max - i_min)
    return LayerState(np.ascontiguousarray(g), sig, w, big_a_ltp, b_ltp, big_a_ltd, b_ltd,
                      np.ascontiguousarray(r_series, dtype=np.float64))

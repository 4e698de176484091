"""An analog crossbar core: program a real matrix onto RRAM tiles and multiply with it.

The core resolves its read model once from ``model`` (:mod:`meliso.core.readmodel`), which
programs the matrix and reads it: ``physics`` (:mod:`meliso.core.physics`: tiling, mapping,
devices, circuit, decode) or ``neurosim`` (:mod:`meliso.neurosim.model`: MELISO's NeuroSim read
path). On top of either the core adds MELISO's per-row two-point calibration when asked
(:mod:`meliso.core.decode`), batching, and stacks of independent matrices.

Error bound of the ``ideal`` device (linear, no variation, no access resistance) with
N = 2^bits levels, physics model: each weight is rounded to the nearest of N + 1 levels of its
tile scale a_t = max |A_tile|, so |A_hat - A| <= a_t / (2N) (differential) or a_t / (2 N h) for
``reference``, where a weight spans only the half range h = min(f_ref, 1 - f_ref) ~ 1/2 (below:
the differential case; replace 2N by 2Nh for ``reference``). With b-bit inputs of full scale s_x
the inputs are rounded to |x_hat - x| <= s_x / (2 (2^b - 1)). Hence, per output i,

    |y_i - (A x)_i| <= sum_t [ a_t / (2N) sum_{k in t} |x_hat_k|
                               + s_x / (2 (2^b - 1)) sum_{k in t} |A_ik| ]

(the second term vanishes for analog inputs). :func:`quantisation_bound` evaluates it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._memory import check_memory
from .._validation import ParameterError
from ..devices import Device, ProgramResult, get_device
from ..mapping import half_range, input_scale, quantize_inputs, reference_level
from ..periphery.adc import calibration_target
from ..periphery.energy import EnergyModel
from .analog_stats import AnalogCoreStats, core_stats
from .config import AnalogCoreConfig
from .decode import TwoPointCalibration
from .plan import plan_core
from .readmodel import ProgrammedArrays

FloatArray = NDArray[np.float64]
#: How :meth:`AnalogCore.calibrate_adc` sets an ADC's range.
ADC_CALIBRATIONS = ("3sigma", "max")


def _as_matrix_stack(a: ArrayLike) -> tuple[FloatArray, bool]:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ParameterError(
            f"A must be a matrix (m, n) or a stack of matrices (S, m, n); got shape {arr.shape}"
        )
    if min(arr.shape) == 0:
        raise ParameterError(f"A must not be empty; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("A contains NaN or infinite entries")
    return (arr if arr.ndim == 3 else arr[None]), arr.ndim == 3


class AnalogCore:
    """A matrix A programmed onto analog RRAM crossbar tiles; ``matvec(x)`` returns y ~ A x.

    Parameters
    ----------
    a:
        The matrix (m, n), any real values, or a stack (S, m, n) of independent matrices
        (programmed together; used by Monte-Carlo populations).
    device:
        A device or a preset name (``"ideal"``, ``"Ag:a-Si"``, ``"PCM"``...). Binary LRS/HRS
        devices store bit-sliced weights (``weight_slices`` bits per magnitude, default 8) on
        differential pairs.
    rng:
        ``numpy.random.Generator`` or seed for programming and read noise.
    energy:
        Periphery energy constants for :attr:`stats` (default :class:`EnergyModel`'s).
    **settings:
        Fields of :class:`~meliso.core.config.AnalogCoreConfig` (``model``, ``mapping``,
        ``tile_rows``, ``tile_cols``, ``input_bits``, ``input_range``, ``weight_range``,
        ``weight_slices``, ``bits_per_slice``, ``calibration``, ``adc_bits``,
        ``adc_full_scale``, ``programming``, ``verify_*``, the wires).
    """

    def __init__(
        self,
        a: ArrayLike,
        device: str | Device = "ideal",
        *,
        rng: np.random.Generator | int | None = None,
        energy: EnergyModel | None = None,
        **settings: Any,
    ) -> None:
        dev = get_device(device) if isinstance(device, str) else device
        self.energy = EnergyModel() if energy is None else energy
        self.device: Device = dev
        stack, self.stacked = _as_matrix_stack(a)
        self.plan = plan_core(stack.shape, dev, settings)  # every device/settings rule
        s_, m_, n_ = stack.shape
        check_memory(self.plan.program_bytes(),
                     f"programming {s_} matrix(es) of {m_}x{n_} on {self.plan.cells} cells",
                     "program fewer or smaller matrices")
        self.config: AnalogCoreConfig = self.plan.config
        cfg = self.config
        if cfg.weight_range is not None and np.abs(stack).max() > cfg.weight_range * (1 + 1e-12):
            raise ParameterError(
                f"A reaches |A| = {np.abs(stack).max():g} but weight_range = "
                f"{cfg.weight_range:g}: allowed |A| <= weight_range; raise it or use None"
            )
        self.model = cfg.model
        self.mapping = cfg.resolved_mapping
        self.slicing = self.plan.slicing
        self.rng = np.random.default_rng(rng)
        self.a = stack
        self.n_stack, self.m, self.n = stack.shape
        self.arrays: ProgrammedArrays = cfg.read_model.program(self.plan, stack, self.rng)
        self.calibration: TwoPointCalibration | None = None
        if cfg.resolved_calibration == "two-point":
            self.calibration = self._calibrate()
        self.reset_stats()  # the calibration's reads are part of programming

    @property
    def g_s(self) -> FloatArray:
        """Programmed conductances, siemens (physics: (S, Tr, Tc, R, columns); neurosim:
        (S, m, n))."""
        return self.arrays.g_s

    @property
    def program_result(self) -> ProgramResult:
        return self.arrays.program_result

    @property
    def grid(self) -> tuple[int, int]:
        """(tiles along the inputs, tiles along the outputs)."""
        return self.plan.grid

    @property
    def physical_shape(self) -> tuple[int, int]:
        """(rows, columns) of one physical crossbar tile."""
        return self.plan.physical_shape

    def programming_summary(self) -> dict[str, float]:
        """Pulses and verify statistics of the programming run."""
        res = self.program_result
        out = {
            "cells": float(res.pulses.size),
            "pulses_total": float(res.pulses.sum()),
            "pulses_mean": float(res.pulses.mean()),
            "iterations_mean": float(res.iterations.mean()),
        }
        if res.converged is not None:
            out["converged_fraction"] = float(res.converged.mean())
        return out

    def reset_stats(self) -> None:
        """Start counting reads, conversions and energy afresh."""
        if self.arrays.counters is not None:
            self.arrays.counters.reset()

    @property
    def stats(self) -> AnalogCoreStats:
        """Reads, ADC conversions and energy since creation or :meth:`reset_stats`
        (:mod:`meliso.core.analog_stats`); ``physics`` model only."""
        counters = self.arrays.counters
        if counters is None:
            raise ParameterError(f"model = '{self.model}' does not count reads and energy: "
                                 "allowed model = 'physics'")
        cfg = self.config
        return core_stats(counters, self.energy, adc_bits=cfg.adc_bits,
                          physical_shape=self.physical_shape, m=self.m, n=self.n,
                          tile_rows=cfg.tile_rows, tile_cols=cfg.tile_cols)

    @property
    def adc_full_scale(self) -> float | None:
        """The output ADC's full scale in force (units of one cell pair at full weight and
        full input; None for a model without a configurable ADC)."""
        return self.arrays.adc_full_scale

    def calibrate_adc(self, x_profile: ArrayLike, method: str = "3sigma") -> float:
        """Set the output ADC's full scale from the column signals of ``x_profile``, over every
        column of every tile and read (one range per core: per layer); returns it.

        ``method``: ``"3sigma"``, the target y*_max = max(|mu - 3 sigma|, |mu + 3 sigma|) of
        Cubero-Cascante et al. 2025, eq. 7 (the signals beyond three standard deviations are
        clipped); ``"max"``, the largest |signal| seen (nothing seen is clipped, the step is
        coarser)."""
        if method not in ADC_CALIBRATIONS:
            raise ParameterError(f"method = {method!r}: allowed {', '.join(ADC_CALIBRATIONS)}")
        x3, _ = self._batches(x_profile, self.n, "x_profile")
        record: list[FloatArray] = []
        self.arrays.read(x3, record=record)
        signals = np.concatenate([r.reshape(-1) for r in record]) if record else np.zeros(0)
        signals = signals[np.isfinite(signals)]
        if method == "max":
            target = float(np.abs(signals).max()) if signals.size else 0.0
        else:
            target = calibration_target(signals)
        if target > 0:
            self.arrays.adc_full_scale = target
        full = self.arrays.adc_full_scale
        assert full is not None
        return full

    def _calibrate(self) -> TwoPointCalibration:
        cfg = self.config
        ones = np.ones((self.n_stack, 1, self.n))
        y_high = self.arrays.read(cfg.calibration_t_max * ones)[:, 0]
        y_low = self.arrays.read(cfg.calibration_t_min * ones)[:, 0]
        rowsum = self.a.sum(axis=-1)
        return TwoPointCalibration(y_high=y_high, y_low=y_low,
                                   ref_high=cfg.calibration_t_max * rowsum,
                                   ref_low=cfg.calibration_t_min * rowsum)

    def matvec(self, x: ArrayLike) -> FloatArray:
        """y ~ A x through the simulated hardware.

        Unstacked core: x (n,) -> (m,), x (B, n) -> (B, m).
        Stacked core (S matrices): x (S, n) -> (S, m), x (S, B, n) -> (S, B, m).
        """
        x3, ndim = self._batches(x, self.n, "x")
        check_memory(self.plan.read_bytes(x3.shape[1]),
                     f"reading {x3.shape[1]} vectors through {self.plan.cells} cells",
                     "read fewer vectors at a time")
        y = self.arrays.read(x3)
        if self.calibration is not None:
            y = self.calibration.apply(y)
        return self._unbatch(y, ndim)

    def _batches(self, v: ArrayLike, length: int, name: str) -> tuple[FloatArray, int]:
        """Inputs as (S, B, length) and their original number of axes (shapes of
        :meth:`matvec`), or a ParameterError naming ``name``."""
        arr = np.asarray(v, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ParameterError(f"{name} contains NaN or infinite entries")
        if arr.shape[-1:] != (length,):
            raise ParameterError(f"{name} must have {length} entries on its last axis; got "
                                 f"{arr.shape}")
        if self.stacked:
            if arr.ndim not in (2, 3) or arr.shape[0] != self.n_stack:
                raise ParameterError(
                    f"stacked core of {self.n_stack} matrices needs {name} of shape "
                    f"({self.n_stack}, {length}) or ({self.n_stack}, B, {length}); got "
                    f"{arr.shape}"
                )
            return (arr if arr.ndim == 3 else arr[:, None]), arr.ndim
        if arr.ndim not in (1, 2):
            raise ParameterError(f"{name} must be ({length},) or (B, {length}); got shape "
                                 f"{arr.shape}")
        return arr.reshape(1, -1, length), arr.ndim

    def _unbatch(self, out: FloatArray, ndim: int) -> FloatArray:
        """Outputs (S, B, k) back to the shape the inputs had."""
        if self.stacked:
            return out if ndim == 3 else out[:, 0]
        return out[0] if ndim == 2 else out[0, 0]

    def __matmul__(self, x: ArrayLike) -> FloatArray:
        return self.matvec(x)

    def rmatvec(self, y: ArrayLike) -> FloatArray:
        """x ~ A^T y by a transposed read of the same crossbars (shapes as :meth:`matvec`, with
        m and n exchanged). The read model says how (physics: voltages on the columns, currents
        sensed on the rows, ideal wires); two-point calibration corrects the forward read's
        rows only, so a calibrated core refuses it."""
        if self.calibration is not None:
            raise ParameterError("two-point calibration corrects the forward read's rows; "
                                 "transposed reads need calibration = 'none'")
        y3, ndim = self._batches(y, self.m, "y")
        return self._unbatch(self.arrays.read_transposed(y3), ndim)


def quantisation_bound(
    a: ArrayLike,
    x: ArrayLike,
    *,
    levels: int,
    tile_rows: int = 32,
    tile_cols: int = 32,
    input_bits: int | None = None,
    input_range: float | None = None,
    mapping: str = "differential",
) -> FloatArray:
    """Worst-case |y - A x| per output of an ideal device (see the module docstring).

    ``a`` (m, n), ``x`` (B, n) -> bound (B, m). Tile scales are max |A| over each tile (the
    default ``weight_range=None``); ``levels`` is N of both branches, programmed from G_min.
    """
    a = np.asarray(a, dtype=np.float64)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    m, n = a.shape
    s_x = input_scale(x, input_range)  # (B,)
    ref = reference_level(0.0, levels, levels)
    per_weight = 1.0 / (2 * levels * half_range(mapping, ref))  # type: ignore[arg-type]
    if input_bits is None:
        x_hat, dx = x, 0.0
    else:
        full = (1 << input_bits) - 1
        x_hat = quantize_inputs(x / s_x[:, None], input_bits) / full * s_x[:, None]
        dx = 1.0 / (2 * full)
    bound = np.zeros((x.shape[0], m))
    for r0 in range(0, n, tile_rows):
        ins = slice(r0, min(r0 + tile_rows, n))
        x_sum = np.abs(x_hat[:, ins]).sum(axis=1)  # (B,)
        for c0 in range(0, m, tile_cols):
            outs = slice(c0, min(c0 + tile_cols, m))
            block = a[outs, ins]
            a_t = np.abs(block).max()
            bound[:, outs] += a_t * per_weight * x_sum[:, None]
            bound[:, outs] += dx * s_x[:, None] * np.abs(block).sum(axis=1)[None, :]
    return bound

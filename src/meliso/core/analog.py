"""An analog crossbar core: program a real matrix onto RRAM tiles and multiply with it.

Pipeline (``ARCHITECTURE.md``): mapping -> devices -> circuit -> decode.

1. Tiling: A (m x n, signed, any shape) is split into tiles of ``tile_rows`` inputs x
   ``tile_cols`` outputs (:mod:`meliso.mapping.tiling`); each tile is normalised by its own
   max |A| (or a fixed ``weight_range``).
2. Mapping: normalised weights -> target fractions of the memory window on physical columns,
   ``differential`` pairs or one device per weight plus a ``reference`` column
   (:mod:`meliso.mapping.weights`).
3. Devices: every cell is programmed from the device's initial state, open loop or with
   write-and-verify (:mod:`meliso.devices.programming`).
4. Circuit: word lines driven at V_read x (analog) or bit-serial planes; each cell conducts
   through its access transistor, g_eff = 1 / (R_cell (1 + read noise) + R_access); column
   currents are ideal Kirchhoff sums, or with ``r_bitline_ohm``/``r_wordline_ohm`` the solution
   of the tile's wire network (``circuit``, ``topology``; :func:`meliso.circuit.solve_currents`).
5. Decode: column currents -> weights by the nominal full-scale step
   Delta_I = V_read (g_eff(G_max) - g_eff(G_min)); tiles' partial sums are added digitally and
   scaled back by the tile and input scales. Optionally MELISO's per-row two-point calibration
   (:mod:`meliso.core.decode`).

Error bound of the ``ideal`` device (linear, no variation, no access resistance) with
N = 2^bits levels: each weight is rounded to the nearest of N + 1 levels of its tile scale
a_t = max |A_tile|, so |A_hat - A| <= a_t / (2N) (differential) or a_t / (2 N h) for
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

from .._validation import ParameterError
from ..circuit import ideal_currents, series_conductance, solve_currents
from ..devices import (
    AnalogDevice,
    BinaryDevice,
    Device,
    ProgramResult,
    get_device,
    program_binary_array,
    program_open_loop,
    program_write_verify,
)
from ..devices.analog import read_resistance_ohm
from ..mapping import (
    bit_planes,
    half_range,
    input_scale,
    quantize_inputs,
    reference_level,
    target_fractions,
    tile_inputs,
    tile_matrix,
    tile_scale,
    untile_outputs,
    weight_units,
)
from .config import CoreConfig
from .decode import TwoPointCalibration
from .neurosim import NeuroSimArrays
from .plan import plan_core, reference_fraction, state_bounds

FloatArray = NDArray[np.float64]


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
    **settings:
        Fields of :class:`~meliso.core.config.CoreConfig` (``mapping``, ``tile_rows``,
        ``tile_cols``, ``input_bits``, ``input_range``, ``weight_range``, ``weight_slices``,
        ``bits_per_slice``, ``calibration``, ``programming``, ``verify_*``).
    """

    def __init__(
        self,
        a: ArrayLike,
        device: str | Device = "ideal",
        *,
        rng: np.random.Generator | int | None = None,
        **settings: Any,
    ) -> None:
        dev = get_device(device) if isinstance(device, str) else device
        self.device: Device = dev
        stack, self.stacked = _as_matrix_stack(a)
        self.plan = plan_core(stack.shape, dev, settings)  # every device/settings rule
        self.config: CoreConfig = self.plan.config
        cfg = self.config
        self.model = cfg.model
        self.mapping = cfg.resolved_mapping
        self.slicing = self.plan.slicing
        self.rng = np.random.default_rng(rng)
        if cfg.weight_range is not None and np.abs(stack).max() > cfg.weight_range * (1 + 1e-12):
            raise ParameterError(
                f"A reaches |A| = {np.abs(stack).max():g} but weight_range = "
                f"{cfg.weight_range:g}: allowed |A| <= weight_range; raise it or use None"
            )
        self.a = stack
        self.n_stack, self.m, self.n = stack.shape
        self.calibration: TwoPointCalibration | None = None
        self._neurosim: NeuroSimArrays | None = None
        self.program_result: ProgramResult
        self.g_s: FloatArray  # physics: (S, Tr, Tc, R, columns); neurosim: (S, m, n)
        if cfg.model == "neurosim":
            self._init_neurosim(dev)
        else:
            self._init_physics(dev)
        if cfg.resolved_calibration == "two-point":
            self.calibration = self._calibrate()

    def _init_neurosim(self, dev: Device) -> None:
        assert isinstance(dev, AnalogDevice)  # checked by plan_core
        self.grid = (1, 1)
        self._neurosim = NeuroSimArrays(
            self.a, dev, self.rng,
            input_bits=10 if self.config.input_bits is None else self.config.input_bits,
        )
        self.program_result = self._neurosim.program_result
        self.g_s = self._neurosim.g_s

    def _init_physics(self, dev: Device) -> None:
        cfg, stack = self.config, self.a
        self.grid = self.plan.grid
        w = tile_matrix(stack, cfg.tile_rows, cfg.tile_cols)
        self.tile_scale = tile_scale(w, cfg.weight_range)
        self.ref_frac = reference_fraction(dev)
        targets = target_fractions(
            w / self.tile_scale[..., None, None], self.mapping, self.ref_frac, self.slicing
        )
        self.program_result = self._program(targets)
        self.g_s = self.program_result.g_s

        g_hi, g_lo = state_bounds(dev)
        dev_r = dev.r_access_ohm
        self.step_a = dev.v_read_v * (
            float(series_conductance(g_hi, dev_r)) - float(series_conductance(g_lo, dev_r))
        )
        self._g_read = None if dev.sigma_read > 0 else series_conductance(self.g_s, dev_r)

    # -- programming ---------------------------------------------------------------------------
    def _program(self, targets: FloatArray) -> ProgramResult:
        cfg = self.config
        if isinstance(self.device, BinaryDevice):
            return program_binary_array(self.device, targets, self.rng)
        if cfg.programming == "write-verify":
            return program_write_verify(
                self.device,
                targets,
                self.rng,
                tolerance_frac=cfg.verify_tolerance_frac,
                max_iterations=cfg.verify_max_iterations,
                max_pulses=cfg.verify_max_pulses,
            )
        return program_open_loop(self.device, targets, self.rng)

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

    # -- reading -------------------------------------------------------------------------------
    def _tile_currents(self, g_s: FloatArray, v: FloatArray) -> FloatArray:
        """Currents (S, Tr, Tc, B, Cp) of conductances (S, Tr, Tc, R, Cp), voltages (S, Tr, B, R).

        Without wire resistance (and with the ideal or auto solver) one batched product;
        otherwise every tile through :func:`meliso.circuit.solve_currents`.
        """
        cfg = self.config
        if cfg.r_bitline_ohm == 0 and cfg.r_wordline_ohm == 0 and cfg.circuit in ("auto",
                                                                                   "ideal"):
            return ideal_currents(g_s, v[:, :, None])
        out = np.empty((*g_s.shape[:3], v.shape[-2], g_s.shape[-1]))
        for s, tr, tc in np.ndindex(*g_s.shape[:3]):
            out[s, tr, tc] = solve_currents(
                g_s[s, tr, tc], v[s, tr], r_bitline_ohm=cfg.r_bitline_ohm,
                r_wordline_ohm=cfg.r_wordline_ohm, topology=cfg.topology, method=cfg.circuit,
            )
        return out

    def _currents(self, v_in_v: FloatArray) -> FloatArray:
        """Column currents (S, Tr, Tc, B, Cp) for word-line voltages (S, Tr, B, R)."""
        if self._g_read is not None:
            return self._tile_currents(self._g_read, v_in_v)
        out = np.empty((*self.g_s.shape[:3], v_in_v.shape[-2], self.g_s.shape[-1]))
        for b in range(v_in_v.shape[-2]):  # fresh read noise for every vector
            r = read_resistance_ohm(self.g_s, self.device.sigma_read, self.rng)
            g = 1.0 / (r + self.device.r_access_ohm)
            out[..., b : b + 1, :] = self._tile_currents(g, v_in_v[..., b : b + 1, :])
        return out

    def _hardware(self, x: FloatArray) -> FloatArray:
        """Decoded outputs (S, B, m) before calibration, for inputs (S, B, n).

        ``neurosim``: twice NeuroSim's raw output (its 1/2 gain undone; exact in binary).
        """
        if self._neurosim is not None:
            return 2.0 * self._neurosim.raw(x)
        cfg = self.config
        scale_x = input_scale(x, cfg.input_range)
        xs = tile_inputs(x / scale_x[..., None], cfg.tile_rows, self.grid[0])
        xs = xs.transpose(0, 2, 1, 3)  # (S, Tr, B, R)
        planes = [(1.0, xs)] if cfg.input_bits is None else bit_planes(xs, cfg.input_bits)
        current = None
        for weight, plane in planes:
            i = self._currents(self.device.v_read_v * plane)
            current = weight * i if current is None else current + weight * i
        if current is None:  # every input is zero
            return np.zeros((*x.shape[:-1], self.m))
        w = weight_units(current, self.mapping, self.step_a, self.ref_frac, self.slicing)
        y_tiles = (w * self.tile_scale[..., None, None]).sum(axis=1)  # (S, Tc, B, C)
        y = untile_outputs(y_tiles.transpose(0, 2, 1, 3), self.m)
        return y * scale_x[..., None]

    def _calibrate(self) -> TwoPointCalibration:
        cfg = self.config
        ones = np.ones((self.n_stack, 1, self.n))
        d = self._hardware(cfg.calibration_t_max * ones)[:, 0]
        m = self._hardware(cfg.calibration_t_min * ones)[:, 0]
        rowsum = self.a.sum(axis=-1)
        return TwoPointCalibration(
            d=d, m=m, r_d=cfg.calibration_t_max * rowsum, r_m=cfg.calibration_t_min * rowsum
        )

    def matvec(self, x: ArrayLike) -> FloatArray:
        """y ~ A x through the simulated hardware.

        Unstacked core: x (n,) -> (m,), x (B, n) -> (B, m).
        Stacked core (S matrices): x (S, n) -> (S, m), x (S, B, n) -> (S, B, m).
        """
        x3, ndim = self._batches(x, self.n, "x")
        y = self._hardware(x3)
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
        m and n exchanged).

        Voltages go on the columns, currents are sensed on the rows: a differential pair's
        columns at +V y_c and -V y_c (one read per weight slice, combined digitally), or, in
        the reference mapping, the weight columns at V y_c and the reference column at
        -V sum_c y_c. (That last voltage can reach C V_read; a chip would read the reference
        column separately at V_read and subtract sum_c y_c times its current digitally, which
        the linear model makes identical.) Modelled for the physics model with ideal wires and
        no two-point calibration (which corrects the forward read's rows); anything else is an
        error.
        """
        cfg = self.config
        if self._neurosim is not None:
            raise ParameterError("transposed reads are modelled for model = 'physics' only")
        if cfg.r_bitline_ohm or cfg.r_wordline_ohm:
            raise ParameterError("transposed reads are modelled without wire resistance: "
                                 "allowed r_bitline_ohm = r_wordline_ohm = 0")
        if self.calibration is not None:
            raise ParameterError("two-point calibration corrects the forward read's rows; "
                                 "transposed reads need calibration = 'none'")
        y3, ndim = self._batches(y, self.m, "y")
        return self._unbatch(self._hardware_transposed(y3), ndim)

    def _column_voltages(self, plane: FloatArray, slice_index: int) -> FloatArray:
        """Column voltages (S, Tc, B, physical columns) that read ``plane`` (S, Tc, B, C)
        through one weight slice (transposed read)."""
        v_read = self.device.v_read_v
        if self.mapping == "reference":
            ref = -plane.sum(axis=-1, keepdims=True)
            return v_read * np.concatenate([plane, ref], axis=-1)
        k = self.slicing.slices
        v = np.zeros((*plane.shape, k, 2))
        v[..., slice_index, 0] = v_read * plane
        v[..., slice_index, 1] = -v_read * plane
        return v.reshape(*plane.shape[:-1], -1)

    def _hardware_transposed(self, y: FloatArray) -> FloatArray:
        """Decoded A^T y (S, B, n) for inputs (S, B, m). ``input_range`` is x's full scale,
        not y's: each y vector is scaled by its own peak."""
        cfg = self.config
        scale_y = input_scale(y, None)
        ys = tile_inputs(y / scale_y[..., None], cfg.tile_cols, self.grid[1])
        ys = ys.transpose(0, 2, 1, 3)  # (S, Tc, B, C)
        planes = [(1.0, ys)] if cfg.input_bits is None else bit_planes(ys, cfg.input_bits)
        if self.mapping == "reference":
            slices, unit = [(0, 1.0)], half_range(self.mapping, self.ref_frac) * self.step_a
        else:
            slices, unit = list(enumerate(self.slicing.weights())), self.step_a
        total = np.zeros((*self.g_s.shape[:3], y.shape[1], self.g_s.shape[3]))
        for weight, plane in planes:
            for s_index, s_weight in slices:
                v = self._column_voltages(plane, s_index)  # (S, Tc, B, Cp)
                for b in range(v.shape[2]):
                    g = self._g_read if self._g_read is not None else 1.0 / (
                        read_resistance_ohm(self.g_s, self.device.sigma_read, self.rng)
                        + self.device.r_access_ohm)
                    i_rows = np.einsum("sTtrp,stp->sTtr", g, v[:, :, b])
                    total[:, :, :, b] += (weight * s_weight / unit) * i_rows
        x_tiles = (total * self.tile_scale[..., None, None]).sum(axis=2)  # (S, Tr, B, R)
        x = x_tiles.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[1], -1)[..., : self.n]
        return x * scale_y[..., None]


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

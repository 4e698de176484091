"""The ``physics`` read model: meliso's own device, circuit and decode physics.

Pipeline (``docs/physics.md``): tiles of ``tile_rows`` inputs x ``tile_cols`` outputs, each
normalised by its own max |A| (or ``weight_range``); weights -> target fractions of the memory
window on differential pairs or beside a reference column (:mod:`meliso.mapping.weights`);
every cell programmed from the device's initial state, open loop or with write-and-verify
(:mod:`meliso.devices.programming`); word lines driven at V_read x (analog) or in bit-serial
planes; each cell conducts through its access transistor, g_eff = 1 / (R_cell (1 + read noise)
+ R_access); column currents are Kirchhoff sums, or with wire resistance the solution of each
tile's network (:func:`meliso.circuit.solve_currents`; with a non-linear cell I-V or a MOSFET
access, ``cell_iv``/``access``, the elements' exact currents by Newton's method, the decode
still assuming linear cells); currents decoded by the nominal
full-scale step Delta_I = V_read (g_eff(G_high) - g_eff(G_low)), tiles' partial sums added
digitally and scaled back by the tile and input scales.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from ..circuit import ideal_currents, series_conductance, solve_currents
from ..devices import (
    AnalogDevice,
    BinaryDevice,
    Device,
    ProgramResult,
    program_binary_array,
    program_open_loop,
    program_write_verify,
)
from ..devices.analog import read_resistance_ohm
from ..mapping import (
    NO_SLICING,
    Slicing,
    bit_planes,
    check_slicing,
    half_range,
    input_scale,
    physical_columns,
    target_fractions,
    tile_grid,
    tile_inputs,
    tile_matrix,
    tile_scale,
    untile_outputs,
    weight_units,
)
from ..periphery.adc import adc_quantize
from .analog_stats import ReadCounters
from .config import AnalogCoreConfig
from .plan import CorePlan, check_read_contrast, reference_fraction, state_bounds
from .readmodel import Allowed

FloatArray = NDArray[np.float64]


def physics_slicing(dev: Device, cfg: AnalogCoreConfig) -> Slicing:
    """Bit slicing for this device and these settings, or a clear error."""
    slices, bits = cfg.weight_slices, cfg.bits_per_slice
    if isinstance(dev, BinaryDevice):
        if bits not in (None, 1):
            raise ParameterError(
                f"bits_per_slice = {bits} is out of range for the binary device '{dev.name}': "
                "allowed bits_per_slice = 1 (a binary cell stores one bit)"
            )
        if cfg.resolved_mapping != "differential":
            raise ParameterError(
                f"mapping = '{cfg.resolved_mapping}' is not available for the binary device "
                f"'{dev.name}': allowed mapping = 'differential' (bit-sliced LRS/HRS pairs)"
            )
        if cfg.programming != "open-loop":
            raise ParameterError(
                f"programming = '{cfg.programming}' is not available for the binary device "
                f"'{dev.name}': allowed programming = 'open-loop' (a cell is SET or RESET)"
            )
        return Slicing(8 if slices is None else slices, 1)
    if bits is None and slices in (None, 1):
        return NO_SLICING
    if bits is None:  # one digit per device: as many bits as both its branches resolve (from
        # an initial state inside the window some digits are reached by depression)
        bits = max(1, int(np.floor(np.log2(min(dev.levels_ltp, dev.levels_ltd) + 1))))
    slicing = Slicing(1 if slices is None else slices, bits)
    check_slicing(cfg.resolved_mapping, slicing)  # before anything is programmed
    return slicing


class PhysicsModel:
    """meliso's physics (module docstring); registered as ``physics``."""

    name = "physics"
    defaults: Mapping[str, Any] = MappingProxyType({
        "mapping": "differential", "calibration": "none", "input_bits": None,
        "input_range": None})
    refuses: Mapping[str, Allowed] = MappingProxyType({})
    #: peak bytes per physical cell while programming (measured: ``benchmarks/memory.py``)
    program_bytes_per_cell = MappingProxyType({"open-loop": 8 * 8, "write-verify": 8 * 16})

    def check(self, device: Device, cfg: AnalogCoreConfig) -> Slicing:
        """Validate the device with these settings; the weight slicing in force."""
        slicing = physics_slicing(device, cfg)
        if half_range(cfg.resolved_mapping, reference_fraction(device)) == 0:
            raise ParameterError(
                f"mapping = 'reference' needs a level between G_min and G_max for its "
                f"reference column, but '{device.name}' reaches only the window's ends from its "
                "initial state: allowed levels_ltp, levels_ltd >= 2, or mapping = 'differential'"
            )
        check_read_contrast(device)
        return slicing

    def grid(self, m: int, n: int, cfg: AnalogCoreConfig) -> tuple[int, int]:
        return tile_grid(m, n, cfg.tile_rows, cfg.tile_cols)

    def physical_shape(self, m: int, n: int, cfg: AnalogCoreConfig, slicing: Slicing
                       ) -> tuple[int, int]:
        return cfg.tile_rows, physical_columns(cfg.resolved_mapping, cfg.tile_cols, slicing)

    def bytes_per_cell(self, cfg: AnalogCoreConfig) -> int:
        return self.program_bytes_per_cell[cfg.programming]

    def program(self, plan: CorePlan, stack: FloatArray, rng: np.random.Generator
                ) -> PhysicsArrays:
        return PhysicsArrays(plan, stack, rng)


class PhysicsArrays:
    """A stack of tiled crossbars programmed and read by the physics model."""

    def __init__(self, plan: CorePlan, stack: FloatArray, rng: np.random.Generator) -> None:
        cfg, dev = plan.config, plan.device
        self.config, self.device, self.rng = cfg, dev, rng
        self.mapping, self.slicing, self.grid = plan.mapping, plan.slicing, plan.grid
        self.m, self.n = stack.shape[1], stack.shape[2]
        w = tile_matrix(stack, cfg.tile_rows, cfg.tile_cols)
        self.tile_scale = tile_scale(w, cfg.weight_range)
        self.ref_frac = reference_fraction(dev)
        targets = target_fractions(
            w / self.tile_scale[..., None, None], self.mapping, self.ref_frac, self.slicing
        )
        self.program_result = self._program(targets)
        self.g_s: FloatArray = self.program_result.g_s  # (S, Tr, Tc, R, physical columns)
        g_hi, g_lo = state_bounds(dev)
        dev_r = dev.r_access_ohm
        self.step_a = dev.v_read_v * (
            float(series_conductance(g_hi, dev_r)) - float(series_conductance(g_lo, dev_r))
        )
        # non-linear elements: the cells' own conductances, the transistor solved with them
        self._elements = cfg.elements(dev_r) if cfg.nonlinear else None
        fold = 0.0 if cfg.nonlinear else dev_r
        self._g_read = None if dev.sigma_read > 0 else series_conductance(self.g_s, fold)
        # the output ADC's full scale, in units of one cell pair at full weight and input
        self.adc_full_scale: float = cfg.adc_full_scale or float(cfg.tile_rows)
        self.counters = ReadCounters(self.g_s.shape[:3])
        self._g_row_sum_s = series_conductance(self.g_s, dev_r).sum(axis=-1)  # (S, Tr, Tc, R)
        self._converted = self._converted_columns(plan)
        self._w_eff: FloatArray | None = None

    @property
    def linear(self) -> bool:
        """Whether a read is a linear map of the inputs: ideal wires, no read noise, analog
        inputs, ideal ADC. Then the decoded product equals x W_eff with W_eff = the decoded
        read of the unit vectors, computed once (identical up to float64 round-off)."""
        cfg = self.config
        return (cfg.no_parasitics and self._g_read is not None and cfg.input_bits is None
                and cfg.adc_bits is None)

    def _effective_matrix(self) -> FloatArray:
        """W_eff (S, n, m): row k is the decoded read of the k-th unit vector."""
        if self._w_eff is None:
            eye = np.broadcast_to(np.eye(self.n), (self.g_s.shape[0], self.n, self.n))
            self._w_eff = self._read_tiles(eye, None, count=False)
        return self._w_eff

    def _converted_columns(self, plan: CorePlan) -> NDArray[np.int64]:
        """ADC conversions per read of each column tile: one per logical column and slice
        (differential pairs), or per column against the reference."""
        cfg = self.config
        used = np.minimum(cfg.tile_cols, self.m - cfg.tile_cols * np.arange(self.grid[1]))
        if self.mapping == "differential":
            return used * self.slicing.slices
        return used.astype(np.int64)

    def _program(self, targets: FloatArray) -> ProgramResult:
        cfg, dev = self.config, self.device
        if isinstance(dev, BinaryDevice):
            return program_binary_array(dev, targets, self.rng)
        assert isinstance(dev, AnalogDevice)
        if cfg.programming == "write-verify":
            return program_write_verify(
                dev, targets, self.rng, tolerance_frac=cfg.verify_tolerance_frac,
                max_iterations=cfg.verify_max_iterations, max_pulses=cfg.verify_max_pulses,
            )
        return program_open_loop(dev, targets, self.rng)

    # -- forward read ---------------------------------------------------------------------------
    def _tile_currents(self, g_s: FloatArray, v: FloatArray) -> FloatArray:
        """Currents (S, Tr, Tc, B, Cp) of conductances (S, Tr, Tc, R, Cp), voltages (S, Tr, B, R).

        Without wire resistance (and with the ideal or auto solver) one batched product;
        otherwise every tile through :func:`meliso.circuit.solve_currents`.
        """
        cfg = self.config
        if cfg.no_parasitics:
            return ideal_currents(g_s, v[:, :, None])
        cell, access = self._elements or (None, None)
        out = np.empty((*g_s.shape[:3], v.shape[-2], g_s.shape[-1]))
        for s, tr, tc in np.ndindex(*g_s.shape[:3]):
            out[s, tr, tc] = solve_currents(
                g_s[s, tr, tc], v[s, tr], r_bitline_ohm=cfg.r_bitline_ohm,
                r_wordline_ohm=cfg.r_wordline_ohm, topology=cfg.topology, method=cfg.circuit,
                cell_iv=cell, access=access,
            )
        return out

    def _read_conductance(self) -> FloatArray:
        """g_eff of every cell for one read (fresh read noise each call)."""
        if self._g_read is not None:
            return self._g_read
        r = read_resistance_ohm(self.g_s, self.device.sigma_read, self.rng)
        return 1.0 / (r + (0.0 if self.config.nonlinear else self.device.r_access_ohm))

    def _currents(self, v_in_v: FloatArray) -> FloatArray:
        """Column currents (S, Tr, Tc, B, Cp) for word-line voltages (S, Tr, B, R)."""
        if self._g_read is not None:
            return self._tile_currents(self._g_read, v_in_v)
        out = np.empty((*self.g_s.shape[:3], v_in_v.shape[-2], self.g_s.shape[-1]))
        for b in range(v_in_v.shape[-2]):  # fresh read noise for every vector
            out[..., b : b + 1, :] = self._tile_currents(self._read_conductance(),
                                                         v_in_v[..., b : b + 1, :])
        return out

    def _planes(self, x_s: FloatArray) -> Iterable[tuple[float, FloatArray]]:
        bits = self.config.input_bits
        return [(1.0, x_s)] if bits is None else bit_planes(x_s, bits)

    def read(self, x: FloatArray, *, record: list[FloatArray] | None = None) -> FloatArray:
        """Decoded outputs (S, B, m) before calibration, for inputs (S, B, n).

        Each crossbar read (a bit plane, or the analog vector) is digitised column by column
        by the output ADC (``adc_bits`` over +-``adc_full_scale``) and the planes and tiles
        are added digitally. ``record`` collects the columns' signals before the ADC (for
        :meth:`meliso.core.AnalogCore.calibrate_adc`); such a read is not counted.
        """
        if self.linear and record is None:
            self._count(x)
            return np.matmul(x, self._effective_matrix())
        return self._read_tiles(x, record, count=record is None)

    def _normalised_inputs(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each vector over its full scale, tiled (S, Tr, B, R), and the scales (S, B)."""
        scale_x = input_scale(x, self.config.input_range)
        xs = tile_inputs(x / scale_x[..., None], self.config.tile_rows, self.grid[0])
        return xs.transpose(0, 2, 1, 3), scale_x

    def _count(self, x: FloatArray) -> None:
        """Count one analog read of every vector of ``x`` (the linear path's bookkeeping)."""
        xs, _ = self._normalised_inputs(x)
        self.counters.add_read(self.device.v_read_v * xs, self._g_row_sum_s, self._converted)
        self.counters.vectors += x.shape[-2]

    def _read_tiles(self, x: FloatArray, record: list[FloatArray] | None, *, count: bool
                    ) -> FloatArray:
        """The read through every tile, plane and ADC (see :meth:`read`)."""
        cfg = self.config
        xs, scale_x = self._normalised_inputs(x)

        def adc(signal: FloatArray) -> FloatArray:
            if record is not None:
                record.append(signal)
                return signal
            return adc_quantize(signal, self.adc_full_scale, cfg.adc_bits)

        total = None
        for weight, plane in self._planes(xs):
            v = self.device.v_read_v * plane
            w = weight_units(self._currents(v), self.mapping, self.step_a, self.ref_frac,
                             self.slicing, convert=adc)
            total = weight * w if total is None else total + weight * w
            if count:
                self.counters.add_read(v, self._g_row_sum_s, self._converted)
        if count:
            self.counters.vectors += x.shape[-2]
        if total is None:  # every input is zero
            return np.zeros((*x.shape[:-1], self.m))
        y_tiles = (total * self.tile_scale[..., None, None]).sum(axis=1)  # (S, Tc, B, C)
        y = untile_outputs(y_tiles.transpose(0, 2, 1, 3), self.m)
        return y * scale_x[..., None]

    # -- transposed read -------------------------------------------------------------------------
    def _column_voltages(self, plane: FloatArray, slice_index: int) -> FloatArray:
        """Column voltages (S, Tc, B, physical columns) that read ``plane`` (S, Tc, B, C)
        through one weight slice."""
        v_read = self.device.v_read_v
        if self.mapping == "reference":
            ref = -plane.sum(axis=-1, keepdims=True)
            return v_read * np.concatenate([plane, ref], axis=-1)
        k = self.slicing.slices
        v = np.zeros((*plane.shape, k, 2))
        v[..., slice_index, 0] = v_read * plane
        v[..., slice_index, 1] = -v_read * plane
        return v.reshape(*plane.shape[:-1], -1)

    def read_transposed(self, y: FloatArray) -> FloatArray:
        """Decoded A^T y (S, B, n) for inputs (S, B, m), by a transposed read of the same
        crossbars.

        Voltages go on the columns, currents are sensed on the rows: a differential pair's
        columns at +V y_c and -V y_c (one read per weight slice, combined digitally), or, in
        the reference mapping, the weight columns at V y_c and the reference column at
        -V sum_c y_c. (That last voltage can reach C V_read; a chip would read the reference
        column separately at V_read and subtract sum_c y_c times its current digitally, which
        the linear model makes identical.) Modelled with ideal wires; ``input_range`` is x's
        full scale, not y's: each y vector is scaled by its own peak.
        """
        cfg = self.config
        if cfg.r_bitline_ohm or cfg.r_wordline_ohm:
            raise ParameterError("transposed reads are modelled without wire resistance: "
                                 "allowed r_bitline_ohm = r_wordline_ohm = 0")
        if cfg.adc_bits is not None:
            raise ParameterError("transposed reads are modelled with ideal converters: allowed "
                                 "adc_bits = None")
        scale_y = input_scale(y, None)
        ys = tile_inputs(y / scale_y[..., None], cfg.tile_cols, self.grid[1])
        ys = ys.transpose(0, 2, 1, 3)  # (S, Tc, B, C)
        if self.mapping == "reference":
            slices, unit = [(0, 1.0)], half_range(self.mapping, self.ref_frac) * self.step_a
        else:
            slices, unit = list(enumerate(self.slicing.weights())), self.step_a
        total = np.zeros((*self.g_s.shape[:3], y.shape[1], self.g_s.shape[3]))
        for weight, plane in self._planes(ys):
            for s_index, s_weight in slices:
                v = self._column_voltages(plane, s_index)  # (S, Tc, B, Cp)
                for b in range(v.shape[2]):
                    i_rows = np.einsum("sTtrp,stp->sTtr", self._read_conductance(), v[:, :, b])
                    total[:, :, :, b] += (weight * s_weight / unit) * i_rows
        x_tiles = (total * self.tile_scale[..., None, None]).sum(axis=2)  # (S, Tr, B, R)
        x = x_tiles.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[1], -1)[..., : self.n]
        return x * scale_y[..., None]

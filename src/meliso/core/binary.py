"""BinaryCore: binary/ternary matrices on binary 1T1R crossbars (Cubero-Cascante et al. 2025,
§II-B and §III).

    core = BinaryCore(weights, technology="ReRAM-1", encoding="T-I", crossbar=(128, 128),
                      adc_bits=None, adc_scale=1.0, wires=Wires(r_bitline_ohm=1.0),
                      v_read_v=None)   # None: the device's V_read; wires also as keywords
    y = core.matmul(x)        # x (batch, rows) in {-1, 1} or {-1, 0, 1}; y ~ x @ weights
    core.calibrate(x_profile) # the layer scale s_l of eqs. 6-7
    core.stats                # MVM cycles, ADC conversions, active rows/cols, energy (eqs. 8-9)
    core.profile              # ADC output histogram and operand statistics

Pipeline, one way:

1. mapping: ``weights`` (rows = inputs, cols = outputs) in {-1, 0, 1} are cut into tiles of
   ``crossbar[0]`` rows x ``crossbar[1] / 2`` weight columns; each weight is a differential
   pair of binary cells (eq. 3), so a crossbar of C physical columns holds C / 2 weights per
   row. Inputs become the encoding's binary pulse planes (Table I: 1 or 2 cycles).
2. devices: cells are programmed LRS/HRS (:mod:`meliso.devices.binary`, with the device's
   log-normal ``sigma_program`` spread), each in series with its access transistor
   (``r_access_ohm``); unused cells of a partly filled crossbar stay in HRS. With the wires'
   ``cell_iv``/``access`` (a sinh cell, a level-1 NMOS; :mod:`meliso.circuit.iv`) the element
   is non-linear: a read pulse of V_read sees g_read = I(V_read) / V_read, which also sets
   Delta_I, and with wires the network is solved by Newton's method.
3. circuit: column currents from :func:`meliso.circuit.solve_currents` (1T1R: a row without a
   pulse is off). Without wires only the filled part of each crossbar is computed (the rest
   carries no current); with bit-line segments every physical row is kept (the bit line runs
   the crossbar's whole height to its amplifier) but only the filled columns; with word-line
   segments the whole crossbar is solved, since idle cells still load the word lines.
4. periphery: the current difference of each pair, delta_i, goes through the ADC (eq. 4) with
   step s_l Delta_I (eq. 5), Delta_I = V_R (G_LRS - G_HRS); codes are counted (energy, eq. 8)
   and histogrammed (profiling).
5. decode: each cycle's codes times s_l are recombined digitally as Table I says
   (sum_c k_c y_c + k_w sum_n w_n) and the row tiles' partial sums are added.

With ideal devices, no wires and ``adc_bits=None`` the result is exactly x @ weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError, check_range, validate_model
from ..circuit import Wires, series_conductance, solve_currents
from ..circuit.iv import series_element
from ..devices import BinaryDevice, get_device
from ..devices.binary import program_binary
from ..mapping.encodings import (
    Encoding,
    check_weights,
    differential_states,
    get_encoding,
)
from ..periphery.adc import adc_convert, calibration_target, check_adc_bits, layer_scale
from ..periphery.energy import EnergyModel, PerMac, tile_energy_j

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
HISTOGRAM_BINS = 20  # input-activity histograms: bins of width 1/20 over [0, 1]


@dataclass(frozen=True)
class BinaryCoreStats(PerMac):
    """Counters of a :class:`BinaryCore` since creation (or :meth:`BinaryCore.reset_stats`).

    Per-tile arrays are (row tiles, column tiles). ``reads`` = O_t (input vectors x cycles),
    ``active_rows`` = N_t, ``active_cols`` = M_t (pairs), ``x_bar`` = mean pulse activity of the
    active rows, ``g_bar_s`` = mean pair conductance g+ + g-; the energies are Cubero-Cascante et
    al. 2025 eq. 8 (joules), ``macs`` = vectors N_t M_t summed over tiles.
    """

    vectors: int
    cycles_per_vector: int
    reads: IntArray
    adc_conversions: IntArray
    active_rows: IntArray
    active_cols: IntArray
    x_bar: FloatArray
    g_bar_s: FloatArray
    row_driver_energy_j: FloatArray
    adc_energy_j: FloatArray
    cell_energy_j: FloatArray
    crossbar: tuple[int, int]

    @property
    def mvm_cycles(self) -> int:
        """Crossbar reads over all tiles."""
        return int(self.reads.sum())

    @property
    def conversions(self) -> int:
        """ADC conversions over all tiles."""
        return int(self.adc_conversions.sum())

    @property
    def tile_energy_j(self) -> FloatArray:
        """E_t of eq. 8 per tile."""
        return self.row_driver_energy_j + self.adc_energy_j + self.cell_energy_j

    @property
    def energy_j(self) -> float:
        """Energy of every read so far, joules."""
        return float(self.tile_energy_j.sum())

    @property
    def tile_macs(self) -> IntArray:
        """Logical MACs per tile: vectors N_t M_t."""
        return self.vectors * self.active_rows * self.active_cols

    @property
    def macs(self) -> int:
        return int(self.tile_macs.sum())

    @property
    def tile_energy_per_mac_j(self) -> FloatArray:
        """Cubero-Cascante et al. 2025, eq. 9 per tile (NaN before the first read)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.tile_macs > 0, self.tile_energy_j / self.tile_macs, np.nan)

    @property
    def tile_column_utilisation(self) -> FloatArray:
        """Weight columns used per tile over the crossbar's pairs."""
        return self.active_cols / (self.crossbar[1] // 2)

    @property
    def column_utilisation(self) -> float:
        """Weight columns used over the pairs of every crossbar the matrix occupies."""
        return float(self.tile_column_utilisation.mean())

    @property
    def row_utilisation(self) -> float:
        return float((self.active_rows / self.crossbar[0]).mean())

    def summary(self) -> dict[str, Any]:
        """Scalars for reports and JSON."""
        return {
            "vectors": self.vectors, "cycles_per_vector": self.cycles_per_vector,
            "mvm_cycles": self.mvm_cycles, "adc_conversions": self.conversions,
            "tiles": int(self.reads.size), "macs": self.macs, "energy_j": self.energy_j,
            "energy_per_mac_j": self.energy_per_mac_j, "mac_per_joule": self.mac_per_joule,
            "row_driver_energy_j": float(self.row_driver_energy_j.sum()),
            "adc_energy_j": float(self.adc_energy_j.sum()),
            "cell_energy_j": float(self.cell_energy_j.sum()),
            "column_utilisation": self.column_utilisation,
            "row_utilisation": self.row_utilisation,
            "x_bar": float(np.average(self.x_bar, weights=self.reads * self.active_rows))
            if self.vectors else float("nan"),
            "g_bar_s": float(self.g_bar_s.mean()),
        }


@dataclass
class BinaryCoreProfile:
    """What profiling keeps for a matrix (Cubero-Cascante et al. 2025, §IV-C, Fig. 2 and eq. 9).

    ``adc_codes``/``adc_counts``: histogram of every ADC output code (signed integers);
    ``activity_counts`` (row tiles, ``HISTOGRAM_BINS``): histogram, per row tile, of the pulse
    activity (fraction of active rows pulsed) of each read; ``input_counts`` and
    ``weight_counts``: how many operands were -1, 0 and +1. The operand statistics per tile
    (x_t, g_t, N_t, M_t) are in :class:`BinaryCoreStats`.
    """

    adc_histogram: dict[int, int] = field(default_factory=dict)
    activity_counts: IntArray = field(default_factory=lambda: np.zeros((0, HISTOGRAM_BINS),
                                                                       dtype=np.int64))
    input_counts: dict[int, int] = field(default_factory=lambda: {-1: 0, 0: 0, 1: 0})
    weight_counts: dict[int, int] = field(default_factory=lambda: {-1: 0, 0: 0, 1: 0})

    @property
    def adc_codes(self) -> IntArray:
        return np.array(sorted(self.adc_histogram), dtype=np.int64)

    @property
    def adc_counts(self) -> IntArray:
        return np.array([self.adc_histogram[c] for c in sorted(self.adc_histogram)],
                        dtype=np.int64)

    def add_codes(self, codes: FloatArray) -> None:
        values, counts = np.unique(codes, return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist(), strict=True):
            key = int(v)
            self.adc_histogram[key] = self.adc_histogram.get(key, 0) + int(c)


def crossbar_shape(value: Any, name: str) -> tuple[int, int]:
    """(rows, columns) of a crossbar given as N (N x N) or a pair, checked."""
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) for v in pair):
        raise ParameterError(f"{name} must be an int or (rows, cols) ints; got {value!r}")
    rows, cols = int(pair[0]), int(pair[1])
    if rows < 1 or cols < 2 or cols % 2:
        raise ParameterError(f"{name} = ({rows}, {cols}) is out of range: allowed rows >= 1 "
                             "and an even number of columns >= 2 (a weight is a pair of columns)")
    return rows, cols


class BinaryCore:
    """A binary or ternary matrix programmed onto binary 1T1R crossbars (module docstring)."""

    def __init__(
        self,
        weights: ArrayLike,
        technology: str | BinaryDevice = "ReRAM-1",
        encoding: str = "T-I",
        crossbar: int | tuple[int, int] = (128, 128),
        adc_bits: int | None = None,
        *,
        adc_scale: float = 1.0,
        wires: Wires | None = None,
        v_read_v: float | None = None,
        energy: EnergyModel | None = None,
        rng: np.random.Generator | None = None,
        **wire_settings: Any,
    ) -> None:
        self.weights = check_weights(weights)
        dev = get_device(technology)
        if not isinstance(dev, BinaryDevice):
            raise ParameterError(
                f"technology {dev.name!r} is an analog device: allowed binary presets "
                "(Cubero-Cascante et al. 2025 Table III: ReRAM-1, PCM, ReRAM-2, Perovskite, "
                "IFG) or a BinaryDevice")
        self.device = dev
        self.encoding: Encoding = get_encoding(encoding)
        self.crossbar = crossbar_shape(crossbar, "crossbar")
        check_adc_bits(adc_bits)
        self.adc_bits = adc_bits
        check_range("adc_scale", adc_scale, lo=0, lo_open=True, hi=1e12)
        self.adc_scale = float(adc_scale)
        self.wires = wires if wires is not None else validate_model(Wires, wire_settings)
        if wires is not None and wire_settings:
            raise ParameterError(f"give the wires either as wires= or as "
                                 f"{', '.join(wire_settings)}, not both")
        if self.wires.topology != "1t1r":
            raise ParameterError(f"topology = {self.wires.topology!r}: allowed '1t1r' (a "
                                 "BinaryCore is a 1T1R crossbar)")
        v_read_v = dev.v_read_v if v_read_v is None else v_read_v
        check_range("v_read_v", v_read_v, lo=1e-3, hi=10)
        self.v_read_v = float(v_read_v)
        if dev.sigma_read > 0:
            raise ParameterError(
                f"sigma_read = {dev.sigma_read:g}: BinaryCore models the spread of programmed "
                "states (sigma_program) but not per-read noise; allowed sigma_read = 0")
        self.energy = energy if energy is not None else EnergyModel()
        if dev.sigma_program > 0 and rng is None:
            rng = np.random.default_rng(0)
        self._elements = (self.wires.elements(self.device.r_access_ohm) if self.wires.nonlinear
                          else (None, None))
        self._program(rng)
        self.reset_stats()

    # -- mapping and programming ----------------------------------------------------------

    @property
    def pairs_per_crossbar(self) -> int:
        return self.crossbar[1] // 2

    @property
    def delta_i_a(self) -> float:
        """Delta_I = V_R (G_LRS - G_HRS), the unit current of a differential pair (eq. 3)."""
        g_on, g_off = self._pulse_conductance(np.array([self.device.g_lrs_s,
                                                        self.device.g_hrs_s]))
        return self.v_read_v * float(g_on - g_off)

    def _pulse_conductance(self, g_cell_s: FloatArray) -> FloatArray:
        """I(V_read) / V_read of cells ``g_cell_s`` with their access transistors: what a read
        pulse sees (with linear elements the series conductance 1 / (1/g + r_access))."""
        if not self.wires.nonlinear:
            return series_conductance(g_cell_s, self.device.r_access_ohm)
        cell, access = self.wires.elements(self.device.r_access_ohm)
        i = series_element(cell, access, g_cell_s, self.v_read_v, 0.0)[0]
        if not np.any(i > 0):
            gate = getattr(access, "v_gate_v", None)
            threshold = getattr(access, "vto_v", None)
            raise ParameterError(
                f"no cell conducts at V_read = {self.v_read_v:g} V through access = "
                f"{self.wires.access!r}" + (f" with its gate at v_gate_v = {gate:g} V (the "
                                            f"threshold is {threshold:g} V): raise v_gate_v"
                                            if gate is not None and threshold is not None
                                            else ""))
        return np.asarray(i / self.v_read_v)

    @property
    def wired(self) -> bool:
        return self.wires.r_bitline_ohm > 0 or self.wires.r_wordline_ohm > 0

    def _program(self, rng: np.random.Generator | None) -> None:
        rows, cols = self.weights.shape
        r_x, pairs = self.crossbar[0], self.pairs_per_crossbar
        self.grid = (-(-rows // r_x), -(-cols // pairs))
        tr, tc = self.grid
        padded = np.zeros((tr * r_x, tc * pairs))
        padded[:rows, :cols] = self.weights
        # (Tr, Tc, R, pairs): weight tiles; every crossbar is programmed whole (idle cells HRS)
        w_tiles = padded.reshape(tr, r_x, tc, pairs).transpose(0, 2, 1, 3)
        # a cell in series with its access transistor (1T1R), as the columns see it; with
        # non-linear elements the cells' own conductances (the solver adds the transistor) and
        # g_read_s what a read pulse sees, I(V_read) / V_read (exact for pulses of V_read)
        cells = program_binary(self.device, differential_states(w_tiles), rng)
        self.g_s = cells if self.wires.nonlinear else series_conductance(
            cells, self.device.r_access_ohm)
        self.g_read_s = self._pulse_conductance(cells) if self.wires.nonlinear else self.g_s
        used_rows = np.minimum(r_x, rows - np.arange(tr) * r_x)
        used_cols = np.minimum(pairs, cols - np.arange(tc) * pairs)
        self.active_rows = np.broadcast_to(used_rows[:, None], self.grid).astype(np.int64)
        self.active_cols = np.broadcast_to(used_cols[None, :], self.grid).astype(np.int64)
        g_pair = self.g_read_s[..., 0::2] + self.g_read_s[..., 1::2]
        mask = ((np.arange(r_x)[None, :, None] < used_rows[:, None, None])[:, None]
                & (np.arange(pairs)[None, None, :] < used_cols[:, None, None])[None])
        self.g_bar_s = (g_pair * mask).sum(axis=(2, 3)) / (self.active_rows * self.active_cols)
        # digital sum of each tile's weights, per output column (Table I's sum_n w_n)
        self._weight_sums = w_tiles.sum(axis=2)  # (Tr, Tc, pairs)

    # -- reading ---------------------------------------------------------------------------

    def _solve(self, v: FloatArray, tr: int, tc: int) -> FloatArray:
        """Physical column currents (reads, C) of tile (tr, tc) for word-line voltages
        (reads, R): the circuit solver with wires, v G without."""
        if not self.wired:  # pulses of V_read: I = V g_read exactly, whatever the elements
            return np.asarray(v @ self.g_read_s[tr, tc])
        w = self.wires
        cell, access = self._elements
        return solve_currents(self.g_s[tr, tc], v, r_bitline_ohm=w.r_bitline_ohm,
                              r_wordline_ohm=w.r_wordline_ohm, topology="1t1r",
                              method=w.circuit, cell_iv=cell, access=access)

    def _currents(self, planes: FloatArray, tr: int, tc: int) -> FloatArray:
        """Pair current differences (reads, pairs) of tile (tr, tc) for pulse planes
        (reads, R) of its row tile (without wires only the filled part is computed)."""
        n, m = int(self.active_rows[tr, tc]), int(self.active_cols[tr, tc])
        v = planes * self.v_read_v
        if self.wires.r_wordline_ohm > 0:  # idle columns load the word lines: whole crossbar
            i = self._solve(v, tr, tc)[:, : 2 * m]
        elif self.wired:  # bit-line segments only: columns are independent, rows are not
            cell, access = self._elements
            i = solve_currents(self.g_s[tr, tc, :, : 2 * m], v,
                               r_bitline_ohm=self.wires.r_bitline_ohm, topology="1t1r",
                               method=self.wires.circuit, cell_iv=cell, access=access)
        else:  # pulses of V_read: I = V g_read exactly, whatever the elements
            i = v[:, :n] @ self.g_read_s[tr, tc, :n, : 2 * m]
        return np.asarray(i[:, 0::2] - i[:, 1::2])

    def _run(self, x: ArrayLike, bits: int | None, scale: float, record: bool
             ) -> tuple[FloatArray, FloatArray]:
        """(y, all ADC codes) for inputs x (batch, rows)."""
        v = np.asarray(x, dtype=np.float64)
        single = v.ndim == 1
        v = v[None] if single else v
        rows, cols = self.weights.shape
        if v.ndim != 2 or v.shape[1] != rows:
            raise ParameterError(f"x must be ({rows},) or (batch, {rows}); got shape "
                             f"{np.asarray(x).shape}")
        enc = self.encoding
        planes = enc.planes(v)  # (cycles, batch, rows); raises for invalid inputs
        batch = v.shape[0]
        r_x, pairs = self.crossbar[0], self.pairs_per_crossbar
        tr_n, tc_n = self.grid
        padded = np.zeros((enc.cycles, batch, tr_n * r_x))
        padded[:, :, :rows] = planes
        step = scale * self.delta_i_a
        y = np.zeros((batch, tc_n * pairs))
        all_codes = []
        for tr in range(tr_n):
            p = padded[:, :, tr * r_x:(tr + 1) * r_x].reshape(enc.cycles * batch, r_x)
            if record:
                self._pulses[tr] += p.sum()
                n = int(self.active_rows[tr, 0])
                activity = p[:, :n].mean(axis=1)
                bins = np.minimum((activity * HISTOGRAM_BINS).astype(np.int64),
                                  HISTOGRAM_BINS - 1)
                self.profile.activity_counts[tr] += np.bincount(bins, minlength=HISTOGRAM_BINS)
            for tc in range(tc_n):
                codes = adc_convert(self._currents(p, tr, tc), step, bits)
                all_codes.append(codes.ravel())
                if record:
                    self.profile.add_codes(codes)
                m = codes.shape[1]
                per_cycle = scale * codes.reshape(enc.cycles, batch, m)
                out = np.tensordot(np.asarray(enc.plane_coefficients), per_cycle, axes=1)
                out += enc.weight_sum_coefficient * self._weight_sums[tr, tc, :m]
                y[:, tc * pairs: tc * pairs + m] += out
        if record:
            self._vectors += batch
            for value in (-1, 0, 1):
                self.profile.input_counts[value] += int(np.count_nonzero(v == value))
        y = y[:, :cols]
        codes_flat = np.concatenate(all_codes) if all_codes else np.zeros(0)
        return (y[0] if single else y), codes_flat

    def column_currents_a(self, x: ArrayLike, tile: tuple[int, int] = (0, 0)) -> FloatArray:
        """Physical column currents, amperes (cycles, batch, crossbar columns), of one tile for
        inputs x (batch, rows): what the circuit delivers before the pair subtraction."""
        v = self.encoding.planes(np.atleast_2d(np.asarray(x, dtype=np.float64)))
        tr, tc = tile
        if not (0 <= tr < self.grid[0] and 0 <= tc < self.grid[1]):
            raise ParameterError(f"tile = {tile!r} is out of range: allowed (0 ... "
                                 f"{self.grid[0] - 1}, 0 ... {self.grid[1] - 1})")
        r_x = self.crossbar[0]
        planes = np.zeros((*v.shape[:2], r_x))
        part = v[:, :, tr * r_x:(tr + 1) * r_x]
        planes[:, :, : part.shape[2]] = part
        i = self._solve(planes.reshape(-1, r_x) * self.v_read_v, tr, tc)
        return i.reshape(*planes.shape[:2], -1)

    def matmul(self, x: ArrayLike) -> FloatArray:
        """y ~ x @ weights for inputs x (batch, rows) or (rows,) in the encoding's alphabet."""
        return self._run(x, self.adc_bits, self.adc_scale, record=True)[0]

    def calibrate(self, x_profile: ArrayLike) -> float:
        """Set the layer scale s_l from profiling inputs (Cubero-Cascante et al. 2025, eqs. 6-7) and
        return it.

        The profile runs with an unclipped ADC at s_l = 1 (its codes are the dot products the
        columns deliver); y*_max = max(|mu - 3 sigma|, |mu + 3 sigma|) of those codes, and
        s_l = max(1, y*_max / (2^(b-1) - 1)). Profiling reads are not counted in ``stats``.
        With an ideal ADC (``adc_bits=None``) s_l is 1.
        """
        _, codes = self._run(x_profile, None, 1.0, record=False)
        self.adc_scale = layer_scale(calibration_target(codes), self.adc_bits)
        return self.adc_scale

    # -- counters --------------------------------------------------------------------------

    def reset_stats(self) -> None:
        """Zero the counters and the profile."""
        self._vectors = 0
        self._pulses = np.zeros(self.grid[0])
        self.profile = BinaryCoreProfile(
            activity_counts=np.zeros((self.grid[0], HISTOGRAM_BINS), dtype=np.int64),
            weight_counts={value: int(np.count_nonzero(self.weights == value))
                           for value in (-1, 0, 1)})

    @property
    def stats(self) -> BinaryCoreStats:
        """Counters and eq. 8 energies of every ``matmul`` since the last reset."""
        cycles = self.encoding.cycles
        reads = np.full(self.grid, self._vectors * cycles, dtype=np.int64)
        denom = (reads * self.active_rows).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_bar = np.where(denom > 0, self._pulses[:, None] / denom, 0.0)
        e_rd, e_adc, e_cell = tile_energy_j(
            reads, self.active_rows, self.active_cols, x_bar, self.g_bar_s,
            self.energy.e_rd_j(self.crossbar[1]), self.energy.e_adc_j(self.adc_bits,
                                                                       self.crossbar[0]),
            self.v_read_v, self.energy.t_read_sec)
        return BinaryCoreStats(
            vectors=self._vectors, cycles_per_vector=cycles, reads=reads,
            adc_conversions=reads * self.active_cols, active_rows=self.active_rows.copy(),
            active_cols=self.active_cols.copy(), x_bar=x_bar, g_bar_s=self.g_bar_s.copy(),
            row_driver_energy_j=e_rd, adc_energy_j=e_adc, cell_energy_j=e_cell,
            crossbar=self.crossbar,
        )

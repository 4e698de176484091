"""What an analog core's reads cost: crossbar reads, ADC conversions and energy per tile.

The energy follows Cubero-Cascante et al. 2025, eq. 8 with the periphery models of
:mod:`meliso.periphery.energy` (the same as :class:`meliso.core.BinaryCore`'s), per tile t::

    E_t = A_t E_RD + C_t E_ADC + T_R sum_reads sum_{r, c} v_r^2 g_rc

A_t row-driver actions (one per non-zero word-line voltage per crossbar read), C_t ADC
conversions (one per column signal per read: a differential pair or, in the reference mapping,
a column against the reference; bit slices each their own), E_RD scaled with the crossbar's
physical columns, E_ADC from the ADC's bits (an ideal ADC is charged at the bits a column's
full range needs), and the cells' Joule heat over the read pulse T_R exactly: each read's
word-line voltages v_r across the conductances g_rc of the tile (read noise aside). With
bit-serial inputs every plane is a read. Input DACs for analog inputs are not modelled.
MACs are logical: vectors x m x n per matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..periphery.energy import EnergyModel, PerMac

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class ReadCounters:
    """Counts of a programmed stack's reads, per tile (S, Tr, Tc), since the last reset."""

    shape: tuple[int, int, int]
    vectors: int = 0
    reads: IntArray = field(init=False)
    conversions: IntArray = field(init=False)
    row_actions: IntArray = field(init=False)
    cell_power_w: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.vectors = 0
        self.reads = np.zeros(self.shape, dtype=np.int64)
        self.conversions = np.zeros(self.shape, dtype=np.int64)
        self.row_actions = np.zeros(self.shape, dtype=np.int64)
        self.cell_power_w = np.zeros(self.shape)  # sum over reads of sum v^2 g, watts

    def add_read(self, v_in_v: FloatArray, g_row_sum_s: FloatArray, columns: IntArray) -> None:
        """One crossbar read of every vector: word-line voltages (S, Tr, B, R), the tiles' row
        sums of conductance (S, Tr, Tc, R), converted columns per tile (Tc,)."""
        batch = v_in_v.shape[-2]
        self.reads += batch
        self.conversions += batch * columns[None, None, :]
        self.row_actions += np.count_nonzero(v_in_v, axis=(-2, -1))[..., None]
        self.cell_power_w += np.einsum("stbr,stcr->stc", v_in_v * v_in_v, g_row_sum_s)


@dataclass(frozen=True)
class AnalogCoreStats(PerMac):
    """Reads, conversions and energy of an analog core since creation or its last reset
    (arrays per tile (Tr, Tc), summed over a stack's matrices; joules)."""

    vectors: int
    macs: int
    reads: IntArray
    adc_conversions: IntArray
    row_driver_energy_j: FloatArray
    adc_energy_j: FloatArray
    cell_energy_j: FloatArray
    physical_shape: tuple[int, int]
    used_rows: IntArray
    used_cols: IntArray

    @property
    def energy_j(self) -> float:
        return float((self.row_driver_energy_j + self.adc_energy_j + self.cell_energy_j).sum())

    def summary(self) -> dict[str, Any]:
        """Scalars for reports and JSON (the keys of :meth:`BinaryCoreStats.summary` that
        apply)."""
        rows, _ = self.physical_shape
        return {
            "vectors": self.vectors, "mvm_cycles": int(self.reads.sum()),
            "adc_conversions": int(self.adc_conversions.sum()), "tiles": int(self.reads.size),
            "macs": self.macs, "energy_j": self.energy_j,
            "energy_per_mac_j": self.energy_per_mac_j, "mac_per_joule": self.mac_per_joule,
            "row_driver_energy_j": float(self.row_driver_energy_j.sum()),
            "adc_energy_j": float(self.adc_energy_j.sum()),
            "cell_energy_j": float(self.cell_energy_j.sum()),
            "row_utilisation": float((self.used_rows / rows).mean()),
        }


def core_stats(counters: ReadCounters, energy: EnergyModel, *, adc_bits: int | None,
               physical_shape: tuple[int, int], m: int, n: int, tile_rows: int,
               tile_cols: int) -> AnalogCoreStats:
    """:class:`AnalogCoreStats` of ``counters`` with the periphery ``energy`` model."""
    rows, cols = physical_shape
    e_rd, e_adc = energy.e_rd_j(cols), energy.e_adc_j(adc_bits, rows)
    _, tr, tc = counters.shape
    used_rows = np.minimum(tile_rows, n - tile_rows * np.arange(tr))
    used_cols = np.minimum(tile_cols, m - tile_cols * np.arange(tc))
    return AnalogCoreStats(
        vectors=counters.vectors, macs=counters.vectors * m * n * counters.shape[0],
        reads=counters.reads.sum(axis=0), adc_conversions=counters.conversions.sum(axis=0),
        row_driver_energy_j=counters.row_actions.sum(axis=0) * e_rd,
        adc_energy_j=counters.conversions.sum(axis=0) * e_adc,
        cell_energy_j=counters.cell_power_w.sum(axis=0) * energy.t_read_sec,
        physical_shape=physical_shape, used_rows=used_rows, used_cols=used_cols)

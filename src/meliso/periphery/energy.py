"""CIM-core energy: row drivers, ADC conversions and cell reads (Cubero-Cascante et al. 2025,
§III-C, eqs. 8–9).

Per tile t (Cubero-Cascante et al. 2025, eq. 8)::

    E_t = O_t (N_t x_t E_RD + M_t E_ADC + N_t M_t x_t g_t V_R^2 T_R)

O_t crossbar reads (MVM cycles: input vectors x encoding cycles), N_t active rows (rows holding
weights), M_t active columns (differential pairs holding weights; one ADC conversion each per
read), x_t in [0, 1] the mean input pulse activity of the active rows, g_t the mean conductance
of a differential pair (g+ + g-, so that N_t M_t g_t is the conductance of all active cells),
V_R the read voltage and T_R the read pulse length. Per logical MAC (eq. 9) a tile costs
E_t / (vectors N_t M_t) = cycles (x_t E_RD / M_t + E_ADC / N_t + x_t g_t V_R^2 T_R): the row
drivers are shared by the columns, an ADC conversion by the rows, and a two-cycle (ternary)
encoding pays every term twice. (The paper's eq. 9 divides by O_t N_t M_t, which counts each of the
two cycles of T-I/T-II as MACs of their own; its text, where TNNs lose efficiency for needing two
cycles, needs MACs counted per input vector, as here. A matrix's energy per MAC is its total
energy over its total MACs.)

Defaults, each overridable (:class:`EnergyModel`):

- E_ADC: the Andrulis et al. 2024 model (arXiv:2404.06553; :func:`adc_energy_j`).
- E_RD: NeuroSim's row-driver energy as evaluated by CiMLoop's NeuroSim plug-in, 0.914 pJ per
  row-driver action for a 32 x 32 array at 65 nm, 1 V, 1 ns read pulse. NeuroSim has no constant for
  it (it follows the word line's capacitance), so E_RD here scales with the word line's length (the
  crossbar's physical columns / 32), with the node (tech_nm / 65, wire and gate capacitance per cell
  scale with the feature size) and with V_DD^2. A consequence to keep in mind: a small matrix on a
  large crossbar pays for the whole word line, so its energy per MAC rises with the crossbar once
  the columns are not filled (``row_driver_scales_with_columns= False`` charges the 32-column
  reference instead, a constant E_RD as in Cubero-Cascante et al.'s Fig. 5).
- T_R = 1 ns: no public default exists for Cubero-Cascante et al. 2025; 1 ns is the read pulse of
  the same NeuroSim evaluation that E_RD comes from, so the two terms describe one read.
- V_R = 0.2 V (Cubero-Cascante et al. 2025, CIM-Explorer's |V_read|) is the core's, not the model's.
"""

from __future__ import annotations

import math
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from .._validation import ParameterError

FloatArray = NDArray[np.float64]

# Andrulis et al. 2024 (arXiv:2404.06553), fit to Murmann's ADC survey
_SNDR_DB_PER_BIT, _SNDR_DB_OFFSET = 6.0206, 1.761
_FOM_THROUGHPUT = (213.7807, 2.87190)  # FOM_S <= a - b ln(f_s)
_FOM_CAP = (128.307, 3.2205)  # FOM_S <= c + d ceil(bits)
_ENERGY_FIT = (26.04962, 1.880037, -2.829126, -1.470202)  # exp(a + b ln(tech) + c ln(bits) + d)
ADC_MODEL_MIN_BITS = 4

# CiMLoop's NeuroSim plug-in: one row-driver action, 32 x 32 array, 65 nm, 1 V, 1 ns
E_RD_REFERENCE_J = 0.914e-12
E_RD_REFERENCE_COLS = 32
E_RD_REFERENCE_NM = 65.0


class _Counts(Protocol):
    @property
    def energy_j(self) -> float: ...

    @property
    def macs(self) -> int: ...


class PerMac:
    """Energy per MAC and MAC/J of a core's counters (a mixin for anything with ``energy_j``
    and ``macs``; Cubero-Cascante et al. 2025, eq. 9 over the whole core)."""

    @property
    def energy_per_mac_j(self: _Counts) -> float:
        """Total energy over total MACs (NaN before the first read)."""
        return self.energy_j / self.macs if self.macs else float("nan")

    @property
    def mac_per_joule(self: _Counts) -> float:
        """MACs per joule (NaN before the first read or without energy)."""
        return self.macs / self.energy_j if self.macs and self.energy_j > 0 else float("nan")


def adc_energy_j(bits: float, tech_nm: float = 32.0, sample_rate_hz: float = 1e8,
                 low_bits: Literal["extrapolate", "clamp"] = "extrapolate") -> float:
    """Energy per ADC conversion, joules (Andrulis et al. 2024, arXiv:2404.06553).

    SNDR = 6.0206 b + 1.761 dB; Schreier figure of merit FOM_S = min(213.7807 - 2.87190 ln
    f_s, 128.307 + 3.2205 ceil(b)); E0 = 10^((SNDR - FOM_S) / 10) / 2; E = E0 exp(26.04962 +
    1.880037 ln(tech_nm) - 2.829126 ln(b) - 1.470202) pJ. This is the whole energy of a
    conversion at the ADC's throughput: the reference implementation books 80 % of it per
    conversion and 20 % as leakage over the conversion time.

    Below 4 bits the reference implementation refuses. ``low_bits="extrapolate"`` (default)
    evaluates the same formula, whose ln(b) term then wins: 3 bits costs 1.18x as much as 4 bits
    (the fit has its minimum near 4-5 bits; the survey holds few such converters).
    ``"clamp"`` charges the 4-bit energy instead.

    Against published converters: ISAAC's 8-bit SAR (32 nm, 1.2 GS/s, 1.67 pJ) within 11 %;
    FORMS's 4-bit (32 nm, 2.1 GS/s, 0.226 pJ) and BRAHMS's 8-bit (40 nm, 0.291 pJ) 4.1x and 9x
    below the model, which is a survey trend, not a best-case design.
    """
    if not (bits > 0 and math.isfinite(bits)):
        raise ParameterError(f"bits = {bits!r} is out of range: allowed 0 < bits")
    if not tech_nm > 0 or not sample_rate_hz > 0:
        raise ParameterError("tech_nm and sample_rate_hz must be > 0")
    if low_bits not in ("extrapolate", "clamp"):
        raise ParameterError(f"low_bits = {low_bits!r}: allowed 'extrapolate' or 'clamp'")
    if low_bits == "clamp":
        bits = max(bits, ADC_MODEL_MIN_BITS)
    sndr = _SNDR_DB_PER_BIT * bits + _SNDR_DB_OFFSET
    fom = min(_FOM_THROUGHPUT[0] - _FOM_THROUGHPUT[1] * math.log(sample_rate_hz),
              _FOM_CAP[0] + _FOM_CAP[1] * math.ceil(bits))
    e0 = 10 ** ((sndr - fom) / 10) / 2
    a, b, c, d = _ENERGY_FIT
    return e0 * math.exp(a + b * math.log(tech_nm) + c * math.log(bits) + d) * 1e-12


def row_driver_energy_j(crossbar_cols: int, tech_nm: float = 32.0, v_dd_v: float = 1.0,
                        reference_j: float = E_RD_REFERENCE_J) -> float:
    """Energy of one row-driver action, joules: the NeuroSim reference (0.914 pJ, 32 columns,
    65 nm, 1 V) scaled with the word line's length, the node and V_DD^2 (module docstring)."""
    return (reference_j * (crossbar_cols / E_RD_REFERENCE_COLS) * (tech_nm / E_RD_REFERENCE_NM)
            * v_dd_v**2)


class EnergyModel(BaseModel):
    """Energy constants of Cubero-Cascante et al. 2025, eq. 8; every default cited in the module
    docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    tech_nm: float = Field(32.0, ge=1, le=1000, description="CMOS node of ADC and row drivers, nm")
    adc_sample_rate_hz: float = Field(1e8, gt=0, le=1e12,
                                      description="ADC conversions per second")
    adc_low_bits: Literal["extrapolate", "clamp"] = Field(
        "extrapolate", description="ADC model below 4 bits (adc_energy_j)")
    adc_energy_j: float | None = Field(None, ge=0, description="energy per conversion, J "
                                       "(None: the Andrulis et al. 2024 model)")
    row_driver_energy_j: float | None = Field(None, ge=0, description="energy per row-driver "
                                              "action, J (None: scaled NeuroSim reference)")
    row_driver_scales_with_columns: bool = Field(
        True, description="E_RD proportional to the crossbar's columns (else the 32-column "
                          "reference for any crossbar)")
    v_dd_v: float = Field(1.0, gt=0, le=5, description="row-driver supply, V")
    t_read_sec: float = Field(1e-9, gt=0, le=1e-3, description="read pulse length T_R, s")

    def e_adc_j(self, bits: int | None, crossbar_rows: int) -> float:
        """E_ADC for ``bits``; an ideal ADC (``None``) is charged at full precision: a differential
        column of N_X rows spans -N_X ... N_X, which a signed symmetric ADC holds in ceil(log2(2 N_X
        + 1)) bits (Cubero-Cascante et al. 2025, §III-B's log2(N_X + 1) counts one sign), and never
        fewer than the model's 4."""
        if self.adc_energy_j is not None:
            return self.adc_energy_j
        if bits is None:
            bits = max(ADC_MODEL_MIN_BITS, math.ceil(math.log2(2 * crossbar_rows + 1)))
        return adc_energy_j(bits, self.tech_nm, self.adc_sample_rate_hz, self.adc_low_bits)

    def e_rd_j(self, crossbar_cols: int) -> float:
        """E_RD for a crossbar with ``crossbar_cols`` physical columns."""
        if self.row_driver_energy_j is not None:
            return self.row_driver_energy_j
        cols = crossbar_cols if self.row_driver_scales_with_columns else E_RD_REFERENCE_COLS
        return row_driver_energy_j(cols, self.tech_nm, self.v_dd_v)


def tile_energy_j(reads: ArrayLike, active_rows: ArrayLike, active_cols: ArrayLike,
                  x_bar: ArrayLike, g_bar_s: ArrayLike, e_rd_j: float, e_adc_j: float,
                  v_read_v: float, t_read_sec: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cubero-Cascante et al. 2025, eq. 8 per tile, split into (row drivers, ADC, cells), joules
    each.

    ``reads`` O_t, ``active_rows`` N_t, ``active_cols`` M_t (pairs), ``x_bar`` x_t,
    ``g_bar_s`` g_t (siemens per pair); arrays broadcast (one entry per tile).
    """
    o = np.asarray(reads, dtype=np.float64)
    n = np.asarray(active_rows, dtype=np.float64)
    m = np.asarray(active_cols, dtype=np.float64)
    x = np.asarray(x_bar, dtype=np.float64)
    g = np.asarray(g_bar_s, dtype=np.float64)
    return (o * n * x * e_rd_j, o * m * e_adc_j, o * n * m * x * g * v_read_v**2 * t_read_sec)

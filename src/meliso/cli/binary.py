"""``meliso core``: binary/ternary populations on a binary 1T1R core (Cubero-Cascante et al.)."""

from __future__ import annotations

from typing import Annotated

import typer

from .._validation import ParameterError, validate_model
from ..circuit import Wires
from ..periphery.energy import EnergyModel
from ..workloads import binary_vmm_population
from ._common import JsonOpt, SeedOpt, command, parse_shape, show

Technology = Annotated[str, typer.Option(help="binary device (Table III)")]
Encoding = Annotated[str, typer.Option(help="B-I | B-II | T-I | T-II (Table I)")]
Crossbar = Annotated[int, typer.Option(
    min=2, max=8192, help="crossbar size N (N x N cells, N/2 weights per row)")]
AdcBits = Annotated[int | None, typer.Option(help="ADC resolution in bits (default: ideal)")]
RWire = Annotated[float, typer.Option(
    help="bit-line segment resistance R_p per cell, ohm (the paper's Algorithm 1)")]
RWordline = Annotated[float, typer.Option(
    help="word-line segment resistance per cell, ohm (solved by nodal analysis)")]
Circuit = Annotated[str, typer.Option(help="auto | chain | ladder | nodal")]
CellIV = Annotated[str, typer.Option(
    help="cell I-V: linear | sinh-hfox (I = G V0 sinh(V/V0); solved by Newton with the wires)")]
CellV0 = Annotated[float | None, typer.Option(help="sinh cells: V0, volts (default: the "
                                                   "preset's)")]
Access = Annotated[str, typer.Option(
    help="access transistor: device (the technology's fixed resistance) | none | nmos-65nm-l1 "
         "(a level-1 NMOS)")]
VGate = Annotated[float | None, typer.Option(help="MOSFET access: gate voltage of a selected "
                                                  "row, volts (default: the preset's)")]
Size = Annotated[str, typer.Option(help="matrix INPUTSxOUTPUTS (default: LeNet-5's average, "
                                        "Table II)")]
Vectors = Annotated[int, typer.Option(min=1, help="random input vectors")]
ProfileVectors = Annotated[int, typer.Option(
    min=1, help="profiling vectors for the ADC calibration (eqs. 6-7)")]
Calibrate = Annotated[bool, typer.Option(
    help="calibrate the layer scale s_l when the ADC has finite bits")]
Weights = Annotated[str, typer.Option(
    help="binary | ternary | auto (binary for B-*, ternary for T-*)")]
ZeroFraction = Annotated[float, typer.Option(help="share of zeros in ternary operands")]
TechNm = Annotated[float, typer.Option(help="CMOS node of ADC and row drivers, nm")]
RowDriver = Annotated[str, typer.Option(
    help="row-driver energy: per-column (scales with the word line) | constant")]
ROW_DRIVERS = {"per-column": True, "constant": False}


@command("core")
def core_cmd(technology: Technology = "ReRAM-1", encoding: Encoding = "T-I",
             crossbar: Crossbar = 128, adc_bits: AdcBits = None, r_wire: RWire = 0.0,
             r_wordline_ohm: RWordline = 0.0, circuit: Circuit = "auto",
             cell_iv: CellIV = "linear", cell_v0_v: CellV0 = None, access: Access = "device",
             v_gate_v: VGate = None, size: Size = "286x64",
             vectors: Vectors = 1000, profile_vectors: ProfileVectors = 200,
             calibrate: Calibrate = True, weights: Weights = "auto",
             zero_fraction: ZeroFraction = 1 / 3, tech_nm: TechNm = 32.0,
             row_driver: RowDriver = "per-column", seed: SeedOpt = 0,
             as_json: JsonOpt = False) -> None:
    """Binary/ternary matrix-vector population on a binary 1T1R core: error against the exact
    integer product, energy per MAC (eqs. 8-9) and column utilisation."""
    if row_driver not in ROW_DRIVERS:
        raise ParameterError(f"--row-driver = {row_driver!r}: allowed per-column or constant")
    wires = validate_model(Wires, {"r_bitline_ohm": r_wire, "r_wordline_ohm": r_wordline_ohm,
                                   "circuit": circuit, "cell_iv": cell_iv,
                                   "cell_v0_v": cell_v0_v, "access": access,
                                   "v_gate_v": v_gate_v})
    energy = validate_model(EnergyModel, {"tech_nm": tech_nm, "row_driver_scales_with_columns":
                                          ROW_DRIVERS[row_driver]})
    pop = binary_vmm_population(
        technology, encoding, crossbar, adc_bits, size=parse_shape(size, "--size"),
        vectors=vectors, profile_vectors=profile_vectors, weights=weights,  # type: ignore[arg-type]
        zero_fraction=zero_fraction, calibrate=calibrate, wires=wires, seed=seed, energy=energy)
    show(f"Binary core: {technology}, {encoding}, crossbar {crossbar}x{crossbar}, ADC "
         f"{'ideal' if adc_bits is None else f'{adc_bits} bits'}", pop.summary(), as_json)

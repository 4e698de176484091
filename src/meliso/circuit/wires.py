"""The wires of a crossbar, as one validated object: segment resistances, solver, topology,
and the I-V of its elements (the cell's and the access transistor's, :mod:`meliso.circuit.iv`).

Every core takes its wires from here (:class:`meliso.core.AnalogCoreConfig` extends :class:`Wires`,
:class:`meliso.core.BinaryCore` takes one), so the fields, their ranges and the rules of which
solver takes which wires (:func:`meliso.circuit.solve.check_wires`) are defined once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .checks import MAX_SEGMENT_OHM, check_wires
from .iv import ACCESS_PRESETS, CELL_PRESETS, AccessIV, CellIV, FixedAccess, Level1NMOS, SinhCell

#: ``access`` of a crossbar whose transistor is the device's own ``r_access_ohm`` resistor.
DEVICE_ACCESS = "device"


class Wires(BaseModel):
    """Wire parasitics of a crossbar and how its currents are solved (frozen, validated)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    r_bitline_ohm: float = Field(
        0.0, ge=0, le=MAX_SEGMENT_OHM,
        description="bit-line wire resistance per cell segment, ohm (0, or at least 1e-12)",
    )
    r_wordline_ohm: float = Field(
        0.0, ge=0, le=MAX_SEGMENT_OHM,
        description="word-line wire resistance per cell segment, ohm (0, or at least 1e-12)",
    )
    circuit: Literal["auto", "ideal", "chain", "ladder", "nodal"] = Field(
        "auto", description="circuit solver (meliso.circuit.solve_currents)"
    )
    topology: Literal["1t1r", "passive"] = Field(
        "1t1r", description="1t1r: rows at 0 V switched off; passive: every cell connected"
    )

    cell_iv: str = Field(
        "linear", description="cell I-V: a preset of meliso.circuit.iv.CELL_PRESETS (linear: "
        "Ohm's law; sinh-hfox: I = G V0 sinh(V/V0), V0 = 0.25 V)"
    )
    cell_v0_v: float | None = Field(
        None, ge=1e-3, le=100.0, description="sinh cells: V0, volts (None: the preset's)"
    )
    access: str = Field(
        DEVICE_ACCESS, description="access transistor: 'device' (the device's r_access_ohm, a "
        "fixed resistor) or a preset of meliso.circuit.iv.ACCESS_PRESETS (nmos-65nm-l1: a "
        "level-1 NMOS)"
    )
    v_gate_v: float | None = Field(
        None, ge=-10.0, le=10.0, description="MOSFET access: gate voltage of a selected row, "
        "volts (None: the preset's)"
    )

    @property
    def nonlinear(self) -> bool:
        """Whether a cell's current is not its conductance times its voltage."""
        return self.cell_iv != "linear" or self.access != DEVICE_ACCESS

    @property
    def no_parasitics(self) -> bool:
        """No wire resistance, linear elements and an ideal (or automatic) solver: currents
        are I = V G."""
        return self.r_bitline_ohm == 0 and self.r_wordline_ohm == 0 and self.circuit in (
            "auto", "ideal") and not self.nonlinear

    def elements(self, r_access_ohm: float) -> tuple[CellIV, AccessIV]:
        """The cell and access models of these settings; ``r_access_ohm``: the device's, for
        ``access = 'device'``."""
        cell: CellIV = CELL_PRESETS[self.cell_iv]["model"]  # type: ignore[assignment]
        if self.cell_v0_v is not None and isinstance(cell, SinhCell):
            cell = SinhCell(v0_v=self.cell_v0_v)
        if self.access == DEVICE_ACCESS:
            return cell, FixedAccess(r_access_ohm)
        access: AccessIV = ACCESS_PRESETS[self.access]["model"]  # type: ignore[assignment]
        if self.v_gate_v is not None and isinstance(access, Level1NMOS):
            import dataclasses

            access = dataclasses.replace(access, v_gate_v=self.v_gate_v)
        return cell, access

    @model_validator(mode="after")
    def _elements(self) -> Wires:
        if self.cell_iv not in CELL_PRESETS:
            raise ValueError(f"cell_iv = {self.cell_iv!r}: allowed {', '.join(CELL_PRESETS)}")
        if self.access != DEVICE_ACCESS and self.access not in ACCESS_PRESETS:
            raise ValueError(f"access = {self.access!r}: allowed {DEVICE_ACCESS}, "
                             f"{', '.join(ACCESS_PRESETS)}")
        cell = CELL_PRESETS[self.cell_iv]["model"]
        if self.cell_v0_v is not None and not isinstance(cell, SinhCell):
            raise ValueError(f"cell_v0_v is for sinh cells; cell_iv = {self.cell_iv!r} has no "
                             "V0: allowed cell_v0_v = None")
        acc = ACCESS_PRESETS.get(self.access, {}).get("model")
        if self.v_gate_v is not None and not isinstance(acc, Level1NMOS):
            raise ValueError(f"v_gate_v is for a MOSFET access; access = {self.access!r} has "
                             "no gate: allowed v_gate_v = None")
        if self.nonlinear and self.circuit == "chain":
            raise ValueError("circuit 'chain' (Algorithm 1) is for linear cells: with cell_iv/"
                             "access use 'auto' or 'nodal'")
        return self

    @model_validator(mode="after")
    def _solvable(self) -> Wires:
        check_wires(self.r_bitline_ohm, self.r_wordline_ohm, self.circuit, self.topology,
                    label="circuit")
        return self

    def wires(self) -> Wires:
        """These settings' wires alone (for a config that extends :class:`Wires`)."""
        return Wires(r_bitline_ohm=self.r_bitline_ohm, r_wordline_ohm=self.r_wordline_ohm,
                     circuit=self.circuit, topology=self.topology, cell_iv=self.cell_iv,
                     cell_v0_v=self.cell_v0_v, access=self.access, v_gate_v=self.v_gate_v)

"""The wires of a crossbar, as one validated object: segment resistances, solver, topology.

Every core takes its wires from here (:class:`meliso.core.AnalogCoreConfig` extends :class:`Wires`,
:class:`meliso.core.BinaryCore` takes one), so the fields, their ranges and the rules of which
solver takes which wires (:func:`meliso.circuit.solve.check_wires`) are defined once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .solve import MAX_SEGMENT_OHM, check_wires


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

    @property
    def no_parasitics(self) -> bool:
        """No wire resistance and an ideal (or automatic) solver: currents are I = V G."""
        return self.r_bitline_ohm == 0 and self.r_wordline_ohm == 0 and self.circuit in (
            "auto", "ideal")

    @model_validator(mode="after")
    def _solvable(self) -> Wires:
        check_wires(self.r_bitline_ohm, self.r_wordline_ohm, self.circuit, self.topology,
                    label="circuit")
        return self

    def wires(self) -> Wires:
        """These settings' wires alone (for a config that extends :class:`Wires`)."""
        return Wires(r_bitline_ohm=self.r_bitline_ohm, r_wordline_ohm=self.r_wordline_ohm,
                     circuit=self.circuit, topology=self.topology)

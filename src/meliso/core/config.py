"""Settings of an analog core: mapping, tiling, input encoding, programming and decoding."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..circuit.solve import check_wires


class CoreConfig(BaseModel):
    """Validated settings of :class:`meliso.core.AnalogCore` (frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    model: Literal["physics", "neurosim"] = Field(
        "physics",
        description="meliso's device physics, or MELISO's NeuroSim read path bit for bit",
    )
    mapping: Literal["differential", "reference"] | None = Field(
        None,
        description="weight mapping: G+/G- pairs, or one device + reference "
        "(default: differential for physics, reference for neurosim)",
    )
    tile_rows: int = Field(
        32, ge=1, le=8192,
        description="crossbar rows (inputs) per tile (physics; neurosim: one array per matrix)",
    )
    tile_cols: int = Field(32, ge=1, le=8192, description="outputs per tile (physics)")
    input_bits: int | None = Field(
        None, ge=1, le=24,
        description="bit-serial input bits (default: analog for physics, 10 for neurosim)",
    )
    input_range: float | None = Field(
        None, gt=0, description="input full scale (None: each vector's own max |x|)"
    )
    weight_range: float | None = Field(
        None, gt=0, description="weight full scale (None: each tile's own max |A|)"
    )
    weight_slices: int | None = Field(
        None, ge=1, le=52,
        description="devices per weight magnitude (bit slicing; default 8 for binary devices)",
    )
    bits_per_slice: int | None = Field(
        None, ge=1, le=24,
        description="bits per slice (binary devices: 1; analog default: fit the device levels)",
    )
    r_bitline_ohm: float = Field(
        0.0, ge=0, le=1e6,
        description="bit-line wire resistance per cell segment, ohm (0, or at least 1e-12)",
    )
    r_wordline_ohm: float = Field(
        0.0, ge=0, le=1e6,
        description="word-line wire resistance per cell segment, ohm (0, or at least 1e-12)",
    )
    circuit: Literal["auto", "ideal", "chain", "ladder", "nodal"] = Field(
        "auto", description="circuit solver (meliso.circuit.solve_currents)"
    )
    topology: Literal["1t1r", "passive"] = Field(
        "1t1r", description="1t1r: rows at 0 V switched off; passive: every cell connected"
    )
    calibration: Literal["none", "two-point"] | None = Field(
        None,
        description="decode: nominal scale, or MELISO's per-row two-point calibration "
        "(default: none for physics, two-point for neurosim)",
    )
    calibration_t_max: float = Field(1.0, gt=0, description="two-point calibration high input")
    calibration_t_min: float = Field(0.5, ge=0, description="two-point calibration low input")
    programming: Literal["open-loop", "write-verify"] = Field(
        "open-loop", description="open-loop pulses (NeuroSim's write) or write-and-verify"
    )
    verify_tolerance_frac: float | None = Field(
        None, gt=0, le=1, description="write-verify tolerance, fraction of the window"
    )
    verify_max_iterations: int = Field(21, ge=1, le=10_000, description="write-verify writes")
    verify_max_pulses: int | None = Field(
        None, ge=1, description="write-verify pulse budget per cell"
    )

    @property
    def resolved_mapping(self) -> Literal["differential", "reference"]:
        """The mapping in force: the model's default unless one was chosen."""
        if self.mapping is not None:
            return self.mapping
        return "reference" if self.model == "neurosim" else "differential"

    @property
    def resolved_calibration(self) -> Literal["none", "two-point"]:
        """The calibration in force: the model's default unless one was chosen."""
        if self.calibration is not None:
            return self.calibration
        return "two-point" if self.model == "neurosim" else "none"

    @model_validator(mode="after")
    def _neurosim_options(self) -> CoreConfig:
        if self.model != "neurosim":
            return self
        wrong = {
            "mapping": (self.mapping not in (None, "reference"), "'reference' (one device per "
                        "entry against NeuroSim's nominal mid current)"),
            "programming": (self.programming != "open-loop", "'open-loop' (NeuroSim has no "
                            "write-and-verify)"),
            "weight_slices": (self.weight_slices not in (None, 1), "1"),
            "bits_per_slice": (self.bits_per_slice is not None, "None"),
            "weight_range": (self.weight_range not in (None, 1.0), "1 (weights in [-1, 1])"),
            "input_range": (self.input_range not in (None, 1.0), "1 (inputs in [0, 1], wrapped "
                            "beyond)"),
            "r_bitline_ohm": (self.r_bitline_ohm != 0, "0 (NeuroSim's own wire model applies)"),
            "r_wordline_ohm": (self.r_wordline_ohm != 0, "0 (NeuroSim's own wire model "
                               "applies)"),
            "circuit": (self.circuit not in ("auto", "ideal"), "'auto'"),
            "topology": (self.topology != "1t1r", "'1t1r'"),
        }
        for field, (bad, allowed) in wrong.items():
            if bad:
                raise ValueError(
                    f"{field} = {getattr(self, field)!r} is not available with model = "
                    f"'neurosim': allowed {field} = {allowed}"
                )
        return self

    @model_validator(mode="after")
    def _calibration_points(self) -> CoreConfig:
        if self.calibration_t_min >= self.calibration_t_max:
            raise ValueError(
                "calibration_t_min must be below calibration_t_max "
                f"(got {self.calibration_t_min} and {self.calibration_t_max})"
            )
        # the calibration inputs must be representable: NeuroSim's inputs wrap beyond 1, and a
        # fixed physics input range clips nothing but refuses larger inputs
        limit = 1.0 if self.model == "neurosim" else self.input_range
        if self.resolved_calibration == "two-point" and limit is not None \
                and self.calibration_t_max > limit:
            what = "neurosim's input range" if self.model == "neurosim" else "input_range"
            raise ValueError(
                f"calibration_t_max = {self.calibration_t_max} is out of range: allowed "
                f"calibration_t_max <= {limit:g} ({what})"
            )
        return self

    @model_validator(mode="after")
    def _wires(self) -> CoreConfig:
        check_wires(self.r_bitline_ohm, self.r_wordline_ohm, self.circuit, self.topology,
                    label="circuit")
        return self

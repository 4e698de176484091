"""Settings of an analog core: mapping, tiling, input encoding, programming and decoding."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CoreConfig(BaseModel):
    """Validated settings of :class:`meliso.core.AnalogCore` (frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mapping: Literal["differential", "reference"] = Field(
        "differential", description="weight mapping: G+/G- pairs, or one device + reference column"
    )
    tile_rows: int = Field(32, ge=1, le=8192, description="crossbar rows (inputs) per tile")
    tile_cols: int = Field(32, ge=1, le=8192, description="outputs per tile")
    input_bits: int | None = Field(
        None, ge=1, le=24, description="bit-serial input bits (None: analog read voltages)"
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
    calibration: Literal["none", "two-point"] = Field(
        "none", description="decode: nominal scale, or MELISO's per-row two-point calibration"
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

    @model_validator(mode="after")
    def _calibration_points(self) -> CoreConfig:
        if self.calibration_t_min >= self.calibration_t_max:
            raise ValueError(
                "calibration_t_min must be below calibration_t_max "
                f"(got {self.calibration_t_min} and {self.calibration_t_max})"
            )
        return self

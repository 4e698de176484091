"""Settings of an analog core: mapping, tiling, input encoding, programming and decoding."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ..circuit.wires import Wires
from .readmodel import ReadModel, model_names, read_model


class AnalogCoreConfig(Wires):
    """Validated settings of :class:`meliso.core.AnalogCore` (frozen); the wire fields and
    their rules are :class:`meliso.circuit.Wires`'."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    model: str = Field(
        "physics",
        description="read model: physics (meliso's device physics) or neurosim (MELISO's "
        "NeuroSim read path, bit for bit); see meliso.core.readmodel",
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
    calibration: Literal["none", "two-point"] | None = Field(
        None,
        description="decode: nominal scale, or MELISO's per-row two-point calibration "
        "(default: none for physics, two-point for neurosim)",
    )
    calibration_t_max: float = Field(1.0, gt=0, description="two-point calibration high input")
    calibration_t_min: float = Field(0.5, ge=0, description="two-point calibration low input")
    adc_bits: int | None = Field(
        None, ge=2, le=24,
        description="output ADC bits per column (None: ideal, no quantisation)",
    )
    adc_full_scale: float | None = Field(
        None, gt=0, le=1e6,
        description="ADC full scale, in units of one cell pair at full weight and full input "
        "(None: tile_rows, the largest sum a column reaches; AnalogCore.calibrate_adc sets it "
        "from data)",
    )
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
    def read_model(self) -> ReadModel:
        """The read model this core uses (from the registry)."""
        return read_model(self.model)

    def _resolved(self, field: str) -> Any:
        value = getattr(self, field)
        return self.read_model.defaults.get(field) if value is None else value

    @property
    def resolved_mapping(self) -> Literal["differential", "reference"]:
        """The mapping in force: the read model's default unless one was chosen."""
        value: Literal["differential", "reference"] = self._resolved("mapping")
        return value

    @property
    def resolved_calibration(self) -> Literal["none", "two-point"]:
        """The calibration in force: the read model's default unless one was chosen."""
        value: Literal["none", "two-point"] = self._resolved("calibration")
        return value

    @property
    def resolved_input_bits(self) -> int | None:
        """Bit-serial input bits in force (None: analog inputs)."""
        value: int | None = self._resolved("input_bits")
        return value

    @property
    def resolved_input_range(self) -> float | None:
        """Input full scale in force (None: each vector's own peak)."""
        value: float | None = self._resolved("input_range")
        return value

    @field_validator("model")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in model_names():
            raise ValueError(f"model = {name!r}: allowed {', '.join(model_names())}")
        return name

    @model_validator(mode="after")
    def _model_options(self) -> AnalogCoreConfig:
        """Settings the read model cannot model are refused, as its ``refuses`` says."""
        for field, allowed in self.read_model.refuses.items():
            value = getattr(self, field)
            if not allowed.admits(value):
                raise ValueError(f"{field} = {value!r} is not available with model = "
                                 f"'{self.model}': allowed {field} = {allowed.text}")
        return self

    @model_validator(mode="after")
    def _calibration_points(self) -> AnalogCoreConfig:
        if self.calibration_t_min >= self.calibration_t_max:
            raise ValueError(
                "calibration_t_min must be below calibration_t_max "
                f"(got {self.calibration_t_min} and {self.calibration_t_max})"
            )
        # the calibration inputs must be representable within the input range in force
        limit = self.resolved_input_range
        if self.resolved_calibration == "two-point" and limit is not None \
                and self.calibration_t_max > limit:
            what = "input_range" if self.input_range is not None else \
                f"the {self.model} model's input range"
            raise ValueError(
                f"calibration_t_max = {self.calibration_t_max} is out of range: allowed "
                f"calibration_t_max <= {limit:g} ({what})"
            )
        return self

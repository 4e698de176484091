"""What every device shares: identity and the read path the core relies on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DeviceBase(BaseModel):
    """Fields common to analog and binary devices (SI units). Frozen; validated on creation."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field("custom", description="preset name")
    citation: str = Field("", description="source of the parameters")
    sigma_read: float = Field(
        0.0, ge=0, lt=1, description="read noise, relative sigma of the cell resistance per read"
    )
    r_access_ohm: float = Field(
        0.0, ge=0, le=1e9, description="access-transistor resistance in series, ohm"
    )

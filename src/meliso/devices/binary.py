"""Binary LRS/HRS device for 1T1R binary crossbars (Cubero-Cascante et al. 2025, §II-B, Table III).

A cell stores one bit: low-resistance state (LRS, logic 1) or high-resistance state (HRS, logic 0).
The unitary current step of a differential pair is Delta_I = I_LRS - I_HRS (Cubero-Cascante et al.
2025, eq. 3). Optional log-normal programming spread and per-read noise make the states imperfect;
both default to zero (Table III lists nominal values only).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, model_validator

from .base import DeviceBase
from .programming import ProgramResult

FloatArray = NDArray[np.float64]


class BinaryDevice(DeviceBase):
    """Parameters of a binary (two-state) resistive device. Frozen; validated on creation."""

    kind: Literal["binary"] = "binary"
    technology: str = Field("", description="device technology (ReRAM, PCM, ...)")
    r_lrs_ohm: float = Field(ge=1, le=1e12, description="low-resistance state, ohm")
    r_hrs_ohm: float = Field(ge=1, le=1e13, description="high-resistance state, ohm")
    sigma_program: float = Field(
        0.0, ge=0, le=2, description="log-normal sigma of the programmed resistance"
    )
    v_read_v: float = Field(0.2, ge=1e-3, le=10, description="read voltage, V")

    @model_validator(mode="after")
    def _hrs_above_lrs(self) -> BinaryDevice:
        if self.r_hrs_ohm <= self.r_lrs_ohm:
            raise ValueError(
                f"r_hrs_ohm ({self.r_hrs_ohm:g}) must exceed r_lrs_ohm ({self.r_lrs_ohm:g})"
            )
        return self

    @property
    def g_lrs_s(self) -> float:
        """LRS conductance, siemens."""
        return 1.0 / self.r_lrs_ohm

    @property
    def g_hrs_s(self) -> float:
        """HRS conductance, siemens."""
        return 1.0 / self.r_hrs_ohm

    @property
    def on_off_ratio(self) -> float:
        """R_HRS / R_LRS."""
        return self.r_hrs_ohm / self.r_lrs_ohm


def program_binary_array(
    device: BinaryDevice, target_frac: FloatArray, rng: np.random.Generator | None = None
) -> ProgramResult:
    """Program cells whose target fraction is 1 to LRS and 0 to HRS (from a RESET array).

    ``target_frac`` must hold only 0 and 1 (a binary cell has no intermediate state); every LRS
    cell costs one SET pulse.
    """
    t = np.asarray(target_frac, dtype=np.float64)
    if t.size and not np.all((t == 0.0) | (t == 1.0)):
        raise ValueError("binary devices store 0 or 1; target fractions must be 0 or 1")
    states = t == 1.0
    ones = np.broadcast_to(np.int64(1), t.shape)
    return ProgramResult(g_s=program_binary(device, states, rng),
                         pulses=states.astype(np.int64), iterations=ones, converged=None)


def program_binary(
    device: BinaryDevice, states: ArrayLike, rng: np.random.Generator | None = None
) -> FloatArray:
    """Conductances (siemens) of cells set to LRS where ``states`` is true, HRS elsewhere.

    With ``sigma_program > 0`` each cell's resistance is the nominal one times
    exp(Normal(0, sigma_program)).
    """
    s = np.asarray(states, dtype=bool)
    r = np.where(s, device.r_lrs_ohm, device.r_hrs_ohm)
    if device.sigma_program > 0:
        if rng is None:
            raise ValueError("a random generator is needed when sigma_program > 0")
        r = r * np.exp(device.sigma_program * rng.standard_normal(r.shape))
    return 1.0 / r

"""What a core will be, decided before anything is allocated: settings, slicing, shapes, bytes.

:func:`plan_core` validates a device and core settings together (every rule that involves
both: binary devices, slicing, the reference column, what the read model refuses) and works
out the physical layout of a stack of matrices, from the read model
(:mod:`meliso.core.readmodel`). :class:`~meliso.core.AnalogCore` builds from a plan; sweeps
validate every point with plans alone (no array is allocated); and the memory a core will need
is estimated from its plan before it is built.

Memory (measured with tracemalloc over the preset devices, tilings, slicings, mappings and
programming modes; ``benchmarks/memory.py``): programming peaks at about 7 float64 per
physical cell open loop and 14 with write-and-verify (the verify loop keeps targets, reads and
pulse counts); NeuroSim's arrays at about 5 per cell. Each read model states its own bytes per
cell, rounded up. A read of B vectors holds the column currents of every tile for every vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._validation import ParameterError, validate_model
from ..devices import AnalogDevice, Device
from ..mapping import Slicing, reference_level
from .config import AnalogCoreConfig


def reference_fraction(dev: Device) -> float:
    """Window fraction of the reference level (the nominal mid state) of ``dev``."""
    if isinstance(dev, AnalogDevice):
        return reference_level(dev.g_init_frac, dev.levels_ltp, dev.levels_ltd)
    return 0.5


@dataclass(frozen=True)
class CorePlan:
    """A validated core: its settings, slicing and physical layout for a stack of matrices."""

    config: AnalogCoreConfig
    device: Device
    slicing: Slicing
    stack: int
    m: int
    n: int

    @property
    def mapping(self) -> Literal["differential", "reference"]:
        return self.config.resolved_mapping

    @property
    def grid(self) -> tuple[int, int]:
        """(Tr, Tc): tiles along the inputs and along the outputs."""
        return self.config.read_model.grid(self.m, self.n, self.config)

    @property
    def physical_shape(self) -> tuple[int, int]:
        """(rows, columns) of one physical crossbar tile."""
        return self.config.read_model.physical_shape(self.m, self.n, self.config, self.slicing)

    @property
    def cells(self) -> int:
        """Physical cells of the whole stack."""
        tr, tc = self.grid
        rows, cols = self.physical_shape
        return self.stack * tr * tc * rows * cols

    def program_bytes(self) -> int:
        """Peak memory of programming the stack (see the module docstring)."""
        per_cell = self.config.read_model.bytes_per_cell(self.config)
        return per_cell * self.cells + 8 * 4 * self.stack * self.m * self.n

    def read_bytes(self, batch: int) -> int:
        """Peak memory of reading ``batch`` vectors per matrix (currents of every tile)."""
        tr, tc = self.grid
        rows, cols = self.physical_shape
        per_vector = self.stack * tr * (tc * cols * 3 + rows * 2) + self.stack * self.m * 2
        return 8 * batch * per_vector


def plan_core(shape: tuple[int, int, int], device: Device,
              settings: Mapping[str, Any] | AnalogCoreConfig) -> CorePlan:
    """Validate ``device`` with core ``settings`` for a stack ``shape`` = (S, m, n)."""
    cfg = (settings if isinstance(settings, AnalogCoreConfig)
           else validate_model(AnalogCoreConfig, settings))
    slicing = cfg.read_model.check(device, cfg)
    s, m, n = shape
    return CorePlan(cfg, device, slicing, int(s), int(m), int(n))


#: Smallest relative read contrast g_eff(high) / g_eff(low) - 1 a core can decode: below it the
#: step Delta_I between the states drowns in float64 round-off of the column currents.
MIN_READ_CONTRAST = 1e-9


def state_bounds(dev: Device) -> tuple[float, float]:
    """(highest, lowest) conductance a cell can hold, siemens."""
    if isinstance(dev, AnalogDevice):
        return dev.g_max_s, dev.g_min_s
    return dev.g_lrs_s, dev.g_hrs_s


def check_read_contrast(dev: Device) -> None:
    """Refuse a device whose access resistance hides its memory window.

    A cell reads g_eff = 1 / (1/G + R_access) (the access transistor in series); the decode
    divides by V_read (g_eff(G_high) - g_eff(G_low)). When R_access >> 1/G the two states
    read alike and that step is lost to round-off: every output would be inf or NaN.
    """
    g_hi, g_lo = state_bounds(dev)
    eff_hi = 1.0 / (1.0 / g_hi + dev.r_access_ohm)
    eff_lo = 1.0 / (1.0 / g_lo + dev.r_access_ohm)
    contrast = eff_hi / eff_lo - 1.0
    if not contrast >= MIN_READ_CONTRAST:
        raise ParameterError(
            f"device '{dev.name}': r_access_ohm = {dev.r_access_ohm:g} hides its memory window "
            f"(the read contrast g_eff(high) / g_eff(low) - 1 is {contrast:.2g}): allowed a "
            f"contrast of at least {MIN_READ_CONTRAST:g}; lower r_access_ohm or raise the "
            "on/off ratio")

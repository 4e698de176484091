"""What a core will be, decided before anything is allocated: settings, slicing, shapes, bytes.

:func:`plan_core` validates a device and core settings together (every rule that involves
both: binary devices, slicing, the reference column, NeuroSim's own options) and works out the
physical layout of a stack of matrices. :class:`~meliso.core.AnalogCore` builds from a plan;
sweeps validate every point with plans alone (no array is allocated); and the memory a core
will need is estimated from its plan before it is built.

Memory (measured with tracemalloc over the preset devices, tilings, slicings, mappings and
programming modes; ``benchmarks/memory.py``): programming peaks at about 7 float64 per
physical cell open loop and 14 with write-and-verify (the verify loop keeps targets, reads and
pulse counts); NeuroSim's arrays at about 5 per cell. :data:`BYTES_PER_CELL` rounds these up.
A read of B vectors holds the column currents of every tile for every vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._validation import ParameterError, validate_model
from ..devices import AnalogDevice, BinaryDevice, Device
from ..mapping import NO_SLICING, Slicing, half_range, physical_columns, reference_level, tile_grid
from .config import CoreConfig

#: Peak bytes per physical cell while programming (see the module docstring), by mode.
BYTES_PER_CELL = {"open-loop": 8 * 8, "write-verify": 8 * 16, "neurosim": 8 * 6}


def resolve_slicing(dev: Device, cfg: CoreConfig) -> Slicing:
    """Bit slicing for this device and these settings, or a clear error."""
    slices, bits = cfg.weight_slices, cfg.bits_per_slice
    if cfg.model == "neurosim":
        if not isinstance(dev, AnalogDevice):
            raise ParameterError(
                f"model = 'neurosim' needs an analog device; '{dev.name}' is binary"
            )
        return NO_SLICING  # the config has already refused slicing for this model
    if isinstance(dev, BinaryDevice):
        if bits not in (None, 1):
            raise ParameterError(
                f"bits_per_slice = {bits} is out of range for the binary device '{dev.name}': "
                "allowed bits_per_slice = 1 (a binary cell stores one bit)"
            )
        if cfg.resolved_mapping != "differential":
            raise ParameterError(
                f"mapping = '{cfg.resolved_mapping}' is not available for the binary device "
                f"'{dev.name}': allowed mapping = 'differential' (bit-sliced LRS/HRS pairs)"
            )
        if cfg.programming != "open-loop":
            raise ParameterError(
                f"programming = '{cfg.programming}' is not available for the binary device "
                f"'{dev.name}': allowed programming = 'open-loop' (a cell is SET or RESET)"
            )
        return Slicing(8 if slices is None else slices, 1)
    if bits is None and slices in (None, 1):
        return NO_SLICING
    if bits is None:  # one digit per device: as many bits as both its branches resolve (from
        # an initial state inside the window some digits are reached by depression)
        bits = max(1, int(np.floor(np.log2(min(dev.levels_ltp, dev.levels_ltd) + 1))))
    try:
        return Slicing(1 if slices is None else slices, bits)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def reference_fraction(dev: Device) -> float:
    """Window fraction of the reference level (the nominal mid state) of ``dev``."""
    if isinstance(dev, AnalogDevice):
        return reference_level(dev.g_init_frac, dev.levels_ltp, dev.levels_ltd)
    return 0.5


@dataclass(frozen=True)
class CorePlan:
    """A validated core: its settings, slicing and physical layout for a stack of matrices."""

    config: CoreConfig
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
        """(Tr, Tc): tiles along the inputs and along the outputs (NeuroSim: one array)."""
        if self.config.model == "neurosim":
            return 1, 1
        return tile_grid(self.m, self.n, self.config.tile_rows, self.config.tile_cols)

    @property
    def physical_shape(self) -> tuple[int, int]:
        """(rows, columns) of one physical crossbar tile."""
        cfg = self.config
        if cfg.model == "neurosim":
            return self.n, self.m
        return cfg.tile_rows, physical_columns(self.mapping, cfg.tile_cols, self.slicing)

    @property
    def cells(self) -> int:
        """Physical cells of the whole stack."""
        tr, tc = self.grid
        rows, cols = self.physical_shape
        return self.stack * tr * tc * rows * cols

    def program_bytes(self) -> int:
        """Peak memory of programming the stack (see the module docstring)."""
        mode = "neurosim" if self.config.model == "neurosim" else self.config.programming
        return BYTES_PER_CELL[mode] * self.cells + 8 * 4 * self.stack * self.m * self.n

    def read_bytes(self, batch: int) -> int:
        """Peak memory of reading ``batch`` vectors per matrix (currents of every tile)."""
        tr, tc = self.grid
        rows, cols = self.physical_shape
        per_vector = self.stack * tr * (tc * cols * 3 + rows * 2) + self.stack * self.m * 2
        return 8 * batch * per_vector


def plan_core(shape: tuple[int, int, int], device: Device,
              settings: Mapping[str, Any] | CoreConfig) -> CorePlan:
    """Validate ``device`` with core ``settings`` for a stack ``shape`` = (S, m, n)."""
    cfg = settings if isinstance(settings, CoreConfig) else validate_model(CoreConfig, settings)
    slicing = resolve_slicing(device, cfg)
    if cfg.model != "neurosim" and half_range(cfg.resolved_mapping,
                                              reference_fraction(device)) == 0:
        raise ParameterError(
            f"mapping = 'reference' needs a level between G_min and G_max for its reference "
            f"column, but '{device.name}' reaches only the window's ends from its initial "
            "state: allowed levels_ltp, levels_ltd >= 2, or mapping = 'differential'"
        )
    if cfg.model != "neurosim":
        check_read_contrast(device)
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

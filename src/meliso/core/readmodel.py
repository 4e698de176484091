"""Read models: how a core programs a matrix and reads it, chosen once from its ``model`` name.

A read model is one class in one module, registered in :data:`READ_MODELS` by name. It states,
as data, its defaults for the settings a user may leave open (``mapping``, ``calibration``,
``input_bits``, ``input_range``) and the core settings it cannot model (:class:`Allowed`: the
values it accepts and why); it checks a device, lays a matrix out on crossbars and programs it,
returning :class:`ProgrammedArrays` that read forward and transposed. :class:`AnalogCore`
resolves the model once and never tests the name again.

Registered models:

- ``physics`` (:mod:`meliso.core.physics`): meliso's own device, circuit and decode physics;
- ``neurosim`` (:mod:`meliso.neurosim.model`): MELISO's NeuroSim read path, bit for bit
  (``docs/neurosim.md``).

Adding a model: write a module with a class that has the attributes and methods of
:class:`ReadModel`, and add ``"name": "package.module:Class"`` to :data:`READ_MODELS`. The
registry holds import paths, not classes, so a model may import the core without a cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError

if TYPE_CHECKING:
    from ..devices import Device, ProgramResult
    from ..mapping import Slicing
    from .analog_stats import ReadCounters
    from .config import AnalogCoreConfig
    from .plan import CorePlan

FloatArray = NDArray[np.float64]

#: name -> "module:Class" of every read model.
READ_MODELS: dict[str, str] = {
    "physics": "meliso.core.physics:PhysicsModel",
    "neurosim": "meliso.neurosim.model:NeuroSimModel",
}


@dataclass(frozen=True)
class Allowed:
    """The values of a core setting a read model accepts, and the reason in words."""

    values: tuple[Any, ...]
    text: str

    def admits(self, value: Any) -> bool:
        return value in self.values


class ProgrammedArrays(Protocol):
    """A stack of programmed crossbars of one read model."""

    g_s: FloatArray
    program_result: ProgramResult
    #: Reads, conversions and energy counts (None: the model does not count them).
    counters: ReadCounters | None
    #: Full scale of the output ADC (None: the model has no configurable ADC).
    adc_full_scale: float | None

    def read(self, x: FloatArray, *, record: list[FloatArray] | None = None) -> FloatArray:
        """Decoded outputs (S, B, m), before any calibration, of inputs (S, B, n); with
        ``record``, the column signals before the ADC are appended to it (or a
        ParameterError if the model has no configurable ADC)."""

    def read_transposed(self, y: FloatArray) -> FloatArray:
        """Decoded A^T y (S, B, n) of inputs (S, B, m), or a ParameterError."""


class ReadModel(Protocol):
    """What a read model declares and does (see the module docstring)."""

    name: str
    defaults: Mapping[str, Any]
    refuses: Mapping[str, Allowed]

    def check(self, device: Device, config: AnalogCoreConfig) -> Slicing:
        """The weight slicing in force, or :class:`ParameterError` for a device (or device and
        settings) it cannot model."""

    def bytes_per_cell(self, config: AnalogCoreConfig) -> int:
        """Peak bytes per physical cell while programming."""

    def grid(self, m: int, n: int, config: AnalogCoreConfig) -> tuple[int, int]:
        """(tiles along the inputs, tiles along the outputs) of an m x n matrix."""

    def physical_shape(self, m: int, n: int, config: AnalogCoreConfig, slicing: Slicing
                       ) -> tuple[int, int]:
        """(rows, columns) of one physical crossbar."""

    def program(self, plan: CorePlan, stack: FloatArray, rng: np.random.Generator
                ) -> ProgrammedArrays:
        """Program the stack (S, m, n) as the plan says."""


def model_names() -> tuple[str, ...]:
    """The registered read models' names."""
    return tuple(READ_MODELS)


@cache
def read_model(name: str) -> ReadModel:
    """The read model registered as ``name``."""
    if name not in READ_MODELS:
        raise ParameterError(f"model = {name!r}: allowed {', '.join(READ_MODELS)}")
    module, _, cls = READ_MODELS[name].partition(":")
    model: ReadModel = getattr(importlib.import_module(module), cls)()
    return model

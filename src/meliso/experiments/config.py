"""Experiment files: a YAML document validated into :class:`ExperimentConfig`.

    name: fig2a
    description: Weight bits 1 ... 11 on Ag:a-Si, window 100, NL and C-to-C off
    seed: 0
    trials: 1000          # random (A, x) pairs per point
    rows: 32
    cols: 32
    base:
      device: Ag:a-Si     # a preset name
      model: physics      # physics | neurosim
      set: {on_off_ratio: 100, nl_ltp: 0, nl_ltd: 0, sigma_c2c: 0}   # device fields
      core: {input_bits: 8}                                         # core settings
    sweep:
      grid: {model: [physics, neurosim], weight_bits: [1, 2, 3]}   # Cartesian product
      zip: {}                                                       # axes stepped together
    fit: true             # all candidate families, a list of them, or false
    bootstrap: 200        # resamples for 95 % intervals of IQR and variance (0: none)

A sweep axis is ``device``, ``model``, any device field (``sigma_c2c``, ``levels_ltp``...), any
core setting (``mapping``, ``input_bits``...) or one of the study aliases:
``weight_bits`` (both level counts = 2^b), ``memory_window`` (= ``on_off_ratio``), ``c2c``
(= ``sigma_c2c``), ``nl`` (``nl_ltp = +nl``, ``nl_ltd = -nl``), ``with_nl`` (false zeroes both
NL labels) and ``nonideal`` (false zeroes both NL labels and C-to-C); the last two are applied
after everything else. Points are the product of the grid axes times the zipped axes.

Validation expands and resolves every point, so an unknown key or an out-of-range value in any
point is an error that names it before anything runs. It builds no core: each point is checked
by its plan (:func:`meliso.core.plan.plan_core`), which also estimates the memory the point
will need; a point that cannot fit in memory is refused with the estimate. A sweep holds at
most :data:`MAX_POINTS` points. Files are read by :func:`meliso._yaml.load_yaml_file` (no
aliases, no duplicate keys, bounded size) and every field is strict: ``trials: true`` is an
error, not 1.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import __version__
from .._fingerprint import code_fingerprint
from .._validation import ParameterError, validate_model
from .._yaml import load_yaml_file
from ..analysis.fits import FAMILIES
from ..analysis.stats import BOOTSTRAP_RESAMPLES
from ..core import AnalogCoreConfig
from ..devices import AnalogDevice, BinaryDevice, get_device
from ..devices.device_file import is_device_path, load_device_file
from ..workloads import POPULATION_DEFAULTS, check_population_memory
from .rundir import NAME_PATTERN

#: Most points a sweep may hold (each point is a population of ``trials`` VMMs).
MAX_POINTS = 10_000
ALIASES = ("weight_bits", "memory_window", "c2c", "nl", "with_nl", "nonideal")
_DEVICE_FIELDS = set(AnalogDevice.model_fields) | set(BinaryDevice.model_fields)
_CORE_FIELDS = set(AnalogCoreConfig.model_fields) - {"model"}


def allowed_parameters() -> list[str]:
    """Every name a sweep axis may take."""
    return sorted({"device", "model", *ALIASES, *_DEVICE_FIELDS, *_CORE_FIELDS} - {"kind"})


class BaseSettings(BaseModel):
    """Settings every point starts from."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    device: str = Field("Ag:a-Si", description="device preset name, or a device file "
                        "(.yaml, meliso device fit) relative to the working folder")
    model: str = Field("physics", description="read model (meliso.core.readmodel): physics or "
                       "neurosim")
    set: dict[str, Any] = Field(default_factory=dict, description="device field overrides")
    core: dict[str, Any] = Field(default_factory=dict, description="core settings")


class Sweep(BaseModel):
    """Axes: ``grid`` (Cartesian product) and ``zip`` (stepped together)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    zip: dict[str, list[Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _axes(self) -> Sweep:
        for kind, axes in (("grid", self.grid), ("zip", self.zip)):
            for name, values in axes.items():
                if not values:
                    raise ValueError(f"sweep.{kind}.{name} is empty: give at least one value")
        both = set(self.grid) & set(self.zip)
        if both:
            raise ValueError(f"sweep axes {sorted(both)} appear in both grid and zip")
        lengths = {len(v) for v in self.zip.values()}
        if len(lengths) > 1:
            sizes = {k: len(v) for k, v in self.zip.items()}
            raise ValueError(f"sweep.zip axes must have equal lengths; got {sizes}")
        if self.size > MAX_POINTS:
            sizes = {k: len(v) for k, v in (self.grid | self.zip).items()}
            raise ValueError(f"the sweep holds {self.size} points (axes {sizes}): allowed at "
                             f"most {MAX_POINTS}; split it into several experiments")
        return self

    @property
    def size(self) -> int:
        """Number of points, computed without expanding the sweep."""
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n * (len(next(iter(self.zip.values()))) if self.zip else 1)

    def points(self) -> list[dict[str, Any]]:
        """Every point's axis values, grid-major, in file order."""
        names = list(self.grid)
        grid = [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*self.grid.values())] or [{}]
        if not self.zip:
            return grid
        zipped = [dict(zip(self.zip, combo, strict=True)) for combo in zip(*self.zip.values(),
                                                                          strict=True)]
        return [{**g, **z} for g in grid for z in zipped]


class ExperimentConfig(BaseModel):
    """A validated experiment (see the module docstring for the file format)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field(pattern=NAME_PATTERN, description="name of the run (its folder): 1-64 "
                      "letters, digits, '_', '.', '-', not starting with '.'")
    description: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1, description="run seed")
    trials: int = Field(1000, ge=1, le=1_000_000, description="random (A, x) pairs per point")
    rows: int = Field(32, ge=1, le=100_000, description="matrix rows (outputs)")
    cols: int = Field(32, ge=1, le=100_000, description="matrix columns (inputs)")
    base: BaseSettings = Field(default_factory=BaseSettings)
    sweep: Sweep = Field(default_factory=Sweep)
    fit: bool | list[str] = Field(True, description="distribution families to fit")
    bootstrap: int = Field(BOOTSTRAP_RESAMPLES, ge=0, le=10_000,
                           description="bootstrap resamples for the 95 % intervals of each "
                                       "point's IQR and variance (0: none)")

    @field_validator("fit")
    @classmethod
    def _families(cls, v: bool | list[str]) -> bool | list[str]:
        if isinstance(v, list):
            unknown = sorted(set(v) - set(FAMILIES))
            if unknown:
                raise ValueError(f"unknown families {unknown}; allowed: {', '.join(FAMILIES)}")
        return v

    @property
    def families(self) -> tuple[str, ...]:
        if self.fit is True:
            return FAMILIES
        return tuple(self.fit) if self.fit else ()

    def point_specs(self) -> list[PointSpec]:
        """Every point, resolved and validated (each distinct setting checked once)."""
        checked: set[str] = set()
        return [resolve_point(self, params, checked) for params in self.sweep.points()]

    @model_validator(mode="after")
    def _resolve_all(self) -> ExperimentConfig:
        self.point_specs()  # raises on the first bad point, naming the key
        return self

    def canonical(self) -> str:
        """Canonical JSON of the whole config (for comparing run directories)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class PointSpec:
    """One fully resolved sweep point: everything that determines its numbers."""

    params: tuple[tuple[str, Any], ...]
    device: str
    device_overrides: tuple[tuple[str, Any], ...]
    core: tuple[tuple[str, Any], ...]
    trials: int
    rows: int
    cols: int
    seed: int
    families: tuple[str, ...]
    bootstrap: int = 0

    def identity(self) -> dict[str, Any]:
        """What the numbers depend on (the sweep labels in ``params`` do not count)."""
        return {
            "device": self.device, "set": dict(self.device_overrides), "core": dict(self.core),
            "trials": self.trials, "rows": self.rows, "cols": self.cols, "seed": self.seed,
        }

    @property
    def key(self) -> str:
        """Content hash of the point (cache key): its identity, the fitted families and the
        code that computes it (meliso's sources and numerical libraries), so that a changed
        simulator never reuses a stale result."""
        payload = {**self.identity(), "families": list(self.families),
                   "bootstrap": self.bootstrap,
                   "version": __version__, "code": code_fingerprint()}
        return hashlib.sha256(_canonical(payload).encode()).hexdigest()[:20]

    @property
    def device_seed(self) -> int:
        """Seed of the point's device noise, from its identity (not from its position)."""
        return int(hashlib.sha256(_canonical(self.identity()).encode()).hexdigest()[:16], 16)


def _apply(name: str, value: Any, state: dict[str, Any]) -> None:
    dev, core = state["set"], state["core"]
    if name == "device":
        state["device"] = value
    elif name == "model":
        core["model"] = value
    elif name == "weight_bits":
        dev["weight_bits"] = value
    elif name == "memory_window":
        dev["on_off_ratio"] = value
    elif name == "c2c":
        dev["sigma_c2c"] = value
    elif name == "nl":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ParameterError(f"nl = {value!r} must be a number (the NL label magnitude)")
        dev["nl_ltp"], dev["nl_ltd"] = value, -value
    elif name in ("with_nl", "nonideal"):
        if not isinstance(value, bool):
            raise ParameterError(f"{name} = {value!r} must be true or false")
        state[name] = value
    elif name in _DEVICE_FIELDS and name != "kind":
        dev[name] = value
    elif name in _CORE_FIELDS:
        core[name] = value
    else:
        raise ParameterError(
            f"unknown parameter '{name}'; allowed: {', '.join(allowed_parameters())}"
        )


def resolve_point(config: ExperimentConfig, params: dict[str, Any],
                  checked: set[str] | None = None) -> PointSpec:
    """Base settings with one point's axis values applied, validated.

    The device, the core settings and their combination are checked by the point's plan (no
    core is built), together with the memory it will need; ``checked`` holds the identities
    already checked, so a sweep checks each distinct setting once."""
    base = config.base
    state: dict[str, Any] = {
        "device": base.device, "set": {}, "core": {"model": base.model}, "with_nl": True,
        "nonideal": True,
    }
    try:
        for name, value in base.set.items():
            if name not in _DEVICE_FIELDS and name not in ALIASES:
                raise ParameterError(f"unknown device field '{name}' in base.set")
            _apply(name, value, state)
        for name, value in base.core.items():
            if name not in _CORE_FIELDS:
                raise ParameterError(
                    f"unknown core setting '{name}' in base.core; allowed: "
                    f"{', '.join(sorted(_CORE_FIELDS))}"
                )
            _apply(name, value, state)
        for name, value in params.items():
            _apply(name, value, state)
        if not state["with_nl"] or not state["nonideal"]:
            state["set"]["nl_ltp"] = state["set"]["nl_ltd"] = 0.0
        if not state["nonideal"]:
            state["set"]["sigma_c2c"] = 0.0
        identity = _canonical([state["device"], state["set"], state["core"]])
        if checked is None or identity not in checked:
            device = get_device(state["device"], **state["set"])  # validates every field
            check_population_memory(device, config.trials, config.rows, config.cols,
                                    {**POPULATION_DEFAULTS, **state["core"]})
            if checked is not None:
                checked.add(identity)
        overrides = dict(state["set"])
        if is_device_path(state["device"]):
            # a device file: its fields go into the point's identity, so a point cached with
            # one version of the file is never reused for another
            preset = state["device"]
            fields = load_device_file(preset).model_dump()
            fields.pop("kind", None)
            overrides = {**fields, **overrides}
        else:
            preset = get_device(state["device"]).name  # canonical name, whatever `set` renames
    except ParameterError as exc:
        where = f"point {params}" if params else "base settings"
        raise ParameterError(f"{where}: {exc}") from None
    return PointSpec(
        params=tuple(params.items()),
        device=preset,
        device_overrides=tuple(sorted(overrides.items())),
        core=tuple(sorted(state["core"].items())),
        trials=config.trials, rows=config.rows, cols=config.cols, seed=config.seed,
        families=config.families, bootstrap=config.bootstrap,
    )


def load_experiment(source: str | Path | dict[str, Any]) -> ExperimentConfig:
    """Read and validate an experiment from a YAML file (or an already-parsed mapping)."""
    if isinstance(source, dict):
        data = source
    else:
        data = load_yaml_file(source)
        if not isinstance(data, dict):
            raise ParameterError(f"{source} must hold a mapping (name, trials, base, sweep, ...)")
    return validate_model(ExperimentConfig, data)

"""Any PyTorch network on multilevel analog crossbars in one call (like aihwkit's
``convert_to_analog`` and CrossSim's ``from_torch``, with meliso's device physics).

    from meliso.nn import to_analog
    hw = to_analog(model, device="EpiRAM", programming="write-verify", input_bits=8,
                   adc_bits=8, tile_rows=128, tile_cols=128)
    hw.calibrate(x_profile)          # per-layer ADC ranges from profiling inputs
    logits = hw(x)                   # every Linear and Conv2d on crossbars
    hw.programming_summary()         # pulses and verify iterations per layer
    hw.stats()                       # MVMs, ADC conversions and energy per layer
    hw.reprogram(seed=1)             # the same network on another chip

Every ``nn.Linear`` and ``nn.Conv2d`` of the model (anywhere in it: sequential or not, with
residual connections, grouped convolutions...) becomes an :class:`~.analog_layers.AnalogLayer`
on :class:`meliso.core.AnalogCore`; everything else (activations, normalisation, pooling, the
additions of residual blocks) stays in software. Per-layer settings come from a dict keyed by
module name (``dict(model.named_modules())``'s keys) or a function of (name, module); a
setting ``device`` there overrides the device. Excluded modules stay in software. The model
passed in is not changed: the converted network holds a deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from .._validation import ParameterError, validate_model
from ..core.config import AnalogCoreConfig
from ..devices import Device, get_device
from ..periphery.energy import EnergyModel
from .analog_layers import AnalogLayer

LayerSettings = Mapping[str, Mapping[str, Any]] | Callable[[str, nn.Module],
                                                             Mapping[str, Any] | None]


def _layer_settings(spec: LayerSettings | None, name: str, module: nn.Module
                    ) -> dict[str, Any]:
    if spec is None:
        return {}
    got = spec(name, module) if callable(spec) else spec.get(name, {})
    return dict(got or {})


def _replace(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


class AnalogModel(nn.Module):
    """A network whose dense and convolutional layers run on analog crossbars (module
    docstring)."""

    def __init__(self, model: nn.Module, device: str | Device, *, seed: int = 0,
                 layer_settings: LayerSettings | None = None, exclude: Iterable[str] = (),
                 energy: EnergyModel | None = None, **settings: Any) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise ParameterError(f"model is a {type(model).__name__}: allowed a torch.nn.Module")
        get_device(device) if isinstance(device, str) else device  # a bad name fails here
        validate_model(AnalogCoreConfig, dict(settings))  # a bad setting fails before copying
        self.network = copy.deepcopy(model)
        excluded = set(exclude)
        names = dict(model.named_modules())
        unknown = sorted(excluded - set(names))
        if unknown:
            raise ParameterError(f"exclude names {unknown}, which are not modules of the model: "
                                 f"allowed {', '.join(n for n in names if n)}")
        if isinstance(layer_settings, Mapping):
            stray = sorted(set(layer_settings) - set(names))
            if stray:
                raise ParameterError(f"layer_settings names {stray}, which are not modules of "
                                     f"the model: allowed {', '.join(n for n in names if n)}")
        self.seed = int(seed)
        targets = [(name, m) for name, m in self.network.named_modules()
                   if isinstance(m, nn.Linear | nn.Conv2d) and name not in excluded]
        if not targets:
            raise ParameterError("the model has no nn.Linear or nn.Conv2d outside `exclude`: "
                                 "nothing to run on crossbars")
        self.analog_names: list[str] = []
        for index, (name, module) in enumerate(targets):
            own = {**settings, **_layer_settings(layer_settings, name, module)}
            dev = own.pop("device", device)
            if energy is not None:
                own.setdefault("energy", energy)
            layer = AnalogLayer(module, name, dev, own, seed=(self.seed, index))
            if name:
                _replace(self.network, name, layer)
            else:  # the model is itself one layer
                self.network = layer
            self.analog_names.append(name)
        self.eval()

    # -- the layers -----------------------------------------------------------------------------
    def analog_layers(self) -> list[AnalogLayer]:
        return [cast(AnalogLayer, self.network.get_submodule(name)) for name in self.analog_names]

    def __iter__(self) -> Iterator[AnalogLayer]:
        return iter(self.analog_layers())

    def forward(self, x: torch.Tensor) -> Any:
        return self.network(x)

    # -- chips ----------------------------------------------------------------------------------
    def reprogram(self, seed: int | None = None) -> None:
        """Program every layer's current weights onto a new chip (``seed``; the conversion's
        seed when None). Calibrated ADC ranges are kept: they belong to the layer."""
        if seed is not None:
            self.seed = int(seed)
        for index, layer in enumerate(self.analog_layers()):
            layer.reprogram((self.seed, index))

    def to_software(self) -> nn.Module:
        """A copy of the network with every analog layer back in software (its current
        weights): what hardware-aware training produces."""
        net = copy.deepcopy(self.network)
        for name in self.analog_names:
            layer = net.get_submodule(name)
            assert isinstance(layer, AnalogLayer)
            if not name:
                return layer.layer
            _replace(net, name, layer.layer)
        return net

    def hardware_aware(self, on: bool = True) -> AnalogModel:
        """Train with the hardware in the forward pass (see :mod:`.analog_layers`)."""
        for layer in self.analog_layers():
            layer.hardware_aware = on
        return self

    def calibrate(self, x_profile: torch.Tensor | np.ndarray, method: str = "3sigma"
                  ) -> list[float]:
        """Per-layer ADC full scales from profiling inputs: each layer calibrates on the inputs
        it receives through the hardware before it, one range per layer; profiling reads are
        not counted. ``method``: ``"3sigma"`` (Cubero-Cascante et al. 2025, eq. 7) or ``"max"``
        (:meth:`meliso.core.AnalogCore.calibrate_adc`)."""
        x = torch.as_tensor(np.asarray(x_profile)) if not isinstance(x_profile, torch.Tensor) \
            else x_profile
        layers = self.analog_layers()
        for layer in layers:
            layer.calibrating = True
            layer.calibration_method = method
        try:
            with torch.no_grad():
                self.eval()
                self(x.to(next(self.network.parameters()).dtype))
        finally:
            for layer in layers:
                layer.calibrating = False
        self.reset_stats()
        return [float(c.adc_full_scale or 0.0) for layer in layers for c in layer.cores]

    # -- what it cost -----------------------------------------------------------------------------
    def programming_summary(self) -> list[dict[str, Any]]:
        """Per layer: matrix, tiles, cells, pulses and write-verify iterations."""
        return [layer.programming_summary() for layer in self.analog_layers()]

    def reset_stats(self) -> None:
        for layer in self.analog_layers():
            layer.reset_stats()

    def stats(self) -> dict[str, Any]:
        """Whole-network and per-layer MVMs, ADC conversions and energy since the last reset
        (:mod:`meliso.core.analog_stats`)."""
        layers = []
        for layer in self.analog_layers():
            parts = [s.summary() for s in layer.stats()]
            merged = {k: sum(p[k] for p in parts) for k in
                      ("vectors", "mvm_cycles", "adc_conversions", "tiles", "macs", "energy_j",
                       "row_driver_energy_j", "adc_energy_j", "cell_energy_j")}
            merged["energy_per_mac_j"] = (merged["energy_j"] / merged["macs"]
                                          if merged["macs"] else float("nan"))
            layers.append({"layer": layer.name, **merged})
        energy = sum(x["energy_j"] for x in layers)
        macs = sum(x["macs"] for x in layers)
        return {"energy_j": energy, "macs": macs,
                "energy_per_mac_j": energy / macs if macs else float("nan"),
                "mac_per_joule": macs / energy if energy > 0 else float("nan"),
                "mvm_cycles": sum(x["mvm_cycles"] for x in layers),
                "adc_conversions": sum(x["adc_conversions"] for x in layers),
                "layers": layers}


def to_analog(model: nn.Module, device: str | Device = "ideal", *, seed: int = 0,
              layer_settings: LayerSettings | None = None, exclude: Iterable[str] = (),
              energy: EnergyModel | None = None, **settings: Any) -> AnalogModel:
    """``model`` with every ``nn.Linear`` and ``nn.Conv2d`` on analog crossbars of ``device``
    (module docstring). ``settings`` are :class:`meliso.core.AnalogCore` settings for every
    layer; ``layer_settings`` per layer; ``seed`` draws the chip."""
    return AnalogModel(model, device, seed=seed, layer_settings=layer_settings,
                       exclude=exclude, energy=energy, **settings)

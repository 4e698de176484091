"""PyTorch layers whose matrix products run on analog RRAM crossbars (:class:`AnalogCore`).

An :class:`AnalogLayer` wraps a trained ``nn.Linear`` or ``nn.Conv2d`` (any stride, padding,
dilation, groups, bias) and keeps it: its weights stay the layer's parameters, so the same
layer trains in software and infers on hardware.

- Programming: each weight matrix (``out x in`` for a dense layer; per group
  ``out/groups x (in/groups) k_h k_w`` for a convolution, the order of ``F.unfold``) is
  programmed once onto an :class:`meliso.core.AnalogCore` with the layer's device and core
  settings: mapping, tiling, programming (open loop or write-and-verify), non-linearity,
  cycle-to-cycle and device-to-device variation, read noise, input DAC bits, output ADC bits
  and the wires. :meth:`AnalogLayer.program` draws a new chip from a seed.
- Inference: the input is cut into im2col patches (``F.unfold`` with the layer's kernel,
  stride, padding and dilation), multiplied on the crossbars in float64 and folded back; the
  bias is added digitally. Without non-idealities (an ideal device of 52 weight bits, no wires,
  analog inputs, ideal ADC) the result equals the software layer to float64 round-off.
- Hardware-aware training (:attr:`AnalogLayer.hardware_aware`): in training mode the forward
  pass programs the *current* weights on a fresh chip (a new seed each step), reads the batch
  through it, and returns ``y_sw + (y_hw - y_sw).detach()``: the value is the hardware's, the
  gradient the software layer's (a straight-through estimator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._memory import available_bytes
from .._validation import ParameterError
from ..core import AnalogCore
from ..core.analog_stats import AnalogCoreStats
from ..devices import Device

#: Vectors read through a core at a time (bounds the memory of one read).
READ_CHUNK = 8192


def _int_pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]),
                                                                      int(value[1]))


def _padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]
             ) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) zero padding of a Conv2d's ``padding`` (integers, 'valid', or
    'same', which puts an odd total's extra column or row on the right or bottom, as PyTorch
    does)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return (total[1] // 2, total[1] - total[1] // 2, total[0] // 2, total[0] - total[0] // 2)
    ph, pw = _int_pair(padding)
    return (pw, pw, ph, ph)


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           dilation: tuple[int, int]) -> np.ndarray:
    """Patches (N Ho Wo, C k_h k_w) of images x (N, C, H, W), in ``F.unfold``'s order (channel,
    kernel row, kernel column), without padding (NumPy strides: several times faster than
    ``F.unfold`` in float64)."""
    n, c, h, w = x.shape
    ho = (h - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    wo = (w - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    sn, sc, sh, sw = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, shape=(n, ho, wo, c, kernel[0], kernel[1]),
        strides=(sn, sh * stride[0], sw * stride[1], sc, sh * dilation[0], sw * dilation[1]),
        writeable=False)
    return view.reshape(n * ho * wo, c * kernel[0] * kernel[1])


class AnalogLayer(nn.Module):
    """A dense or convolutional layer whose products run on analog crossbars (module
    docstring). ``settings`` are :class:`AnalogCore` settings; ``device`` a preset name or a
    :class:`Device`."""

    def __init__(self, layer: nn.Linear | nn.Conv2d, name: str, device: str | Device,
                 settings: Mapping[str, Any], seed: Sequence[int] = (0,)) -> None:
        super().__init__()
        if isinstance(layer, nn.Conv2d) and layer.padding_mode != "zeros":
            raise ParameterError(f"layer {name!r}: padding_mode = {layer.padding_mode!r}: "
                                 "allowed 'zeros'")
        self.layer = layer
        self.name = name
        self.device_spec = device
        self.settings = dict(settings)
        self.hardware_aware = False
        self.calibrating = False
        self.calibration_method = "3sigma"
        self.cores: list[AnalogCore] = []
        self._step = 0
        self.seed = tuple(int(s) for s in seed)
        self.program(self.seed)

    # -- the matrices ---------------------------------------------------------------------------
    @property
    def groups(self) -> int:
        return int(self.layer.groups) if isinstance(self.layer, nn.Conv2d) else 1

    def matrices(self) -> list[np.ndarray]:
        """The weight matrices (out/groups, in/groups k_h k_w) of each group, float64."""
        w = self.layer.weight.detach().double().cpu()
        out = w.shape[0] // self.groups
        flat = w.reshape(w.shape[0], -1)
        return [flat[g * out:(g + 1) * out].numpy() for g in range(self.groups)]

    def reprogram(self, seed: Sequence[int]) -> None:
        """Program the layer's current weights onto a new chip drawn from ``seed`` (a tuple of
        non-negative integers: the same tuple, the same chip)."""
        self.seed = tuple(int(s) for s in seed)
        self.program(self.seed)

    def program(self, seed: Sequence[int]) -> None:
        """Program the current weights onto the chip of ``seed`` (keeps the layer's seed)."""
        root = np.random.SeedSequence([int(s) for s in seed])
        rngs = [np.random.default_rng(s) for s in root.spawn(self.groups)]
        full_scales = [c.adc_full_scale for c in self.cores] if self.cores else None
        self.cores = [AnalogCore(a, self.device_spec, rng=rng, **self.settings)
                      for a, rng in zip(self.matrices(), rngs, strict=True)]
        if full_scales is not None and "adc_full_scale" not in self.settings:
            for core, full in zip(self.cores, full_scales, strict=True):
                if full is not None:  # a calibrated range belongs to the layer, not the chip
                    core.arrays.adc_full_scale = full

    # -- reading --------------------------------------------------------------------------------
    def _products(self, core: AnalogCore, x: np.ndarray) -> np.ndarray:
        # vectors per read: READ_CHUNK, or fewer where a read of them would take more than a
        # quarter of the memory available
        chunk = int(max(1, min(READ_CHUNK, available_bytes() // (4 * core.plan.read_bytes(1)))))
        if self.calibrating:
            core.calibrate_adc(x[:chunk], self.calibration_method)
        if len(x) <= chunk:
            return core.matvec(x)
        return np.concatenate([core.matvec(x[k:k + chunk]) for k in range(0, len(x), chunk)])

    def _hardware(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output through the crossbars (no gradient)."""
        x64 = x.detach().double().cpu()
        if isinstance(self.layer, nn.Linear):
            lead = x64.shape[:-1]
            y = self._products(self.cores[0], x64.reshape(-1, x64.shape[-1]).numpy())
            out = torch.from_numpy(y).reshape(*lead, -1)
        else:
            out = self._conv(x64)
        if self.layer.bias is not None:
            bias = self.layer.bias.detach().double().cpu()
            out = out + (bias if isinstance(self.layer, nn.Linear) else bias[:, None, None])
        return out.to(dtype=x.dtype, device=x.device)

    def _conv(self, x: torch.Tensor) -> torch.Tensor:
        layer = self.layer
        assert isinstance(layer, nn.Conv2d)
        kernel, stride = _int_pair(layer.kernel_size), _int_pair(layer.stride)
        dilation = _int_pair(layer.dilation)
        x = F.pad(x, _padding(layer.padding, kernel, dilation))  # zeros, as the layer pads
        n, _, h, w = x.shape
        ho = (h - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
        wo = (w - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
        per_in = layer.in_channels // self.groups
        images = np.ascontiguousarray(x.numpy())
        outs = []
        for g, core in enumerate(self.cores):
            flat = im2col(images[:, g * per_in:(g + 1) * per_in], kernel, stride, dilation)
            y = torch.from_numpy(self._products(core, flat))  # (N L, out/groups)
            outs.append(y.reshape(n, ho * wo, -1).transpose(1, 2).reshape(n, -1, ho, wo))
        return torch.cat(outs, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.hardware_aware and self.training and torch.is_grad_enabled():
            self._step += 1
            self.program((*self.seed, 1 << 30, self._step))  # a fresh chip per training step
            y_sw = self.layer(x)
            return y_sw + (self._hardware(x) - y_sw).detach()
        return self._hardware(x)

    # -- what it cost -----------------------------------------------------------------------------
    def stats(self) -> list[AnalogCoreStats]:
        return [core.stats for core in self.cores]

    def reset_stats(self) -> None:
        for core in self.cores:
            core.reset_stats()

    def programming_summary(self) -> dict[str, Any]:
        """Cells, pulses and verify iterations of the layer's chip."""
        parts = [core.programming_summary() for core in self.cores]
        cells = sum(p["cells"] for p in parts)
        out: dict[str, Any] = {
            "layer": self.name, "kind": type(self.layer).__name__,
            "matrix": [int(self.cores[0].m), int(self.cores[0].n)], "groups": self.groups,
            "tiles": sum(c.grid[0] * c.grid[1] for c in self.cores), "cells": cells,
            "pulses_total": sum(p["pulses_total"] for p in parts),
            "pulses_per_cell": sum(p["pulses_total"] for p in parts) / cells,
            "verify_iterations_mean": sum(p["iterations_mean"] * p["cells"]
                                          for p in parts) / cells,
        }
        if all("converged_fraction" in p for p in parts):
            out["converged_fraction"] = sum(p["converged_fraction"] * p["cells"]
                                            for p in parts) / cells
        return out

    def extra_repr(self) -> str:
        device = self.device_spec if isinstance(self.device_spec, str) else self.device_spec.name
        return f"name={self.name!r}, device={device!r}, groups={self.groups}"

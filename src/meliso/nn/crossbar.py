"""Running a trained BNN/TNN on simulated crossbars (Cubero-Cascante et al. 2025, §II-B, §IV-A).

    hw = to_crossbar(model, technology="ReRAM-1", encoding="T-I", crossbar=128, adc_bits=4,
                     r_bitline_ohm=1.0)
    hw.calibrate(x_profile)        # per-layer ADC scale s_l (eqs. 6-7)
    logits = hw(x)                 # forward through the simulated hardware
    hw.stats()                     # per-layer and whole-network counters and energy (eq. 8-9)

Every layer with a quantised input (every conv and dense layer but the first, :mod:`.models`)
becomes tiled MVMs on a :class:`meliso.core.BinaryCore` holding its binary/ternary weights as a
(C k k) x (out channels) matrix: the layer's input is quantised and padded in software, cut into
im2col patches (``torch.nn.functional.unfold``, the same order as the weight's), multiplied on
the crossbars with the chosen encoding, ADC and wires, and folded back. Batch norm, pooling,
the activation quantisers and the first (real-input) layer stay in software, in the trained
module itself. With ideal devices, no wires and an ideal ADC the crossbar products are the exact
integers the software computes, so both give identical logits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.binary import BinaryCore, BinaryCoreStats
from .models import QuantConv2d, QuantLinear, QuantNet


class CrossbarLayer(nn.Module):
    """A quantised conv or dense layer whose products run on a BinaryCore."""

    def __init__(self, layer: QuantConv2d | QuantLinear, name: str, **hardware: Any) -> None:
        super().__init__()
        self.layer = layer
        self.name = name
        with torch.no_grad():
            w = layer.quantized_weight().detach().double()
        self.out_features = int(w.shape[0])
        matrix = w.reshape(self.out_features, -1).T.numpy()  # (C k k or in, out)
        self.core = BinaryCore(matrix, **hardware)
        self.calibrating = False

    def _products(self, x: np.ndarray) -> np.ndarray:
        if self.calibrating:
            self.core.calibrate(x)
        return self.core.matmul(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.layer.quantized_input(x).detach()
        if isinstance(self.layer, QuantLinear):
            y = self._products(q.double().numpy())
            return torch.from_numpy(y).to(x.dtype)
        n, _, h, w = q.shape
        k = self.layer.kernel_size
        patches = F.unfold(q, kernel_size=k)  # (N, C k k, L)
        ho, wo = h - k[0] + 1, w - k[1] + 1
        flat = patches.transpose(1, 2).reshape(-1, patches.shape[1]).double().numpy()
        y = self._products(flat)  # (N L, out)
        out = torch.from_numpy(y).to(x.dtype).reshape(n, ho * wo, self.out_features)
        return out.transpose(1, 2).reshape(n, self.out_features, ho, wo)


class CrossbarNet(nn.Module):
    """A trained :class:`QuantNet` with its crossbar layers on simulated hardware."""

    def __init__(self, model: QuantNet, **hardware: Any) -> None:
        super().__init__()
        model.eval()
        # one generator for every layer's programming spread: each layer draws its own cells
        hardware.setdefault("rng", np.random.default_rng(0))
        layers: list[nn.Module] = []
        self.crossbar_layers: list[CrossbarLayer] = []
        for index, module in enumerate(model):
            if isinstance(module, QuantConv2d | QuantLinear) and module.input_quantizer:
                hw = CrossbarLayer(module, f"{type(module).__name__}[{index}]", **hardware)
                self.crossbar_layers.append(hw)
                layers.append(hw)
            else:
                layers.append(module)
        self.body = nn.Sequential(*layers)
        self.net, self.quant = model.net, model.quant
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            out: torch.Tensor = self.body(x)
        return out

    def calibrate(self, x_profile: torch.Tensor | np.ndarray) -> list[float]:
        """Per-layer ADC scales from profiling images (Cubero-Cascante et al. 2025, §III-B): each
        layer calibrates on the inputs it receives, layer by layer; profiling reads are not
        counted."""
        x = torch.as_tensor(np.asarray(x_profile, dtype=np.float32))
        for layer in self.crossbar_layers:
            layer.calibrating = True
        try:
            self(x)
        finally:
            for layer in self.crossbar_layers:
                layer.calibrating = False
        self.reset_stats()
        return [layer.core.adc_scale for layer in self.crossbar_layers]

    def reset_stats(self) -> None:
        for layer in self.crossbar_layers:
            layer.core.reset_stats()

    def layer_stats(self) -> list[BinaryCoreStats]:
        return [layer.core.stats for layer in self.crossbar_layers]

    def stats(self) -> dict[str, Any]:
        """Whole-network counters: energy over MACs of every crossbar layer (eq. 9), MAC/J,
        and the column utilisation over every crossbar the network occupies."""
        per_layer = self.layer_stats()
        energy = sum(s.energy_j for s in per_layer)
        macs = sum(s.macs for s in per_layer)
        tiles = np.concatenate([s.tile_column_utilisation.ravel() for s in per_layer])
        return {
            "energy_j": energy, "macs": macs,
            "energy_per_mac_j": energy / macs if macs else float("nan"),
            "mac_per_joule": macs / energy if energy > 0 else float("nan"),
            "column_utilisation": float(tiles.mean()),
            "crossbars": int(tiles.size),
            "layers": [{"layer": layer.name, "matrix": list(layer.core.weights.shape),
                        **s.summary()} for layer, s in zip(self.crossbar_layers, per_layer,
                                                            strict=True)],
        }


def to_crossbar(model: QuantNet, **hardware: Any) -> CrossbarNet:
    """``model`` with its crossbar layers on simulated BinaryCores; ``hardware`` are
    :class:`BinaryCore` arguments (technology, encoding, crossbar, adc_bits, adc_scale,
    r_bitline_ohm, r_wordline_ohm, circuit, cell_iv, access, v_gate_v, v_read_v, energy,
    rng)."""
    if not isinstance(model, QuantNet):
        raise TypeError("to_crossbar takes a meliso.nn QuantNet (build_model / load_checkpoint)")
    return CrossbarNet(model, **hardware)

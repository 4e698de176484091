"""LeNet-5 and VGG-7 in binary (BNN) and ternary (TNN) versions (Cubero-Cascante et al. 2025, §IV-B,
Table II).

The paper trains its networks with larq following Ternary Weight Networks (its ref. [11]); the
recipe here is that recipe in PyTorch:

- Every conv and dense layer has binary or ternary weights (:mod:`.quant`: latent real weights
  clipped to [-1, 1], sign or 0.7 mean|W| threshold, straight-through gradients), no bias, and
  is followed by batch norm (after max pooling where there is one).
- Every layer but the first also quantises its *input* (the previous batch norm's output) to
  {-1, 1} or {-1, 0, 1}; those layers are the ones that run on crossbars. The first layer's
  input is the real-valued image, which binary pulse encodings cannot carry: that layer (binary
  or ternary weights, real inputs) stays in software, as larq's BNNs keep their first layer's
  input in full precision. The last batch norm gives the logits.
- Padding of a quantised input uses a value of its own alphabet: +1 (BNN, sign(0) = +1) or 0
  (TNN), so that im2col on crossbars sees only valid inputs.

Layer lists (``QC`` a quantised conv with quantised input, ``C`` the software first conv, ``MP``
max pooling 2x2, ``FC`` a quantised dense layer):

- LeNet-5 (28x28, MNIST): C 32@3x3 - MP - QC 64@3x3 - MP - QC 64@3x3 - FC 64 - FC 10, valid
  convolutions (larq's MNIST network: 93,088 weights, 93,790 parameters with larq's scale-free batch
  norm, 93,556 trainable here with affine batch norm; Cubero-Cascante et al. 2025, Table II lists
  93,322 for its LeNet-5). For 8x8 digits: C 32@3x3 - MP - QC 64@3x3 - FC 64 - FC 10.
- VGG-7 (32x32, CIFAR-10; TWN's VGG-7): C 128@3x3 - QC 128@3x3 - MP - QC 256@3x3 - QC 256@3x3 -
  MP - QC 512@3x3 - QC 512@3x3 - MP - FC 1024 - FC 10, same-padded (12.97 M parameters; the
  the paper lists 18.3 M for its VGG-7).

Training (:mod:`.train`): Adam, learning rate 1e-3 with cosine decay, batch 64, cross-entropy;
epochs: LeNet-5 15, VGG-7 50 (the CLI's ``--epochs`` overrides).
"""

from __future__ import annotations

from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import ParameterError
from .quant import ActivationQuantizer, Quant, check_quant, quantize_weight

Net = Literal["lenet5", "vgg7"]
NETS: tuple[Net, ...] = ("lenet5", "vgg7")
#: Image sizes (height, width) each network takes.
IMAGE_SIZES: dict[str, tuple[tuple[int, int], ...]] = {"lenet5": ((28, 28), (8, 8)),
                                                        "vgg7": ((32, 32),)}


def check_net(net: str) -> None:
    """Refuse a network other than :data:`NETS`."""
    if net not in NETS:
        raise ParameterError(f"net = {net!r}: allowed {', '.join(NETS)}")


def _check_image_size(net: str, input_shape: tuple[int, int, int]) -> None:
    """Refuse images of a size ``net`` does not take (:data:`IMAGE_SIZES`)."""
    allowed = IMAGE_SIZES[net]
    if tuple(input_shape[1:]) not in allowed:
        sizes = " or ".join(f"(C, {h}, {w})" for h, w in allowed)
        raise ParameterError(f"input_shape = {tuple(input_shape)!r} is not an image size {net} "
                             f"takes: allowed {sizes}")


class QuantConv2d(nn.Conv2d):
    """Conv with binary/ternary weights and (unless first) binary/ternary input."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, quant: Quant,
                 quantize_input: bool, padding: int = 0) -> None:
        super().__init__(in_ch, out_ch, kernel, padding=0, bias=False)
        self.quant = quant
        self.pad = padding
        self.input_quantizer = ActivationQuantizer(quant) if quantize_input else None

    @property
    def pad_value(self) -> float:
        return 1.0 if self.quant == "BNN" else 0.0

    def quantized_input(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's input as the crossbar sees it: quantised, then padded."""
        if self.input_quantizer is not None:
            x = self.input_quantizer(x)
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, value=self.pad_value if self.input_quantizer else 0.0)
        return x

    def quantized_weight(self) -> torch.Tensor:
        return quantize_weight(self.weight, self.quant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.quantized_input(x), self.quantized_weight())


class QuantLinear(nn.Linear):
    """Dense layer with binary/ternary weights and input."""

    def __init__(self, in_features: int, out_features: int, quant: Quant) -> None:
        super().__init__(in_features, out_features, bias=False)
        self.quant = quant
        self.input_quantizer = ActivationQuantizer(quant)

    def quantized_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.input_quantizer(x)

    def quantized_weight(self) -> torch.Tensor:
        return quantize_weight(self.weight, self.quant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.quantized_input(x), self.quantized_weight())


def clip_weights(model: nn.Module) -> None:
    """Keep latent weights in [-1, 1] (larq's weight_clip), after every optimiser step."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, QuantConv2d | QuantLinear):
                m.weight.clamp_(-1.0, 1.0)


class QuantNet(nn.Sequential):
    """A sequential BNN/TNN with its name, quantisation and input shape recorded."""

    def __init__(self, net: Net, quant: Quant, input_shape: tuple[int, int, int], classes: int,
                 layers: list[nn.Module]) -> None:
        super().__init__(*layers)
        self.net, self.quant, self.input_shape, self.classes = net, quant, input_shape, classes

    def crossbar_layers(self) -> list[QuantConv2d | QuantLinear]:
        """The layers with quantised inputs: the ones that run on crossbars."""
        return [m for m in self if isinstance(m, QuantConv2d | QuantLinear)
                and m.input_quantizer is not None]


def lenet5(quant: Quant, input_shape: tuple[int, int, int] = (1, 28, 28),
           classes: int = 10) -> QuantNet:
    """LeNet-5 (module docstring); input 28x28, or 8x8 for scikit-learn's digits."""
    _check_image_size("lenet5", input_shape)
    c, h, w = input_shape
    if (h, w) == (28, 28):
        layers: list[nn.Module] = [
            QuantConv2d(c, 32, 3, quant, False), nn.MaxPool2d(2), nn.BatchNorm2d(32),
            QuantConv2d(32, 64, 3, quant, True), nn.MaxPool2d(2), nn.BatchNorm2d(64),
            QuantConv2d(64, 64, 3, quant, True), nn.BatchNorm2d(64), nn.Flatten(),
            QuantLinear(64 * 3 * 3, 64, quant), nn.BatchNorm1d(64),
            QuantLinear(64, classes, quant), nn.BatchNorm1d(classes),
        ]
    else:  # 8x8
        layers = [
            QuantConv2d(c, 32, 3, quant, False), nn.MaxPool2d(2), nn.BatchNorm2d(32),
            QuantConv2d(32, 64, 3, quant, True), nn.BatchNorm2d(64), nn.Flatten(),
            QuantLinear(64, 64, quant), nn.BatchNorm1d(64),
            QuantLinear(64, classes, quant), nn.BatchNorm1d(classes),
        ]
    return QuantNet("lenet5", quant, input_shape, classes, layers)


def vgg7(quant: Quant, input_shape: tuple[int, int, int] = (3, 32, 32),
         classes: int = 10) -> QuantNet:
    """VGG-7 (module docstring); input 32x32."""
    _check_image_size("vgg7", input_shape)
    c = input_shape[0]
    layers: list[nn.Module] = []
    channels = [(c, 128, False), (128, 128, True), (128, 256, True), (256, 256, True),
                (256, 512, True), (512, 512, True)]
    for k, (cin, cout, q_in) in enumerate(channels):
        layers.append(QuantConv2d(cin, cout, 3, quant, q_in, padding=1))
        if k % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        layers.append(nn.BatchNorm2d(cout))
    layers += [nn.Flatten(), QuantLinear(512 * 4 * 4, 1024, quant), nn.BatchNorm1d(1024),
               QuantLinear(1024, classes, quant), nn.BatchNorm1d(classes)]
    return QuantNet("vgg7", quant, input_shape, classes, layers)


def build_model(net: str, quant: str, input_shape: tuple[int, int, int],
                classes: int = 10) -> QuantNet:
    """``net`` in :data:`NETS`, ``quant`` in BNN | TNN."""
    check_quant(quant)
    check_net(net)
    build = lenet5 if net == "lenet5" else vgg7
    return build(cast(Quant, quant), input_shape, classes)

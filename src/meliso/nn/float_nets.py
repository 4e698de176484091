"""Float (full-precision) networks for analog crossbars: an MLP and LeNet-5.

These are the networks :func:`meliso.nn.to_analog` is demonstrated and studied with; any other
PyTorch model converts the same way.

- MLP: 784-256-10 (28x28 MNIST; 64-256-10 for 8x8 digits), ReLU, bias in every layer.
- LeNet-5: the topology of :mod:`.models`'s LeNet-5 in full precision: Conv 32@3x3 - ReLU -
  MaxPool 2 - Conv 64@3x3 - ReLU - MaxPool 2 - Conv 64@3x3 - ReLU - FC 64 - ReLU - FC 10,
  valid convolutions with bias (28x28 MNIST or 32x32 CIFAR-10; for 8x8: Conv 32@3x3 - ReLU -
  MaxPool 2 - Conv 64@3x3 - ReLU - FC 64 - ReLU - FC 10). No batch norm, so that every layer's
  output is the crossbars'.

Training (:func:`meliso.nn.train_float`): Adam, learning rate 1e-3 with cosine decay, batch 64,
cross-entropy; :data:`FLOAT_EPOCHS` epochs.
"""

from __future__ import annotations

from torch import nn

from .._validation import ParameterError

FLOAT_NETS = ("mlp", "lenet5")
FLOAT_EPOCHS = {"mlp": 10, "lenet5": 8}


class FloatNet(nn.Sequential):
    """A sequential float network with its name, input shape and classes recorded."""

    def __init__(self, net: str, input_shape: tuple[int, int, int], classes: int,
                 layers: list[nn.Module]) -> None:
        super().__init__(*layers)
        self.net, self.input_shape, self.classes = net, tuple(input_shape), classes
        self.quant = "float"


def _check(net: str, input_shape: tuple[int, int, int], classes: int) -> None:
    if net not in FLOAT_NETS:
        raise ParameterError(f"net = {net!r}: allowed {', '.join(FLOAT_NETS)} (float networks)")
    if net == "lenet5" and tuple(input_shape[1:]) not in ((28, 28), (32, 32), (8, 8)):
        raise ParameterError(f"input_shape = {tuple(input_shape)!r} is not an image size lenet5 "
                             "takes: allowed (C, 28, 28), (C, 32, 32) or (C, 8, 8)")
    if not 2 <= classes <= 10_000:
        raise ParameterError(f"classes = {classes}: allowed 2 <= classes <= 10000")


def build_float_model(net: str, input_shape: tuple[int, int, int], classes: int = 10
                      ) -> FloatNet:
    """``net`` in :data:`FLOAT_NETS` for images of ``input_shape`` (C, H, W)."""
    _check(net, input_shape, classes)
    c, h, w = input_shape
    if net == "mlp":
        layers: list[nn.Module] = [nn.Flatten(), nn.Linear(c * h * w, 256), nn.ReLU(),
                                   nn.Linear(256, classes)]
    elif (h, w) in ((28, 28), (32, 32)):
        side = 3 if h == 28 else 4  # 28 -> 26 -> 13 -> 11 -> 5 -> 3; 32 -> ... -> 4
        layers = [nn.Conv2d(c, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
                  nn.Linear(64 * side * side, 64), nn.ReLU(), nn.Linear(64, classes)]
    else:
        layers = [nn.Conv2d(c, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Flatten(),
                  nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, classes)]
    return FloatNet(net, input_shape, classes, layers)

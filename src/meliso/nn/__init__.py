"""Binary and ternary CNNs on simulated crossbars (Cubero-Cascante et al. 2025): PyTorch models,
training, data, and ``to_crossbar``, which runs a trained network's layers on
:class:`meliso.core.BinaryCore`.

The only place meliso imports PyTorch (extra ``nn``; install PyTorch's CPU wheel first:
``pip install torch==2.13.0``). The datasets live in :mod:`meliso.data`, which needs only NumPy.
"""

from __future__ import annotations

from .._validation import MissingExtraError

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError(
        "meliso.nn needs PyTorch: pip install torch==2.13.0 (the CPU wheel), then "
        "pip install 'meliso[nn]'"
    ) from exc

from .analog import AnalogModel, to_analog
from .analog_layers import AnalogLayer
from .checkpoint import checkpoint_name, load_checkpoint, save_checkpoint, train_checkpoint
from .crossbar import CrossbarNet, to_crossbar
from .float_nets import FLOAT_NETS, FloatNet, build_float_model
from .models import NETS, QuantNet, build_model, lenet5, vgg7
from .quant import QUANTS
from .train import evaluate, fit, predict, train, train_float

__all__ = ["FLOAT_NETS", "NETS", "QUANTS", "AnalogLayer", "AnalogModel", "CrossbarNet",
           "FloatNet", "QuantNet", "build_float_model", "build_model", "checkpoint_name",
           "evaluate", "fit", "lenet5", "load_checkpoint", "predict", "save_checkpoint",
           "to_analog", "to_crossbar", "train", "train_checkpoint", "train_float", "vgg7"]

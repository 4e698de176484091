"""Training and evaluation: the BNN/TNN networks (recipe in :mod:`.models`) and the float
networks (:mod:`.float_nets`), these optionally hardware-aware (:func:`train_float`'s
``hardware``); checkpoints are in :mod:`.checkpoint`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .._progress import Progress, tick
from .._validation import ParameterError, check_range
from ..data import Dataset
from .float_nets import FLOAT_EPOCHS, build_float_model
from .models import build_model, clip_weights

DEFAULT_EPOCHS = {"lenet5": 15, "vgg7": 50}


@dataclass(frozen=True)
class TrainResult:
    """A trained network, its software test accuracy and its per-epoch training loss."""

    model: nn.Module
    accuracy: float
    losses: list[float]
    seconds: float
    dataset: str
    epochs: int
    seed: int = 0


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    """Top-1 accuracy of ``model`` in eval mode on images x (N, C, H, W) and labels y."""
    return float(np.mean(predict(model, x, batch) == y))


def predict(model: nn.Module, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """Predicted classes of images x (N, C, H, W)."""
    model.eval()
    out = []
    with torch.no_grad():
        for k in range(0, len(x), batch):
            out.append(model(torch.from_numpy(np.ascontiguousarray(x[k:k + batch])))
                       .argmax(dim=1).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def check_training(epochs: int, lr: float = 1e-3, batch: int = 64) -> None:
    """Refuse training settings outside their ranges, naming each."""
    check_range("epochs", epochs, lo=1)
    check_range("batch", batch, lo=1)
    check_range("lr", lr, lo=0, lo_open=True)


def check_classes(data: Dataset) -> None:
    """Refuse training data with fewer than two classes: a classifier of one class learns
    nothing, and its checkpoint would be refused when read back."""
    present = np.unique(data.y_train)
    if len(present) < 2:
        where = f" ({data.train_labels})" if data.train_labels else ""
        found = ", ".join(str(int(v)) for v in present) or "none"
        raise ParameterError(f"dataset {data.name!r}: the training labels{where} hold "
                             f"{len(present)} class (label {found}): allowed at least 2 "
                             "classes to train a classifier")


def fit(model: nn.Module, data: Dataset, *, epochs: int, lr: float = 1e-3, batch: int = 64,
        seed: int = 0, progress: Progress | None = None,
        after_step: Callable[[], None] | None = None,
        before_epoch: Callable[[int], None] | None = None) -> tuple[list[float], float]:
    """Train ``model`` on ``data``'s training split (Adam, cosine decay, cross-entropy);
    returns the per-epoch losses and the seconds it took."""
    gen = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(data.y_train) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    x_all = torch.from_numpy(data.x_train)
    y_all = torch.from_numpy(data.y_train)
    losses = []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        if before_epoch is not None:
            before_epoch(epoch)
        model.train()
        order = torch.from_numpy(gen.permutation(len(y_all)))
        total, count = 0.0, 0
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            opt.zero_grad()
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
            sched.step()
            if after_step is not None:
                after_step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        losses.append(total / max(count, 1))
        tick(progress, "training epochs", epoch + 1, epochs)
    model.eval()
    return losses, time.perf_counter() - t0


def train(net: str, quant: str, data: Dataset, *, epochs: int | None = None, lr: float = 1e-3,
          batch: int = 64, seed: int = 0, progress: Progress | None = None) -> TrainResult:
    """Train ``net`` (lenet5 | vgg7) as ``quant`` (BNN | TNN) on ``data``'s training split;
    ``progress`` hears of every finished epoch."""
    epochs = DEFAULT_EPOCHS.get(net, 15) if epochs is None else epochs
    check_training(epochs, lr, batch)
    check_classes(data)
    torch.manual_seed(seed)
    model = build_model(net, quant, data.shape, data.classes)
    losses, seconds = fit(model, data, epochs=epochs, lr=lr, batch=batch, seed=seed,
                          progress=progress, after_step=lambda: clip_weights(model))
    accuracy = evaluate(model, data.x_test, data.y_test)
    return TrainResult(model, accuracy, losses, seconds, data.name, epochs, seed)


#: Training images the ADC ranges are calibrated on before each hardware-aware epoch.
HARDWARE_PROFILE_IMAGES = 64


def train_float(net: str, data: Dataset, *, epochs: int | None = None, lr: float = 1e-3,
                batch: int = 64, seed: int = 0, hardware: Mapping[str, Any] | None = None,
                init: nn.Module | None = None, progress: Progress | None = None
                ) -> TrainResult:
    """Train the float network ``net`` (mlp | lenet5, :mod:`.float_nets`) on ``data``.

    ``hardware`` (``device`` and :class:`meliso.core.AnalogCore` settings, as for
    :func:`meliso.nn.to_analog`) trains it hardware-aware: every step's forward pass runs on a
    freshly programmed chip with those non-idealities, the gradients flow straight through
    the software layers, and with an output ADC the layers' ranges are calibrated before each
    epoch. The same seed gives the same initial weights with and without ``hardware``;
    ``init`` (a network of the same architecture) starts from its weights instead (fine-tuning).
    The result holds the trained software network; its accuracy is the software one.
    """
    epochs = FLOAT_EPOCHS.get(net, 10) if epochs is None else epochs
    check_training(epochs, lr, batch)
    check_classes(data)
    torch.manual_seed(seed)
    model = build_float_model(net, data.shape, data.classes)
    if init is not None:
        try:
            model.load_state_dict(init.state_dict())
        except RuntimeError as exc:
            raise ParameterError(f"init is not a {net} for {data.shape} images: "
                                 f"{str(exc).splitlines()[0]}") from None
    if hardware is None:
        losses, seconds = fit(model, data, epochs=epochs, lr=lr, batch=batch, seed=seed,
                              progress=progress)
        return TrainResult(model, evaluate(model, data.x_test, data.y_test), losses, seconds,
                           data.name, epochs, seed)
    from .analog import to_analog

    spec = dict(hardware)
    analog = to_analog(model, spec.pop("device", "ideal"), seed=seed, **spec)
    analog.hardware_aware(True)
    profile = torch.from_numpy(data.x_train[:HARDWARE_PROFILE_IMAGES])

    def calibrate(epoch: int) -> None:
        if spec.get("adc_bits") is not None and "adc_full_scale" not in spec:
            analog.reprogram()  # this epoch's weights on the conversion's chip
            analog.calibrate(profile)

    losses, seconds = fit(analog, data, epochs=epochs, lr=lr, batch=batch, seed=seed,
                          progress=progress, before_epoch=calibrate)
    trained = analog.to_software()
    return TrainResult(trained, evaluate(trained, data.x_test, data.y_test), losses, seconds,
                       data.name, epochs, seed)

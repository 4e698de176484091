"""In-situ (on-chip) training of a two-layer network whose weights are device conductances.

:func:`train_insitu` runs MLP_NeuroSim V3.0's training protocol (``docs/learning.md``): per
image, a forward pass through the arrays, back-propagation in floating point, and for every
weight the change dw = -alpha delta x turned into whole write pulses on the device's own
LTP/LTD curves, from each cell's present state, with cycle-to-cycle noise per pulse train and
clipping at the window edges; the weight the algorithm uses next is the one read back. Test
accuracy is measured through the same forward pass after each epoch. Pulses, write energy and
write latency are counted per epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError, validate_model
from ..devices import AnalogDevice, Device, get_device
from . import _kernels as k
from .inputs import Patches, check_patches, patches
from .settings import InsituSettings
from .state import LayerState, initial_weights, layer_state, read_currents

MODE = {"software": k.SOFTWARE, "neurosim": k.NEUROSIM, "physics": k.PHYSICS}
#: Normals drawn per refill of the noise buffer (the kernel asks for more when it runs low).
NORMALS_PER_BLOCK = 1 << 20
N_CLASSES = 10


@dataclass(frozen=True)
class EpochCounts:
    """What the writes of one epoch cost, both layers together."""

    pulses_ltp: int
    pulses_ltd: int
    cells_written: int
    write_operations: int
    write_energy_j: float | None   # None: the device states no write pulse
    write_latency_s: float | None


@dataclass
class InsituResult:
    """Accuracy after each evaluated epoch and the cost of training."""

    device: str
    settings: InsituSettings
    epochs: NDArray[np.int64]         # evaluated epochs (1-based)
    accuracy: NDArray[np.float64]     # test accuracy, fraction, per evaluated epoch
    test_images: int
    counts: list[EpochCounts] = field(default_factory=list)
    seconds: float = 0.0
    weights: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None

    @property
    def images_per_second(self) -> float:
        """Training images (forward, backward and update) per second of wall time."""
        n = self.settings.epochs * self.settings.images_per_epoch
        return n / self.seconds if self.seconds > 0 else float("nan")

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1])

    def summary(self) -> dict[str, Any]:
        """The final accuracy in % with its 95 % Wilson interval over the test images, and
        the whole training's pulses, cells written, write energy and latency (None where the
        device states no write pulse)."""
        from ..analysis.stats import wilson_interval

        n = self.test_images
        correct = round(self.final_accuracy * n)
        lo, hi = wilson_interval(correct, n)
        energy = [c.write_energy_j for c in self.counts]
        latency = [c.write_latency_s for c in self.counts]
        return {
            "accuracy_pct": 100 * self.final_accuracy, "accuracy_ci_low_pct": 100 * lo,
            "accuracy_ci_high_pct": 100 * hi, "correct": correct, "n_images": n,
            "pulses_total": float(sum(c.pulses_ltp + c.pulses_ltd for c in self.counts)),
            "cells_written_total": float(sum(c.cells_written for c in self.counts)),
            "write_energy_j": None if None in energy else float(sum(e or 0.0 for e in energy)),
            "write_latency_s": None if None in latency else float(sum(t or 0.0
                                                                        for t in latency))}


def _write_pulse(device: AnalogDevice | None) -> tuple[NDArray[np.float64], bool]:
    if device is None:
        return np.zeros(4), False
    fields = (device.write_v_ltp_v, device.write_v_ltd_v, device.write_pulse_ltp_sec,
              device.write_pulse_ltd_sec)
    if any(f is None for f in fields):
        return np.zeros(4), False
    return np.array([float(f) for f in fields if f is not None]), True


def _resolve_device(device: str | Device | None, model: str) -> AnalogDevice | None:
    if model == "software":
        return None
    if device is None:
        raise ParameterError(f"device = None: the {model} model trains on a device; give a "
                             "preset name or an AnalogDevice")
    dev = get_device(device)
    if not isinstance(dev, AnalogDevice):
        raise ParameterError(f"device = {dev.name!r} is a binary device: on-chip learning "
                             "needs a multilevel (analog) device")
    return dev


def train_insitu(
    device: str | Device | None,
    settings: InsituSettings | None = None,
    *,
    data: Patches | None = None,
    dataset: str = "mnist5k",
    data_dir: str | None = None,
    on_epoch: Callable[[int, float | None], None] | None = None,
    **overrides: Any,
) -> InsituResult:
    """Train MLP_NeuroSim's network on ``device`` (a preset name or an AnalogDevice; ignored
    by the software model). ``settings`` (or keyword overrides of its fields) choose the model
    and protocol; ``data`` (:func:`meliso.learning.inputs.patches`) or ``dataset`` the images.
    ``on_epoch(epoch, accuracy or None)`` is called after every epoch."""
    if settings is None:
        settings = validate_model(InsituSettings, overrides)
    elif overrides:
        settings = validate_model(InsituSettings, {**settings.model_dump(), **overrides})
    dev = _resolve_device(device, settings.model)
    data = patches(dataset, data_dir) if data is None else data
    check_patches(data)
    x_train = np.ascontiguousarray(data.x_train, dtype=np.uint8)
    y_train = np.ascontiguousarray(data.y_train, dtype=np.int64)
    rng = np.random.default_rng(settings.seed)
    n_in = data.x_train.shape[1]
    w1 = initial_weights((settings.n_hidden, n_in), rng)
    w2 = initial_weights((N_CLASSES, settings.n_hidden), rng)
    l1 = layer_state(settings.model, dev, w1, rng, settings.wire_segment_ohm)
    l2 = layer_state(settings.model, dev, w2, rng, settings.wire_segment_ohm)
    mode = MODE[settings.model]
    write, write_known = _write_pulse(dev)
    i_max, i_min = read_currents(dev) if dev is not None else (1.0, -1.0)
    sigma_s = dev.sigma_c2c * dev.g_range_s if dev is not None else 0.0
    adc = settings.adc_bits or 0
    x_test = np.ascontiguousarray(data.x_test, dtype=np.uint8)
    y_test = np.asarray(data.y_test, dtype=np.int64)
    if settings.test_images is not None and settings.test_images < len(y_test):
        # a random sample (test splits may be sorted by class), from its own stream
        pick = np.random.default_rng(np.random.SeedSequence([settings.seed, 1])).permutation(
            len(y_test))[:settings.test_images]
        x_test, y_test = x_test[pick], y_test[pick]
    n_test = len(y_test)
    result = InsituResult(dev.name if dev is not None else "software", settings,
                          np.zeros(0, dtype=np.int64), np.zeros(0), n_test)
    epochs, accuracy = [], []
    seconds = 0.0
    for epoch in range(1, settings.epochs + 1):
        order = rng.integers(0, len(y_train), size=settings.images_per_epoch)
        counters = np.zeros((2, k.N_COUNTERS))
        t0 = time.perf_counter()
        i = 0
        while i < order.size:
            # at least two steps' worth (every device written), so each block makes progress
            block = max(NORMALS_PER_BLOCK, 2 * (l1.g.size + l2.g.size))
            normals = rng.standard_normal(block) if sigma_s > 0 else np.zeros(0)
            i, _ = _steps(mode, x_train, y_train, order, i, l1, l2, dev, sigma_s, i_max,
                          i_min, write, settings, adc, normals, counters)
        seconds += time.perf_counter() - t0
        result.counts.append(_counts(counters, write_known))
        acc: float | None = None
        if epoch % settings.eval_every == 0 or epoch == settings.epochs:
            pred = k.predict(mode, x_test, l1.sig, l1.w, l2.sig, l2.w, adc,
                             settings.binary_hidden, settings.hidden_threshold, i_max, i_min)
            acc = float(np.mean(pred == y_test))
            epochs.append(epoch)
            accuracy.append(acc)
        if on_epoch is not None:
            on_epoch(epoch, acc)
    result.epochs = np.asarray(epochs, dtype=np.int64)
    result.accuracy = np.asarray(accuracy)
    result.seconds = seconds
    result.weights = (l1.w.copy(), l2.w.copy())
    return result


def _steps(mode: int, x_train: NDArray[np.uint8], y_train: NDArray[np.int64],
           order: NDArray[np.int64], first: int, l1: LayerState,
           l2: LayerState, dev: AnalogDevice | None, sigma_s: float, i_max: float,
           i_min: float, write: NDArray[np.float64], settings: InsituSettings, adc: int,
           normals: NDArray[np.float64], counters: NDArray[np.float64]) -> tuple[int, int]:
    levels_ltp = dev.levels_ltp if dev is not None else 1
    levels_ltd = dev.levels_ltd if dev is not None else 1
    g_min = dev.g_min_s if dev is not None else 0.0
    g_max = dev.g_max_s if dev is not None else 1.0
    v_read = dev.v_read_v if dev is not None else 1.0
    i, used = k.train_steps(
        mode, x_train, y_train, order, first, l1.g, l1.sig, l1.w, l1.constants(),
        l2.g, l2.sig, l2.w, l2.constants(), levels_ltp, levels_ltd, g_min, g_max, sigma_s,
        v_read, i_max, i_min, write, settings.alpha1, settings.alpha2, adc,
        settings.binary_hidden, settings.hidden_threshold,
        settings.write_batch(l1.w.shape[0]), settings.write_batch(l2.w.shape[0]),
        normals, counters)
    return int(i), int(used)


def _counts(counters: NDArray[np.float64], write_known: bool) -> EpochCounts:
    total = counters.sum(axis=0)
    return EpochCounts(
        pulses_ltp=int(total[k.C_PULSES_LTP]), pulses_ltd=int(total[k.C_PULSES_LTD]),
        cells_written=int(total[k.C_MOVED]), write_operations=int(total[k.C_WRITES]),
        write_energy_j=float(total[k.C_ENERGY_J]) if write_known else None,
        write_latency_s=float(total[k.C_LATENCY_S]) if write_known else None)

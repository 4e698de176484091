"""Float networks on the multilevel devices of Chowdhury et al. 2024 (``meliso reproduce
analog-nn``): test accuracy of an MLP and LeNet-5 when every dense and convolutional layer
runs on analog crossbars of each device (:func:`meliso.nn.to_analog`).

Per network and Table I device, one factor at a time around the device's preset (open-loop
programming, analog inputs, ideal ADC, no wires):

- ``baseline``: the preset as published (its levels, window, NL and C-to-C);
- ``off``: one non-ideality switched off in turn (``nl``: NL_LTP = NL_LTD = 0; ``c2c``: no
  cycle-to-cycle variation; ``levels``: 2^11 states per branch, the ``ideal`` device's) and
  all three (``all``): which parameter limits the device's accuracy;

  States and C-to-C: the device model draws C-to-C noise of sigma (G_max - G_min) sqrt(n)
  for a write of n pulses (``docs/physics.md``), so more states alone would mean more pulses
  and more noise for the same weight. Wherever the number of states changes (``levels``,
  ``weight_bits``) sigma is scaled by sqrt(N_preset / N), which keeps the noise of a write
  across the whole window the device's: the change isolates the resolution.
- ``programming``: write-and-verify instead of open loop;
- ``weight_bits``: the preset with 2^b states per branch;
- ``c2c``: the preset with cycle-to-cycle variation sigma;
- ``adc_bits``: the preset read through b-bit ADCs, each layer's range calibrated on training
  images to the largest column signal seen; ``adc_3sigma``: the same with the range of
  Cubero-Cascante et al. 2025, eq. 7 (mean +- 3 sigma), which clips the signals beyond it;
- ``hwa``: the preset running the network fine-tuned hardware-aware on that device
  (:func:`meliso.nn.train_float` with ``hardware``).

Each point is evaluated on ``chips`` independently programmed chips (seeds 0 ... chips - 1) and
the same ``images`` test images, so its accuracy comes with the spread across chips (the
device's programming variation) and a Wilson interval over the images pooled across chips (the
test set's binomial noise).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from ... import __version__
from ..._fingerprint import code_fingerprint
from ..._validation import ParameterError, validate_model
from ...analysis.stats import wilson_interval
from ...devices import TABLE_I, AnalogDevice, get_device
from ...devices.analog import MAX_WEIGHT_BITS
from ...experiments.rundir import NAME_PATTERN
from ...periphery.adc import MAX_ADC_BITS
from .._shared import cached_checkpoint, cached_dataset, check_study_devices, sample, test_images

STUDY = "analog-nn"
#: Non-idealities switched off one at a time (and all together), and how.
OFF: dict[str, dict[str, Any]] = {
    "nl": {"nl_ltp": 0.0, "nl_ltd": 0.0},
    "c2c": {"sigma_c2c": 0.0},
    "levels": {"weight_bits": 11},
    "all": {"nl_ltp": 0.0, "nl_ltd": 0.0, "sigma_c2c": 0.0, "weight_bits": 11},
}
VARIANTS = ("baseline", "off", "programming", "weight_bits", "c2c", "adc_bits", "adc_3sigma",
            "hwa")
Net = Literal["mlp", "lenet5"]


class AnalogNnConfig(BaseModel):
    """The study's settings (defaults: the full study; :func:`quick_config` trims them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field("analog-nn", pattern=NAME_PATTERN, description="name of the study run")
    dataset: Literal["digits", "mnist5k", "mnist", "cifar10"] = "mnist5k"
    nets: tuple[Net, ...] = Field(("mlp", "lenet5"), strict=False, min_length=1)
    devices: tuple[StrictStr, ...] = Field(TABLE_I, strict=False, min_length=1)
    chips: int = Field(3, ge=1, le=50, description="programmed chips per point")
    images: int = Field(500, ge=10, le=100_000, description="test images per point")
    weight_bits: tuple[StrictInt, ...] = Field((2, 3, 4, 5, 6), strict=False)
    c2c: tuple[float, ...] = Field((0.0, 0.01, 0.02, 0.035, 0.05), strict=False)
    adc_bits: tuple[StrictInt, ...] = Field((8, 6, 5, 4, 3), strict=False)
    adc_3sigma_bits: tuple[StrictInt, ...] = Field((8, 4), strict=False)
    calibration_images: int = Field(50, ge=1, le=10_000)
    epochs: int | None = Field(None, ge=1, le=10_000, description="float training epochs")
    hwa_epochs: int = Field(2, ge=0, le=1000, description="hardware-aware fine-tuning epochs "
                                                          "(0: no hwa points)")
    hwa_lr: float = Field(5e-4, gt=0, le=1.0, description="hardware-aware learning rate")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _check(self) -> AnalogNnConfig:
        check_study_devices(self.devices)
        for b in self.weight_bits:
            if not 1 <= b <= MAX_WEIGHT_BITS:
                raise ValueError(f"weight_bits holds {b}: allowed 1 ... {MAX_WEIGHT_BITS}")
        for s in self.c2c:
            if not 0 <= s <= 1:
                raise ValueError(f"c2c holds {s}: allowed 0 ... 1 (fraction of the window)")
        for b in (*self.adc_bits, *self.adc_3sigma_bits):
            if not 2 <= b <= MAX_ADC_BITS:
                raise ValueError(f"adc_bits holds {b}: allowed 2 ... {MAX_ADC_BITS}")
        return self

    def canonical(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def quick_config(dataset: str = "mnist5k") -> AnalogNnConfig:
    """A few minutes' version: two chips, 200 test images, three values per sweep, one epoch
    of hardware-aware fine-tuning."""
    return validate_model(AnalogNnConfig, {
        "name": "analog-nn-quick", "dataset": dataset, "chips": 2, "images": 200,
        "weight_bits": [2, 4, 6], "c2c": [0.0, 0.02, 0.05], "adc_bits": [8, 5, 3],
        "adc_3sigma_bits": [8], "hwa_epochs": 1})


@dataclass(frozen=True)
class AnalogNnPoint:
    """One network on one device setting, evaluated on every chip."""

    net: str
    device: str
    variant: str
    value: Any  # the swept value (None for baseline, programming, hwa)
    dataset: str
    chips: int
    images: int
    calibration_images: int
    seed: int
    checkpoint: str  # where to read it (not part of the identity)
    checkpoint_sha: str  # its content (part of the identity)
    data_dir: str | None = None

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        return (("net", self.net), ("device", self.device), ("variant", self.variant),
                ("value", self.value))

    @property
    def key(self) -> str:
        identity = {**dict(self.params), "dataset": self.dataset, "chips": self.chips,
                    "images": self.images, "calibration_images": self.calibration_images,
                    "seed": self.seed, "checkpoint": self.checkpoint_sha,
                    "version": __version__, "code": code_fingerprint("nn")}
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def hardware(self) -> tuple[Any, dict[str, Any]]:
        """(device, core settings) of this point."""
        overrides: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        if self.variant == "off":
            overrides = dict(OFF[str(self.value)])
        elif self.variant == "weight_bits":
            overrides = {"weight_bits": int(self.value)}
        elif self.variant == "c2c":
            overrides = {"sigma_c2c": float(self.value)}
        elif self.variant == "programming":
            settings["programming"] = str(self.value)
        elif self.variant in ("adc_bits", "adc_3sigma"):
            settings["adc_bits"] = int(self.value)
        preset = get_device(self.device)
        if "weight_bits" in overrides and "sigma_c2c" not in overrides:
            assert isinstance(preset, AnalogDevice)
            overrides["sigma_c2c"] = same_full_swing_c2c(preset, int(overrides["weight_bits"]))
        return get_device(self.device, **overrides), settings


def same_full_swing_c2c(device: AnalogDevice, weight_bits: int) -> float:
    """sigma_C2C for 2^weight_bits states that keeps the device's C-to-C noise of a write
    across the whole window: sigma sqrt(N_preset / N) (module docstring)."""
    preset = max(device.levels_ltp, device.levels_ltd)
    return float(device.sigma_c2c * np.sqrt(preset / 2.0 ** weight_bits))


def compute_point(point: AnalogNnPoint) -> tuple[dict[str, Any], NDArray[np.int64]]:
    """Evaluate one point on every chip: its record (accuracy per chip and pooled, energy,
    programming) and the predicted labels (chips x images) with the true labels as a last row
    (the report's paired tests read the per-image outcomes from it)."""
    import torch

    from ...nn import evaluate, predict, to_analog

    t0 = time.perf_counter()
    data = cached_dataset(point.dataset, point.data_dir)
    model = cached_checkpoint(point.checkpoint, point.checkpoint_sha)
    idx = test_images(len(data.y_test), point.images, 1, point.seed)
    x, y = data.x_test[idx], data.y_test[idx]
    device, settings = point.hardware()
    record: dict[str, Any] = {"key": point.key, **dict(point.params),
                              "params": dict(point.params),
                              "software_accuracy_pct": 100 * evaluate(model, x, y)}
    predictions, per_chip, energy, pulses, iterations = [], [], [], [], []
    for chip in range(point.chips):
        hw = to_analog(model, device, seed=chip, **settings)
        if "adc_bits" in settings:
            cal = sample(len(data.y_train), point.calibration_images, point.seed, 1)
            hw.calibrate(torch.from_numpy(data.x_train[cal]),
                         "3sigma" if point.variant == "adc_3sigma" else "max")
        labels = predict(hw, x, batch=100)
        predictions.append(labels)
        per_chip.append(100 * float(np.mean(labels == y)))
        stats = hw.stats()
        energy.append(stats["energy_per_mac_j"])
        summary = hw.programming_summary()
        pulses.append(sum(s["pulses_total"] for s in summary))
        iterations.append(np.average([s["verify_iterations_mean"] for s in summary],
                                     weights=[s["cells"] for s in summary]))
    pred = np.vstack([np.stack(predictions), np.asarray(y)[None]]).astype(np.int64)
    record.update(chip_accuracy(per_chip, len(y)))
    record.update({
        "energy_per_mac_j": float(np.mean(energy)), "pulses_total": float(np.mean(pulses)),
        "verify_iterations_mean": float(np.mean(iterations)),
        "seconds": time.perf_counter() - t0})
    return record, pred


def chip_accuracy(per_chip_pct: list[float], images: int) -> dict[str, Any]:
    """The mean accuracy over chips, the spread across chips (sample standard deviation), and
    the 95 % Wilson interval of the test images' binomial noise around the mean (every chip
    reads the same ``images`` images, so they count once, not once per chip)."""
    mean = float(np.mean(per_chip_pct))
    lo, hi = wilson_interval(round(mean / 100 * images), images)
    return {"accuracy_pct": mean, "accuracy_ci_low_pct": 100 * lo,
            "accuracy_ci_high_pct": 100 * hi, "n_images": images,
            "correct": round(mean / 100 * images),
            "chip_accuracy_pct": [float(a) for a in per_chip_pct],
            "chip_std_pct": float(np.std(per_chip_pct, ddof=1)) if len(per_chip_pct) > 1
            else 0.0}


def study_points(config: AnalogNnConfig, checkpoints: dict[str, tuple[str, str]],
                 hwa: dict[tuple[str, str], tuple[str, str]], data_dir: str | None
                 ) -> list[AnalogNnPoint]:
    """Every point; ``checkpoints``: net -> (path, sha256); ``hwa``: (net, device) -> the
    hardware-aware network's (path, sha256)."""
    points = []
    common: dict[str, Any] = dict(dataset=config.dataset, chips=config.chips,
                                  images=config.images,
                                  calibration_images=config.calibration_images,
                                  seed=config.seed, data_dir=data_dir)
    for net in config.nets:
        for device in config.devices:
            values: list[tuple[str, Any]] = [("baseline", None)]
            values += [("off", what) for what in OFF]
            values += [("programming", "write-verify")]
            values += [("weight_bits", b) for b in config.weight_bits]
            values += [("c2c", s) for s in config.c2c]
            values += [("adc_bits", b) for b in config.adc_bits]
            values += [("adc_3sigma", b) for b in config.adc_3sigma_bits]
            for variant, value in values:
                path, sha = checkpoints[net]
                points.append(AnalogNnPoint(net, device, variant, value, checkpoint=path,
                                            checkpoint_sha=sha, **common))
            if (net, device) in hwa:
                path, sha = hwa[(net, device)]
                points.append(AnalogNnPoint(net, device, "hwa", None, checkpoint=path,
                                            checkpoint_sha=sha, **common))
    return points


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checked(path: Path, want: dict[str, Any]) -> None:
    """Refuse a checkpoint found in the study folder that was trained otherwise."""
    from ...nn import load_checkpoint

    meta = load_checkpoint(path)[1]
    wrong = {k: meta.get(k) for k, v in want.items() if meta.get(k) != v}
    if wrong:
        raise ParameterError(f"{path} was trained with {wrong}, this study needs "
                             f"{ {k: want[k] for k in wrong} }: use --force to retrain it")


def ensure_networks(config: AnalogNnConfig, root: Path, data_dir: str | None,
                    log: Any = None) -> tuple[dict[str, tuple[str, str]],
                                              dict[tuple[str, str], tuple[str, str]]]:
    """Train (or reuse from ``root/checkpoints``) each float network, and fine-tune each one
    hardware-aware on each device; returns their (path, sha256)."""
    from ...nn import checkpoint_name, load_checkpoint, save_checkpoint, train_float
    from ...nn.float_nets import FLOAT_EPOCHS

    data = cached_dataset(config.dataset, data_dir)
    floats: dict[str, tuple[str, str]] = {}
    hwa: dict[tuple[str, str], tuple[str, str]] = {}
    for net in config.nets:
        epochs = config.epochs if config.epochs is not None else FLOAT_EPOCHS[net]
        path = root / "checkpoints" / checkpoint_name(net, "float", config.dataset)
        if path.exists():
            _checked(path, {"net": net, "quant": "float", "dataset": config.dataset,
                            "epochs": epochs, "seed": config.seed})
        else:
            if log is not None:
                log(f"training {net} on {config.dataset}")
            save_checkpoint(train_float(net, data, epochs=epochs, seed=config.seed), path)
        floats[net] = (str(path), _sha(path))
        if not config.hwa_epochs:
            continue
        start = load_checkpoint(path)[0]
        for device in config.devices:
            tag = device.replace("/", "-").replace(":", "-")
            hpath = root / "checkpoints" / f"{net}-hwa-{tag}-{config.dataset}.pt"
            if hpath.exists():
                _checked(hpath, {"net": net, "quant": "float", "dataset": config.dataset,
                                 "epochs": config.hwa_epochs, "seed": config.seed})
            else:
                if log is not None:
                    log(f"hardware-aware fine-tuning of {net} on {device}")
                result = train_float(net, data, epochs=config.hwa_epochs, lr=config.hwa_lr,
                                     seed=config.seed, init=start,
                                     hardware={"device": device})
                save_checkpoint(result, hpath)
            hwa[(net, device)] = (str(hpath), _sha(hpath))
    return floats, hwa

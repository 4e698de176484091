"""MLP_NeuroSim V3.0's on-chip learning benchmark on the Table I devices (``meliso reproduce
neurosim-mlp``): a 400-100-10 sigmoid MLP trained on MNIST by write pulses on each device
(:func:`meliso.learning.train_insitu`), with both read models beside the manual's Table II.

Points, each one training run (125 epochs x 8000 images by default):

- ``baseline``: each device as published, under the ``neurosim`` and ``physics`` models,
  ``seeds`` runs each (weights, image order and device noise all drawn from the seed);
- ``off``: one parameter switched off in turn, ``ablation_seeds`` runs each: ``levels``
  (2^10 states per branch, sigma_C2C scaled by sqrt(N_preset / N) so that the noise of a
  full-window write stays the device's), ``nl`` (NL_LTP = NL_LTD = 0), ``asymmetry``
  (NL_LTD = -NL_LTP: the LTD curve the mirror image of the LTP curve), ``c2c`` (no
  cycle-to-cycle variation) and ``window`` (on/off ratio 100 instead of the device's);
- ``ideal``: meliso's ideal device (linear, no variation, 2^11 states) under both models;
- ``software``: floating-point SGD on the same network (MLP_NeuroSim's algorithm path).

Accuracy is measured on the dataset's test split after every ``eval_every`` epochs; the final
accuracy is the last epoch's, as the manual reports it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from ... import __version__
from ..._fingerprint import code_fingerprint
from ..._validation import validate_model
from ...devices import TABLE_I, AnalogDevice, get_device
from ...experiments.rundir import NAME_PATTERN
from .._shared import check_study_devices

STUDY = "neurosim-mlp"
#: Parameters switched off one at a time, and how (``levels`` also rescales sigma_C2C).
OFF: dict[str, str] = {
    "levels": "2^10 states per branch",
    "nl": "NL_LTP = NL_LTD = 0",
    "asymmetry": "NL_LTD = -NL_LTP (symmetric curves)",
    "c2c": "no cycle-to-cycle variation",
    "window": "on/off ratio 100",
}
#: What each switched-off parameter is, as a noun.
OFF_NOUN: dict[str, str] = {
    "levels": "its number of states",
    "nl": "its non-linearity",
    "asymmetry": "the asymmetry of its LTP and LTD curves",
    "c2c": "its cycle-to-cycle variation",
    "window": "its memory window",
}
OFF_LEVELS_BITS = 10
OFF_WINDOW = 100.0
Model = Literal["neurosim", "physics"]


class NeurosimMlpConfig(BaseModel):
    """The study's settings (defaults: the full study; :func:`quick_config` trims them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field("neurosim-mlp", pattern=NAME_PATTERN, description="name of the run")
    dataset: Literal["mnist5k", "mnist"] = "mnist5k"
    devices: tuple[StrictStr, ...] = Field(TABLE_I, strict=False, min_length=1)
    models: tuple[Model, ...] = Field(("neurosim", "physics"), strict=False, min_length=1)
    seeds: int = Field(3, ge=1, le=50, description="training runs per device and model")
    ablation_seeds: int = Field(1, ge=0, le=50, description="runs per switched-off "
                                "parameter (0: no ablations)")
    ablations: tuple[Literal["levels", "nl", "asymmetry", "c2c", "window"], ...] = Field(
        ("levels", "nl", "asymmetry", "c2c", "window"), strict=False)
    baselines: bool = Field(True, description="the ideal device and software SGD")
    epochs: int = Field(125, ge=1, le=10_000)
    images_per_epoch: int = Field(8000, ge=1, le=1_000_000)
    eval_every: int = Field(5, ge=1, le=10_000, description="epochs between test runs")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _check(self) -> NeurosimMlpConfig:
        check_study_devices(self.devices)
        return self

    def canonical(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def quick_config(dataset: str = "mnist5k") -> NeurosimMlpConfig:
    """A minute's version: 5 epochs of 2000 images, two seeds, two ablations."""
    return validate_model(NeurosimMlpConfig, {
        "name": "neurosim-mlp-quick", "dataset": dataset, "seeds": 2, "epochs": 5,
        "images_per_epoch": 2000, "eval_every": 1, "ablations": ["nl", "c2c"]})


@dataclass(frozen=True)
class LearnPoint:
    """One training run."""

    model: str        # neurosim | physics | software
    device: str       # a preset name ("-" for software)
    variant: str      # baseline | off | ideal | software
    value: str | None  # the switched-off parameter (off)
    run: int          # 0 ... seeds - 1
    dataset: str
    epochs: int
    images_per_epoch: int
    eval_every: int
    seed: int
    data_dir: str | None = None

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        return (("model", self.model), ("device", self.device), ("variant", self.variant),
                ("value", self.value), ("run", self.run))

    @property
    def key(self) -> str:
        identity = {**dict(self.params), "dataset": self.dataset, "epochs": self.epochs,
                    "images_per_epoch": self.images_per_epoch, "eval_every": self.eval_every,
                    "seed": self.seed, "version": __version__,
                    "code": code_fingerprint("learning")}
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def device_model(self) -> AnalogDevice | None:
        """The device this run trains on (None: software)."""
        if self.variant == "software":
            return None
        if self.variant == "ideal":
            dev = get_device("ideal")
        else:
            dev = get_device(self.device, **off_overrides(self.device, self.value))
        assert isinstance(dev, AnalogDevice)
        return dev

    def run_seed(self) -> int:
        return int(np.random.SeedSequence([self.seed, self.run]).generate_state(1)[0])


def off_overrides(device: str, what: str | None) -> dict[str, Any]:
    """The device fields that switch ``what`` off (none for the baseline)."""
    preset = get_device(device)
    assert isinstance(preset, AnalogDevice)
    if what is None:
        return {}
    if what == "levels":
        n = 2**OFF_LEVELS_BITS
        scale = np.sqrt(max(preset.levels_ltp, preset.levels_ltd) / n)
        return {"weight_bits": OFF_LEVELS_BITS, "sigma_c2c": float(preset.sigma_c2c * scale)}
    if what == "nl":
        return {"nl_ltp": 0.0, "nl_ltd": 0.0}
    if what == "asymmetry":
        return {"nl_ltd": -preset.nl_ltp}
    if what == "c2c":
        return {"sigma_c2c": 0.0}
    if what == "window":
        return {"on_off_ratio": OFF_WINDOW}
    raise KeyError(what)


def compute_point(point: LearnPoint) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Train one network; its record (final accuracy with its interval, cost of the writes,
    speed) and its accuracy curve (evaluated epoch, accuracy in %) as the point's array."""
    from ...learning import train_insitu

    t0 = time.perf_counter()
    data = _patches(point.dataset, point.data_dir)
    res = train_insitu(point.device_model(), data=data, model=point.model,
                       epochs=point.epochs, images_per_epoch=point.images_per_epoch,
                       eval_every=point.eval_every, seed=point.run_seed())
    record: dict[str, Any] = {
        "key": point.key, **dict(point.params), "params": dict(point.params), **res.summary(),
        "best_accuracy_pct": 100 * float(res.accuracy.max()),
        "pulses_last_epoch": float(res.counts[-1].pulses_ltp + res.counts[-1].pulses_ltd),
        "images_per_second": res.images_per_second,
        "seconds_training": res.seconds,
        "curve_epochs": [int(e) for e in res.epochs],
        "curve_accuracy_pct": [float(100 * a) for a in res.accuracy],
        "seconds": time.perf_counter() - t0}
    curve = np.stack([res.epochs.astype(np.float64), 100 * res.accuracy], axis=1)
    return record, curve


@functools.lru_cache(maxsize=2)
def _patches(dataset: str, data_dir: str | None) -> Any:
    """The dataset's patches, read once per process (the runs of a worker share them)."""
    from ...learning.inputs import patches

    return patches(dataset, data_dir)


def study_points(config: NeurosimMlpConfig, data_dir: str | None) -> list[LearnPoint]:
    """Every run of the study."""
    common: dict[str, Any] = dict(dataset=config.dataset, epochs=config.epochs,
                                  images_per_epoch=config.images_per_epoch,
                                  eval_every=config.eval_every, seed=config.seed,
                                  data_dir=data_dir)
    points = []
    for model in config.models:
        for device in config.devices:
            points += [LearnPoint(model, device, "baseline", None, r, **common)
                       for r in range(config.seeds)]
            points += [LearnPoint(model, device, "off", what, r, **common)
                       for what in config.ablations for r in range(config.ablation_seeds)]
        if config.baselines:
            points += [LearnPoint(model, "ideal", "ideal", None, r, **common)
                       for r in range(config.seeds)]
    if config.baselines:
        points += [LearnPoint("software", "-", "software", None, r, **common)
                   for r in range(config.seeds)]
    return points

"""The built-in Cubero-Cascante et al. 2025 study: BNN/TNN CNNs on binary 1T1R crossbars
(their Figs. 2-5).

``meliso reproduce cim`` trains (or reuses) each network's checkpoint, then runs every point on
the experiment engine (:func:`meliso.experiments.runner.run_points`: cached by content hash,
resumable, serial or Dask) into one run directory, and writes the study's outputs there:

- ``adc_histograms.csv`` and Fig. 2: ADC outputs per layer for each encoding, from a profiling
  run over ``profile_images`` training images with ideal devices, wires and ADC;
- ``accuracy_vs_rp.csv`` and Fig. 3: accuracy on ``images`` test images against the bit-line
  segment resistance R_p (the paper's Algorithm 1 parasitic; solved exactly by the ladder), for
  every Table III technology, crossbar size and encoding, with an ideal ADC;
- ``accuracy_vs_adc.csv`` and Fig. 4: accuracy against ADC bits, with the per-layer scale
  calibrated (eqs. 6-7, on ``calibration_images`` training images) and not, without wires;
- ``energy.csv`` and Fig. 5: MAC/J and column utilisation against crossbar size with
  calibrated 4-bit ADCs (BNN with B-I, TNN with T-I; ``energy_by_encoding.csv`` has all);
- ``report.md``: software baselines beside the paper's, and each of its trends checked.

Encodings: a BNN runs with all four of Table I; a TNN's zero inputs exist only in T-I and T-II.
Test images: ``samples`` disjoint random samples of ``images`` each from the test split (fixed by
the seed); every point is evaluated on all of them, so its accuracy comes with a binomial
(Wilson) interval over ``samples x images`` images and every verdict with its robustness across
the samples. One network is trained per quantisation (the samples vary the test images, not the
training). Calibration and profiling images: fixed random samples of the training split.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictInt, StrictStr, model_validator

from ... import __version__
from ..._fingerprint import code_fingerprint
from ..._validation import ParameterError, validate_model
from ...devices import TABLE_III, BinaryDevice, get_device
from ...experiments.rundir import NAME_PATTERN
from ...periphery.adc import check_adc_bits
from .._shared import accuracy_record, cached_checkpoint, cached_dataset, sample, test_images

STUDY = "cim"
ENCODINGS_FOR = {"BNN": ("B-I", "B-II", "T-I", "T-II"), "TNN": ("T-I", "T-II")}
ENERGY_ENCODING = {"BNN": "B-I", "TNN": "T-I"}
NETWORK_FOR = {"digits": "lenet5", "mnist5k": "lenet5", "mnist": "lenet5", "cifar10": "vgg7"}


MAX_CROSSBAR = 4096
Crossbar = Annotated[StrictInt, Field(ge=2, le=MAX_CROSSBAR)]
WireOhm = Annotated[float, Strict(), Field(ge=0, le=1e6)]


#: The circuit models of the non-linear points (beyond the paper): the linear cell with the
#: device's access resistance (the paper's circuit), a sinh cell (Guan, Yu & Wong 2012) with
#: it, and the sinh cell with a level-1 NMOS access transistor (meliso.circuit.iv presets).
ELEMENT_CASES = (("linear", "device"), ("sinh-hfox", "device"), ("sinh-hfox", "nmos-65nm-l1"))
ELEMENT_LABELS = {("linear", "device"): "linear cell, fixed access resistance",
                  ("sinh-hfox", "device"): "sinh cell (V0 = 0.25 V), fixed access resistance",
                  ("sinh-hfox", "nmos-65nm-l1"): "sinh cell with a level-1 NMOS access"}


class CimConfig(BaseModel):
    """The study's settings (defaults: the paper's; ``quick`` trims every axis)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    name: str = Field("cim", pattern=NAME_PATTERN, description="name of the study run")
    dataset: Literal["digits", "mnist5k", "mnist", "cifar10"] = "mnist5k"
    quants: tuple[Literal["BNN", "TNN"], ...] = Field(("BNN", "TNN"), strict=False)
    technologies: tuple[StrictStr, ...] = Field(tuple(TABLE_III), strict=False)
    rp_crossbars: tuple[Crossbar, ...] = Field((128, 256, 512), strict=False)
    r_p_ohm: tuple[WireOhm, ...] = Field((0.0, 0.5, 1.0, 1.5, 2.0, 2.5), strict=False)
    adc_bits: tuple[StrictInt, ...] = Field((8, 7, 6, 5, 4, 3), strict=False)
    adc_crossbar: int = Field(128, ge=2, le=MAX_CROSSBAR)
    adc_technology: str = "ReRAM-2"
    energy_crossbars: tuple[Crossbar, ...] = Field((64, 128, 256, 512), strict=False)
    energy_adc_bits: int = Field(4, ge=2, le=24)
    energy_technology: str = "ReRAM-2"
    nonlinear_r_p_ohm: float = Field(2.5, ge=0, le=1e6, description="R_p of the non-linear "
                                     "circuit points (cells and transistor against linear)")
    images: int = Field(50, ge=1, le=100_000, description="test images per sample")
    samples: int = Field(5, ge=1, le=50, description="disjoint test samples per point (the "
                                                     "verdicts' robustness)")
    calibration_images: int = Field(50, ge=1, le=100_000)
    profile_images: int = Field(200, ge=1, le=100_000)
    epochs: int | None = Field(None, ge=1, le=10_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)

    @model_validator(mode="after")
    def _check(self) -> CimConfig:
        """Every axis value is checked before anything is trained."""
        for name in ("rp_crossbars", "energy_crossbars"):
            for n in getattr(self, name):
                if n < 2 or n % 2:
                    raise ValueError(f"{name} holds {n}: allowed even sizes >= 2 (a weight is "
                                     "a pair of columns)")
        if self.adc_crossbar % 2:
            raise ValueError(f"adc_crossbar = {self.adc_crossbar}: allowed even sizes >= 2")
        for bits in (*self.adc_bits, self.energy_adc_bits):
            check_adc_bits(bits)
        for tech in (*self.technologies, self.adc_technology, self.energy_technology):
            if not isinstance(get_device(tech), BinaryDevice):
                raise ValueError(f"technology {tech!r} is analog: allowed binary presets "
                                 f"({', '.join(TABLE_III)})")
        if any(not r >= 0 for r in self.r_p_ohm):
            raise ValueError(f"r_p_ohm = {self.r_p_ohm}: allowed values >= 0")
        if not self.quants:
            raise ValueError("quants is empty: allowed BNN, TNN or both")
        return self

    @property
    def network(self) -> str:
        return NETWORK_FOR[self.dataset]

    def canonical(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


def quick_config(dataset: str = "mnist5k") -> CimConfig:
    """A few minutes' version: two technologies, two crossbar sizes, three R_p, four ADC bits,
    five samples of 30 test images."""
    return validate_model(CimConfig, {
        "name": "cim-quick", "dataset": dataset, "technologies": ["ReRAM-1", "IFG"],
        "rp_crossbars": [128, 512], "r_p_ohm": [0.0, 1.0, 2.5], "adc_bits": [8, 6, 4, 3],
        "energy_crossbars": [64, 128, 256, 512], "images": 30, "calibration_images": 30,
        "profile_images": 50})


@dataclass(frozen=True)
class CimPoint:
    """One inference run of a trained network on simulated hardware."""

    figure: str
    network: str
    quant: str
    technology: str
    crossbar: int
    encoding: str
    r_p_ohm: float
    adc_bits: int | None
    calibrated: bool
    dataset: str
    images: int
    samples: int
    calibration_images: int
    profile_images: int
    seed: int
    checkpoint: str  # path (where to read it), not part of the identity
    checkpoint_sha: str  # content hash (part of the identity)
    data_dir: str | None = None
    cell_iv: str = "linear"   # the crossbar's element models (meliso.circuit.iv presets)
    access: str = "device"

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        return (("figure", self.figure), ("network", self.network), ("quant", self.quant),
                ("technology", self.technology), ("crossbar", self.crossbar),
                ("encoding", self.encoding), ("r_p_ohm", self.r_p_ohm),
                ("adc_bits", self.adc_bits), ("calibrated", self.calibrated),
                ("cell_iv", self.cell_iv), ("access", self.access))

    @property
    def key(self) -> str:
        identity = {**dict(self.params), "dataset": self.dataset, "images": self.images,
                    "samples": self.samples,
                    "calibration_images": self.calibration_images,
                    "profile_images": self.profile_images, "seed": self.seed,
                    "checkpoint": self.checkpoint_sha, "version": __version__,
                    "code": code_fingerprint("nn")}
        blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]












def compute_cim_point(point: CimPoint) -> tuple[dict[str, Any], NDArray[np.int64]]:
    """Run one point: its record (accuracy, energy, histograms) and its predicted labels."""
    import torch

    from ...nn import to_crossbar

    t0 = time.perf_counter()
    data = cached_dataset(point.dataset, point.data_dir)
    model = cached_checkpoint(point.checkpoint, point.checkpoint_sha)
    hw = to_crossbar(model, technology=point.technology, encoding=point.encoding,
                     crossbar=point.crossbar, adc_bits=point.adc_bits,
                     r_bitline_ohm=point.r_p_ohm, cell_iv=point.cell_iv, access=point.access)
    record: dict[str, Any] = {"key": point.key, **dict(point.params),
                              "params": dict(point.params)}
    if point.figure == "fig2":  # profiling: the ADC outputs of every layer
        idx = sample(len(data.y_train), point.profile_images, point.seed, 2)
        hw(torch.from_numpy(data.x_train[idx]))
        record["histograms"] = [
            {"layer": layer.name, "codes": layer.core.profile.adc_codes.tolist(),
             "counts": layer.core.profile.adc_counts.tolist()} for layer in hw.crossbar_layers]
        predictions = np.zeros(0, dtype=np.int64)
    else:
        if point.calibrated and point.adc_bits is not None:
            idx = sample(len(data.y_train), point.calibration_images, point.seed, 1)
            record["adc_scales"] = hw.calibrate(data.x_train[idx])
        idx = test_images(len(data.y_test), point.images, point.samples, point.seed)
        logits = hw(torch.from_numpy(data.x_test[idx]))
        predictions = logits.argmax(dim=1).numpy().astype(np.int64)
        record.update(accuracy_record(predictions == data.y_test[idx], point.samples))
        stats = hw.stats()
        record.update({k: stats[k] for k in ("energy_j", "macs", "energy_per_mac_j",
                                             "mac_per_joule", "column_utilisation",
                                             "crossbars")})
        record["layers"] = stats["layers"]
    record["seconds"] = time.perf_counter() - t0
    return record, predictions


def study_points(config: CimConfig, checkpoints: dict[str, tuple[str, str]],
                 data_dir: str | None) -> list[CimPoint]:
    """Every point of the study; ``checkpoints`` maps quant -> (path, sha256)."""
    net = config.network
    common: dict[str, Any] = dict(network=net, dataset=config.dataset, images=config.images,
                                  samples=config.samples,
                  calibration_images=config.calibration_images,
                  profile_images=config.profile_images, seed=config.seed, data_dir=data_dir)
    points = []
    for quant in config.quants:
        path, sha = checkpoints[quant]
        ck: dict[str, Any] = dict(quant=quant, checkpoint=path, checkpoint_sha=sha, **common)
        for enc in ENCODINGS_FOR[quant]:
            points.append(CimPoint("fig2", technology=config.adc_technology,
                                   crossbar=config.adc_crossbar, encoding=enc, r_p_ohm=0.0,
                                   adc_bits=None, calibrated=False, **ck))
            for tech in config.technologies:
                for n in config.rp_crossbars:
                    for r in config.r_p_ohm:
                        points.append(CimPoint("fig3", technology=tech, crossbar=n,
                                               encoding=enc, r_p_ohm=r, adc_bits=None,
                                               calibrated=False, **ck))
            for bits in config.adc_bits:
                for cal in (True, False):
                    points.append(CimPoint("fig4", technology=config.adc_technology,
                                           crossbar=config.adc_crossbar, encoding=enc,
                                           r_p_ohm=0.0, adc_bits=bits, calibrated=cal, **ck))
            for n in config.energy_crossbars:
                points.append(CimPoint("fig5", technology=config.energy_technology, crossbar=n,
                                       encoding=enc, r_p_ohm=0.0,
                                       adc_bits=config.energy_adc_bits, calibrated=True, **ck))
            for cell, access in ELEMENT_CASES:
                points.append(CimPoint("fig6", technology=config.adc_technology,
                                       crossbar=config.adc_crossbar, encoding=enc,
                                       r_p_ohm=config.nonlinear_r_p_ohm, adc_bits=None,
                                       calibrated=False, cell_iv=cell, access=access, **ck))
    return points


def ensure_checkpoints(config: CimConfig, root: Path, data_dir: str | None,
                       log: Any = None) -> dict[str, tuple[str, str]]:
    """Train each quant's network unless its checkpoint is already in ``root/checkpoints``.

    A checkpoint found there is read safely (:func:`meliso.nn.load_checkpoint`) and reused only
    if it was trained for this study's network, quantisation, dataset, epochs and seed."""
    from ...nn import checkpoint_name, load_checkpoint, save_checkpoint, train
    from ...nn.train import DEFAULT_EPOCHS

    epochs = config.epochs if config.epochs is not None else DEFAULT_EPOCHS[config.network]
    out: dict[str, tuple[str, str]] = {}
    for quant in config.quants:
        path = root / "checkpoints" / checkpoint_name(config.network, quant, config.dataset)
        if path.exists():
            meta = load_checkpoint(path)[1]
            want = {"net": config.network, "quant": quant, "dataset": config.dataset,
                    "epochs": epochs, "seed": config.seed}
            wrong = {k: meta.get(k) for k, v in want.items() if meta.get(k) != v}
            if wrong:
                raise ParameterError(
                    f"{path} was trained with {wrong}, this study needs "
                    f"{ {k: want[k] for k in wrong} }: use --force to retrain it")
        else:
            if log is not None:
                log(f"training {config.network} {quant} on {config.dataset}")
            result = train(config.network, quant, cached_dataset(config.dataset, data_dir),
                           epochs=config.epochs, seed=config.seed)
            save_checkpoint(result, path)
        out[quant] = (str(path), hashlib.sha256(path.read_bytes()).hexdigest())
    return out

"""What the network studies share: fixed random samples of a dataset, accuracies with their
binomial intervals, the dataset and checkpoints read once per process, and a study folder's
stored settings."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from .._validation import ParameterError, validate_model
from .._yaml import load_yaml_text
from ..analysis.stats import wilson_interval


def test_images(n_total: int, images: int, samples: int, seed: int) -> NDArray[np.int64]:
    """``samples`` disjoint random samples of ``images`` test images, one after the other."""
    if images * samples > n_total:
        raise ParameterError(f"images x samples = {images} x {samples} = {images * samples} "
                             f"test images, but the test split holds {n_total}: allowed "
                             "images * samples <= the test split")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    return rng.permutation(n_total)[: images * samples]


def accuracy_record(correct: NDArray[np.bool_], samples: int) -> dict[str, Any]:
    """Top-1 accuracy in percent over every image, its 95 % Wilson interval, and the accuracy
    of each disjoint sample (``correct``: one flag per image, sample after sample)."""
    k, n = int(correct.sum()), int(correct.size)
    lo, hi = wilson_interval(k, n)
    per_sample = correct.reshape(samples, -1).mean(axis=1)
    return {"accuracy_pct": 100 * k / n, "accuracy_ci_low_pct": 100 * lo,
            "accuracy_ci_high_pct": 100 * hi, "correct": k, "n_images": n,
            "sample_accuracy_pct": [float(100 * a) for a in per_sample]}


def sample(n_total: int, n: int, seed: int, stream: int) -> NDArray[np.int64]:
    """A fixed random sample of ``n`` indices out of ``n_total`` (sorted)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
    return np.sort(rng.permutation(n_total)[: min(n, n_total)])


@functools.lru_cache(maxsize=2)
def cached_dataset(name: str, data_dir: str | None) -> Any:
    """The dataset (read once per process: the points of a run share it)."""
    from ..data import load_dataset

    return load_dataset(name, data_dir)


@functools.lru_cache(maxsize=16)
def cached_checkpoint(path: str, sha: str) -> Any:
    """The network of a checkpoint (read safely once per process; ``sha`` keys the cache to
    the file's content)."""
    from ..nn import load_checkpoint

    return load_checkpoint(path)[0]


M = TypeVar("M", bound=BaseModel)


def stored_config(root: Path, model: type[M]) -> M:
    """A study folder's settings (its ``config.yaml``) as ``model``, validated again."""
    try:
        stored = load_yaml_text((root / "config.yaml").read_text(), "config.yaml")
    except OSError:
        raise ParameterError(f"{root} has no readable config.yaml") from None
    return validate_model(model, stored if isinstance(stored, dict) else {})


def finish_report(root: Path, text: list[str], figures: list[tuple[str, str, str]],
                  title: str) -> Path:
    """Append the figures (title, path, caption) to a study's report lines, write
    ``report.md`` and its self-contained ``report.html``; returns the report's path."""
    from .._io import atomic_write_text
    from ..experiments.html import write_html_report

    for heading, path, caption in figures:
        text += [f"### {heading}\n", f"![{heading}]({path})\n", f"{caption}\n"]
    report = root / "report.md"
    atomic_write_text(report, "\n".join(text))
    write_html_report(report, title=title)
    return report


def rebuild_study(root: Path, config_type: type[M], write_outputs: Any) -> Path:
    """``meliso report`` of a study that is one run folder: its outputs again from the
    stored settings and results (a quick run's settings are named ``...-quick``)."""
    from ..experiments.store import read_results

    config = stored_config(root, config_type)
    return Path(write_outputs(root, config, read_results(root),
                              quick=str(getattr(config, "name", "")).endswith("-quick")))


def check_study_devices(devices: tuple[str, ...]) -> None:
    """A study's devices: multilevel presets (not device files: a study's cached points are
    keyed by the device's name)."""
    from ..devices import TABLE_I, AnalogDevice, get_device
    from ..devices.device_file import is_device_path

    for name in devices:
        if is_device_path(name):
            raise ValueError(f"device {name!r}: the studies run presets (their cached points "
                             "are keyed by name); run a device file with meliso run, vmm, "
                             "learn or to_analog")
        if not isinstance(get_device(name), AnalogDevice):
            raise ValueError(f"device {name!r} is binary: allowed multilevel (analog) presets "
                             "such as " + ", ".join(TABLE_I))


def study_config(model: type[M], quick_config: Any, dataset: str, quick: bool,
                 config: M | None, **changes: Any) -> M:
    """A study's settings: ``config`` if given, else its quick or full default for
    ``dataset``, with the ``changes`` that are not None applied (validated)."""
    if config is None:
        config = quick_config(dataset) if quick else validate_model(model, {"dataset": dataset})
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes:
        config = validate_model(model, {**config.model_dump(), **changes})
    return config

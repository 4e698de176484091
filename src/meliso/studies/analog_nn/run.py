"""``meliso reproduce analog-nn`` and ``meliso report`` of its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..._fingerprint import code_fingerprint
from ...experiments.executor import SERIAL, Executor, Session
from ...experiments.rundir import run_folder
from ...experiments.runner import ProgressCallback, run_points
from ...experiments.store import RunStore
from .._shared import cached_dataset, rebuild_study, study_config, test_images
from .report import write_outputs
from .study import (
    STUDY,
    AnalogNnConfig,
    compute_point,
    ensure_networks,
    quick_config,
    study_points,
)


def reproduce_analog_nn(
    out: str | Path = "runs/analog-nn",
    *,
    dataset: str = "mnist5k",
    quick: bool = False,
    data_dir: str | None = None,
    executor: Executor | Session = SERIAL,
    on_point: ProgressCallback | None = None,
    log: Any = None,
    config: AnalogNnConfig | None = None,
    force: bool = False,
    chips: int | None = None,
) -> Path:
    """Run the study into ``out`` (new, empty or its own folder; ``force`` recomputes it in
    place, networks retrained); returns the report's path. ``chips`` replaces the number of
    programmed chips per point. The dataset is read before anything is written."""
    config = study_config(AnalogNnConfig, quick_config, dataset, quick, config, chips=chips)
    data = cached_dataset(config.dataset, data_dir)
    import meliso.nn  # noqa: F401  # without PyTorch: a clear error before anything is written
    # (after the dataset, so a missing --data-dir is named first)
    test_images(len(data.y_test), config.images, 1, config.seed)  # enough test images
    with run_folder(out, "run", study=STUDY, force=force) as root:
        store = RunStore(root, config, fingerprint=code_fingerprint("nn"))
        floats, hwa = ensure_networks(config, root, data_dir, log)
        points = study_points(config, floats, hwa, data_dir)
        rows, _, _ = run_points(store, points, compute_point, executor=executor,
                                on_point=on_point)
        return write_outputs(root, config, rows, quick=config.name.endswith("-quick"))


def rebuild_analog_nn(root: Path) -> Path:
    """``meliso report`` of the study's folder: its outputs again from the stored results."""
    return rebuild_study(root, AnalogNnConfig, write_outputs)

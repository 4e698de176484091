"""``meliso reproduce cim`` and ``meliso report`` of its folder: the study run end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..._fingerprint import code_fingerprint
from ..._validation import ParameterError
from ...experiments.executor import SERIAL, Executor, Session
from ...experiments.rundir import run_folder
from ...experiments.runner import ProgressCallback, run_points
from ...experiments.store import RunStore, read_results
from .._shared import stored_config, study_config
from .report import write_cim_outputs
from .study import (
    STUDY,
    CimConfig,
    cached_dataset,
    compute_cim_point,
    ensure_checkpoints,
    quick_config,
    study_points,
    test_images,
)


def reproduce_cim(
    out: str | Path = "runs/cim",
    *,
    dataset: str = "mnist5k",
    quick: bool = False,
    data_dir: str | None = None,
    executor: Executor | Session = SERIAL,
    on_point: ProgressCallback | None = None,
    log: Any = None,
    config: CimConfig | None = None,
    force: bool = False,
    samples: int | None = None,
) -> Path:
    """Run the study into ``out``; returns the path of its report.

    ``out`` must be new, empty or this study's own folder; ``force`` recomputes it in place
    (checkpoints retrained); ``samples`` replaces the number of disjoint test samples per
    point. The dataset is read before anything is written, so a missing ``--data-dir`` leaves
    nothing behind."""
    # samples: the verdicts' robustness, disjoint test samples per point
    config = study_config(CimConfig, quick_config, dataset, quick, config, samples=samples)
    data = cached_dataset(config.dataset, data_dir)  # a missing or malformed dataset fails here
    import meliso.nn  # noqa: F401  # without PyTorch: a clear error before anything is written
    # (after the dataset, so a missing --data-dir is named first)
    test_images(len(data.y_test), config.images, config.samples, config.seed)  # enough images
    with run_folder(out, "run", study=STUDY, force=force) as root:
        store = RunStore(root, config, fingerprint=code_fingerprint("nn"))
        checkpoints = ensure_checkpoints(config, root, data_dir, log)
        points = study_points(config, checkpoints, data_dir)
        rows, _, _ = run_points(store, points, compute_cim_point, executor=executor,
                                on_point=on_point)
        return write_cim_outputs(root, config, rows, checkpoints)


def rebuild_cim(root: Path) -> Path:
    """``meliso report`` of a CIM study folder: its outputs again from the stored results."""
    config = stored_config(root, CimConfig)
    from ...nn.checkpoint import checkpoint_name  # imports torch, as the outputs need it

    rows = read_results(root)
    checkpoints: dict[str, tuple[str, str]] = {}
    for quant in config.quants:
        path = root / "checkpoints" / checkpoint_name(config.network, quant, config.dataset)
        if not path.is_file():
            raise ParameterError(f"{path} is missing: run `meliso reproduce cim` again")
        checkpoints[quant] = (str(path), hashlib.sha256(path.read_bytes()).hexdigest())
    return write_cim_outputs(root, config, rows, checkpoints)

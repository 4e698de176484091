"""``meliso reproduce neurosim-mlp`` and ``meliso report`` of its folder."""

from __future__ import annotations

from pathlib import Path

from ..._fingerprint import code_fingerprint
from ...experiments.executor import SERIAL, Executor, Session
from ...experiments.rundir import run_folder
from ...experiments.runner import ProgressCallback, run_points
from ...experiments.store import RunStore
from .._shared import rebuild_study, study_config
from .report import write_outputs
from .study import STUDY, NeurosimMlpConfig, compute_point, quick_config, study_points


def reproduce_neurosim_mlp(
    out: str | Path = "runs/neurosim-mlp",
    *,
    dataset: str = "mnist5k",
    quick: bool = False,
    data_dir: str | None = None,
    executor: Executor | Session = SERIAL,
    on_point: ProgressCallback | None = None,
    config: NeurosimMlpConfig | None = None,
    force: bool = False,
    seeds: int | None = None,
    models: tuple[str, ...] | None = None,
) -> Path:
    """Run the study into ``out`` (new, empty or its own folder; ``force`` recomputes it in
    place); returns the report's path. ``seeds`` replaces the runs per device and model,
    ``models`` the read models. The dataset is read before anything is written."""
    from ...learning.inputs import patches

    config = study_config(NeurosimMlpConfig, quick_config, dataset, quick, config, seeds=seeds,
                          models=None if models is None else list(models))
    patches(config.dataset, data_dir)  # a missing or malformed dataset fails here
    with run_folder(out, "run", study=STUDY, force=force) as root:
        store = RunStore(root, config, fingerprint=code_fingerprint("learning"))
        points = study_points(config, data_dir)
        rows, _, _ = run_points(store, points, compute_point, executor=executor,
                                on_point=on_point)
        return write_outputs(root, config, rows, quick=config.name.endswith("-quick"))


def rebuild_neurosim_mlp(root: Path) -> Path:
    """``meliso report`` of the study's folder: its outputs again from the stored results."""
    return rebuild_study(root, NeurosimMlpConfig, write_outputs)

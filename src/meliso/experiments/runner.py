"""Running an experiment: one pure function per point, on a serial or a Dask executor.

Seeding. A point's matrices A and vectors x come from ``SeedSequence([run seed, 0])``, the same
for every point of the run (common random numbers: every point multiplies the same population,
so trends along a sweep and model-to-model differences carry no sampling noise between
points). Its device noise comes from ``SeedSequence([run seed, 1, h])``, h a hash of the point's
resolved settings. A point's numbers therefore depend only on the run seed and its own
parameters, never on order, executor or the number of workers.

Executors (:mod:`.executor`). ``serial`` runs the points in this process; ``dask`` submits them
to a Dask cluster (a ``LocalCluster`` of ``workers`` processes, or an existing scheduler). In
both cases this process writes each finished point (atomically) as it arrives, so an
interrupted run keeps everything finished and a re-run computes only the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._memory import MemoryRefusal
from .._validation import ParameterError
from ..analysis import summarize
from ..analysis.fits import fit_distributions
from ..analysis.stats import bootstrap_intervals
from ..devices import Device, get_device
from ..devices.device_file import is_device_path
from ..workloads import vmm_population
from .config import ExperimentConfig, PointSpec
from .executor import SERIAL, Executor, Session, open_session
from .rundir import run_folder
from .store import RunStore

ProgressCallback = Callable[[int, int, dict[str, Any], bool], None]


#: Failures of a point's own numbers: recorded as a failed point, the run goes on.
NUMERICAL_FAILURES = (ParameterError, FloatingPointError, OverflowError, ZeroDivisionError,
                      np.linalg.LinAlgError)



def point_device(spec: PointSpec) -> Device:
    """The point's device. A device file's point carries every field of the file in its
    overrides (its identity), so the file itself is not read again: a worker that cannot see it
    (another machine of a Dask cluster) computes the same device."""
    overrides = dict(spec.device_overrides)
    if is_device_path(spec.device):
        return get_device("ideal", **overrides)
    return get_device(spec.device, **overrides)

def compute_point(spec: PointSpec) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Simulate and analyse one point: its record (statistics, fits) and its error vector.

    A point whose every output is non-finite, or whose simulation fails numerically, is a
    *failed* point (``status: failed`` with the reason in ``failure``); it is stored like any
    other, so the run, its report and a re-run go on without it. Fits skip non-finite errors.
    """
    t0 = time.perf_counter()
    record: dict[str, Any] = {"key": spec.key, "device": spec.device, "trials": spec.trials,
                              "params": dict(spec.params), **dict(spec.params)}
    workload = np.random.default_rng(np.random.SeedSequence([spec.seed, 0]))
    noise = np.random.default_rng(np.random.SeedSequence([spec.seed, 1, spec.device_seed]))
    try:
        device = point_device(spec)
        with np.errstate(all="ignore"):
            pop = vmm_population(device, trials=spec.trials, rows=spec.rows, cols=spec.cols,
                                 rng=workload, device_rng=noise, **dict(spec.core))
    except MemoryRefusal:
        raise  # the machine's budget today, not the point's numbers: never cached
    except NUMERICAL_FAILURES as exc:
        record.update(status="failed", failure=f"{type(exc).__name__}: {exc}",
                      seconds_simulation=time.perf_counter() - t0)
        return record, np.zeros((0, spec.rows))
    t_sim = time.perf_counter() - t0
    core = pop.core
    record.update({
        "device": device.name,
        "model": core.model,
        "mapping": core.mapping,
        "calibration": core.config.resolved_calibration,
        **summarize(pop.errors, pop.exact),
        "status": "ok",
    })
    record.update(pop.calibration_diagnostics())
    if spec.bootstrap:
        record.update(bootstrap_intervals(pop.errors, resamples=spec.bootstrap,
                                          seed=spec.device_seed % 2**32))
    if not np.isfinite(pop.errors).any():
        record.update(status="failed", failure="every output is non-finite (inf/NaN): these "
                      "device values and settings leave nothing to decode")
    t1 = time.perf_counter()
    if spec.families and record["status"] == "ok":
        try:
            report = fit_distributions(pop.errors, spec.families)
        except NUMERICAL_FAILURES as exc:
            record["best_fit"] = f"fits failed ({type(exc).__name__})"
        else:
            best = report.best
            record["best_fit"] = best.family if best else "none converged"
            record["best_fit_params"] = best.params if best else {}
            record["fits"] = report.table()
    record["seconds_simulation"] = t_sim
    record["seconds_fits"] = time.perf_counter() - t1
    return record, pop.errors


@dataclass(frozen=True)
class RunResult:
    """A finished run: its directory, rows in point order, and how many points were computed."""

    run_dir: Path
    rows: list[dict[str, Any]]
    computed: int
    cached: int


class _Spec(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def params(self) -> tuple[tuple[str, Any], ...]: ...


S = TypeVar("S", bound=_Spec)
Compute = Callable[[Any], tuple[dict[str, Any], Any]]


def run_points(
    store: RunStore,
    specs: list[S],
    compute: Compute,
    *,
    executor: Executor | Session = SERIAL,
    on_point: ProgressCallback | None = None,
) -> tuple[list[dict[str, Any]], int, int]:
    """Compute every point of ``specs`` not yet in ``store`` (a pure, picklable ``compute``:
    spec -> (record, array)), saving each as it finishes; returns (rows in spec order,
    computed, cached). Any kind of point works: VMM populations, network inferences..."""
    unique: dict[str, S] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    todo = [s for s in unique.values() if not store.has(s.key)]
    pending = {s.key for s in todo}
    total, done = len(unique), len(unique) - len(todo)
    seen = 0
    for spec in unique.values():
        if on_point is not None and spec.key not in pending:
            seen += 1
            on_point(seen, total, store.load_point(spec.key), True)
    computed = 0
    with open_session(executor) as session:
        for spec, (record, array) in session.map(compute, todo):
            if record["key"] != spec.key:  # the key hashes the code that computed the point
                raise ParameterError(
                    "a worker runs different meliso code (or numerical libraries) than this "
                    "process; install the same version on every machine of the cluster"
                )
            store.save_point(spec.key, record, array)
            computed += 1
            if on_point is not None:
                on_point(done + computed, total, record, False)
    rows = []
    for spec in specs:
        row = store.load_point(spec.key)
        row.update(dict(spec.params))  # duplicated points keep their own sweep labels
        row["params"] = dict(spec.params)
        rows.append(row)
    store.write_results(rows)
    return rows, computed, total - len(todo)


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path,
    *,
    executor: Executor | Session = SERIAL,
    on_point: ProgressCallback | None = None,
    report: bool = True,
    force: bool = False,
) -> RunResult:
    """Run every point of ``config`` into ``out_dir`` (cached, resumable), then report.

    ``out_dir`` must be new, empty or a run meliso made (:mod:`.rundir`); it is locked while
    the run writes. ``force``: recompute every point in place (the run's earlier files are
    removed first). ``executor``: where the points run; a running :class:`Session` is reused
    (e.g. one Dask cluster across the experiments of a study).
    """
    with run_folder(out_dir, "run", force=force) as root:
        store = RunStore(root, config)
        rows, computed, cached = run_points(store, config.point_specs(), compute_point,
                                            executor=executor, on_point=on_point)
        if report:
            from .report import build_report

            build_report(root)
    return RunResult(root, rows, computed, cached)

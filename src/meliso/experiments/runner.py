"""Running an experiment: one pure function per point, on a serial or a Dask executor.

Seeding. A point's matrices A and vectors x come from ``SeedSequence([run seed, 0])``, the same
for every point of the run (common random numbers: every point multiplies the same population,
so trends along a sweep and model-to-model differences carry no sampling noise between
points). Its device noise comes from ``SeedSequence([run seed, 1, h])``, h a hash of the point's
resolved settings. A point's numbers therefore depend only on the run seed and its own
parameters, never on order, executor or the number of workers.

Executors. ``serial`` runs the points in this process; ``dask`` submits them to a Dask cluster
(a ``LocalCluster`` of ``workers`` processes, or an existing scheduler at ``scheduler``). In both
cases this process writes each finished point (atomically) as it arrives, so an interrupted run
keeps everything finished and a re-run computes only the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._validation import ParameterError
from ..analysis import summarize
from ..analysis.fits import fit_distributions
from ..devices import get_device
from ..workloads import vmm_population
from .config import ExperimentConfig, PointSpec
from .store import RunStore

Executor = Literal["serial", "dask"]
ProgressCallback = Callable[[int, int, dict[str, Any], bool], None]


def compute_point(spec: PointSpec) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Simulate and analyse one point: its record (statistics, fits) and its error vector."""
    t0 = time.perf_counter()
    workload = np.random.default_rng(np.random.SeedSequence([spec.seed, 0]))
    noise = np.random.default_rng(np.random.SeedSequence([spec.seed, 1, spec.device_seed]))
    device = get_device(spec.device, **dict(spec.device_overrides))
    pop = vmm_population(device, trials=spec.trials, rows=spec.rows, cols=spec.cols,
                         rng=workload, device_rng=noise, **dict(spec.core))
    t_sim = time.perf_counter() - t0
    core = pop.core
    record: dict[str, Any] = {
        "key": spec.key,
        "device": device.name,
        "model": core.model,
        "mapping": core.mapping,
        "calibration": core.config.resolved_calibration,
        "trials": spec.trials,
        "params": dict(spec.params),
        **dict(spec.params),
        **summarize(pop.errors, pop.exact),
    }
    record.update(pop.calibration_diagnostics())
    t1 = time.perf_counter()
    if spec.families:
        report = fit_distributions(pop.errors, spec.families)
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


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on an existing scheduler, or on a LocalCluster of ``workers`` processes."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ParameterError(
            "executor 'dask' needs Dask: pip install 'meliso[distributed]'"
        ) from exc
    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = 2 if workers is None else workers
    if n < 1:
        raise ParameterError(f"workers = {n} is out of range: allowed workers >= 1")
    # One thread per worker process: Dask pins OpenMP/BLAS to 1 thread; Numba's parallel
    # kernels would otherwise start a thread per core in every worker. And no
    # MALLOC_TRIM_THRESHOLD_: setting it turns off glibc's dynamic mmap threshold, so every
    # large temporary array becomes a fresh mmap with page faults; measured here, each point
    # then ran 2.3x slower on a worker than in-process (sys time ~ user time).
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.update({"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class _Spec(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def params(self) -> tuple[tuple[str, Any], ...]: ...


S = TypeVar("S", bound=_Spec)
Compute = Callable[[Any], tuple[dict[str, Any], Any]]


def _dask_results(client: Any, specs: list[S], compute: Compute
                  ) -> Iterator[tuple[S, tuple[dict[str, Any], Any]]]:
    from dask.distributed import as_completed

    futures = client.map(compute, specs, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    for fut in as_completed(futures):
        yield specs[index[fut.key]], fut.result()


def run_points(
    store: RunStore,
    specs: list[S],
    compute: Compute,
    *,
    executor: Executor = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    on_point: ProgressCallback | None = None,
    client: Any = None,
) -> tuple[list[dict[str, Any]], int, int]:
    """Compute every point of ``specs`` not yet in ``store`` (a pure, picklable ``compute``:
    spec -> (record, array)), saving each as it finishes; returns (rows in spec order,
    computed, cached). Any kind of point works: VMM populations, network inferences..."""
    if executor not in ("serial", "dask"):
        raise ParameterError(f"executor = '{executor}': allowed 'serial' or 'dask'")
    unique: dict[str, S] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    todo = [s for s in unique.values() if not store.has(s.key)]
    total, done = len(unique), len(unique) - len(todo)
    seen = 0
    for spec in unique.values():
        if store.has(spec.key) and on_point is not None:
            seen += 1
            on_point(seen, total, store.load_point(spec.key), True)
    computed = 0

    def consume(results: Iterator[tuple[S, tuple[dict[str, Any], Any]]]) -> None:
        nonlocal computed
        for spec, (record, array) in results:
            if record["key"] != spec.key:  # the key hashes the code that computed the point
                raise ParameterError(
                    "a worker runs different meliso code (or numerical libraries) than this "
                    "process; install the same version on every machine of the cluster"
                )
            store.save_point(spec.key, record, array)
            computed += 1
            if on_point is not None:
                on_point(done + computed, total, record, False)

    if executor == "serial" or not todo:
        consume((s, compute(s)) for s in todo)
    elif client is not None:
        consume(_dask_results(client, todo, compute))
    else:
        with dask_client(workers, scheduler) as own:
            consume(_dask_results(own, todo, compute))
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
    executor: Executor = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    on_point: ProgressCallback | None = None,
    report: bool = True,
    client: Any = None,
) -> RunResult:
    """Run every point of ``config`` into ``out_dir`` (cached, resumable), then report.

    ``client``: an open Dask client to reuse (executor ``dask``), e.g. across the experiments
    of a study; otherwise one is opened for this run and closed after it.
    """
    if executor not in ("serial", "dask"):
        raise ParameterError(f"executor = '{executor}': allowed 'serial' or 'dask'")
    store = RunStore(out_dir, config)
    rows, computed, cached = run_points(store, config.point_specs(), compute_point,
                                        executor=executor, workers=workers,
                                        scheduler=scheduler, on_point=on_point, client=client)
    if report:
        from .report import build_report

        build_report(store.root)
    return RunResult(store.root, rows, computed, cached)

"""Where sweep points run: in this process, or on a Dask cluster. Defined once, validated once.

    executor = Executor(kind="dask", workers=2)          # a LocalCluster of 2 processes
    executor = Executor(kind="dask", scheduler="tcp://host:8786", timeout_sec=10)
    with executor.session() as session:                  # one cluster for many runs
        for spec, (record, array) in session.map(compute, specs): ...

Every point runs the same pure function wherever it runs, and this process writes each result
as it arrives, so an interrupted run keeps what finished.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._validation import ParameterError

T = TypeVar("T")
R = TypeVar("R")


class Executor(BaseModel):
    """Validated executor settings (frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    kind: Literal["serial", "dask"] = Field("serial", description="serial | dask")
    workers: int | None = Field(
        None, ge=1, le=256, description="Dask LocalCluster worker processes (default 2)")
    scheduler: str | None = Field(
        None, min_length=1, max_length=512, description="address of an existing Dask scheduler")
    timeout_sec: float = Field(
        10.0, gt=0, le=3600, description="seconds to wait for the Dask scheduler")

    @model_validator(mode="after")
    def _options_of_kind(self) -> Executor:
        """Refuse options the chosen kind would silently ignore."""
        given = [f"{name} = {value!r}" for name, value in
                 (("workers", self.workers), ("scheduler", self.scheduler)) if value is not None]
        if self.kind == "serial" and given:
            verb = "apply" if len(given) > 1 else "applies"
            raise ValueError(f"{' and '.join(given)} {verb} only to executor kind 'dask' "
                             "(--executor dask); the serial executor runs every point in this "
                             "process: add --executor dask, or leave out --workers/--scheduler")
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("workers starts a local Dask cluster and scheduler joins an existing "
                             "one: give --workers or --scheduler, not both")
        return self

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A running executor: for ``dask``, a client on a new or an existing cluster."""
        if self.kind == "serial":
            yield Session(None)
            return
        with dask_client(self.workers, self.scheduler, self.timeout_sec) as client:
            yield Session(client)


SERIAL = Executor()


class Session:
    """An executor that is running: maps a pure function over specs, results as they finish."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, compute: Callable[[T], R], specs: list[T]) -> Iterator[tuple[T, R]]:
        """(spec, compute(spec)) for every spec: in order (serial) or as completed (Dask)."""
        if self.client is None or not specs:
            yield from ((s, compute(s)) for s in specs)
            return
        from dask.distributed import as_completed

        futures = self.client.map(compute, specs, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield specs[index[fut.key]], fut.result()


@contextmanager
def open_session(executor: Executor | Session) -> Iterator[Session]:
    """A session of ``executor``, or ``executor`` itself if it is already running."""
    if isinstance(executor, Session):
        yield executor
        return
    with executor.session() as session:
        yield session


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                timeout_sec: float = 10.0) -> Iterator[Any]:
    """A Dask client: on an existing scheduler, or on a LocalCluster of ``workers`` processes."""
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ParameterError(
            "executor 'dask' needs Dask: pip install 'meliso[distributed]'"
        ) from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout_sec}s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ParameterError(
                f"scheduler = {scheduler!r}: no Dask scheduler answered within {timeout_sec:g} s "
                f"({type(exc).__name__}: {exc}); check the address (tcp://HOST:PORT) or raise "
                "--scheduler-timeout") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = 2 if workers is None else workers
    # One thread per worker process: Dask pins OpenMP/BLAS to 1 thread; Numba's parallel
    # kernels would otherwise start a thread per core in every worker. And no
    # MALLOC_TRIM_THRESHOLD_: setting it turns off glibc's dynamic mmap threshold, so every
    # large temporary array becomes a fresh mmap with page faults; measured here, each point
    # then ran 2.3x slower on a worker than in-process (sys time ~ user time).
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.update({"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    # the nannies run in this process and leave their pre-spawn variables in os.environ:
    # restore ours, or Numba here would refuse to compile (NUMBA_NUM_THREADS changed after its
    # threads started) and this process's own libraries would run single-threaded
    saved = {k: os.environ.get(k) for k in environ}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
    finally:
        _restore(saved)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        _restore(saved)


def _restore(saved: dict[str, str | None]) -> None:
    """Put environment variables back as they were (None: absent)."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

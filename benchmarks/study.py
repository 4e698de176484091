"""Wall time of the built-in MELISO study, and Dask against serial on one sweep.

Goals (issue 12), on a 2-core machine:
- ``meliso reproduce meliso`` at full size (1000 trials everywhere, both models, 98 points with
  five distribution fits each, CSVs, figures and report) in under one minute;
- Dask with 2 local workers at least 1.6x faster than serial on a sweep of 16 or more points
  (fig4: 24 points). Printed twice: on a warm cluster (started and warmed up beforehand, as
  with ``--scheduler`` or inside ``meliso reproduce``, which keeps one cluster for the whole
  study) and with the cluster's start-up and the workers' first kernel loads included.

    python benchmarks/study.py [--skip-study] [--sweep fig4]

Every run starts from an empty temporary directory (no cache).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from meliso.experiments.executor import Executor
from meliso.experiments.runner import compute_point, run_experiment
from meliso.studies.vmm_errors.study import reproduce_meliso, study_config

DASK = Executor(kind="dask", workers=2)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-study", action="store_true")
    parser.add_argument("--sweep", default="fig4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_experiment(study_config("fig2b", quick=True), root / "warm", report=False)  # JIT
        print(f"{'what':<52} {'seconds':>8} {'goal':>14}")
        if not args.skip_study:
            for executor in ("serial", "dask"):
                ex = DASK if executor == "dask" else Executor()
                t = _timed(lambda e=executor, x=ex: reproduce_meliso(root / f"study-{e}",
                                                                     executor=x))
                goal = "< 60 s " + ("ok" if t < 60 else "MISSED")
                print(f"{'reproduce meliso, full, ' + executor:<52} {t:8.1f} {goal:>14}")
        cfg = study_config(args.sweep)
        n = len(cfg.point_specs())
        serial = _timed(lambda: run_experiment(cfg, root / "serial", report=False))
        cold = _timed(lambda: run_experiment(cfg, root / "dask-cold", executor=DASK,
                                             report=False))
        with DASK.session() as session:
            warmup = study_config("fig2b", quick=True).point_specs()[:2]
            list(session.map(compute_point, warmup))
            warm = _timed(lambda: run_experiment(cfg, root / "dask-warm", executor=session,
                                                 report=False))
        label = f"{args.sweep} ({n} points)"
        print(f"{label + ', serial':<52} {serial:8.1f}")
        print(f"{label + ', dask, 2 workers, warm cluster':<52} {warm:8.1f}")
        print(f"{label + ', dask, 2 workers, with start-up':<52} {cold:8.1f}")
        for what, t in (("warm cluster", warm), ("with start-up", cold)):
            ratio = serial / t
            ok = ">= 1.6 " + ("ok" if ratio >= 1.6 else "MISSED")
            print(f"{'speed-up, ' + what:<52} {ratio:8.2f} {ok:>14}")


if __name__ == "__main__":
    main()

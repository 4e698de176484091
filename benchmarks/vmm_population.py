"""Wall time and peak memory of the default VMM population (1000 trials of 32x32) per device.

Goals: at most 0.1 s per 1000-trial 32x32 population on a 2-core machine, for meliso's physics
model (issue 10) and for the bit-exact neurosim model with its two-point calibration (issue 11);
MELISO's own C++ NeuroSim takes about 4.5 s for the same population. The same-size NumPy
product (1000 independent 32x32 matrix-vector products) is timed in the same run as a floor.

    python benchmarks/vmm_population.py [--trials 1000] [--repeat 7]

Times are the median (and best) of ``--repeat`` runs after one warm-up run (Numba kernels are
compiled or loaded from cache there). Peak memory is tracemalloc's peak of Python/NumPy
allocations during one run.
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
from _timing import time_repeated

from meliso.devices import TABLE_I
from meliso.workloads import vmm_population


def _peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (args.trials, 32, 32))
    x = rng.uniform(0, 1, (args.trials, 32))
    numpy_med, numpy_best = time_repeated(lambda: np.einsum("tij,tj->ti", a, x), args.repeat)

    variants = [
        ("physics", "differential", "none"),
        ("physics", "reference", "none"),
        ("physics", "reference", "two-point"),
        ("neurosim", "reference", "two-point"),
    ]
    rows = []
    for device in (*TABLE_I, "ideal"):
        for model, mapping, calibration in variants:
            def run(device=device, model=model, mapping=mapping, calibration=calibration):
                return vmm_population(device, trials=args.trials, model=model, mapping=mapping,
                                      calibration=calibration)
            med, best = time_repeated(run, args.repeat)
            rows.append((device, model, mapping, calibration, med, best, _peak_mib(run)))

    print(f"VMM population: {args.trials} trials of 32x32, open-loop programming")
    print(f"{'device':<11} {'model':<9} {'mapping':<13} {'calibration':<11} {'median s':>9} "
          f"{'best s':>8} {'peak MiB':>9} {'x NumPy':>8} {'goal 0.1 s':>10}")
    for device, model, mapping, calibration, med, best, peak in rows:
        ok = "ok" if med <= 0.1 else "MISSED"
        print(f"{device:<11} {model:<9} {mapping:<13} {calibration:<11} {med:9.4f} {best:8.4f} "
              f"{peak:9.1f} {med / numpy_med:8.0f} {ok:>10}")
    print(f"{'NumPy A@x':<46} {numpy_med:9.5f} {numpy_best:8.5f}   "
          "(same-size product, einsum over 1000 matrices)")


if __name__ == "__main__":
    main()

"""In-memory linear algebra: refinement to 1e-10 per device, and seconds per matvec by size.

1. 2-D Poisson, N = 64 (4096 unknowns), b = ones, 256 x 256 tiles, write-and-verify
   programming, mixed-precision refinement around CG, for every Table I device of Chowdhury
   et al. 2024: with the arrays alone, and with residual arrays (the measured error of the
   arrays so far programmed again, k times). Prints outer
   iterations, crossbar MVMs and the final float64 residual ||b - A x|| / ||b||; and what CG
   alone reaches on the crossbars (its stall level).
2. Seconds per forward matvec (and programming time, memory) for Poisson N = 32 ... 256
   (1024 ... 65 536 unknowns), ideal devices, 256 x 256 tiles.

    python benchmarks/linalg.py [--n 64] [--arrays 0 6] [--programming write-verify]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from meliso.devices import TABLE_I
from meliso.linalg import CrossbarMatrix, cg, poisson2d, refine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--arrays", type=int, nargs="+", default=[0, 6])
    parser.add_argument("--programming", default="write-verify")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    args = parser.parse_args()
    a = poisson2d(args.n)
    b = np.ones(a.shape[0])
    print(f"Poisson {args.n}x{args.n} ({a.shape[0]} unknowns), refinement around CG to 1e-10")
    print(f"{'device':<11} {'arrays':>6} {'matvec err':>10} {'CG alone':>9} {'converged':>9} "
          f"{'outer':>5} {'MVMs':>6} {'residual':>9} {'s':>6}")
    x = np.random.default_rng(1).normal(size=a.shape[0])
    for device in TABLE_I:
        for k in args.arrays:
            m = CrossbarMatrix(a, device, tile=(256, 256), residual_arrays=k,
                               programming=args.programming)
            err = np.linalg.norm(m @ x - a @ x) / np.linalg.norm(a @ x)
            alone = cg(m, b, a, tol=1e-10, maxiter=300).relative_residual
            t0 = time.perf_counter()
            res = refine(m, b, a, method="cg", tol=1e-10, maxiter=60)
            print(f"{device:<11} {k:>6} {err:>10.2e} {alone:>9.1e} {res.converged!s:>9} "
                  f"{res.iterations:>5} {res.mvms:>6} {res.relative_residual:>9.1e} "
                  f"{time.perf_counter() - t0:>6.1f}")
    print()
    print(f"{'N':>5} {'unknowns':>9} {'tiles':>6} {'program s':>9} {'matvec s':>9} "
          f"{'peak RSS GiB':>12}")
    for n in args.sizes:
        p = poisson2d(n)
        t0 = time.perf_counter()
        m = CrossbarMatrix(p, "ideal", tile=(256, 256))
        t_prog = time.perf_counter() - t0
        v = np.ones(p.shape[0])
        m @ v
        t0 = time.perf_counter()
        for _ in range(5):
            m @ v
        t_mv = (time.perf_counter() - t0) / 5
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"{n:>5} {p.shape[0]:>9} {m.n_tiles:>6} {t_prog:>9.2f} {t_mv:>9.4f} {rss:>12.2f}")
        del m


if __name__ == "__main__":
    main()

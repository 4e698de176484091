"""Matrix-vector products of one large matrix spread over Dask workers, against one process.

The 65 536-unknown 2-D Poisson matrix (766 tiles of 256 x 256, ideal devices) in parts of
``--part-blocks`` tiles; each part an actor on a worker of a LocalCluster. Prints seconds per
product (a batch of ``--batch`` vectors) serially and with 1 and 2 workers, and checks that
every product equals the serial one.

    python benchmarks/linalg_dask.py [--n 256] [--batch 8] [--part-blocks 128]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from meliso.experiments.executor import dask_client
from meliso.linalg import CrossbarMatrix, poisson2d


def _time(m: CrossbarMatrix, x: np.ndarray, repeat: int = 5) -> tuple[float, np.ndarray]:
    y = m @ x
    t0 = time.perf_counter()
    for _ in range(repeat):
        m @ x
    return (time.perf_counter() - t0) / repeat, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--part-blocks", type=int, default=128)
    args = parser.parse_args()
    a = poisson2d(args.n)
    x = np.random.default_rng(0).normal(size=(args.batch, a.shape[0]))
    kw = dict(tile=(256, 256), part_blocks=args.part_blocks)
    t0 = time.perf_counter()
    serial = CrossbarMatrix(a, "ideal", **kw)
    t_prog = time.perf_counter() - t0
    t_serial, y_serial = _time(serial, x)
    print(f"{a.shape[0]} unknowns, {serial.n_tiles} tiles in {len(serial.parts)} parts, "
          f"batch {args.batch}")
    print(f"{'executor':<10} {'programming s':>13} {'s / product':>12} {'identical':>9}")
    print(f"{'serial':<10} {t_prog:>13.2f} {t_serial:>12.4f} {'-':>9}")
    del serial
    for workers in (1, 2):
        with dask_client(workers) as client:
            t0 = time.perf_counter()
            spread = CrossbarMatrix(a, "ideal", client=client, **kw)
            t_prog = time.perf_counter() - t0
            t_mv, y = _time(spread, x)
            same = bool(np.array_equal(y, y_serial))
            print(f"{f'dask x{workers}':<10} {t_prog:>13.2f} {t_mv:>12.4f} {same!s:>9}")
            del spread


if __name__ == "__main__":
    main()

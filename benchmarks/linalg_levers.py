"""The accuracy levers of in-memory products, one at a time and combined.

2-D Poisson (N = 32, 1024 unknowns), 128 x 128 tiles, EpiRAM and EpiRAM with 2 % read noise:
relative error ||A_xbar x - A x|| / ||A x|| of 20 random products, and whether refinement around
CG then reaches 1e-10 (outer iterations, crossbar MVMs). MELISO's two-point calibration divides
by each row's span, zero for the empty rows of Poisson's tiles, so it is measured on a dense
random matrix of the same size instead (products only).

    python benchmarks/linalg_levers.py
"""

from __future__ import annotations

import numpy as np

from meliso.devices import get_device
from meliso.linalg import CrossbarMatrix, poisson2d, refine

LEVERS = {
    "open-loop (baseline)": {},
    "write-and-verify": {"programming": "write-verify"},
    "two-point calibration (dense)": {"calibration": "two-point", "input_range": 1.0},
    "bit slices (4 x 2 bits)": {"weight_slices": 4, "bits_per_slice": 2},
    "repeated reads (x8)": {"reads": 8},
    "residual arrays (x3)": {"residual_arrays": 3},
    "write-verify + 6 residual arrays": {"programming": "write-verify", "residual_arrays": 6},
    "write-verify + 6 arrays + 8 reads": {"programming": "write-verify", "residual_arrays": 6,
                                          "reads": 8},
}


def main() -> None:
    a = poisson2d(32)
    dense = np.random.default_rng(1).uniform(-1, 1, (a.shape[0], a.shape[0]))
    x = np.random.default_rng(0).normal(size=(20, a.shape[0]))
    x /= np.abs(x).max()
    b = np.ones(a.shape[0])
    ref = x @ a.T
    print(f"{'device':<22} {'lever':<34} {'matvec err':>10} {'refine':>7} {'outer':>5} "
          f"{'MVMs':>6}")
    for label, dev in (("EpiRAM", get_device("EpiRAM")),
                       ("EpiRAM + 2 % read", get_device("EpiRAM", sigma_read=0.02))):
        for lever, kw in LEVERS.items():
            # two-point calibration needs every tile row to hold a non-zero: a dense matrix
            matrix = dense if "dense" in lever else a
            m = CrossbarMatrix(matrix, dev, tile=(128, 128), **kw)
            if "dense" in lever:
                y = m @ x
                err = np.linalg.norm(y - x @ dense.T) / np.linalg.norm(x @ dense.T)
                print(f"{label:<22} {lever:<34} {err:>10.2e} {'-':>7} {'-':>5} {'-':>6}")
                continue
            err = np.linalg.norm(m @ x - ref) / np.linalg.norm(ref)
            res = refine(m, b, a, method="cg", tol=1e-10, maxiter=40)
            print(f"{label:<22} {lever:<34} {err:>10.2e} {res.converged!s:>7} "
                  f"{res.iterations:>5} {res.mvms:>6}")


if __name__ == "__main__":
    main()

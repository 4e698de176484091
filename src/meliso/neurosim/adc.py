"""NeuroSim's per-plane digitisation and the combination of bit planes (MELISO b155f3d).

``docs/neurosim.md``, steps 6-7. For every output i and input bit plane b
(b = 0 ... B-1, in order):

    S_b(i) = sum_{k: bit b of D_k = 1} I(i, k)          (sequential over k, from 0.0)
    R_b    = sum_{k: bit b of D_k = 1} I_mid            (the nominal mid-current reference)
    c_b(i) = int(S_b / q) - int(R_b / q)                (both truncated separately: quirk Q8)
    q      = (sum_k I_max - sum_k I_min) / P,  P = 65535 (each sum sequential over all n inputs)

and the raw output accumulates out_i += (c_b / P) ((2^b / (2^B - 1)) n) from 0.0 in plane order.
It approximates sum_k u_ik D_k / (2^B - 1) with u = (I - I_mid) / (I_max - I_min), i.e. half the
weight (the 1/2 gain). There is no clipping of c_b.

Bit-exactness needs NeuroSim's summation order (sequential, not NumPy's pairwise sums), so the
loops run in Numba; the plain-Python twin in the tests follows the reference line by line.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: NeuroSim's partial-sum ADC full scale (16 bits).
NEUROSIM_ADC_COUNTS = 65535


def sequential_sum(value: float, count: int) -> float:
    """value added ``count`` times to 0.0, one at a time (NeuroSim's loop)."""
    total = 0.0
    for _ in range(count):
        total += value
    return total


@njit(cache=True, parallel=True)
def neurosim_plane_read(
    i_cell: np.ndarray,
    levels: np.ndarray,
    bits: int,
    i_mid: float,
    q: float,
    counts: int,
    out: np.ndarray,
) -> None:
    """Raw outputs ``out`` (S, B, m) from cell currents (S, m, n) and input levels (S, B, n)."""
    n_stack, m, n = i_cell.shape
    batch = levels.shape[1]
    full = float((1 << bits) - 1)
    for s in prange(n_stack):
        for b in range(batch):
            for i in range(m):
                acc = 0.0
                for nb in range(bits):
                    cur = 0.0
                    ref = 0.0
                    for k in range(n):
                        if (levels[s, b, k] >> nb) & 1:
                            cur += i_cell[s, i, k]
                            ref += i_mid
                    c = int(cur / q) - int(ref / q)
                    acc += (c / counts) * ((2.0**nb / full) * n)
                out[s, b, i] = acc

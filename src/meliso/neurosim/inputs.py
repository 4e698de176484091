"""NeuroSim's bit-serial input levels, with its rounding and without clipping (wrap-around).

``docs/neurosim.md``, step 4 and quirks Q5-Q6.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def c_round(v: FloatArray) -> FloatArray:
    """C's round(): nearest integer, halves away from zero, exact for every double."""
    r = np.trunc(v)
    return r + np.sign(v) * (np.abs(v - r) >= 0.5)


def neurosim_input_levels(x: FloatArray, bits: int = 10) -> NDArray[np.int64]:
    """NeuroSim's integer input levels D (``docs/neurosim.md``, step 4).

    x is rounded half away from zero to a multiple of 1/L (L = 2^bits - 1) with NeuroSim's rule
    (v = |x| L; r = int(v); r + 1 if v - r >= 0.5), then D = round(x~ L). x is *not* clipped:
    only the low ``bits`` bits of D are read, in two's complement for negative D (quirk Q5), so
    x = 1.5 with 10 bits gives D = 1535, read as 511.
    """
    full = float((1 << bits) - 1)
    s = np.where(x >= 0, 1.0, -1.0)
    v = (x * full) * s
    r = np.trunc(v)
    v = np.where(v - r >= 0.5, r + 1.0, r)
    x_q = (v * s) / full
    return c_round(x_q * full).astype(np.int64)

"""Small numeric rules shared by several layers."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def round_half_away(v: ArrayLike) -> NDArray[np.float64]:
    """Round to the nearest integer, halves away from zero (NeuroSim's pulse rounding).

    Written as r + (|v| - r >= 0.5) with r = floor(|v|), which is exact for every double
    (floor(|v| + 0.5) is not: 0.49999999999999994 + 0.5 rounds up to 1).
    """
    v = np.asarray(v, dtype=np.float64)
    mag = np.abs(v)
    r = np.floor(mag)
    return np.copysign(r + (mag - r >= 0.5), v)

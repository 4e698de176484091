"""The error of products on crossbars against the exact ones, for random inputs."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._memory import check_memory
from .._validation import ParameterError
from .matrix import CrossbarMatrix


def product_errors(hw: CrossbarMatrix, exact: Any, *, vectors: int = 10, seed: int = 0
                   ) -> dict[str, float]:
    """Multiply ``vectors`` random x ~ N(0, 1) on the crossbars ``hw`` and against ``exact``
    (float64): relative error ||y - A x|| / ||A x||, RMS and largest error, seconds and energy
    per product. The inputs' memory is checked before they are drawn."""
    if isinstance(vectors, bool) or not isinstance(vectors, int) or not 1 <= vectors <= 100_000:
        raise ParameterError(f"vectors = {vectors!r} is out of range: allowed integer "
                             "1 <= vectors <= 100000")
    m, n = exact.shape
    check_memory(8 * vectors * (n + 3 * m), f"{vectors} vectors of {n} entries",
                 "use fewer --vectors")
    x = np.random.default_rng(seed).normal(size=(vectors, n))
    energy0 = hw.energy_j
    t0 = time.perf_counter()
    y = hw @ x
    seconds = time.perf_counter() - t0
    ref = x @ exact.T
    err = y - ref
    return {"relative_error": float(np.linalg.norm(err) / np.linalg.norm(ref)),
            "error_rms": float(np.sqrt(np.mean(err**2))),
            "error_max_abs": float(np.abs(err).max()),
            "seconds_per_matvec": seconds / vectors,
            "energy_j_per_matvec": (hw.energy_j - energy0) / vectors}

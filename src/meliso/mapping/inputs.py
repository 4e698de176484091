"""Inputs -> word-line voltages: analog amplitudes or bit-serial pulse planes.

Inputs are first normalised per vector, x_s = x / s in [-1, 1], with s either the vector's own
max |x| (``input_range=None``) or a fixed full scale. Then:

- analog: one read with V = V_read * x_s;
- bit-serial with b bits: |x_s| is rounded (half away from zero) to D / L, L = 2^b - 1, and bit k
  of D drives its own read on the rows where it is 1, at +V_read for positive and -V_read for
  negative inputs (sign-magnitude, bipolar read pulses); the planes combine digitally as
  sum_k 2^k / L * I_k.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from .._numeric import round_half_away
from .._validation import ParameterError

FloatArray = NDArray[np.float64]


def input_scale(x: FloatArray, input_range: float | None) -> FloatArray:
    """Full scale of each input vector, shape x.shape[:-1]."""
    peak = np.abs(x).max(axis=-1)
    if input_range is None:
        return np.where(peak > 0, peak, 1.0)
    worst = float(peak.max()) if peak.size else 0.0
    if worst > input_range * (1 + 1e-12):
        raise ParameterError(
            f"inputs reach |x| = {worst:g} but input_range = {input_range:g}: allowed "
            f"|x| <= input_range; raise input_range or set it to None for per-vector scaling"
        )
    return np.full(x.shape[:-1], float(input_range))


def quantize_inputs(x_s: FloatArray, bits: int) -> NDArray[np.int64]:
    """Signed integer levels D in [-(2^b - 1), 2^b - 1] of normalised inputs (half away)."""
    return round_half_away(x_s * ((1 << bits) - 1)).astype(np.int64)


def bit_planes(x_s: FloatArray, bits: int) -> Iterator[tuple[float, FloatArray]]:
    """Yield (weight, plane) pairs whose weighted sum is the quantised input.

    Each plane holds 1.0 where that bit is set on a positive input, -1.0 on a negative input and
    0 elsewhere; a plane's read applies +-V_read accordingly (sign-magnitude pulses). Weights
    are 2^k / (2^b - 1). Empty planes are skipped.
    """
    d = quantize_inputs(x_s, bits)
    mag, sign = np.abs(d), np.sign(d).astype(np.float64)
    full = float((1 << bits) - 1)
    for k in range(bits):
        plane = ((mag >> k) & 1).astype(np.float64) * sign
        if np.any(plane):
            yield (1 << k) / full, plane

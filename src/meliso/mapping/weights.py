"""Signed weights -> target conductance fractions of physical crossbar columns.

Weights arrive normalised, w in [-1, 1] (tile blocks of shape (..., R, C)). A target fraction
f in [0, 1] places a cell at G = G_min + f (G_max - G_min).

- ``differential`` (the default): each weight is a pair of columns (G+, G-) side by side,
  f+ = max(w, 0), f- = max(-w, 0); the output is I+ - I-, so G_min cancels exactly
  (seed 003 eq. 3 for the binary case). Physical columns: 2C, interleaved (+, -).
- ``reference``: one device per weight at f = f_ref + w h, read against one reference column
  per tile programmed to f_ref (the weight 0). f_ref is the reachable level nearest the middle of
  the window (:func:`reference_level`; with an odd level count 1/2 itself is not reachable, and
  a reference half a level off would bias every output by -1/N per unit input), and
  h = min(f_ref, 1 - f_ref) keeps w = +-1 inside the window. Physical columns: C + 1, the
  reference last. This is NeuroSim's scheme with a physical reference column.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Mapping = Literal["differential", "reference"]
MAPPINGS: tuple[Mapping, ...] = ("differential", "reference")


def physical_columns(mapping: Mapping, tile_cols: int) -> int:
    """Physical crossbar columns used by ``tile_cols`` outputs."""
    return 2 * tile_cols if mapping == "differential" else tile_cols + 1


def reference_level(init_frac: float, levels_ltp: int, levels_ltd: int) -> float:
    """Window fraction nearest 1/2 that open-loop pulses from ``init_frac`` reach exactly."""
    delta = 0.5 - init_frac
    n = levels_ltp if delta > 0 else levels_ltd
    k = math.copysign(math.floor(abs(delta) * n + 0.5), delta)
    return init_frac + k / n


def half_range(mapping: Mapping, ref_frac: float = 0.5) -> float:
    """Window fraction that represents |w| = 1: 1 (differential) or min(f_ref, 1 - f_ref)."""
    return 1.0 if mapping == "differential" else min(ref_frac, 1.0 - ref_frac)


def target_fractions(w: FloatArray, mapping: Mapping, ref_frac: float = 0.5) -> FloatArray:
    """Target fractions (..., R, physical columns) for normalised weights w (..., R, C)."""
    if mapping == "differential":
        pair = np.empty((*w.shape, 2))
        np.maximum(w, 0.0, out=pair[..., 0])
        np.maximum(-w, 0.0, out=pair[..., 1])
        return pair.reshape(*w.shape[:-1], 2 * w.shape[-1])
    ref = np.full((*w.shape[:-1], 1), ref_frac)
    data = ref_frac + half_range(mapping, ref_frac) * w
    return np.clip(np.concatenate((data, ref), axis=-1), 0.0, 1.0)


def weight_units(
    i_a: FloatArray, mapping: Mapping, step_a: float, ref_frac: float = 0.5
) -> FloatArray:
    """Decode column currents (..., physical columns) to normalised weighted sums (..., C).

    ``step_a`` is the current difference between a cell at G_max and one at G_min at full
    input. Differential: (I+ - I-) / step; reference: (I - I_ref) / (h step).
    """
    if mapping == "differential":
        return (i_a[..., 0::2] - i_a[..., 1::2]) / step_a
    return (i_a[..., :-1] - i_a[..., -1:]) / (half_range(mapping, ref_frac) * step_a)

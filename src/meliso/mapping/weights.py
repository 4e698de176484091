"""Signed weights -> target conductance fractions of physical crossbar columns.

Weights arrive normalised, w in [-1, 1] (tile blocks of shape (..., R, C)). A target fraction
f in [0, 1] places a cell at G = G_min + f (G_max - G_min).

- ``differential`` (the default): each weight is a pair of columns (G+, G-) side by side,
  f+ = max(w, 0), f- = max(-w, 0); the output is I+ - I-, so G_min cancels exactly
  (seed 003 eq. 3 for the binary case). Physical columns: 2C, interleaved (+, -).
- ``reference``: one device per weight at f = (w + 1) / 2, read against one reference column
  per tile programmed to the mid state f = 1/2 (the weight 0). Physical columns: C + 1, the
  reference last. This is NeuroSim's scheme with a physical reference column.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Mapping = Literal["differential", "reference"]
MAPPINGS: tuple[Mapping, ...] = ("differential", "reference")


def physical_columns(mapping: Mapping, tile_cols: int) -> int:
    """Physical crossbar columns used by ``tile_cols`` outputs."""
    return 2 * tile_cols if mapping == "differential" else tile_cols + 1


def target_fractions(w: FloatArray, mapping: Mapping) -> FloatArray:
    """Target fractions (..., R, physical columns) for normalised weights w (..., R, C)."""
    if mapping == "differential":
        pair = np.stack((np.maximum(w, 0.0), np.maximum(-w, 0.0)), axis=-1)
        return pair.reshape(*w.shape[:-1], 2 * w.shape[-1])
    ref = np.full((*w.shape[:-1], 1), 0.5)
    return np.concatenate((0.5 * (w + 1.0), ref), axis=-1)


def weight_units(i_a: FloatArray, mapping: Mapping, step_a: float) -> FloatArray:
    """Decode column currents (..., physical columns) to normalised weighted sums (..., C).

    ``step_a`` is the current of a full-range weight (|w| = 1) at full input: the current
    difference between a cell at G_max and one at G_min. Differential: (I+ - I-) / step;
    reference: (I - I_ref) / (step / 2).
    """
    if mapping == "differential":
        return (i_a[..., 0::2] - i_a[..., 1::2]) / step_a
    return (i_a[..., :-1] - i_a[..., -1:]) / (0.5 * step_a)

"""Tiling of any-size matrices onto crossbar tiles, and back.

A matrix A (m outputs x n inputs, y = A x) is stored transposed on crossbars: word lines (rows)
carry inputs, bit lines (columns) carry outputs. A tile holds an R x C block of A^T (R inputs,
C outputs); A is zero-padded to whole tiles. Arrays carry a leading *stack* axis S of
independent matrices (a Monte-Carlo population programs S matrices at once):

    A (S, m, n)  ->  W (S, Tr, Tc, R, C),  Tr = ceil(n / R),  Tc = ceil(m / C),
    W[s, tr, tc, r, c] = A[s, tc*C + c, tr*R + r]   (0 in the padding).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def tile_grid(m: int, n: int, tile_rows: int, tile_cols: int) -> tuple[int, int]:
    """(Tr, Tc): tiles along the inputs (crossbar rows) and along the outputs (columns)."""
    return -(-n // tile_rows), -(-m // tile_cols)


def tile_matrix(a: FloatArray, tile_rows: int, tile_cols: int) -> FloatArray:
    """Blocks of A^T, shape (S, Tr, Tc, R, C), from a stack A of shape (S, m, n)."""
    s, m, n = a.shape
    tr, tc = tile_grid(m, n, tile_rows, tile_cols)
    padded = np.zeros((s, tc * tile_cols, tr * tile_rows))
    padded[:, :m, :n] = a
    return padded.reshape(s, tc, tile_cols, tr, tile_rows).transpose(0, 3, 1, 4, 2)


def tile_inputs(x: FloatArray, tile_rows: int, n_tiles: int) -> FloatArray:
    """Inputs (S, B, n) split over the row tiles: (S, B, Tr, R), zero-padded."""
    s, b, n = x.shape
    padded = np.zeros((s, b, n_tiles * tile_rows))
    padded[:, :, :n] = x
    return padded.reshape(s, b, n_tiles, tile_rows)


def untile_outputs(y: FloatArray, m: int) -> FloatArray:
    """Outputs per column tile (S, B, Tc, C) -> (S, B, m), dropping the padding."""
    s, b, tc, c = y.shape
    return y.reshape(s, b, tc * c)[:, :, :m]


def tile_scale(w: FloatArray, weight_range: float | None) -> FloatArray:
    """Scale of each tile's weights, shape (S, Tr, Tc): max |W| of the tile, or a fixed range.

    An all-zero tile gets scale 1 (nothing to represent). With a fixed ``weight_range`` the
    caller has checked that |A| <= weight_range.
    """
    if weight_range is not None:
        return np.full(w.shape[:3], float(weight_range))
    scale = np.abs(w).max(axis=(3, 4))
    return np.where(scale > 0, scale, 1.0)

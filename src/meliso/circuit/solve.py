"""``solve_currents``: crossbar output currents with wire parasitics, by the method you choose.

    solve_currents(g_s, v_in_v, *, r_bitline_ohm=0.0, r_wordline_ohm=0.0,
                   topology="1t1r", method="auto") -> ndarray   # (batch, cols), amperes

Geometry: each word-line driver sits before column 0 with a segment of ``r_wordline_ohm`` before
every column; each bit line is held at 0 V by its amplifier after the last row with a segment
of ``r_bitline_ohm`` after every row; the result is the current into each amplifier. ``g_s``
(rows, cols) holds the cell conductances (any access transistor folded in); ``v_in_v`` is
(batch, rows) or (rows,). ``topology="1t1r"``: a row at exactly 0 V has its transistors off;
``"passive"``: every cell is connected and a 0 V row is driven at 0 V.

Methods:
- ``ideal``: no wires, I = V G.
- ``chain``: Cubero-Cascante et al. 2025, Algorithm 1 (1T1R, bit-line segments only, every active
  row of a vector at one voltage; anything else is an error).
- ``ladder``: exact with one segment kind, any voltages (:mod:`.ladder`).
- ``nodal``: exact nodal analysis, both segment kinds, both topologies (:mod:`.nodal`: with
  both kinds, CG on the bit-line Schur complement (a backward error of 1e-14 on the bit-line
  rows, a relative residual of at most 1e-12 on the whole system); sparse LU
  otherwise).
- ``auto``: the fastest exact method for the arguments (ideal, ladder, or nodal).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError
from .chain import chain_kernel
from .ideal import ideal_currents
from .ladder import (
    bitline_passive_kernel,
    ladder_1t1r_kernel,
    renormalisation_interval,
    wordline_kernel,
)
from .nodal import nodal_solve

FloatArray = NDArray[np.float64]
Method = Literal["auto", "ideal", "chain", "ladder", "nodal"]
Topology = Literal["1t1r", "passive"]
METHODS = ("auto", "ideal", "chain", "ladder", "nodal")
MIN_SEGMENT_OHM = 1e-12
#: Largest wire segment accepted, ohm (a megohm per cell pitch is far beyond any metal line).
MAX_SEGMENT_OHM = 1e6
TOPOLOGIES = ("1t1r", "passive")


def check_wires(r_b: float, r_w: float, method: str, topology: str = "1t1r", *,
                label: str = "method") -> None:
    """The wire-resistance rules, for ``solve_currents`` and the core's settings alike.

    Each resistance is 0 (an ideal wire) or between ``MIN_SEGMENT_OHM`` (below a picohm 1/r
    overflows the solvers' arithmetic) and ``MAX_SEGMENT_OHM``; ``ideal`` has no wires,
    ``chain`` (Algorithm 1) models 1T1R bit lines only and ``ladder`` one segment kind at a
    time: each refuses what it would otherwise ignore. ``label`` names the setting in messages
    (``circuit`` in the core).
    """
    for name, r in (("r_bitline_ohm", r_b), ("r_wordline_ohm", r_w)):
        if not np.isfinite(r) or r < 0 or 0 < r < MIN_SEGMENT_OHM or r > MAX_SEGMENT_OHM:
            raise ParameterError(f"{name} = {r!r} is out of range: allowed {name} = 0 or "
                                 f"{MIN_SEGMENT_OHM:g} <= {name} <= {MAX_SEGMENT_OHM:g}")
    if method == "ideal" and (r_b or r_w):
        raise ParameterError(f"{label} 'ideal' has no wires but r_bitline_ohm/r_wordline_ohm > 0: "
                             "allowed 'auto', 'chain', 'ladder' or 'nodal'")
    if method == "chain" and topology != "1t1r":
        raise ParameterError(f"{label} 'chain' (Cubero-Cascante et al. 2025, Algorithm 1) models "
                             "1T1R arrays only: use topology='1t1r', or 'ladder'/'nodal' for "
                             "passive ones")
    if method == "chain" and r_w != 0:
        raise ParameterError(f"{label} 'chain' has no word-line segments: r_wordline_ohm must "
                             "be 0; use 'nodal' for both segment kinds")
    if method == "ladder" and r_b > 0 and r_w > 0:
        raise ParameterError(f"{label} 'ladder' is exact for one segment kind at a time; with "
                             "both r_bitline_ohm and r_wordline_ohm > 0 use 'nodal'")


def _check(g_s: ArrayLike, v_in_v: ArrayLike, r_b: float, r_w: float, topology: str,
           method: str) -> tuple[FloatArray, FloatArray, bool]:
    g = np.asarray(g_s, dtype=np.float64)
    v = np.asarray(v_in_v, dtype=np.float64)
    if g.ndim != 2 or min(g.shape) == 0:
        raise ParameterError(f"g_s must be a non-empty (rows, cols) array; got shape {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ParameterError("g_s must hold finite conductances >= 0 siemens")
    single = v.ndim == 1
    v2 = v[None] if single else v
    if v2.ndim != 2 or v2.shape[1] != g.shape[0]:
        raise ParameterError(f"v_in_v must be ({g.shape[0]},) or (batch, {g.shape[0]}); "
                             f"got shape {v.shape}")
    if not np.all(np.isfinite(v2)):
        raise ParameterError("v_in_v contains NaN or infinite voltages")
    if topology not in TOPOLOGIES:
        raise ParameterError(f"topology = {topology!r}: allowed {', '.join(TOPOLOGIES)}")
    if method not in METHODS:
        raise ParameterError(f"method = {method!r}: allowed {', '.join(METHODS)}")
    check_wires(r_b, r_w, method, topology)
    return g, np.ascontiguousarray(v2), single


def solve_currents(
    g_s: ArrayLike,
    v_in_v: ArrayLike,
    *,
    r_bitline_ohm: float = 0.0,
    r_wordline_ohm: float = 0.0,
    topology: Topology = "1t1r",
    method: Method = "auto",
) -> FloatArray:
    """Currents into the amplifiers, amperes: (batch, cols), or (cols,) for one vector."""
    r_b, r_w = float(r_bitline_ohm), float(r_wordline_ohm)
    g, v, single = _check(g_s, v_in_v, r_b, r_w, topology, method)
    if method == "auto":
        method = "ideal" if r_b == 0 and r_w == 0 else "ladder" if r_b == 0 or r_w == 0 \
            else "nodal"
    if method == "ideal":
        out = ideal_currents(g, v)
    elif method == "chain":
        out = _chain(g, v, r_b)
    elif method == "ladder":
        out = _ladder(g, v, r_b, r_w, topology)
    else:
        out = nodal_solve(g, v, r_b, r_w, topology, voltages=False).currents_a
    return out[0] if single else out


def _chain(g: FloatArray, v: FloatArray, r_b: float) -> FloatArray:
    active = v != 0.0
    # each vector's read voltage: its first active row's (0 when no row is active)
    v_read = v[np.arange(v.shape[0]), np.argmax(active, axis=1)] * active.any(axis=1)
    mixed = np.any(active & (v != v_read[:, None]), axis=1)
    if np.any(mixed):
        raise ParameterError(
            f"method 'chain' needs every active row of a vector at one read voltage; vector "
            f"{int(np.argmax(mixed))} has several: use method 'ladder' for any voltages"
        )
    if r_b == 0:
        return ideal_currents(g, v)
    out = np.empty((v.shape[0], g.shape[1]))
    chain_kernel(np.ascontiguousarray(g), np.ascontiguousarray(active), v_read, r_b,
                 renormalisation_interval(g, r_b), out)
    return out


def _ladder(g: FloatArray, v: FloatArray, r_b: float, r_w: float, topology: str) -> FloatArray:
    if r_b == 0 and r_w == 0:
        return ideal_currents(g, v)
    if r_w > 0:  # word-line segments: a fixed effective matrix in either topology
        return ideal_currents(wordline_kernel(np.ascontiguousarray(g), 1.0 / r_w), v)
    if topology == "passive":
        return ideal_currents(bitline_passive_kernel(np.ascontiguousarray(g), 1.0 / r_b), v)
    out = np.empty((v.shape[0], g.shape[1]))
    ladder_1t1r_kernel(np.ascontiguousarray(g), v, r_b, renormalisation_interval(g, r_b), out)
    return out

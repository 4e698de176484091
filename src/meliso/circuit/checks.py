"""Input checks of the crossbar solvers: shapes, values, wire resistances and which solver
takes which wires (one place for ``solve_currents``, the non-linear solve and the cores)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError

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


def check_inputs(g_s: ArrayLike, v_in_v: ArrayLike, r_b: float, r_w: float, topology: str,
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

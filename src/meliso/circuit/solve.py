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

Non-linear elements (issue 26): ``cell_iv`` and ``access`` (:mod:`.iv` models) make every cell
the element cell + access transistor, solved by Newton on the nodal equations
(:func:`meliso.circuit.nonlinear.solve_nonlinear`; ``g_s`` are then the cells' programmed,
small-signal conductances without the transistor). ``None`` for both, or a
:class:`~.iv.LinearCell` with no access or a :class:`~.iv.FixedAccess` resistor (folded into
g as 1/(1/g + r)), keeps the linear solvers above, bit for bit. With non-linear elements
``method`` may be ``auto``/``nodal`` (any wires), ``ideal`` (none) or ``ladder`` (one kind);
``chain`` is refused.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ParameterError
from .chain import chain_kernel
from .checks import (
    MAX_SEGMENT_OHM,
    METHODS,
    MIN_SEGMENT_OHM,
    TOPOLOGIES,
    Method,
    Topology,
    check_inputs,
    check_wires,
)
from .ideal import ideal_currents, series_conductance
from .iv import AccessIV, CellIV, FixedAccess, is_linear
from .ladder import (
    bitline_passive_kernel,
    ladder_1t1r_kernel,
    renormalisation_interval,
    wordline_kernel,
)
from .nodal import nodal_solve

__all__ = ["MAX_SEGMENT_OHM", "METHODS", "MIN_SEGMENT_OHM", "TOPOLOGIES", "check_wires",
           "solve_currents"]

FloatArray = NDArray[np.float64]
def solve_currents(
    g_s: ArrayLike,
    v_in_v: ArrayLike,
    *,
    r_bitline_ohm: float = 0.0,
    r_wordline_ohm: float = 0.0,
    topology: Topology = "1t1r",
    method: Method = "auto",
    cell_iv: CellIV | None = None,
    access: AccessIV | None = None,
) -> FloatArray:
    """Currents into the amplifiers, amperes: (batch, cols), or (cols,) for one vector.

    ``cell_iv``/``access``: non-linear elements (module docstring)."""
    r_b, r_w = float(r_bitline_ohm), float(r_wordline_ohm)
    g, v, single = check_inputs(g_s, v_in_v, r_b, r_w, topology, method)
    if not is_linear(cell_iv, access):
        if method == "chain":
            raise ParameterError("method 'chain' is for linear cells only; with cell_iv/access "
                                 "use 'auto', 'nodal', 'ladder' or 'ideal'")
        from .nonlinear import solve_nonlinear

        out = solve_nonlinear(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology,
                              cell_iv=cell_iv, access=access).currents_a
        return out[0] if single else out
    if isinstance(access, FixedAccess) and access.r_ohm > 0:
        g = series_conductance(g, access.r_ohm)
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

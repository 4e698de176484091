"""SPICE netlists of the crossbar circuit and an ngspice runner: the ground truth in the tests.

The netlist is the geometry of :func:`meliso.circuit.solve_currents` element by element: a DC
source per word-line driver, a resistor per word-line and bit-line segment, a resistor per
connected cell (``1t1r``: none on rows at 0 V), and a 0 V source per amplifier whose branch
current is the output. A zero segment resistance merges the nodes it would join. ngspice runs
in batch mode (``.op``) and prints every branch current with 15 digits.

Non-linear models (:mod:`.iv`, issue 26): with ``cell_iv`` and/or ``access`` each connected cell
becomes the element of :func:`meliso.circuit.iv.series_element`: the cell from word-line node
``w`` to an internal node ``x{i}_{j}`` (a resistor for :class:`~.iv.LinearCell`, else a
B-source ``I = <expression of V(w, x)>``: ``g V0 sinh(V/V0)``, or the table's piecewise cubic
written as nested ternaries), then the access device from ``x`` to the bit-line node: a resistor
(:class:`~.iv.FixedAccess`), a level-1 MOSFET ``m{i}_{j} x gate b 0 nacc W=.. L=..`` (drain
``x``, source the bit-line node, bulk at 0 V, the gate node driven by ``vgate``; ngspice swaps
drain and source itself when V_DS < 0) with the ``.model`` card of
:meth:`~.iv.Level1NMOS.spice_model` (IS = JS = 0, LD = 0), or a table B-source. Such netlists
carry ``.options reltol=1e-12 abstol=1e-18 vntol=1e-15 gmin=1e-30`` (its junction gmin is
then negligible), so that ngspice's Newton stops within ~1e-12 of the solution rather than its
default 1e-3. ngspice 39 converges with them on most netlists; where it does not (its Newton
wanders at the rounding level: seen on a few passive arrays with table cells and the MOSFET),
:func:`run_ngspice` runs the netlist again with ``abstol=1e-15 vntol=1e-12``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .iv import FixedAccess, Level1NMOS, LinearCell, TableAccess

FloatArray = NDArray[np.float64]


def _num(x: float) -> str:
    """A double in full precision, as SPICE reads it."""
    return f"{float(x):.17g}"


#: ``.options`` of netlists with non-linear models (module docstring).
PRECISE_OPTIONS = ".options reltol=1e-12 abstol=1e-18 vntol=1e-15 gmin=1e-30"
#: Where ngspice does not converge with those (a few netlists: its Newton then wanders at the
#: rounding level of abstol/vntol), :func:`run_ngspice` retries with these.
FALLBACK_OPTIONS = ".options reltol=1e-12 abstol=1e-15 vntol=1e-12 gmin=1e-30"


def _element_lines(i: int, j: int, g: float, w: str, b: str, cell_iv: object,
                   access: object) -> list[str]:
    """The cell (w -> x) and access device (x -> b) of one connected cell."""
    r_acc = access.r_ohm if isinstance(access, FixedAccess) else None
    x = b if access is None or r_acc == 0.0 else f"x{i}_{j}"
    if cell_iv is None or isinstance(cell_iv, LinearCell):
        lines = [f"rc{i}_{j} {w} {x} {_num(1.0 / g)}"]
    else:
        expr = cell_iv.spice_current(g, f"V({w},{x})")  # type: ignore[attr-defined]
        lines = [f"bc{i}_{j} {w} {x} I = {expr}"]
    if x == b:
        return lines
    if isinstance(access, FixedAccess):
        lines.append(f"ra{i}_{j} {x} {b} {_num(access.r_ohm)}")
    elif isinstance(access, Level1NMOS):
        lines.append(f"m{i}_{j} {x} vgate {b} 0 nacc W={_num(access.w_m)} L={_num(access.l_m)}")
    elif isinstance(access, TableAccess):
        lines.append(f"ba{i}_{j} {x} {b} I = {access.spice_current(f'V({x},{b})')}")
    else:
        raise TypeError(f"no SPICE form for access model {type(access).__name__}")
    return lines


def to_spice(g_s: ArrayLike, v_in_v: ArrayLike, *, r_bitline_ohm: float = 0.0,
             r_wordline_ohm: float = 0.0, topology: str = "1t1r",
             title: str = "meliso crossbar", cell_iv: object | None = None,
             access: object | None = None) -> str:
    """The netlist of one input vector (rows,) on conductances (rows, cols); ``cell_iv`` and
    ``access`` (:mod:`.iv` models) as in :func:`meliso.circuit.nonlinear.solve_nonlinear`."""
    g = np.asarray(g_s, dtype=np.float64)
    v = np.asarray(v_in_v, dtype=np.float64).reshape(-1)
    rows, cols = g.shape
    if v.shape != (rows,):
        raise ValueError(f"v_in_v must have {rows} entries; got {v.shape}")

    def w(i: int, j: int) -> str:
        return f"w{i}_{j}" if r_wordline_ohm > 0 else f"d{i}"

    def b(i: int, j: int) -> str:
        return f"b{i}_{j}" if r_bitline_ohm > 0 else f"a{j}"

    plain = cell_iv is None and access is None
    lines = [f"* {title}"]
    if not plain:
        lines.append(PRECISE_OPTIONS)
    if isinstance(access, Level1NMOS):
        lines += [access.spice_model("nacc"), f"vgg vgate 0 DC {_num(access.v_gate_v)}"]
    for i in range(rows):
        lines.append(f"vd{i} d{i} 0 DC {_num(v[i])}")
        if r_wordline_ohm > 0:
            lines.append(f"rw{i}_0 d{i} w{i}_0 {_num(r_wordline_ohm)}")
            lines += [f"rw{i}_{j + 1} w{i}_{j} w{i}_{j + 1} {_num(r_wordline_ohm)}"
                      for j in range(cols - 1)]
    for j in range(cols):
        if r_bitline_ohm > 0:
            lines += [f"rb{i}_{j} b{i}_{j} b{i + 1}_{j} {_num(r_bitline_ohm)}"
                      for i in range(rows - 1)]
            lines.append(f"rb{rows - 1}_{j} b{rows - 1}_{j} a{j} {_num(r_bitline_ohm)}")
        lines.append(f"va{j} a{j} 0 DC 0")
    for i in range(rows):
        if topology == "1t1r" and v[i] == 0.0:
            continue
        for j in range(cols):
            if g[i, j] <= 0:
                continue
            if plain:
                lines.append(f"rc{i}_{j} {w(i, j)} {b(i, j)} {_num(1.0 / g[i, j])}")
            else:
                lines += _element_lines(i, j, float(g[i, j]), w(i, j), b(i, j), cell_iv, access)
    lines += [".control", "set numdgt=15", "op", "print all", ".endc", ".end", ""]
    return "\n".join(lines)


def run_ngspice(g_s: ArrayLike, v_in_v: ArrayLike, *, r_bitline_ohm: float = 0.0,
                r_wordline_ohm: float = 0.0, topology: str = "1t1r",
                timeout_sec: float = 600.0, cell_iv: object | None = None,
                access: object | None = None) -> FloatArray:
    """Amplifier currents, amperes: (cols,) for one vector or (batch, cols) for a batch."""
    exe = shutil.which("ngspice")
    if exe is None:
        raise FileNotFoundError("ngspice is not installed (Debian: apt-get install ngspice)")
    v = np.asarray(v_in_v, dtype=np.float64)
    vectors = np.atleast_2d(v)
    cols = np.asarray(g_s).shape[1]
    out = np.empty((vectors.shape[0], cols))
    pattern = re.compile(r"^\s*va(\d+)#branch\s*=\s*(\S+)", re.MULTILINE)
    with tempfile.TemporaryDirectory() as tmp:
        for k, vec in enumerate(vectors):
            path = Path(tmp) / f"x{k}.cir"
            net = to_spice(g_s, vec, r_bitline_ohm=r_bitline_ohm,
                           r_wordline_ohm=r_wordline_ohm, topology=topology, cell_iv=cell_iv,
                           access=access)
            for attempt in (net, net.replace(PRECISE_OPTIONS, FALLBACK_OPTIONS)):
                path.write_text(attempt)
                res = subprocess.run([exe, "-b", str(path)], capture_output=True, text=True,
                                     timeout=timeout_sec, check=False)
                found = {int(m.group(1)): float(m.group(2))
                         for m in pattern.finditer(res.stdout)}
                if len(found) == cols or PRECISE_OPTIONS not in net:
                    break
            if len(found) != cols:
                raise RuntimeError(f"ngspice gave {len(found)} of {cols} amplifier currents:\n"
                                   f"{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
            out[k] = [found[j] for j in range(cols)]
    return out if v.ndim == 2 else out[0]

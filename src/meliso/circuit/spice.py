"""SPICE netlists of the crossbar circuit and an ngspice runner: the ground truth in the tests.

The netlist is the geometry of :func:`meliso.circuit.solve_currents` element by element: a DC
source per word-line driver, a resistor per word-line and bit-line segment, a resistor per
connected cell (``1t1r``: none on rows at 0 V), and a 0 V source per amplifier whose branch
current is the output. A zero segment resistance merges the nodes it would join. ngspice runs
in batch mode (``.op``) and prints every branch current with 15 digits.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _num(x: float) -> str:
    """A double in full precision, as SPICE reads it."""
    return f"{float(x):.17g}"


def to_spice(g_s: ArrayLike, v_in_v: ArrayLike, *, r_bitline_ohm: float = 0.0,
             r_wordline_ohm: float = 0.0, topology: str = "1t1r",
             title: str = "meliso crossbar") -> str:
    """The netlist of one input vector (rows,) on conductances (rows, cols)."""
    g = np.asarray(g_s, dtype=np.float64)
    v = np.asarray(v_in_v, dtype=np.float64).reshape(-1)
    rows, cols = g.shape
    if v.shape != (rows,):
        raise ValueError(f"v_in_v must have {rows} entries; got {v.shape}")

    def w(i: int, j: int) -> str:
        return f"w{i}_{j}" if r_wordline_ohm > 0 else f"d{i}"

    def b(i: int, j: int) -> str:
        return f"b{i}_{j}" if r_bitline_ohm > 0 else f"a{j}"

    lines = [f"* {title}"]
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
        lines += [f"rc{i}_{j} {w(i, j)} {b(i, j)} {_num(1.0 / g[i, j])}"
                  for j in range(cols) if g[i, j] > 0]
    lines += [".control", "set numdgt=15", "op", "print all", ".endc", ".end", ""]
    return "\n".join(lines)


def run_ngspice(g_s: ArrayLike, v_in_v: ArrayLike, *, r_bitline_ohm: float = 0.0,
                r_wordline_ohm: float = 0.0, topology: str = "1t1r",
                timeout_sec: float = 600.0) -> FloatArray:
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
            path.write_text(to_spice(g_s, vec, r_bitline_ohm=r_bitline_ohm,
                                     r_wordline_ohm=r_wordline_ohm, topology=topology))
            res = subprocess.run([exe, "-b", str(path)], capture_output=True, text=True,
                                 timeout=timeout_sec, check=False)
            found = {int(m.group(1)): float(m.group(2)) for m in pattern.finditer(res.stdout)}
            if len(found) != cols:
                raise RuntimeError(f"ngspice gave {len(found)} of {cols} amplifier currents:\n"
                                   f"{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
            out[k] = [found[j] for j in range(cols)]
    return out if v.ndim == 2 else out[0]

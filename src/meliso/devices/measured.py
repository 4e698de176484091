"""Read measured pulse responses from CSV into traces (``docs/devices.md``).

Two layouts, recognised by their header:

- long form: columns ``pulse``, ``direction`` (up/down, +/-, ltp/ltd, potentiation/depression)
  and ``conductance_s`` (siemens) or ``conductance`` (in ``units``), optional ``cycle`` and
  ``device``. A trace is the rows of one (device, cycle, direction), in pulse order; pulse 0 is
  the state before the first pulse.
- two-column form: columns ``up`` and ``down`` (or ``ltp``/``ltd``, ``potentiation``/
  ``depression``), each the consecutive conductances of one pulse train, in ``units``; a column
  may end earlier than the other (empty cells).

``units``: S, mS, uS, nS, or ``normalised`` (fractions of the window; then ``g_min_s`` and
``g_max_s`` give the window in siemens).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._validation import ParameterError
from .fitting import Trace

#: Largest data file read (a pulse-response file is kilobytes to a few megabytes).
MAX_BYTES = 64 << 20
MAX_ROWS = 2_000_000
UNITS = {"S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6, "nS": 1e-9, "normalised": math.nan}
DIRECTIONS = {"up": "ltp", "+": "ltp", "ltp": "ltp", "potentiation": "ltp",
              "down": "ltd", "-": "ltd", "−": "ltd", "ltd": "ltd", "depression": "ltd"}


def _number(text: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ParameterError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ParameterError(f"{where}: {text!r} is not a finite number")
    return v


def _scale(units: str, g_min_s: float | None, g_max_s: float | None
           ) -> Callable[[float], float]:
    if units not in UNITS:
        raise ParameterError(f"units = {units!r}: allowed {', '.join(UNITS)}")
    if units != "normalised":
        factor = UNITS[units]
        return lambda v: v * factor
    if g_min_s is None or g_max_s is None or not 0 < g_min_s < g_max_s:
        raise ParameterError("units = 'normalised': give the window as g_min_s and g_max_s "
                             "(--g-min-s, --g-max-s), 0 < g_min_s < g_max_s, in siemens")
    return lambda v: g_min_s + v * (g_max_s - g_min_s)


def read_traces(path: str | Path, *, units: str = "S", g_min_s: float | None = None,
                g_max_s: float | None = None) -> list[Trace]:
    """The traces of a CSV file in either layout (module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"{p} is not a file")
    if p.stat().st_size > MAX_BYTES:
        raise ParameterError(f"{p} is {p.stat().st_size} bytes: allowed at most {MAX_BYTES}")
    text = p.read_bytes().decode("utf-8-sig", errors="strict")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ParameterError(f"{p} is not a readable CSV file ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ParameterError(f"{p} holds no data rows (a header line, then one row per pulse)")
    if len(rows) > MAX_ROWS:
        raise ParameterError(f"{p} has {len(rows)} rows: allowed at most {MAX_ROWS}")
    header = [h.strip().lower() for h in rows[0]]
    named = [h for h in header if h]
    if len(set(named)) != len(named):
        raise ParameterError(f"{p}: the header names a column twice ({rows[0]})")
    to_s = _scale(units, g_min_s, g_max_s)
    if "direction" in header:
        return _long_form(p, header, rows[1:], to_s, units)
    return _two_columns(p, header, rows[1:], to_s)


def _long_form(p: Path, header: list[str], rows: list[list[str]],
               to_s: Callable[[float], float], units: str) -> list[Trace]:
    if "conductance_s" in header:
        gcol, to_s = header.index("conductance_s"), (lambda v: v)
        if units != "S":
            raise ParameterError("the column conductance_s is in siemens: drop --units, or "
                                 "name the column conductance")
    elif "conductance" in header:
        gcol = header.index("conductance")
    else:
        raise ParameterError(f"{p}: the long form needs columns pulse, direction and "
                             f"conductance_s (or conductance with --units); found {header}")
    if "pulse" not in header:
        raise ParameterError(f"{p}: the long form needs a pulse column; found {header}")
    pcol, dcol = header.index("pulse"), header.index("direction")
    ccol = header.index("cycle") if "cycle" in header else None
    vcol = header.index("device") if "device" in header else None
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for i, r in enumerate(rows, start=2):
        if len(r) < len(header):
            raise ParameterError(f"{p}, line {i}: {len(r)} cells, the header has {len(header)}")
        word = r[dcol].strip().lower()
        if word not in DIRECTIONS:
            raise ParameterError(f"{p}, line {i}: direction {r[dcol]!r}: allowed "
                                 f"{', '.join(sorted(set(DIRECTIONS)))}")
        g = to_s(_number(r[gcol], f"{p}, line {i}, {header[gcol]}"))
        if not g > 0:
            raise ParameterError(f"{p}, line {i}: conductance {g:g} S: allowed > 0")
        key = (r[vcol].strip() if vcol is not None else "0",
               r[ccol].strip() if ccol is not None else "0", DIRECTIONS[word])
        groups[key].append((_number(r[pcol], f"{p}, line {i}, pulse"), g))
    traces = []
    for (device, cycle, direction), pts in groups.items():
        pts.sort()
        pulses = np.array([q for q, _ in pts])
        if pulses[0] != 0 or np.any(np.diff(pulses) != 1):
            raise ParameterError(f"{p}: device {device}, cycle {cycle}, {direction.upper()}: "
                                 "pulse numbers must run 0, 1, 2, ... without gaps or repeats "
                                 "(several trains: number each from 0 in its own cycle)")
        traces.append(Trace(direction, np.array([g for _, g in pts]), cycle, device))  # type: ignore[arg-type]
    return traces


def _two_columns(p: Path, header: list[str], rows: list[list[str]],
                 to_s: Callable[[float], float]) -> list[Trace]:
    cols = {DIRECTIONS[h]: k for k, h in enumerate(header) if h in DIRECTIONS}
    if set(cols) != {"ltp", "ltd"}:
        raise ParameterError(f"{p}: expected the long form (pulse, direction, conductance_s) "
                             "or two columns up and down (or ltp/ltd); found "
                             f"{header}: a fit needs both directions")
    traces = []
    for direction, k in sorted(cols.items()):
        values = []
        ended = False
        for i, r in enumerate(rows, start=2):
            cell = r[k].strip() if k < len(r) else ""
            if not cell:
                ended = True
                continue
            if ended:
                raise ParameterError(f"{p}, line {i}: a value after an empty cell in column "
                                     f"{header[k]!r}: each column must be one pulse train")
            g = to_s(_number(cell, f"{p}, line {i}, {header[k]}"))
            if not g > 0:
                raise ParameterError(f"{p}, line {i}: conductance {g:g} S: allowed > 0")
            values.append(g)
        if len(values) < 2:
            raise ParameterError(f"{p}: column {header[k]!r} holds {len(values)} value(s): a "
                                 "pulse train needs the state before the first pulse and after "
                                 "each pulse")
        traces.append(Trace(direction, np.array(values)))  # type: ignore[arg-type]
    return traces


def sha256_file(path: str | Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

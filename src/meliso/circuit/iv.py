"""Current–voltage models of crossbar cells and access transistors, and the 1T1R series element.

Cells carry a programmed conductance g (siemens, per cell, the crossbar's ``g_s``) and a shape
shared by the array:

- :class:`LinearCell`: I = g V (Ohm's law; today's model).
- :class:`SinhCell`: I = g V0 sinh(V / V0). dI/dV = g cosh(V / V0), so the small-signal
  conductance at 0 V is the programmed g. The sinh law is the read branch of the Stanford
  metal-oxide RRAM compact model (X. Guan, S. Yu, H.-S. P. Wong, IEEE Trans. Electron Devices
  59(4), 1172 (2012): I = I0 exp(-gap/g0) sinh(V/V0), V0 = 0.25 V for HfOx).
- :class:`TableCell`: I = g f(V), f a tabulated, strictly increasing normalised current (volts)
  with f(0) = 0, interpolated by the monotone piecewise cubic Hermite interpolant of Fritsch and
  Carlson (SIAM J. Numer. Anal. 17, 238 (1980); scipy's PchipInterpolator), extended linearly
  beyond the table with its end slopes (so f is C1 everywhere and dI/dV is its exact
  derivative). A table given on V >= 0 only is extended as an odd function.

Access transistors (in series with the cell in ``1t1r``; gate at ``v_gate_v``, body at 0 V):

- :class:`FixedAccess`: a resistor r (r = 0: no transistor; today's ``r_access_ohm``).
- :class:`Level1NMOS`: the Shichman–Hodges MOSFET (H. Shichman, D. A. Hodges, IEEE J.
  Solid-State Circuits 3(3), 285 (1968)) exactly as ngspice's level-1 model evaluates it
  (``mos1load.c``, ngspice 39; see :meth:`Level1NMOS.partials`).
- :class:`TableAccess`: a tabulated I(V_DS) at the given gate voltage (odd in V_DS),
  interpolated as :class:`TableCell`.

The 1T1R element (:func:`series_element`): word-line node -- cell -- internal node x --
transistor -- bit-line node. The transistor's drain is the internal node and its source the
bit-line node (for V_x < V_b they swap, as in SPICE), so in a read the source sits near the
amplifiers' virtual ground and the gate overdrive is largest. The internal node is eliminated
per cell by a safeguarded, vectorised scalar Newton solve of f_cell(V_w - V_x) = I_acc(V_x, V_b),
which gives the element current I(V_w, V_b) and its two partial derivatives.

Presets (:data:`CELL_PRESETS`, :data:`ACCESS_PRESETS`) are illustrative, not foundry data: see
each entry's ``citation``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import ConvergenceError, ParameterError

FloatArray = NDArray[np.float64]
#: Scalar series solve: stop when the step is below this fraction of the element voltage.
SERIES_STEP_TOL = 1e-15
SERIES_MAX_ITER = 200


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _num(x: float) -> str:
    return f"{float(x):.17g}"


def _check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False
                 ) -> None:
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        rel = "<" if lo_open else "<="
        raise ParameterError(f"{name} = {value!r} is out of range: allowed "
                             f"{lo:g} {rel} {name} <= {hi:g}")


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Table:
    """A monotone C1 piecewise cubic (PCHIP) with linear extrapolation: y(x), dy/dx."""

    x: FloatArray
    c: FloatArray  # (4, n - 1) power-basis coefficients in (x - x_k), highest first
    y_end: tuple[float, float]
    slope_end: tuple[float, float]

    @classmethod
    def build(cls, name: str, x_in: tuple[float, ...], y_in: tuple[float, ...]) -> _Table:
        x = _f(x_in)
        y = _f(y_in)
        if x.ndim != 1 or x.shape != y.shape or x.size < 2:
            raise ParameterError(f"{name}: the voltage and current tables must be 1-D, of the "
                                 f"same length >= 2; got {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ParameterError(f"{name}: the table holds NaN or infinite values")
        if np.any(np.diff(x) <= 0):
            raise ParameterError(f"{name}: the voltages must be strictly increasing")
        if np.any(np.diff(y) <= 0):
            raise ParameterError(f"{name}: the current must be strictly increasing in the "
                                 "voltage (a non-monotone I-V has no unique operating point)")
        zero = np.flatnonzero(x == 0.0)
        if zero.size != 1 or y[zero[0]] != 0.0:
            raise ParameterError(f"{name}: the table must contain the point V = 0, I = 0")
        if x[0] == 0.0:  # given on V >= 0: odd extension
            x = np.concatenate([-x[:0:-1], x])
            y = np.concatenate([-y[:0:-1], y])
        from scipy.interpolate import PchipInterpolator  # (~0.25 s: only when a table is used)

        p = PchipInterpolator(x, y, extrapolate=False)
        d = p.derivative()
        slopes = (float(d(x[0])), float(d(x[-1])))
        return cls(x=x, c=np.ascontiguousarray(p.c), y_end=(float(y[0]), float(y[-1])),
                   slope_end=slopes)

    def eval(self, v: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(y, dy/dx) at ``v``, vectorised."""
        v = _f(v)
        k = np.clip(np.searchsorted(self.x, v, side="right") - 1, 0, self.x.size - 2)
        t = v - self.x[k]
        c0, c1, c2, c3 = (self.c[m][k] for m in range(4))
        y = ((c0 * t + c1) * t + c2) * t + c3
        dy = (3.0 * c0 * t + 2.0 * c1) * t + c2
        lo, hi = v < self.x[0], v > self.x[-1]
        y = np.where(lo, self.y_end[0] + self.slope_end[0] * (v - self.x[0]), y)
        y = np.where(hi, self.y_end[1] + self.slope_end[1] * (v - self.x[-1]), y)
        dy = np.where(lo, self.slope_end[0], np.where(hi, self.slope_end[1], dy))
        return y, dy

    def spice(self, arg: str) -> str:
        """The same function as an ngspice B-source expression of ``arg`` (nested ternaries,
        Horner form in the same local variable, so it evaluates with the same arithmetic)."""
        x = self.x
        expr = f"({_num(self.y_end[1])}+{_num(self.slope_end[1])}*(({arg})-{_num(x[-1])}))"
        for k in range(x.size - 2, -1, -1):
            t = f"(({arg})-{_num(x[k])})"
            c0, c1, c2, c3 = (self.c[m][k] for m in range(4))
            cubic = f"(((({_num(c0)})*{t}+({_num(c1)}))*{t}+({_num(c2)}))*{t}+({_num(c3)}))"
            expr = f"((({arg})<={_num(x[k + 1])}) ? {cubic} : {expr})"
        left = f"({_num(self.y_end[0])}+{_num(self.slope_end[0])}*(({arg})-{_num(x[0])}))"
        return f"((({arg})<{_num(x[0])}) ? {left} : {expr})"


# --------------------------------------------------------------------------- cells


class CellIV(Protocol):
    """A cell's I(V) = g f(V): vectorised current and conductance dI/dV."""

    def current(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray: ...
    def conductance(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray: ...
    def spice_current(self, g_s: float, v_expr: str) -> str: ...


@dataclass(frozen=True)
class LinearCell:
    """Ohm's law, I = g V, dI/dV = g: the model every solver used before issue 26."""

    def current(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return _f(g_s) * _f(v_v)

    def conductance(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return np.array(np.broadcast_arrays(_f(g_s), _f(v_v))[0])

    def spice_current(self, g_s: float, v_expr: str) -> str:
        return f"{_num(g_s)}*({v_expr})"


@dataclass(frozen=True)
class SinhCell:
    """I = g V0 sinh(V / V0), dI/dV = g cosh(V / V0) (Guan, Yu & Wong 2012, read branch).

    ``v0_v`` (volts, 1e-3 ... 100): the voltage scale of the non-linearity; g is the
    small-signal conductance at 0 V. V0 -> infinity is Ohm's law.
    """

    v0_v: float = 0.25

    def __post_init__(self) -> None:
        _check_range("v0_v", float(self.v0_v), 1e-3, 100.0)

    def current(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return _f(g_s) * self.v0_v * np.sinh(_f(v_v) / self.v0_v)

    def conductance(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return _f(g_s) * np.cosh(_f(v_v) / self.v0_v)

    def spice_current(self, g_s: float, v_expr: str) -> str:
        return f"{_num(g_s * self.v0_v)}*sinh(({v_expr})/{_num(self.v0_v)})"


@dataclass(frozen=True)
class TableCell:
    """I = g f(V): ``i_norm_v`` = I/g in volts at the voltages ``v_v`` (strictly increasing,
    through (0, 0)); PCHIP between the points (Fritsch & Carlson 1980), linear beyond.
    Given on V >= 0 only, f is extended as an odd function."""

    v_v: tuple[float, ...]
    i_norm_v: tuple[float, ...]
    _table: _Table = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", _Table.build("TableCell", tuple(self.v_v),
                                                        tuple(self.i_norm_v)))

    def current(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return _f(g_s) * self._table.eval(v_v)[0]

    def conductance(self, g_s: ArrayLike, v_v: ArrayLike) -> FloatArray:
        return _f(g_s) * self._table.eval(v_v)[1]

    def spice_current(self, g_s: float, v_expr: str) -> str:
        return f"{_num(g_s)}*{self._table.spice(v_expr)}"


# --------------------------------------------------------------------------- access devices


class AccessIV(Protocol):
    """A device from node d to node s (gate and body at fixed voltages):
    ``partials(v_d, v_s)`` = (I from d to s, dI/dV_d, dI/dV_s)."""

    def partials(self, v_d_v: ArrayLike, v_s_v: ArrayLike
                 ) -> tuple[FloatArray, FloatArray, FloatArray]: ...


class _AccessMixin:
    def partials(self, v_d_v: ArrayLike, v_s_v: ArrayLike
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
        raise NotImplementedError

    def current(self, v_ds_v: ArrayLike, v_s_v: ArrayLike = 0.0) -> FloatArray:
        """Drain current (d to s) at V_DS with the source at ``v_s_v``."""
        vs = _f(v_s_v)
        return self.partials(_f(v_ds_v) + vs, vs)[0]

    def conductance(self, v_ds_v: ArrayLike, v_s_v: ArrayLike = 0.0) -> FloatArray:
        """dI/dV_DS at fixed source voltage."""
        vs = _f(v_s_v)
        return self.partials(_f(v_ds_v) + vs, vs)[1]


@dataclass(frozen=True)
class FixedAccess(_AccessMixin):
    """A series resistor ``r_ohm`` (0 ... 1e9 ohm): I = (V_d - V_s) / r; r = 0 means no access
    device (the cell joins the bit line directly)."""

    r_ohm: float = 0.0

    def __post_init__(self) -> None:
        _check_range("r_ohm", float(self.r_ohm), 0.0, 1e9)

    def partials(self, v_d_v: ArrayLike, v_s_v: ArrayLike
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
        vd, vs = np.broadcast_arrays(_f(v_d_v), _f(v_s_v))
        if self.r_ohm == 0.0:
            raise ParameterError("FixedAccess(r_ohm=0) is a short circuit: it has no I(V); "
                                 "allowed 0 < r_ohm <= 1e9 for partials()")
        g = 1.0 / self.r_ohm
        return (vd - vs) * g, np.full(vd.shape, g), np.full(vd.shape, -g)


@dataclass(frozen=True)
class Level1NMOS(_AccessMixin):
    """Shichman–Hodges NMOS, as ngspice's level 1 evaluates it (``mos1load.c``), body at 0 V.

    With the source the lower of the two channel terminals (drain and source swap for
    V_DS < 0, I then flows from s to d) and V_BS = -V_S:

        sarg  = sqrt(PHI - V_BS)                          V_BS <= 0
              = max(0, sqrt(PHI) - V_BS / (2 sqrt(PHI)))  V_BS > 0   (ngspice's linearisation)
        V_T   = VTO + GAMMA (sarg - sqrt(PHI))
        beta  = KP W / L                                  (LD = 0: L_eff = L)
        I_D   = 0                                         V_GS - V_T <= 0
              = beta/2 (1 + LAMBDA V_DS) (V_GS - V_T)^2    0 < V_GS - V_T <= V_DS
              = beta (1 + LAMBDA V_DS) V_DS (V_GS - V_T - V_DS/2)   otherwise

    (1 + LAMBDA V_DS) multiplies the triode branch too, as in ngspice. Parameters keep SPICE's
    names and units: ``kp_a_per_v2`` (KP), ``w_m``/``l_m`` (W, L), ``vto_v`` (VTO),
    ``gamma_sqrt_v`` (GAMMA, V^0.5), ``phi_v`` (PHI), ``lambda_per_v`` (LAMBDA); ``v_gate_v``
    is the gate voltage of a selected row. The derivatives are exact for this function.
    """

    kp_a_per_v2: float = 300e-6
    w_m: float = 260e-9
    l_m: float = 65e-9
    vto_v: float = 0.4
    gamma_sqrt_v: float = 0.4
    phi_v: float = 0.7
    lambda_per_v: float = 0.1
    v_gate_v: float = 1.2

    def __post_init__(self) -> None:
        _check_range("kp_a_per_v2", float(self.kp_a_per_v2), 0.0, 1.0, lo_open=True)
        _check_range("w_m", float(self.w_m), 0.0, 1e-3, lo_open=True)
        _check_range("l_m", float(self.l_m), 0.0, 1e-3, lo_open=True)
        _check_range("vto_v", float(self.vto_v), -5.0, 5.0)
        _check_range("gamma_sqrt_v", float(self.gamma_sqrt_v), 0.0, 5.0)
        _check_range("phi_v", float(self.phi_v), 0.0, 2.0, lo_open=True)
        _check_range("lambda_per_v", float(self.lambda_per_v), 0.0, 2.0)
        _check_range("v_gate_v", float(self.v_gate_v), -10.0, 10.0)

    @property
    def beta_a_per_v2(self) -> float:
        """KP W / L."""
        return self.kp_a_per_v2 * self.w_m / self.l_m

    def spice_model(self, name: str = "nacc") -> str:
        """The ``.model`` card (junctions off: IS = JS = 0; LD = 0; no capacitances matter in
        ``.op``)."""
        return (f".model {name} nmos level=1 kp={_num(self.kp_a_per_v2)} "
                f"vto={_num(self.vto_v)} gamma={_num(self.gamma_sqrt_v)} "
                f"phi={_num(self.phi_v)} lambda={_num(self.lambda_per_v)} is=0 js=0 ld=0 "
                "rd=0 rs=0 cbd=0 cbs=0 cgso=0 cgdo=0 cgbo=0")

    def partials(self, v_d_v: ArrayLike, v_s_v: ArrayLike
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
        vd, vs = np.broadcast_arrays(_f(v_d_v), _f(v_s_v))
        fwd = vd >= vs
        hi = np.where(fwd, vd, vs)  # the terminal acting as drain
        lo = np.where(fwd, vs, vd)  # ... and as source
        vds = hi - lo
        vgs = self.v_gate_v - lo
        vbs = -lo
        phi, gamma, lam = self.phi_v, self.gamma_sqrt_v, self.lambda_per_v
        sqphi = math.sqrt(phi)
        rev = vbs <= 0
        sarg_r = np.sqrt(phi - np.minimum(vbs, 0.0))
        sarg_f = np.maximum(0.0, sqphi - np.maximum(vbs, 0.0) / (sqphi + sqphi))
        sarg = np.where(rev, sarg_r, sarg_f)
        dsarg = np.where(rev, -0.5 / sarg_r, np.where(sarg_f > 0, -0.5 / sqphi, 0.0))
        vbi = self.vto_v - gamma * sqphi
        von = vbi + gamma * sarg
        vgst = vgs - von
        beta = self.beta_a_per_v2
        betap = beta * (1.0 + lam * vds)
        on = vgst > 0
        sat = vgst <= vds
        ids = np.where(sat, betap * vgst * vgst * 0.5, betap * vds * (vgst - 0.5 * vds))
        gm = np.where(sat, betap * vgst, betap * vds)
        gds = np.where(sat, lam * beta * vgst * vgst * 0.5,
                       betap * (vgst - vds) + lam * beta * vds * (vgst - 0.5 * vds))
        ids, gm, gds = (np.where(on, q, 0.0) for q in (ids, gm, gds))
        gmbs = gm * (-gamma * dsarg)  # d vgst / d vbs = -gamma dsarg/dvbs
        # in terms of the node voltages: d/d(drain) = gds, d/d(source) = -(gm + gds + gmbs)
        d_src = -(gm + gds + gmbs)
        i = np.where(fwd, ids, -ids)
        di_dd = np.where(fwd, gds, -d_src)
        di_ds = np.where(fwd, d_src, -gds)
        return i, di_dd, di_ds


@dataclass(frozen=True)
class TableAccess(_AccessMixin):
    """A tabulated I(V_DS) at the (fixed) gate voltage of a selected row: ``i_a`` amperes at
    ``v_ds_v`` (strictly increasing, through (0, 0); given on V_DS >= 0 only it is extended as
    an odd function); PCHIP between points, linear beyond. Two-terminal: no body effect."""

    v_ds_v: tuple[float, ...]
    i_a: tuple[float, ...]
    _table: _Table = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", _Table.build("TableAccess", tuple(self.v_ds_v),
                                                        tuple(self.i_a)))

    def partials(self, v_d_v: ArrayLike, v_s_v: ArrayLike
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
        vd, vs = np.broadcast_arrays(_f(v_d_v), _f(v_s_v))
        i, g = self._table.eval(vd - vs)
        return i, g, -g

    def spice_current(self, v_expr: str) -> str:
        return self._table.spice(v_expr)


# --------------------------------------------------------------------------- presets

#: Named cell models. ``sinh-hfox``: V0 = 0.25 V, the value of the Stanford RRAM compact model
#: for HfOx (Guan, Yu & Wong, IEEE TED 59, 1172 (2012)); illustrative for other oxides.
CELL_PRESETS: dict[str, dict[str, object]] = {
    "linear": dict(model=LinearCell(), citation="Ohm's law (every solver before issue 26)"),
    "sinh-hfox": dict(model=SinhCell(v0_v=0.25),
                      citation="I = g V0 sinh(V/V0), V0 = 0.25 V: X. Guan, S. Yu, H.-S. P. "
                      "Wong, IEEE Trans. Electron Devices 59(4), 1172 (2012)"),
}
#: Named access transistors. ``nmos-65nm-l1`` is illustrative, not foundry data: level-1
#: numbers of the order textbooks give for a 65 nm-class NMOS (KP ~ 300 uA/V^2, VTO 0.4 V,
#: GAMMA 0.4 V^0.5, PHI 0.7 V, LAMBDA 0.1 /V, W/L = 260 nm / 65 nm) with a 1.2 V word-line gate
#: drive: about 1 kOhm in deep triode.
ACCESS_PRESETS: dict[str, dict[str, object]] = {
    "none": dict(model=FixedAccess(0.0), citation="no access device"),
    "nmos-65nm-l1": dict(model=Level1NMOS(),
                         citation="illustrative level-1 NMOS (Shichman & Hodges, IEEE JSSC 3, "
                         "285 (1968)); parameter magnitudes of a generic 65 nm-class device"),
}


# --------------------------------------------------------------------------- series element


def is_linear(cell: object | None, access: object | None) -> bool:
    """True when the element is a plain conductance (today's solvers apply)."""
    return (cell is None or isinstance(cell, LinearCell)) and (
        access is None or isinstance(access, FixedAccess))


def series_element(cell: CellIV, access: AccessIV | None, g_s: ArrayLike, v_w_v: ArrayLike,
                   v_b_v: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Current of the element word-line node -> cell -> x -> access -> bit-line node, and its
    partial derivatives: (I, dI/dV_w, dI/dV_b), vectorised (broadcasting).

    The internal node x solves f_cell(V_w - V_x) = I_acc(V_x, V_b). With y = V_w - V_x (the
    cell voltage) F(y) = f_cell(y) - I_acc(V_w - y, V_b) is strictly increasing in y and changes
    sign on [0, V_w - V_b], so the root is unique: safeguarded Newton (bisection whenever a step
    leaves the bracket), to a step below ``SERIES_STEP_TOL`` max(|V_w|, |V_b|) (the rounding
    of the terminal voltages themselves). With g_c = dI_cell/dy,
    g_d = dI_acc/dV_x, g_s = dI_acc/dV_b at the root:

        dI/dV_w = g_c g_d / (g_c + g_d),    dI/dV_b = g_c g_s / (g_c + g_d).
    """
    g, vw, vb = np.broadcast_arrays(_f(g_s), _f(v_w_v), _f(v_b_v))
    if access is None or (isinstance(access, FixedAccess) and access.r_ohm == 0.0):
        d = vw - vb
        gc = cell.conductance(g, d)
        return cell.current(g, d), gc, -gc
    d = vw - vb
    lo = np.minimum(d, 0.0)
    hi = np.maximum(d, 0.0)
    # start from the small-signal divider
    gc0 = cell.conductance(g, np.zeros_like(d))
    _, gd0, _ = access.partials(vb, vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(gc0 + gd0 > 0, d * gd0 / (gc0 + gd0), 0.5 * d)
    y = np.clip(y, lo, hi)
    todo = np.flatnonzero((d != 0.0).ravel())
    yf, lof, hif = y.ravel().copy(), lo.ravel().copy(), hi.ravel().copy()
    gf, wf, bf = g.ravel(), vw.ravel(), vb.ravel()
    prev = np.full(yf.shape, np.inf)  # the last Newton step (inf after a bisection)
    for _ in range(SERIES_MAX_ITER):
        if todo.size == 0:
            break
        yk, gk = yf[todo], gf[todo]
        fc = cell.current(gk, yk)
        gc = cell.conductance(gk, yk)
        ia, gd, _ = access.partials(wf[todo] - yk, bf[todo])
        res = fc - ia
        lk = np.where(res < 0, yk, lof[todo])
        hk = np.where(res > 0, yk, hif[todo])
        slope = gc + gd
        with np.errstate(divide="ignore", invalid="ignore"):
            y_new = yk - res / slope
        # bisect where Newton leaves the bracket or does not halve the step of the iteration
        # before (rtsafe, Numerical Recipes 9.4): the bracket then shrinks at least geometrically
        slow = np.abs(y_new - yk) > 0.5 * prev[todo]
        bad = ~((y_new >= lk) & (y_new <= hk)) | ~np.isfinite(y_new) | slow
        y_new = np.where(bad, 0.5 * (lk + hk), y_new)
        step = np.abs(y_new - yk)
        prev[todo] = np.where(bad, np.inf, step)
        yf[todo], lof[todo], hif[todo] = y_new, lk, hk
        scale = np.maximum(np.abs(wf[todo]), np.abs(bf[todo]))
        done = (res == 0.0) | (step <= SERIES_STEP_TOL * scale) | (hk - lk <= 0)
        todo = todo[~done]
    else:
        raise ConvergenceError("series element: the internal-node solve did not converge in "
                              f"{SERIES_MAX_ITER} iterations")
    y = yf.reshape(d.shape)
    i = cell.current(g, y)
    gc = cell.conductance(g, y)
    _, gd, gs = access.partials(vw - y, vb)
    den = gc + gd
    with np.errstate(divide="ignore", invalid="ignore"):
        di_dw = np.where(den > 0, gc * gd / den, 0.0)
        di_db = np.where(den > 0, gc * gs / den, 0.0)
    return i, di_dw, di_db


def small_signal_conductance(cell: CellIV, access: AccessIV | None, g_s: ArrayLike
                             ) -> FloatArray:
    """dI/dV_w of the element at V_w = V_b = 0: the linear crossbar that starts the Newton."""
    g = _f(g_s)
    z = np.zeros_like(g)
    return series_element(cell, access, g, z, z)[1]

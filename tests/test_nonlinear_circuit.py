"""Non-linear crossbar circuits (issue 26): I-V models, Newton solvers, against ngspice."""

import contextlib
import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from meliso import ParameterError
from meliso.circuit import series_conductance, solve_currents
from meliso.circuit.iv import (
    ACCESS_PRESETS,
    CELL_PRESETS,
    FixedAccess,
    Level1NMOS,
    LinearCell,
    SinhCell,
    TableAccess,
    TableCell,
    series_element,
)
from meliso.circuit.iv_numba import elements_numba, encode
from meliso.circuit.nodal import nodal_solve
from meliso.circuit.nonlinear import solve_nonlinear
from meliso.circuit.nonlinear_kernels import schur_pcg_per_vector_kernel
from meliso.circuit.spice import run_ngspice, to_spice

HAVE_NGSPICE = shutil.which("ngspice") is not None
needs_ngspice = pytest.mark.skipif(not HAVE_NGSPICE and not os.environ.get("CI"),
                                   reason="ngspice not installed")
NMOS = Level1NMOS()
TABLE_CELL = TableCell((0.0, 0.1, 0.2, 0.3, 0.5), (0.0, 0.1, 0.21, 0.34, 0.7))
TABLE_ACCESS = TableAccess((0.0, 0.1, 0.3, 1.0), (0.0, 1e-4, 2.5e-4, 6e-4))
SPICE_RTOL = 1e-9


def _case(rows: int, cols: int, seed: int, batch: int = 2, signed: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = 10 ** rng.uniform(-6, -4, (rows, cols))
    lo = -0.3 if signed else 0.0
    v = rng.uniform(lo, 0.3, (batch, rows))
    v[rng.random((batch, rows)) < 0.3] = 0.0  # rows at 0 V (off in 1t1r)
    return g, v


def _segments(kind: str, r: float) -> dict[str, float]:
    return dict(r_bitline_ohm=r if kind in ("bitline", "both") else 0.0,
                r_wordline_ohm=r if kind in ("wordline", "both") else 0.0)


SPICE_CASES = [  # rows, cols, cell, access, segments, ohm, topology, signed
    (8, 8, SinhCell(0.25), None, "both", 2.5, "1t1r", False),
    (8, 8, SinhCell(0.25), NMOS, "bitline", 1.0, "passive", False),
    (8, 12, SinhCell(0.25), NMOS, "both", 1.5, "1t1r", True),
    (16, 16, SinhCell(0.25), NMOS, "both", 2.0, "1t1r", False),
    (16, 16, TABLE_CELL, TABLE_ACCESS, "both", 1.0, "passive", False),
    (24, 40, SinhCell(0.2), FixedAccess(2e3), "wordline", 2.5, "1t1r", False),
    (32, 32, SinhCell(0.25), NMOS, "wordline", 1.0, "passive", False),
    (32, 32, TABLE_CELL, None, "bitline", 2.5, "1t1r", True),
    (48, 48, TABLE_CELL, NMOS, "both", 1.2, "1t1r", False),
    (64, 64, SinhCell(0.25), NMOS, "both", 1.0, "1t1r", False),
    (64, 64, SinhCell(0.25), None, "both", 2.5, "passive", False),
]


@needs_ngspice
@pytest.mark.parametrize(("rows", "cols", "cell", "access", "kind", "r", "topology", "signed"),
                         SPICE_CASES)
def test_nonlinear_solve_matches_ngspice(rows, cols, cell, access, kind, r, topology, signed):
    g, v = _case(rows, cols, seed=rows * 7 + cols, signed=signed)
    kw = dict(topology=topology, cell_iv=cell, access=access, **_segments(kind, r))
    ref = run_ngspice(g, v, **kw)
    sol = solve_nonlinear(g, v, **kw)
    # signed inputs: a column's current can cancel to a small difference of large terms, so
    # its error is bounded relative to the largest current
    atol = 1e-10 * np.abs(ref).max() if signed else 0.0
    np.testing.assert_allclose(sol.currents_a, ref, rtol=SPICE_RTOL, atol=atol)
    # and it is not the linear answer: the non-linearity is visible at this tolerance
    lin = solve_currents(g, v, r_bitline_ohm=kw["r_bitline_ohm"],
                         r_wordline_ohm=kw["r_wordline_ohm"], topology=topology)
    assert np.abs(lin / ref - 1).max() > 1e-4


@needs_ngspice
@settings(max_examples=12)
@given(rows=st.integers(8, 16), cols=st.integers(8, 16), seed=st.integers(0, 10**6),
       kind=st.sampled_from(["bitline", "wordline", "both"]),
       topology=st.sampled_from(["1t1r", "passive"]), r=st.floats(1.0, 2.5),
       model=st.sampled_from(["sinh", "sinh+nmos", "table+nmos", "sinh+r"]))
def test_random_cases_match_ngspice(rows, cols, seed, kind, topology, r, model):
    cell = TABLE_CELL if model.startswith("table") else SinhCell(0.25)
    access = NMOS if "nmos" in model else FixedAccess(1e3) if model == "sinh+r" else None
    g, v = _case(rows, cols, seed, batch=1)
    kw = dict(topology=topology, cell_iv=cell, access=access, **_segments(kind, r))
    ref = run_ngspice(g, v, **kw)
    np.testing.assert_allclose(solve_nonlinear(g, v, **kw).currents_a, ref, rtol=SPICE_RTOL,
                               atol=0)


@needs_ngspice
@pytest.mark.slow
def test_128_by_128_with_transistors_matches_ngspice():
    g, v = _case(128, 128, seed=128, batch=1)
    kw = dict(topology="1t1r", cell_iv=SinhCell(0.25), access=NMOS, r_bitline_ohm=1.0,
              r_wordline_ohm=1.0)
    np.testing.assert_allclose(solve_nonlinear(g, v, **kw).currents_a, run_ngspice(g, v, **kw),
                               rtol=SPICE_RTOL, atol=0)


@needs_ngspice
def test_level1_transistor_matches_ngspice_in_every_region():
    """One cell and transistor, no wires: triode, saturation, cut-off, V_DS < 0 (source and
    drain swapped, the source below the body: ngspice's forward-bias branch)."""
    for v_gate, v_in in [(1.2, 0.3), (0.7, 0.8), (1.2, -0.3), (0.9, -0.6), (1.2, 1.5)]:
        acc = Level1NMOS(v_gate_v=v_gate)
        for cell in (LinearCell(), SinhCell(0.25)):
            g = np.array([[5e-4]])
            ref = run_ngspice(g, [v_in], cell_iv=cell, access=acc)
            got = solve_nonlinear(g, [v_in], cell_iv=cell, access=acc).currents_a[0]
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-20)


@needs_ngspice
def test_tables_beyond_their_ends_match_ngspice():
    """Linear extrapolation past the last point (and the odd extension below 0) are the same
    in the netlist's ternary expressions as in Python."""
    g = np.array([[1e-3, 2e-4]])
    for v_in in (1.5, -2.0, 0.05):
        ref = run_ngspice(g, [v_in], cell_iv=TABLE_CELL, access=TABLE_ACCESS)
        got = solve_nonlinear(g, [v_in], cell_iv=TABLE_CELL, access=TABLE_ACCESS).currents_a[0]
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=0)


def test_netlist_has_the_models_and_tight_options():
    net = to_spice(np.full((2, 2), 1e-4), [0.2, 0.0], r_bitline_ohm=1.0, r_wordline_ohm=1.0,
                   cell_iv=SinhCell(0.25), access=NMOS)
    assert ".options reltol=1e-12" in net and "gmin=1e-30" in net
    assert "bc0_1 w0_1 x0_1 I = 2.5000000000000001e-05*sinh((V(w0_1,x0_1))/0.25)" in net
    assert "m0_1 x0_1 vgate b0_1 0 nacc" in net and "nmos level=1" in net
    assert "is=0 js=0 ld=0" in net and "vgg vgate 0 DC 1.2" in net
    assert "bc1_" not in net  # row 1 at 0 V is off
    plain = to_spice(np.full((2, 2), 1e-4), [0.2, 0.0], r_bitline_ohm=1.0)
    assert ".options" not in plain and "rc0_1 w0_1 b0_1" not in plain  # unchanged netlists


# ----------------------------------------------------------------- closed forms and limits


@pytest.mark.parametrize("access", [NMOS, FixedAccess(3e3), TABLE_ACCESS,
                                    Level1NMOS(v_gate_v=0.8, lambda_per_v=0.3)])
@pytest.mark.parametrize("cell", [SinhCell(0.25), TABLE_CELL, LinearCell()])
def test_one_cell_with_wires_equals_an_independent_scalar_root(cell, access):
    """1 x 1 with a word- and a bit-line segment: the current I solves
    I = I_elem(V - I r_w, I r_b), the element itself by brentq on its internal node."""
    g, v_in, r_w, r_b = 2e-4, 0.3, 50.0, 30.0

    def i_acc(v_d, v_s):
        return access.partials(v_d, v_s)[0]

    def elem(vw, vb):
        if vw == vb:
            return 0.0
        lo, hi = sorted((vb, vw))
        x = brentq(lambda x: float(cell.current(g, vw - x)) - float(i_acc(x, vb)), lo, hi,
                   xtol=1e-300, rtol=8.9e-16, maxiter=500)
        return float(cell.current(g, vw - x))

    i_ref = brentq(lambda i: elem(v_in - i * r_w, i * r_b) - i, 0.0, v_in / (r_w + r_b),
                   xtol=1e-300, rtol=8.9e-16, maxiter=500)
    for method in ("newton-cg", "picard", "newton-gmres", "newton-direct"):
        got = solve_nonlinear(np.array([[g]]), [v_in], r_bitline_ohm=r_b, r_wordline_ohm=r_w,
                              cell_iv=cell, access=access, method=method).currents_a[0, 0]
        assert got == pytest.approx(i_ref, rel=1e-12), method
    i_no_wires = solve_nonlinear(np.array([[g]]), [v_in], cell_iv=cell, access=access)
    assert i_no_wires.currents_a[0, 0] == pytest.approx(elem(v_in, 0.0), rel=1e-13)


@settings(max_examples=30)
@given(g=st.floats(1e-7, 1e-3), vw=st.floats(-1.0, 1.0), vb=st.floats(-0.5, 0.5),
       model=st.sampled_from(["sinh+nmos", "table+table", "sinh+r", "table+nmos"]))
def test_series_element_derivatives_are_its_exact_derivatives(g, vw, vb, model):
    cell = TABLE_CELL if model.startswith("table") else SinhCell(0.25)
    access = {"nmos": NMOS, "table": TABLE_ACCESS, "r": FixedAccess(2e3)}[model.split("+")[1]]
    i, a, c = series_element(cell, access, g, vw, vb)
    h = 1e-6
    fd_w = (series_element(cell, access, g, vw + h, vb)[0]
            - series_element(cell, access, g, vw - h, vb)[0]) / (2 * h)
    fd_b = (series_element(cell, access, g, vw, vb + h)[0]
            - series_element(cell, access, g, vw, vb - h)[0]) / (2 * h)
    scale = abs(a) + abs(c) + 1e-12 * g
    assert abs(fd_w - a) <= 1e-5 * scale and abs(fd_b - c) <= 1e-5 * scale
    assert np.sign(i) == np.sign(vw - vb) or i == 0.0


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6),
       model=st.sampled_from(["sinh", "sinh+nmos", "table+table", "sinh+r", "table+nmos",
                              "linear+nmos"]))
def test_numba_elements_match_the_numpy_models(seed, model):
    """The Numba twins (used inside the secant kernel) against :func:`series_element`."""
    cell = {"sinh": SinhCell(0.25), "table": TABLE_CELL, "linear": LinearCell()}[
        model.split("+")[0]]
    access = {"nmos": Level1NMOS(v_gate_v=0.9), "table": TABLE_ACCESS, "r": FixedAccess(2e3),
              None: None}[("+" in model and model.split("+")[1]) or None]
    rng = np.random.default_rng(seed)
    g = 10 ** rng.uniform(-7, -3, 2000)
    vw = rng.uniform(-1, 1, 2000)
    vb = np.where(rng.random(2000) < 0.5, rng.uniform(-0.5, 0.5, 2000), vw)  # some at V = 0
    (ck, cp, cx, cc), (ak, ap, ax, ac) = encode(cell, access)
    got = elements_numba(ck, cp, cx, cc, ak, ap, ax, ac, g, vw, vb)
    ref = series_element(cell, access, g, vw, vb)
    for x, y in zip(got, ref, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * np.abs(y).max())


arrays = st.builds(lambda n, m, seed: _case(n, m, seed, batch=3),
                   st.integers(2, 12), st.integers(2, 12), st.integers(0, 10**6))


@settings(max_examples=25)
@given(case=arrays, kind=st.sampled_from(["bitline", "wordline", "both"]),
       topology=st.sampled_from(["1t1r", "passive"]), r_acc=st.sampled_from([0.0, 500.0]))
def test_small_signal_limit_is_todays_linear_solve(case, kind, topology, r_acc):
    g, v = case
    v_small = v * 1e-4  # |V| <= 30 uV: sinh(V/V0) = V/V0 (1 + 2.4e-9)
    seg = _segments(kind, 2.0)
    got = solve_currents(g, v_small, topology=topology, cell_iv=SinhCell(0.25),
                         access=FixedAccess(r_acc), **seg)
    lin = solve_currents(g / (1 + g * r_acc), v_small, topology=topology, **seg)
    np.testing.assert_allclose(got, lin, rtol=3e-9, atol=1e-30)


def test_transistor_small_signal_limit_converges_linearly():
    """With the NMOS the element tends to the conductance g gds0 / (g + gds0), gds0 = beta
    (V_G - V_T0) at V_DS = 0, with an error proportional to V: a tenth of the voltage, a tenth
    of the error."""
    g, v = _case(8, 8, seed=3, batch=1)
    gds0 = NMOS.beta_a_per_v2 * (NMOS.v_gate_v - NMOS.vto_v)
    g_eff = g * gds0 / (g + gds0)
    errs = []
    for scale in (1e-3, 1e-4):
        got = solve_currents(g, v * scale, r_bitline_ohm=1.0, r_wordline_ohm=1.0,
                             cell_iv=LinearCell(), access=NMOS)
        lin = solve_currents(g_eff, v * scale, r_bitline_ohm=1.0, r_wordline_ohm=1.0)
        errs.append(np.abs(got / lin - 1).max())
    assert errs[0] < 1e-3 and 7 < errs[0] / errs[1] < 13


@settings(max_examples=20)
@given(case=arrays, kind=st.sampled_from(["bitline", "wordline", "both"]),
       topology=st.sampled_from(["1t1r", "passive"]),
       model=st.sampled_from(["sinh", "sinh+nmos", "table+table"]), up=st.floats(1.05, 3.0))
def test_currents_rise_with_read_voltage_and_fall_with_wire_resistance(case, kind, topology,
                                                                       model, up):
    g, v = case
    cell = TABLE_CELL if model.startswith("table") else SinhCell(0.25)
    access = NMOS if "nmos" in model else TABLE_ACCESS if "+table" in model else None
    kw = dict(topology=topology, cell_iv=cell, access=access)
    base = solve_nonlinear(g, v, **kw, **_segments(kind, 2.0)).currents_a
    louder = solve_nonlinear(g, v * up, **kw, **_segments(kind, 2.0)).currents_a
    lossier = solve_nonlinear(g, v, **kw, **_segments(kind, 2.0 * up)).currents_a
    lit = base > 0
    assert np.all(louder[lit] > base[lit]) and np.all(lossier[lit] < base[lit])
    assert np.all(louder[~lit] == 0) and np.all(lossier[~lit] == 0)


@settings(max_examples=15)
@given(case=arrays, topology=st.sampled_from(["1t1r", "passive"]),
       model=st.sampled_from(["sinh", "sinh+nmos", "table+table"]))
def test_the_three_methods_agree(case, topology, model):
    g, v = case
    cell = TABLE_CELL if model.startswith("table") else SinhCell(0.25)
    access = NMOS if "nmos" in model else TABLE_ACCESS if "+table" in model else None
    kw = dict(topology=topology, cell_iv=cell, access=access, r_bitline_ohm=1.5,
              r_wordline_ohm=2.0)
    ref = solve_nonlinear(g, v, method="newton-direct", **kw).currents_a
    for method in ("newton-cg", "picard", "newton-gmres"):
        np.testing.assert_allclose(solve_nonlinear(g, v, method=method, **kw).currents_a, ref,
                                   rtol=1e-11, atol=1e-25)
    one_kind = dict(kw, r_wordline_ohm=0.0)
    np.testing.assert_allclose(solve_nonlinear(g, v, method="lines", **one_kind).currents_a,
                               solve_nonlinear(g, v, method="newton-direct",
                                               **one_kind).currents_a, rtol=1e-11, atol=1e-25)


class _CubicCell:
    """A user's model without a Numba twin: I = g (V + V^3 / (0.3 V)^2)."""

    def current(self, g_s, v_v):
        return np.asarray(g_s) * (np.asarray(v_v) + np.asarray(v_v) ** 3 / 0.09)

    def conductance(self, g_s, v_v):
        return np.asarray(g_s) * (1.0 + 3.0 * np.asarray(v_v) ** 2 / 0.09)


def test_models_without_a_numba_twin_take_the_numpy_secant_iteration():
    g, v = _case(12, 10, seed=11, batch=3)
    kw = dict(r_bitline_ohm=2.0, r_wordline_ohm=1.0, cell_iv=_CubicCell(), access=NMOS)
    auto = solve_nonlinear(g, v, **kw)
    ref = solve_nonlinear(g, v, method="newton-direct", **kw)
    np.testing.assert_allclose(auto.currents_a, ref.currents_a, rtol=1e-11, atol=0)
    assert np.all(auto.newton_iterations > 3)  # the secant iteration, not Newton
    lin = solve_nonlinear(g, v, r_bitline_ohm=2.0, r_wordline_ohm=1.0, access=NMOS)
    assert np.abs(lin.currents_a / ref.currents_a - 1).max() > 1e-3


@settings(max_examples=15)
@given(case=arrays, topology=st.sampled_from(["1t1r", "passive"]))
def test_per_vector_cg_kernel_equals_the_tested_nodal_solve(case, topology):
    """The Numba kernel with a conductance matrix per vector against ``nodal_solve`` (itself
    compared with its NumPy twin and ngspice in test_circuit.py), vector by vector."""
    g, v = case
    rng = np.random.default_rng(int(g.size))
    g_eff = g[None] * rng.uniform(0.5, 2.0, (v.shape[0], *g.shape))
    on = v != 0 if topology == "1t1r" else np.ones_like(v, dtype=bool)
    w = np.zeros(g_eff.shape)
    b = np.zeros(g_eff.shape)
    iters = np.zeros(v.shape[0], dtype=np.int64)
    schur_pcg_per_vector_kernel(g_eff, v * on, on, 0.5, 1 / 1.5, 1e-14, 1e-12, 500, iters, w,
                                b, 4)
    for k in range(v.shape[0]):
        ref = nodal_solve(g_eff[k], v[k:k + 1], 1.5, 2.0, topology, solver="direct")
        assert iters[k] >= 0
        np.testing.assert_allclose(b[k, -1] / 1.5, ref.currents_a[0], rtol=1e-11, atol=1e-25)


# ----------------------------------------------------------------- the linear path and errors


def test_linear_models_keep_todays_path_bit_for_bit():
    g, v = _case(16, 12, seed=5, batch=3)
    for seg in (dict(r_bitline_ohm=1.0, r_wordline_ohm=1.0), dict(r_bitline_ohm=1.0), {}):
        today = solve_currents(g, v, **seg)
        assert np.array_equal(solve_currents(g, v, cell_iv=LinearCell(), **seg), today)
        assert np.array_equal(solve_currents(g, v, access=FixedAccess(0.0), **seg), today)
        folded = solve_currents(series_conductance(g, 1e3), v, **seg)
        assert np.array_equal(solve_currents(g, v, access=FixedAccess(1e3), **seg), folded)


def test_single_vectors_and_presets():
    g, v = _case(6, 5, seed=9, batch=1)
    cell = CELL_PRESETS["sinh-hfox"]["model"]
    acc = ACCESS_PRESETS["nmos-65nm-l1"]["model"]
    one = solve_currents(g, v[0], r_bitline_ohm=1.0, r_wordline_ohm=1.0, cell_iv=cell,
                         access=acc)
    assert one.shape == (5,)
    np.testing.assert_array_equal(one, solve_currents(g, v, r_bitline_ohm=1.0,
                                                      r_wordline_ohm=1.0, cell_iv=cell,
                                                      access=acc)[0])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SinhCell(0.0), "v0_v = 0.0 is out of range"),
    (lambda: Level1NMOS(kp_a_per_v2=-1.0), "kp_a_per_v2 = -1.0 is out of range"),
    (lambda: Level1NMOS(phi_v=0.0), "phi_v"),
    (lambda: FixedAccess(-1.0), "r_ohm = -1.0 is out of range"),
    (lambda: TableCell((0.0, 0.1, 0.2), (0.0, 0.2, 0.1)), "strictly increasing"),
    (lambda: TableCell((0.1, 0.2), (0.1, 0.2)), "V = 0, I = 0"),
    (lambda: TableAccess((0.0, 0.1), (0.0,)), "same length"),
    (lambda: solve_nonlinear(np.ones((2, 2)) * 1e-4, [0.1, 0.2], r_bitline_ohm=1.0,
                             cell_iv=SinhCell(), tol=1.0), "tol = 1.0 is out of range"),
    (lambda: solve_nonlinear(np.ones((2, 2)) * 1e-4, [0.1, 0.2], r_bitline_ohm=1.0,
                             cell_iv=SinhCell(), method="picard"), "needs both"),
    (lambda: solve_currents(np.ones((2, 2)) * 1e-4, [0.1, 0.2], r_bitline_ohm=1.0,
                            cell_iv=SinhCell(), method="chain"), "linear cells only"),
])
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ParameterError, match=message):
        make()


def test_no_convergence_is_an_error_not_a_nan():
    g, v = _case(16, 16, seed=1, batch=2)
    with pytest.raises(ArithmeticError, match="did not converge"):
        solve_nonlinear(g, v, r_bitline_ohm=2.0, r_wordline_ohm=2.0, cell_iv=SinhCell(0.05),
                        access=NMOS, max_newton=1, method="newton-gmres")


@contextlib.contextmanager
def _no_fallback():
    """Make the sparse-LU fallback of the Numba kernels fail the test if it is reached."""
    import meliso.circuit.nonlinear as nl

    def refuse(*_a, **_k):
        raise AssertionError("the Numba kernel left a vector to the sparse-LU fallback")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nl, "_newton_sparse", refuse)
        yield


@pytest.mark.parametrize(("r_ohm", "tol", "v_max"), [(0.1, 1e-6, 1.0), (1e-3, 1e-10, 0.3),
                                                     (1e-4, 1e-13, 0.4)])
def test_newton_cg_does_not_stop_on_a_backward_error_the_wires_dominate(r_ohm, tol, v_max):
    """Stiff wires (or a loose tol) make the backward error small after one step while the
    cells' currents are still off (by 7e-4 at 0.1 Ohm and tol 1e-6); the step test must
    still hold the answer to the exact Newton's, from the first step on."""
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-4, (32, 32))
    v = rng.uniform(0.0, v_max, (2, 32))
    kw = dict(r_bitline_ohm=r_ohm, r_wordline_ohm=r_ohm, cell_iv=SinhCell(0.25))
    with _no_fallback():
        fast = solve_nonlinear(g, v, method="newton-cg", tol=tol, **kw)
    ref = solve_nonlinear(g, v, method="newton-direct", tol=1e-15, **kw)
    np.testing.assert_allclose(fast.currents_a, ref.currents_a, rtol=1e-10, atol=0)
    assert fast.newton_iterations.min() >= 2


def test_transistor_arrays_converge_in_few_newton_cg_steps_to_the_exact_newton_answer():
    """The internal node as an unknown plus the shunt split of the element block: 96 x 96, the
    level-1 NMOS, 1 Ohm segments. The split leaves out only the controlled-source part of one
    off-diagonal entry (~1e-3 contraction here), so a few steps reach the sparse-LU Newton's
    currents to 1e-12; the stop on the estimated error left (not on a falling backward error,
    which the wires dominate: stopping when it fell by 1e-3 leaves 1e-11 here) keeps the last
    digits."""
    rng = np.random.default_rng(64)
    g = np.where(rng.random((96, 96)) < 0.5, 1e-4, 1e-5)
    v = np.where(rng.random((2, 96)) < 0.5, 0.2, 0.0)
    kw = dict(topology="1t1r", cell_iv=SinhCell(0.25), access=NMOS, r_bitline_ohm=1.0,
              r_wordline_ohm=1.0)
    ref = solve_nonlinear(g, v, method="newton-direct", **kw)
    with _no_fallback():  # the kernel itself, not the sparse-LU Newton behind it
        fast = solve_nonlinear(g, v, method="newton-cg", **kw)
    assert fast.newton_iterations.max() <= 5
    np.testing.assert_allclose(fast.currents_a, ref.currents_a, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", ["ideal", "numpy", "numba"])
def test_large_batches_are_solved_in_chunks_with_the_same_answer(case, monkeypatch):
    import meliso.circuit.nonlinear_memory as nm

    g, v = _case(12, 10, seed=5, batch=7)
    cell = _CubicCell() if case == "numpy" else SinhCell(0.25)
    kw = dict(cell_iv=cell, access=NMOS, r_bitline_ohm=0.0 if case == "ideal" else 1.0,
              r_wordline_ohm=0.0 if case == "ideal" else 1.0)
    with _no_fallback():
        whole = solve_nonlinear(g, v, **kw)
        monkeypatch.setattr(nm, "CHUNK_BYTES", 1.0)  # one vector per chunk
        chunked = solve_nonlinear(g, v, **kw)
    np.testing.assert_array_equal(chunked.currents_a, whole.currents_a)
    np.testing.assert_array_equal(chunked.bitline_v, whole.bitline_v)
    np.testing.assert_array_equal(chunked.newton_iterations, whole.newton_iterations)


def test_singular_or_overflowing_solves_are_convergence_errors_not_runtime_errors():
    """A sinh cell with V0 = 1 mV read at up to 0.3 V overflows: SuperLU's 'exactly
    singular' becomes a ConvergenceError (an ArithmeticError the CLI reports with exit 2)."""
    from meliso import ConvergenceError

    g, v = _case(8, 4, seed=4, batch=2)
    for method in ("newton-cg", "newton-direct"):
        with pytest.raises(ConvergenceError):
            solve_nonlinear(g, v, r_bitline_ohm=1.0, r_wordline_ohm=1.0,
                            cell_iv=SinhCell(0.001), method=method)


def test_memory_is_estimated_before_allocating(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "1MiB")
    g, v = _case(64, 64, seed=2, batch=40)
    with pytest.raises(ParameterError, match=r"non-linear solve of 40 vectors on 64x64 .*"
                                             r"needs about .* MiB"):
        solve_nonlinear(g, v, cell_iv=SinhCell(0.25), access=NMOS, r_bitline_ohm=1.0,
                        r_wordline_ohm=1.0)

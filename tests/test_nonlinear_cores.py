"""The cores with non-linear elements (a sinh cell I-V, a level-1 NMOS access transistor):
settings validated, the small-signal limit equal to the linear core, the exact decode of
binary pulses without wires, and the non-linearity's effect where the physics says it must
appear."""

from __future__ import annotations

import numpy as np
import pytest

from meliso._validation import ParameterError
from meliso.circuit import Wires
from meliso.circuit.iv import Level1NMOS, SinhCell, series_element
from meliso.core import AnalogCore, BinaryCore


@pytest.mark.parametrize("settings, message", [
    ({"cell_iv": "cubic"}, "cell_iv = 'cubic': allowed linear"),
    ({"access": "pmos"}, "access = 'pmos': allowed device"),
    ({"cell_v0_v": 0.3}, "cell_v0_v is for sinh cells"),
    ({"v_gate_v": 1.0}, "v_gate_v is for a MOSFET access"),
    ({"cell_iv": "sinh-hfox", "circuit": "chain", "r_bitline_ohm": 1.0}, "'chain'"),
    ({"cell_iv": "sinh-hfox", "cell_v0_v": 0.0}, "cell_v0_v"),
])
def test_element_settings_are_validated(settings, message):
    with pytest.raises(Exception, match=message):
        Wires(**settings)


def test_elements_carry_their_overrides():
    cell, access = Wires(cell_iv="sinh-hfox", cell_v0_v=0.4, access="nmos-65nm-l1",
                         v_gate_v=0.9).elements(15e3)
    assert cell == SinhCell(v0_v=0.4) and isinstance(access, Level1NMOS)
    assert access.v_gate_v == 0.9
    assert Wires().elements(15e3)[1].r_ohm == 15e3 and not Wires().nonlinear


def test_neurosim_refuses_non_linear_elements():
    with pytest.raises(ParameterError, match="cell_iv"):
        AnalogCore(np.eye(4), "Ag:a-Si", model="neurosim", cell_iv="sinh-hfox")


@pytest.mark.parametrize("elements", [{"cell_iv": "sinh-hfox"},
                                      {"cell_iv": "sinh-hfox", "access": "nmos-65nm-l1"}])
def test_binary_core_decodes_pulses_exactly_without_wires(elements):
    """Read pulses are all V_read: each element passes I(V_read) = g_read V_read, and Delta_I
    is measured the same way, so an ideal binary crossbar computes x @ W exactly."""
    rng = np.random.default_rng(1)
    w = rng.choice([-1, 0, 1], size=(40, 12))
    x = rng.choice([-1, 0, 1], size=(9, 40))
    core = BinaryCore(w, technology="ReRAM-1", encoding="T-I", crossbar=(64, 32), **elements)
    np.testing.assert_array_equal(core.matmul(x), x @ w)
    cell, access = core.wires.elements(core.device.r_access_ohm)
    i_on = series_element(cell, access, core.device.g_lrs_s, core.v_read_v, 0.0)[0]
    i_off = series_element(cell, access, core.device.g_hrs_s, core.v_read_v, 0.0)[0]
    assert core.delta_i_a == pytest.approx(float(i_on - i_off), rel=1e-12)


def test_binary_core_small_signal_cells_equal_the_linear_core_with_wires():
    """V0 = 100 V >> V_read: sinh(V/V0) V0 = V (1 + (V/V0)^2/6 ...), so every column current
    of the wired crossbar matches the linear solver to ~(V_read/V0)^2 / 6."""
    rng = np.random.default_rng(2)
    w = rng.choice([-1, 1], size=(32, 8))
    x = rng.choice([-1, 1], size=(5, 32))
    lin = BinaryCore(w, technology="ReRAM-1", encoding="B-I", crossbar=(32, 16),
                     r_bitline_ohm=2.5)
    near = BinaryCore(w, technology="ReRAM-1", encoding="B-I", crossbar=(32, 16),
                      r_bitline_ohm=2.5, cell_iv="sinh-hfox", cell_v0_v=100.0)
    i_lin, i_near = lin.column_currents_a(x), near.column_currents_a(x)
    bound = (lin.v_read_v / 100.0) ** 2 / 6 * 2
    np.testing.assert_allclose(i_near, i_lin, rtol=bound)
    assert np.max(np.abs(i_near / i_lin - 1)) > bound / 20  # and the solver did see the sinh


def test_analog_core_sinh_cells_bend_the_product_as_sinh_does():
    """One tile, no wires, one input at full scale on an identity matrix with the ideal
    device (linear, no access resistance): the decoded output is the cell's I(V_read)/(g
    V_read) = sinh(V_read/V0) V0/V_read times the weight — the closed form of the sinh law —
    and the small-signal limit (V0 = 100 V) is the linear core."""
    a = np.eye(3)
    x = np.array([1.0, 0.0, 0.0])
    lin = AnalogCore(a, "ideal", tile_rows=3, tile_cols=3).matvec(x)
    for v0, tol in ((100.0, 1e-5), (0.25, None)):
        y = AnalogCore(a, "ideal", tile_rows=3, tile_cols=3, cell_iv="sinh-hfox",
                       cell_v0_v=v0).matvec(x)
        if tol is not None:
            np.testing.assert_allclose(y, lin, atol=tol)
        else:
            core = AnalogCore(a, "ideal", tile_rows=3, tile_cols=3)
            v_r = core.device.v_read_v
            gain = np.sinh(v_r / v0) * v0 / v_r
            assert y[0] == pytest.approx(lin[0] * gain, rel=1e-6)
            assert y[1:] == pytest.approx(lin[1:], abs=1e-9)


@pytest.mark.parametrize("access", [None, "nmos"])
@pytest.mark.parametrize("kind", ["bitline", "wordline"])
@pytest.mark.parametrize("topology", ["1t1r", "passive"])
def test_lines_kernel_equals_its_numpy_twin_and_the_direct_newton(access, kind, topology):
    """The Numba line-by-line Newton (one segment kind) against the NumPy batched Newton it
    replaces and against Newton with sparse LU on the whole network: the same currents."""
    from meliso.circuit.iv import Level1NMOS
    from meliso.circuit.nonlinear import _newton_lines, solve_nonlinear
    from meliso.circuit.nonlinear_net import _Net

    rng = np.random.default_rng(7)
    g = rng.uniform(1e-6, 1e-4, size=(24, 10))
    v = rng.choice([0.0, 0.15, 0.3], size=(6, 24))
    r_b, r_w = (2.5, 0.0) if kind == "bitline" else (0.0, 2.5)
    cell, acc = SinhCell(0.25), (Level1NMOS() if access else None)
    fast = solve_nonlinear(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology,
                           cell_iv=cell, access=acc, method="lines")
    direct = solve_nonlinear(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology,
                             cell_iv=cell, access=acc, method="newton-direct")
    on = v != 0 if topology == "1t1r" else np.ones_like(v, dtype=bool)
    v_on = v * on
    net = _Net(g, v_on, on, 1 / r_w if r_w else 0.0, 1 / r_b if r_b else 0.0, cell, acc)
    w0 = np.broadcast_to(v_on[:, :, None], (6, 24, 10)).copy()
    w, b, _, ok = _newton_lines(net, w0, np.zeros((6, 24, 10)), 1e-13, 50)
    twin = net.g_b * b[:, -1, :] if r_b else net.element(w, b)[0].sum(axis=1)
    assert ok.all()
    scale = np.abs(direct.currents_a).max()
    np.testing.assert_allclose(fast.currents_a, direct.currents_a, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(fast.currents_a, twin, rtol=0, atol=1e-12 * scale)
    nodes = fast.bitline_v if r_b else fast.wordline_v
    np.testing.assert_allclose(nodes, b if r_b else w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["bitline", "wordline"])
def test_lines_kernel_settles_transistor_arrays_itself_in_few_steps(kind):
    """The kernel, not its NumPy fallback: with the internal nodes as unknowns of the same
    Newton iteration every line converges (status 1) in a handful of steps, quadratically."""
    from meliso.circuit.iv import Level1NMOS
    from meliso.circuit.iv_numba import encode
    from meliso.circuit.lines_kernel import lines_kernel
    from meliso.circuit.nonlinear_net import ACCEPT_TOL, STEP_TOL, TOL

    rng = np.random.default_rng(11)
    rows, cols, m = 48, 40, 5
    g = np.where(rng.random((rows, cols)) < 0.5, 1e-4, 1e-5)
    v = np.where(rng.random((m, rows)) < 0.5, 0.2, 0.0)
    on = v != 0
    bitline = kind == "bitline"
    (ck, cp, cx, cc), (ak, ap, ax, ac) = encode(SinhCell(0.25), Level1NMOS())
    out = np.empty((m, cols))
    nodes = np.zeros((m, rows, cols)) if bitline else \
        np.broadcast_to(v[:, :, None], (m, rows, cols)).copy()
    iters = np.zeros(m, dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    lines_kernel(g, v * on, on, 1.0, bitline, ck, cp, cx, cc, ak, ap, ax, ac, TOL, ACCEPT_TOL,
                 STEP_TOL, 60, out, nodes, iters, status)
    assert (status == 1).all()
    assert iters.max() <= 6


def test_vmm_summaries_name_the_element_models():
    """A population's summary says which cell and access models produced it (a reader of a
    saved JSON must be able to tell a sinh-cell run from a linear one)."""
    from meliso.devices import get_device
    from meliso.workloads import vmm_population

    dev = get_device("Ag:a-Si")
    s = vmm_population(dev, trials=2, rows=8, cols=8, tile_rows=8, tile_cols=8,
                       r_bitline_ohm=1.0, cell_iv="sinh-hfox", cell_v0_v=0.2,
                       access="nmos-65nm-l1", v_gate_v=1.1, seed=0).summary()
    assert (s["cell_iv"], s["cell_v0_v"], s["access"], s["v_gate_v"]) == (
        "sinh-hfox", 0.2, "nmos-65nm-l1", 1.1)
    plain = vmm_population(dev, trials=2, rows=8, cols=8, tile_rows=8, tile_cols=8,
                           seed=0).summary()
    assert (plain["cell_iv"], plain["access"]) == ("linear", "device")

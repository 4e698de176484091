"""Crossbar solvers against ngspice, against each other, and against circuit invariants."""

import itertools
import os
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meliso import ParameterError
from meliso.circuit import solve_currents
from meliso.circuit.chain import chain_kernel, chain_numpy
from meliso.circuit.ladder import (
    bitline_passive_kernel,
    bitline_passive_numpy,
    ladder_1t1r_kernel,
    ladder_1t1r_numpy,
    renormalisation_interval,
    wordline_kernel,
    wordline_numpy,
)
from meliso.circuit.nodal import PCG_ACCEPT_TOL, nodal_solve
from meliso.circuit.pcg import schur_pcg_kernel
from meliso.circuit.pcg_twin import schur_pcg_numpy
from meliso.circuit.spice import run_ngspice, to_spice
from meliso.devices import TABLE_III, get_device

HAVE_NGSPICE = shutil.which("ngspice") is not None
# in CI ngspice is installed by .ci/run: a missing one is a failure there, not a skip
needs_ngspice = pytest.mark.skipif(not HAVE_NGSPICE and not os.environ.get("CI"),
                                   reason="ngspice not installed")


def _array(tech: str, rows: int, cols: int, seed: int) -> np.ndarray:
    dev = get_device(tech)
    lrs = np.random.default_rng(seed).random((rows, cols)) < 0.5
    return np.where(lrs, dev.g_lrs_s, dev.g_hrs_s)


def _inputs(rows: int, seed: int, v_read: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    binary = np.where(rng.random(rows) < 0.5, v_read, 0.0)
    multilevel = rng.integers(-3, 4, rows) * (v_read / 3)  # signed, some rows at 0 V
    return np.stack([binary, multilevel])


CASES = [
    (tech, size, r, segments, topology)
    for (tech, size, r), segments, topology in itertools.product(
        [("ReRAM-1", (8, 8), 2.5), ("PCM", (16, 12), 1.0), ("ReRAM-2", (32, 32), 0.5),
         ("Perovskite", (24, 40), 2.5), ("IFG", (64, 64), 1.0), ("ReRAM-1", (64, 64), 2.5)],
        ["bitline", "wordline", "both"],
        ["1t1r", "passive"],
    )
]


@needs_ngspice
@pytest.mark.parametrize(("tech", "size", "r", "segments", "topology"), CASES)
def test_nodal_and_ladder_match_ngspice(tech, size, r, segments, topology):
    rows, cols = size
    g = _array(tech, rows, cols, seed=rows + cols)
    v = _inputs(rows, seed=rows)
    r_b = r if segments in ("bitline", "both") else 0.0
    r_w = r if segments in ("wordline", "both") else 0.0
    ref = run_ngspice(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology)
    nodal = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology,
                           method="nodal")
    np.testing.assert_allclose(nodal, ref, rtol=1e-6, atol=0)
    if segments != "both":
        ladder = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology,
                                method="ladder")
        np.testing.assert_allclose(ladder, nodal, rtol=1e-9, atol=0)
    if segments == "bitline" and topology == "1t1r":
        chain = solve_currents(g, v[:1], r_bitline_ohm=r_b, topology=topology, method="chain")
        np.testing.assert_allclose(chain, ladder[:1], rtol=1e-12, atol=0)


def test_netlist_is_the_documented_geometry():
    net = to_spice(np.full((2, 2), 1e-4), [0.2, 0.0], r_bitline_ohm=1.5, r_wordline_ohm=0.5)
    assert "rw0_0 d0 w0_0 0.5" in net and "rw0_1 w0_0 w0_1 0.5" in net
    assert "rb1_0 b1_0 a0 1.5" in net and "va0 a0 0 DC 0" in net
    assert "rc0_1 w0_1 b0_1 10000" in net and "rc1_" not in net  # row 1 at 0 V is off (1T1R)
    assert "rc1_0" in to_spice(np.full((2, 2), 1e-4), [0.2, 0.0], topology="passive")
    # zero segments merge nodes: cells then connect drivers and amplifiers directly
    assert "rc0_0 d0 a0" in to_spice(np.full((2, 2), 1e-4), [0.2, 0.1])


def test_chain_error_with_wordline_segments_is_real_and_bounded():
    """Algorithm 1 ignores word-line segments: against the full circuit its error is not zero
    (benchmarks/circuit.py prints it by size; the paper claims <= 0.15 % for its setting)."""
    g = _array("ReRAM-1", 64, 64, seed=3)
    v = _inputs(64, seed=3)[:1]
    full = solve_currents(g, v, r_bitline_ohm=1.0, r_wordline_ohm=1.0, method="nodal")
    chain = solve_currents(g, v, r_bitline_ohm=1.0, method="chain")
    err = np.abs(chain / full - 1).max()
    assert 0 < err < 0.5  # a real, bounded model error, not zero


@st.composite
def arrays(draw, max_size=12):
    rows = draw(st.integers(1, max_size))
    cols = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-7, 1e-4, (rows, cols))
    v = np.where(rng.random((3, rows)) < 0.4, 0.0, rng.uniform(0.05, 0.5, (3, rows)))
    return g, v


def test_a_grounded_passive_row_can_raise_a_current():
    """The counterexample hypothesis found: in a passive array a row driven at 0 V sinks
    current from the bit lines; longer wires isolate that sink, so a small column current
    rises with the wire resistance (the physics, not a solver error: ngspice agrees in
    ``test_nodal_and_ladder_match_ngspice``)."""
    g = np.array([[6.38402521e-06, 2.61922090e-06, 2.84875647e-05, 3.56701073e-07,
                   8.13090923e-05],
                  [4.70441567e-05, 4.31931578e-05, 4.91717160e-05, 2.30063890e-05,
                   9.32932341e-05],
                  [9.42457260e-05, 4.35549792e-05, 6.64346803e-05, 8.15220257e-05,
                   2.52157739e-05]])
    v = np.array([0.3895152, 0.0, 0.0])
    low, high = (solve_currents(g, v, r_bitline_ohm=r, r_wordline_ohm=r, topology="passive")
                 for r in (10.0, 100.0))
    assert high[3] > low[3] * 1.01  # a grounded row's sink isolated: the current rises
    assert high.sum() < low.sum()   # while the total still falls


@given(arrays(), st.sampled_from(["1t1r", "passive"]))
def test_zero_resistance_limit_is_ideal(arr, topology):
    g, v = arr
    ideal = solve_currents(g, v, method="ideal")
    # (a passive row at 0 V is grounded, which without wires changes nothing either)
    for r_b, r_w in ((1e-9, 0.0), (0.0, 1e-9), (1e-9, 1e-9)):
        out = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology)
        np.testing.assert_allclose(out, ideal, rtol=1e-9, atol=1e-20)


@given(arrays(), st.sampled_from(["1t1r", "passive"]),
       st.sampled_from(["bitline", "wordline", "both"]))
def test_currents_fall_monotonically_as_wire_resistance_rises(arr, topology, segments):
    """Every output current falls as the segments grow, with every connected row driven. (A
    passive row at 0 V is a second sink: longer wires isolate it, and a column can then gain
    current; hypothesis found such a case, kept in
    ``test_a_grounded_passive_row_can_raise_a_current``.)"""
    g, v = arr
    if topology == "passive":
        v = np.where(v == 0.0, 0.05, v)
    previous = solve_currents(g, v, method="ideal")
    for r in (0.5, 2.0, 10.0, 100.0):
        r_b = r if segments != "wordline" else 0.0
        r_w = r if segments != "bitline" else 0.0
        out = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology=topology)
        assert np.all(out <= previous * (1 + 1e-12) + 1e-20)
        previous = out


wire_ohm = st.one_of(st.just(0.0), st.floats(1e-6, 50.0))


@given(arrays(), st.sampled_from(["1t1r", "passive"]), wire_ohm, wire_ohm)
def test_nodal_conserves_current(arr, topology, r_b, r_w):
    g, v = arr
    sol = nodal_solve(g, v, r_b, r_w, topology)
    drivers, amplifiers = sol.driver_currents_a.sum(axis=1), sol.currents_a.sum(axis=1)
    # a driver's current is (V - W_0) / r_w: with a tiny r_w that difference cancels, which
    # costs up to a few ulps of V / r_w (checked: 1e-9 relative at r_w = 0.002 Ohm)
    cancellation = 8 * np.finfo(float).eps * np.abs(v).sum(axis=1) / r_w if r_w > 0 else 0.0
    # with both segment kinds the solve is PCG: KCL holds to its residual,
    # ||f - K u|| <= PCG_ACCEPT_TOL ||f|| with ||f|| = ||V|| / r_w, over at most every node
    pcg = 0.0
    if r_b > 0 and r_w > 0:
        pcg = np.sqrt(2 * g.size) * PCG_ACCEPT_TOL * np.linalg.norm(v, axis=1) / r_w
    assert np.all(np.abs(drivers - amplifiers) <= 1e-10 * np.abs(amplifiers) + cancellation
                  + pcg + 1e-20)


@given(arrays(max_size=20), st.floats(0.01, 20.0), st.integers(1, 25))
def test_numba_ladder_and_chain_match_their_numpy_twins(arr, r_b, renorm):
    g, v = arr
    out = np.empty((v.shape[0], g.shape[1]))
    ladder_1t1r_kernel(g, np.ascontiguousarray(v), r_b, renorm, out)
    np.testing.assert_allclose(out, ladder_1t1r_numpy(g, v, r_b, renorm), rtol=1e-12, atol=0)
    active = v != 0
    v_read = np.full(v.shape[0], 0.2)
    out2 = np.empty_like(out)
    chain_kernel(g, active, v_read, r_b, renorm, out2)
    # the twin is Algorithm 1 exactly as the paper writes it (a division per step)
    np.testing.assert_allclose(out2, chain_numpy(g, active, v_read, 1 / r_b), rtol=1e-12)


@given(arrays(max_size=20), st.floats(1e-3, 1e3))
def test_numba_effective_matrices_match_their_numpy_twins(arr, r):
    g, _ = arr
    np.testing.assert_allclose(bitline_passive_kernel(g, 1 / r), bitline_passive_numpy(g, 1 / r),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(wordline_kernel(g, 1 / r), wordline_numpy(g, 1 / r), rtol=1e-12,
                               atol=0)


def test_projective_sweeps_neither_overflow_nor_lose_accuracy():
    """The division-free sweeps rescale often enough for any wire and cell values."""
    g = _array("ReRAM-1", 512, 8, seed=2)
    v = np.full((1, 512), 0.2)
    for r_b in (1e-12, 1.0, 1e4, 1e9):
        renorm = renormalisation_interval(g, r_b)
        assert 1 <= renorm <= 512
        out = np.empty((1, 8))
        ladder_1t1r_kernel(g, v, r_b, renorm, out)
        chain = chain_numpy(g, v != 0, v[:, 0], 1 / r_b)
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, chain, rtol=1e-11)


@given(arrays(), st.floats(0.01, 10.0), st.sampled_from(["1t1r", "passive"]))
def test_ladder_equals_nodal_for_one_segment_kind(arr, r, topology):
    g, v = arr
    for r_b, r_w in ((r, 0.0), (0.0, r)):
        ladder = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w,
                                topology=topology, method="ladder")
        nodal = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w,
                               topology=topology, method="nodal")
        np.testing.assert_allclose(ladder, nodal, rtol=1e-9, atol=1e-20)


def test_auto_picks_the_fastest_exact_method_and_single_vectors_work():
    g = _array("PCM", 8, 8, seed=1)
    v = _inputs(8, seed=1)[0]
    assert solve_currents(g, v).shape == (8,)
    np.testing.assert_array_equal(solve_currents(g, v), v @ g)
    np.testing.assert_array_equal(solve_currents(g, v, r_bitline_ohm=1.0),
                                  solve_currents(g, v, r_bitline_ohm=1.0, method="ladder"))
    np.testing.assert_array_equal(
        solve_currents(g, v, r_bitline_ohm=1.0, r_wordline_ohm=1.0),
        solve_currents(g, v, r_bitline_ohm=1.0, r_wordline_ohm=1.0, method="nodal"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "chain", "topology": "passive", "r_bitline_ohm": 1.0}, "1T1R arrays only"),
        ({"method": "chain", "r_wordline_ohm": 1.0}, "r_wordline_ohm must be 0"),
        ({"method": "ladder", "r_bitline_ohm": 1.0, "r_wordline_ohm": 1.0}, "> 0 use 'nodal'"),
        ({"method": "spice"}, "method = 'spice'"),
        ({"method": "ideal", "r_bitline_ohm": 1.0}, "method 'ideal' has no wires"),
        ({"method": "chain", "r_bitline_ohm": 1.0, "topology": "2t2r"}, "topology = '2t2r'"),
        ({"topology": "2t2r"}, "topology = '2t2r'"),
        ({"r_bitline_ohm": -1.0}, "r_bitline_ohm = -1.0 is out of range"),
        ({"r_wordline_ohm": 1e-300}, "allowed r_wordline_ohm = 0 or 1e-12 <= r_wordline_ohm"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    g = _array("PCM", 4, 4, seed=1)
    with pytest.raises(ParameterError, match=message):
        solve_currents(g, [0.2, 0.0, 0.2, 0.2], **kwargs)


def test_chain_rejects_mixed_read_voltages():
    g = _array("PCM", 4, 4, seed=1)
    with pytest.raises(ParameterError, match="one read voltage"):
        solve_currents(g, [[0.2, 0.0, 0.2, 0.2], [0.2, 0.1, 0.0, 0.0]], r_bitline_ohm=1.0,
                       method="chain")
    with pytest.raises(ParameterError, match=r"v_in_v must be \(4,\)"):
        solve_currents(g, [0.2, 0.1])
    with pytest.raises(ParameterError, match="g_s must hold finite conductances"):
        solve_currents(-g, [0.2, 0.0, 0.2, 0.2])


def test_table_iii_technologies_are_all_exercised():
    assert {c[0] for c in CASES} == set(TABLE_III)


def test_core_reads_through_the_wire_network():
    from meliso.core import AnalogCore

    rng = np.random.default_rng(9)
    a = rng.uniform(0, 1, (16, 16))  # positive weights: wires can only lower the outputs
    x = rng.uniform(0.2, 1, (4, 16))
    dev = get_device("ideal", r_on_ohm=1e4)
    tile = dict(weight_range=1.0, input_range=1.0, tile_rows=16, tile_cols=16)
    plain = AnalogCore(a, dev, **tile)
    wired = AnalogCore(a, dev, **tile, r_bitline_ohm=2.5, r_wordline_ohm=2.5)
    y0, y1 = plain.matvec(x), wired.matvec(x)
    assert np.all(y1 < y0) and np.all(y1 > 0.5 * y0)
    # the same currents as solve_currents on the programmed tile
    v = x * dev.v_read_v
    i = solve_currents(wired.g_s[0, 0, 0], v, r_bitline_ohm=2.5, r_wordline_ohm=2.5)
    np.testing.assert_allclose(wired.matvec(x), (i[:, 0::2] - i[:, 1::2]) / wired.arrays.step_a,
                               rtol=1e-12)
    with pytest.raises(ParameterError, match=r"r_bitline_ohm = 1\.0 is not available with model"):
        AnalogCore(a, "EpiRAM", model="neurosim", r_bitline_ohm=1.0)


@given(arrays(max_size=10), st.floats(0.1, 5.0), st.floats(0.1, 5.0))
def test_nodal_matches_badcrossbar_on_passive_arrays(arr, r_b, r_w):
    """badcrossbar (PyPI) is an independent exact nodal solver for passive crossbars."""
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its plotting part needs cairo, not installed here
        badcrossbar = pytest.importorskip("badcrossbar")
    g, v = arr
    logging.disable(logging.CRITICAL)  # badcrossbar logs every solve
    try:
        solution = badcrossbar.compute(v.T, 1 / g, r_i_word_line=r_w, r_i_bit_line=r_b)
        ref = np.asarray(solution.currents.output).reshape(v.shape[0], -1)
    finally:
        logging.disable(logging.NOTSET)
    mine = solve_currents(g, v, r_bitline_ohm=r_b, r_wordline_ohm=r_w, topology="passive",
                          method="nodal")
    np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-20)


@given(arrays(max_size=16), st.sampled_from(["1t1r", "passive"]), st.floats(0.01, 10.0),
       st.floats(0.01, 10.0))
def test_pcg_equals_the_direct_solve(arr, topology, r_b, r_w):
    g, v = arr
    direct = nodal_solve(g, v, r_b, r_w, topology, solver="direct")
    pcg = nodal_solve(g, v, r_b, r_w, topology, solver="pcg")
    # PCG stops at ||f - K u|| <= 1e-12 ||f||, ||f|| = ||V|| / r_w: an absolute bound on the
    # current error at every node (a relative one only for currents well above it)
    bound = np.sqrt(2 * g.size) * PCG_ACCEPT_TOL * np.linalg.norm(v, axis=1, keepdims=True) / r_w
    assert np.all(np.abs(pcg.currents_a - direct.currents_a)
                  <= 1e-9 * np.abs(direct.currents_a) + bound + 1e-20)


def test_pcg_that_cannot_converge_falls_back_to_the_direct_solve(monkeypatch):
    from meliso.circuit import nodal as nodal_module

    g = _array("ReRAM-1", 32, 32, seed=5)
    v = _inputs(32, seed=5)
    direct = nodal_solve(g, v, 1.0, 1.0, "1t1r", solver="direct")
    pcg = nodal_solve(g, v, 1.0, 1.0, "1t1r", solver="pcg")
    assert np.all(pcg.pcg_iterations > 0)
    monkeypatch.setattr(nodal_module, "PCG_TOL", 1e-17)  # below double precision
    monkeypatch.setattr(nodal_module, "PCG_ACCEPT_TOL", 1e-17)
    fallback = nodal_solve(g, v, 1.0, 1.0, "1t1r", solver="pcg")
    assert np.all(fallback.pcg_iterations == -1)  # PCG gave up, and the direct solve answered
    np.testing.assert_array_equal(fallback.currents_a, direct.currents_a)


@given(arrays(max_size=24), st.sampled_from(["1t1r", "passive"]), st.floats(0.01, 10.0),
       st.floats(0.01, 10.0))
def test_numba_pcg_matches_its_numpy_twin(arr, topology, r_b, r_w):
    g, v = arr
    on = v != 0 if topology == "1t1r" else np.ones_like(v, dtype=bool)
    v_on = v * on
    w, b = np.empty((2, *v.shape, g.shape[1]))
    iters = np.empty(v.shape[0], dtype=np.int64)
    currents, drive = np.empty((v.shape[0], g.shape[1])), np.empty(v.shape)
    schur_pcg_kernel(g, v_on, on, 1 / r_w, 1 / r_b, 1e-14, 1e-12, 500, currents, drive, iters,
                     w, b, 2)
    np.testing.assert_allclose(currents, b[:, -1, :] / r_b, rtol=1e-15, atol=0)
    w_np, b_np, iters_np = schur_pcg_numpy(g, v_on, on, 1 / r_w, 1 / r_b, 1e-14, 1e-12, 500)
    # the same convergence; the count may differ by one at the rounding floor (the kernel sums
    # sequentially, NumPy pairwise)
    np.testing.assert_array_equal(iters >= 0, iters_np >= 0)
    assert np.all(np.abs(iters - iters_np) <= 1)
    scale = np.abs(v).max() + 1e-300
    np.testing.assert_allclose(w, w_np, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(b, b_np, rtol=0, atol=1e-13 * scale)


def test_pcg_converges_at_scale_where_relaxation_does_not():
    """512 x 512 with 1 Ohm segments and half the rows on (the benchmark's hardest case): CG
    converges in a few iterations, in both topologies, and agrees with sparse LU."""
    g = _array("ReRAM-1", 512, 512, seed=11)
    v = np.where(np.random.default_rng(12).random((2, 512)) < 0.5, 0.2, 0.0)
    for topology in ("1t1r", "passive"):
        pcg = nodal_solve(g, v, 1.0, 1.0, topology, solver="pcg")
        assert np.all((pcg.pcg_iterations > 0) & (pcg.pcg_iterations < 30))
        direct = nodal_solve(g, v[:1], 1.0, 1.0, topology, solver="direct")
        np.testing.assert_allclose(pcg.currents_a[:1], direct.currents_a, rtol=1e-9)

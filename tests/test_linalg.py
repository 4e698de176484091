"""meliso.linalg: block-sparse crossbar matrices, transposed reads, solvers and refinement."""

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from meliso import ParameterError
from meliso.core import AnalogCore
from meliso.linalg import CrossbarMatrix, cg, gmres, poisson2d, problem, refine, richardson


def test_only_blocks_with_nonzeros_are_programmed_and_products_are_exact_when_ideal(tmp_path):
    a = poisson2d(32)  # 1024 unknowns, block tridiagonal
    m = CrossbarMatrix(a, "ideal", tile=(128, 128))
    assert m.grid == (8, 8) and m.n_tiles == 8 + 2 * 7
    x = np.random.default_rng(0).normal(size=(3, 1024))
    np.testing.assert_allclose(m @ x, x @ a.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.T @ x, x @ a, rtol=0, atol=1e-12)
    assert m.mvms == 6 and m.tile_reads == 6 * m.n_tiles and m.energy_j > 0
    path = tmp_path / "a.mtx"
    scipy.io.mmwrite(str(path), a)
    np.testing.assert_allclose(CrossbarMatrix(str(path), "ideal", tile=(128, 128)) @ x[0],
                               a @ x[0], rtol=0, atol=1e-12)
    assert problem(str(path)).shape == (1024, 1024)
    with pytest.raises(ParameterError, match="does not exist"):
        problem(str(tmp_path / "missing.mtx"))


@pytest.mark.parametrize("settings", [{}, {"mapping": "reference"},
                                      {"weight_slices": 3, "bits_per_slice": 2},
                                      {"input_bits": 6}])
def test_transposed_read_uses_the_same_programmed_arrays(settings):
    """Reading the arrays transposed multiplies by the transpose of what the forward read
    multiplies by (the same programming errors), not by a fresh copy of A^T."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20, 30))
    core = AnalogCore(a, "EpiRAM", rng=3, tile_rows=16, tile_cols=8, **settings)
    forward = np.stack([core.matvec(e) for e in np.eye(30)], axis=1)  # (20, 30)
    transposed = np.stack([core.rmatvec(e) for e in np.eye(20)], axis=1)  # (30, 20)
    np.testing.assert_allclose(transposed, forward.T, rtol=1e-10, atol=1e-12)
    assert np.abs(forward - a).max() > 1e-3  # a real device: the reads are not exact


def test_solvers_on_exact_products():
    a = poisson2d(12)
    b = np.ones(a.shape[0])
    for solve in (cg, gmres):
        res = solve(a, b, a, tol=1e-10, maxiter=500)
        assert res.converged and res.relative_residual <= 1e-10
    jac = richardson(a, b, a, tol=1e-3, maxiter=5000, diag=a.diagonal())
    assert jac.converged and jac.method == "jacobi"
    with pytest.raises(ParameterError, match="b must be a finite vector"):
        cg(a, np.ones(3), a)


def test_refinement_reaches_float64_accuracy_with_imprecise_arrays():
    """Poisson on EpiRAM: the arrays' error (~20 % of |A x| for random x) defeats analog CG;
    four residual arrays bring it below the smallest eigenvalue and refinement converges."""
    a = poisson2d(32)
    b = np.ones(a.shape[0])
    plain = CrossbarMatrix(a, "EpiRAM", tile=(256, 256))
    alone = cg(plain, b, a, tol=1e-10, maxiter=200)
    assert not alone.converged and alone.relative_residual > 1e-3
    arrays = CrossbarMatrix(a, "EpiRAM", tile=(256, 256), residual_arrays=4)
    res = refine(arrays, b, a, method="cg", tol=1e-10)
    assert res.converged and res.relative_residual <= 1e-10
    assert res.mvms == arrays.mvms and len(res.inner_iterations) == res.iterations
    assert np.all(np.diff(res.residuals) < 0)


def test_large_sparse_matvec_runs():
    a = poisson2d(256)  # 65 536 unknowns on 766 of the 65 536 possible 256 x 256 tiles
    m = CrossbarMatrix(a, "ideal", tile=(256, 256))
    assert m.n_tiles == 256 + 2 * 255
    x = np.random.default_rng(2).normal(size=a.shape[0])
    np.testing.assert_allclose(m @ x, a @ x, rtol=0, atol=1e-10)
    assert isinstance(m.matrix, sp.csr_matrix)


def test_cli_solve_and_matvec(tmp_path):
    import json

    from typer.testing import CliRunner

    from meliso.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["solve", "--matrix", "poisson2d:16", "--device", "EpiRAM",
                              "--tile", "64x64", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"converged", "iterations", "relative_residual", "mvms", "energy_j"} <= set(data)
    assert data["converged"] and data["relative_residual"] <= 1e-10
    spd = tmp_path / "spd.mtx"
    scipy.io.mmwrite(str(spd), problem("random-spd:40"))
    res = runner.invoke(app, ["solve", "--matrix", str(spd), "--device", "ideal", "--method",
                              "gmres", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["converged"], res.output
    res = runner.invoke(app, ["matvec", "--matrix", "poisson2d:16", "--json"])  # open loop
    assert res.exit_code == 0 and json.loads(res.output)["relative_error"] > 0.01
    for args, message in [(["--method", "sor"], "allowed richardson, jacobi, cg, gmres, kaczmarz"),
                          (["--matrix", "poisson2d:x"], "integer N"),
                          (["--residual-arrays", "9"],
                               "Invalid value for '--residual-arrays': Input should be less "
                               "than or equal to 8")]:
        bad = runner.invoke(app, ["solve", *args])
        assert bad.exit_code == 2 and message in " ".join(bad.output.split()), args


def test_parts_on_dask_workers_give_the_serial_numbers():
    """Each part is programmed with its own stream, wherever it lives: a LocalCluster of two
    workers holds the parts as actors and returns exactly the serial products."""
    from meliso.experiments.executor import dask_client

    a = poisson2d(24)  # 576 unknowns
    x = np.random.default_rng(4).normal(size=(2, 576))
    serial = CrossbarMatrix(a, "EpiRAM", tile=(64, 64), part_blocks=7, residual_arrays=1)
    with dask_client(2) as client:
        spread = CrossbarMatrix(a, "EpiRAM", tile=(64, 64), part_blocks=7, residual_arrays=1,
                                client=client)
        assert len(spread.parts) == len(serial.parts) > 2
        np.testing.assert_array_equal(spread @ x, serial @ x)
        np.testing.assert_array_equal(spread.T @ x, serial.T @ x)
        res = refine(spread, np.ones(576), a, method="cg", tol=1e-8)
    assert serial.programming_summary() == spread.programming_summary()
    assert res.mvms > 0


def test_block_kaczmarz_and_pdhg_on_crossbars():
    import scipy.optimize

    from meliso.devices import get_device
    from meliso.linalg import kaczmarz, pdhg, random_spd

    fine = get_device("ideal", weight_bits=16)  # 65 536 levels: no quantisation floor
    a = random_spd(64, condition=2.0)
    m = CrossbarMatrix(a, fine, tile=(16, 16))
    res = kaczmarz(m, np.ones(64), a, tol=1e-4, maxiter=4000)  # the 16-bit floor is ~2e-5
    assert res.converged and res.relative_residual <= 1e-4
    # each step reads one row of tiles forward and transposed: 4 of the 16 tiles, twice
    assert m.tile_reads == 2 * 4 * res.iterations
    rng = np.random.default_rng(0)
    lp = rng.uniform(0, 1, (30, 20))
    b, c = np.full(30, 5.0), -rng.uniform(0.5, 1.5, 20)
    best = scipy.optimize.linprog(c, A_ub=lp, b_ub=b, bounds=(0, None)).fun
    out = pdhg(CrossbarMatrix(lp, fine, tile=(32, 32)), b, c, lp, tol=1e-3)
    assert out.converged and abs(out.objective - best) <= 1e-2 * abs(best)
    assert out.residuals[-1] < out.residuals[0]


@pytest.mark.parametrize("device", ["Ag:a-Si", "TaOx/HfOx", "AlOx/HfO2", "EpiRAM"])
def test_refinement_to_1e10_for_every_table_i_device(device):
    """Write-and-verify plus three residual arrays make every Chowdhury et al. 2024, Table I
    device's products accurate enough for refinement to reach float64 accuracy (Poisson, 256
    unknowns; benchmarks/linalg.py runs 4096 with six arrays)."""
    a = poisson2d(16)
    m = CrossbarMatrix(a, device, tile=(64, 64), residual_arrays=3, programming="write-verify")
    res = refine(m, np.ones(a.shape[0]), a, method="cg", tol=1e-10)
    assert res.converged and res.relative_residual <= 1e-10


def test_repeated_reads_average_read_noise():
    from meliso.devices import get_device

    a = poisson2d(8)
    dev = get_device("ideal", sigma_read=0.05)
    x = np.random.default_rng(5).normal(size=(30, 64))
    err = {k: np.linalg.norm(CrossbarMatrix(a, dev, tile=(64, 64), reads=k) @ x - x @ a.T)
           for k in (1, 16)}
    assert err[16] < 0.5 * err[1]  # variance / 16: the error about / 4


def test_poisson_4096_on_epiram_refines_below_1e10():
    """The issue's case: N = 64 (4096 unknowns) on EpiRAM, write-and-verify with three residual
    arrays, refinement around CG; CG on the same products alone stalls far above."""
    a = poisson2d(64)
    b = np.ones(a.shape[0])
    m = CrossbarMatrix(a, "EpiRAM", tile=(256, 256), residual_arrays=3,
                       programming="write-verify")
    res = refine(m, b, a, method="cg", tol=1e-10)
    assert res.converged and res.relative_residual <= 1e-10
    assert res.programming["arrays"] == 4 and res.programming["pulses_total"] > 0
    alone = cg(m, b, a, tol=1e-10, maxiter=300)
    assert alone.relative_residual > 1e-6


def test_two_point_calibration_is_refused_where_it_would_divide_by_zero():
    # Poisson's interior rows sum to zero: their span is zero
    with pytest.raises(ParameterError, match="row sums to zero"):
        CrossbarMatrix(poisson2d(4), "ideal", tile=(16, 16), calibration="two-point")
    with pytest.raises(ParameterError, match="row sums to zero"):  # and implicitly (neurosim)
        CrossbarMatrix(poisson2d(4), "EpiRAM", tile=(16, 16), model="neurosim")
    dense = np.random.default_rng(0).uniform(0.1, 1, (10, 10))  # padding rows are not refused
    m = CrossbarMatrix(dense, "EpiRAM", tile=(16, 16), calibration="two-point")
    assert np.all(np.isfinite(m @ np.ones(10)))
    with pytest.raises(ParameterError, match="residual arrays would store"):
        CrossbarMatrix(dense, "EpiRAM", tile=(16, 16), calibration="two-point",
                       residual_arrays=1)


def test_non_square_tiles_and_per_solve_counters():
    rng = np.random.default_rng(7)
    a = sp.random(23, 31, density=0.3, random_state=1, format="csr")
    a.data = np.sign(a.data - 0.5)  # +-1: exact on the ideal device, so indexing shows
    m = CrossbarMatrix(a, "ideal", tile=(7, 5))  # 7 inputs x 5 outputs, dividing neither
    x, y = rng.normal(size=31), rng.normal(size=23)
    np.testing.assert_allclose(m @ x, a @ x, atol=1e-12)
    np.testing.assert_allclose(m.T @ y, a.T @ y, atol=1e-12)
    for blk in range(m.grid[0]):
        np.testing.assert_allclose(m.block_matvec(blk, x), (a @ x)[m.block_rows(blk)],
                                   atol=1e-12)
    duplicated = sp.csr_matrix((np.array([1.0, 2.0]), np.array([0, 0]), np.array([0, 2, 2])),
                               shape=(2, 2))
    np.testing.assert_allclose(CrossbarMatrix(duplicated, "ideal", tile=(2, 2)) @ [1.0, 0.0],
                               [3.0, 0.0])
    spd = poisson2d(6)
    hw = CrossbarMatrix(spd, "ideal", tile=(16, 16))
    first = cg(hw, np.ones(36), spd, tol=1e-8)
    second = cg(hw, np.ones(36), spd, tol=1e-8)
    assert first.energy_j > 0 and first.mvms == second.mvms
    assert first.energy_j == pytest.approx(second.energy_j, rel=1e-12, abs=0)
    with pytest.raises(ParameterError, match="all zeros"):
        CrossbarMatrix(np.zeros((3, 3)), "ideal")

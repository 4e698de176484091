"""The analog core: tiling, mapping, decoding, the quantisation bound, two-point calibration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meliso import ParameterError
from meliso.analysis import summarize, tail_share
from meliso.circuit import series_conductance
from meliso.core import AnalogCore, quantisation_bound
from meliso.devices import get_device
from meliso.workloads import vmm_population


@st.composite
def problems(draw):
    m = draw(st.integers(1, 70))
    n = draw(st.integers(1, 70))
    b = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-3, 3))
    a = rng.uniform(-1, 1, (m, n)) * scale
    x = rng.uniform(-1, 1, (b, n)) * 10.0 ** draw(st.integers(-2, 2))
    tile = (draw(st.sampled_from([4, 16, 32])), draw(st.sampled_from([3, 16, 32])))
    return a, x, tile


@given(problems(), st.sampled_from(["differential", "reference"]),
       st.sampled_from([None, 4, 10]))
def test_ideal_device_stays_within_the_quantisation_bound(prob, mapping, bits):
    a, x, (tr, tc) = prob
    core = AnalogCore(a, "ideal", mapping=mapping, input_bits=bits, tile_rows=tr, tile_cols=tc)
    err = core.matvec(x) - x @ a.T
    bound = quantisation_bound(a, x, levels=2048, tile_rows=tr, tile_cols=tc,
                               input_bits=bits, mapping=mapping)
    scale = np.abs(a).max() * np.abs(x).max() * a.shape[1]
    assert np.all(np.abs(err) <= bound + 1e-12 * scale)


@given(problems())
def test_ideal_device_with_many_levels_reproduces_a_x(prob):
    a, x, (tr, tc) = prob
    dev = get_device("ideal", weight_bits=20)
    y = AnalogCore(a, dev, tile_rows=tr, tile_cols=tc).matvec(x)
    np.testing.assert_allclose(y, x @ a.T, rtol=0,
                               atol=2e-6 * np.abs(a).max() * np.abs(x).sum(axis=1).max())


def test_bound_is_tight_enough_to_mean_something():
    rng = np.random.default_rng(0)
    a, x = rng.uniform(-1, 1, (32, 32)), rng.uniform(0, 1, (50, 32))
    err = AnalogCore(a, get_device("ideal", weight_bits=4)).matvec(x) - x @ a.T
    bound = quantisation_bound(a, x, levels=16)
    assert np.abs(err).max() > 0.2 * bound.max()  # the bound is not vacuous
    assert np.all(np.abs(err) <= bound + 1e-12)


def test_multi_tile_layout_and_shapes():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(70, 45))
    core = AnalogCore(a, "ideal", tile_rows=16, tile_cols=20)
    assert core.grid == (3, 4)
    assert core.g_s.shape == (1, 3, 4, 16, 40)  # differential: two columns per output
    assert core.physical_shape == (16, 40)
    ref = AnalogCore(a, "ideal", tile_rows=16, tile_cols=20, mapping="reference")
    assert ref.g_s.shape == (1, 3, 4, 16, 21)  # one reference column per tile
    x = rng.normal(size=45)
    assert core.matvec(x).shape == (70,)
    assert core.matvec(x[None].repeat(3, 0)).shape == (3, 70)
    np.testing.assert_allclose((core @ x), core.matvec(x))


def test_stacked_core_equals_separate_cores():
    rng = np.random.default_rng(2)
    a, x = rng.uniform(-1, 1, (5, 20, 30)), rng.uniform(0, 1, (5, 30))
    dev = get_device("ideal", weight_bits=5)
    stacked = AnalogCore(a, dev, tile_rows=8, tile_cols=8, input_bits=6).matvec(x)
    single = [AnalogCore(a[s], dev, tile_rows=8, tile_cols=8, input_bits=6).matvec(x[s])
              for s in range(5)]
    np.testing.assert_array_equal(stacked, np.array(single))


def test_differential_cancels_gmin_and_is_independent_of_the_window():
    rng = np.random.default_rng(3)
    a, x = rng.uniform(-1, 1, (16, 16)), rng.uniform(0, 1, (4, 16))
    outs = [AnalogCore(a, get_device("ideal", on_off_ratio=w)).matvec(x) for w in (2, 10, 1e6)]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(outs[0], outs[2], rtol=1e-9, atol=1e-12)


def test_access_transistor_compresses_the_read_current():
    # One weight w = 0.5 on AlOx/HfO2 (R_on 16.9 kOhm beside a 15 kOhm transistor), no other
    # non-ideality: the decoded weight is the closed-form g_eff fraction, not 0.5.
    dev = get_device("AlOx/HfO2", nl_ltp=0, nl_ltd=0, sigma_c2c=0, levels_ltp=2000)
    core = AnalogCore(np.array([[0.5]]), dev, weight_range=1.0, input_range=1.0)
    g = dev.g_min_s + 0.5 * dev.g_range_s
    geff = lambda v: float(series_conductance(v, 15e3))  # noqa: E731
    expected = (geff(g) - geff(dev.g_min_s)) / (geff(dev.g_max_s) - geff(dev.g_min_s))
    assert core.matvec(np.array([1.0]))[0] == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(0.611, abs=1e-3)
    # ... while the 26 MOhm Ag:a-Si cell barely notices the same transistor
    ag = AnalogCore(np.array([[0.5]]), get_device("Ag:a-Si", nl_ltp=0, sigma_c2c=0,
                    levels_ltp=2000), weight_range=1.0)
    assert ag.matvec(np.array([1.0]))[0] == pytest.approx(0.5, abs=2e-4)


def test_reference_mapping_with_odd_levels_has_no_bias():
    dev = get_device("Ag:a-Si", nl_ltp=0, nl_ltd=0, sigma_c2c=0)  # 97 LTP levels
    pop = vmm_population(dev, trials=300, mapping="reference")
    assert abs(pop.errors.mean()) < 0.005
    assert pop.core.arrays.ref_frac == pytest.approx(49 / 97)


def test_read_noise_differs_between_reads():
    a = np.random.default_rng(4).uniform(-1, 1, (8, 8))
    core = AnalogCore(a, get_device("ideal", sigma_read=0.02), rng=0)
    x = np.ones(8)
    y1, y2 = core.matvec(x), core.matvec(x)
    assert not np.array_equal(y1, y2)
    reads = np.array([core.matvec(x) for _ in range(400)])
    np.testing.assert_allclose(reads.mean(0), a @ x, atol=0.02)


def test_write_verify_in_the_core_reduces_nonlinearity_error():
    dev = get_device("Ag:a-Si", sigma_c2c=0)
    ol = vmm_population(dev, trials=100)
    wv = vmm_population(dev, trials=100, programming="write-verify")
    assert np.var(wv.errors) < 0.1 * np.var(ol.errors)
    summary = wv.core.programming_summary()
    assert summary["converged_fraction"] > 0.9 and summary["iterations_mean"] > 1


def test_bad_inputs_are_clear_errors():
    a = np.ones((4, 3))
    core = AnalogCore(a, "ideal")
    with pytest.raises(ParameterError, match="3 entries"):
        core.matvec(np.ones(4))
    with pytest.raises(ParameterError, match="NaN"):
        core.matvec(np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ParameterError, match="NaN"):
        AnalogCore(np.array([[np.inf]]), "ideal")
    with pytest.raises(ParameterError, match="matrix"):
        AnalogCore(np.ones(3), "ideal")
    with pytest.raises(ParameterError, match="weight_range"):
        AnalogCore(2 * a, "ideal", weight_range=1.0)
    with pytest.raises(ParameterError, match="input_range"):
        AnalogCore(a, "ideal", input_range=1.0).matvec(np.array([0.5, 2.0, 0.0]))
    with pytest.raises(ParameterError, match=r"tile_rows = 0 is out of range: allowed 1 <="):
        AnalogCore(a, "ideal", tile_rows=0)
    with pytest.raises(ParameterError, match="unknown field 'tiles'"):
        AnalogCore(a, "ideal", tiles=3)
    with pytest.raises(ParameterError, match="allowed mapping = 'differential'"):
        AnalogCore(a, "PCM", mapping="reference")
    with pytest.raises(ParameterError, match="allowed programming = 'open-loop'"):
        AnalogCore(a, "PCM", programming="write-verify")
    with pytest.raises(ParameterError, match="calibration_t_min must be below"):
        AnalogCore(a, "ideal", calibration="two-point", calibration_t_min=1.0)


# -- MELISO's two-point calibration ------------------------------------------------------------

def _effective_weights(core, n):
    """Read the basis vectors: the hardware's linear response A_hat (rows of A)."""
    return core.matvec(np.eye(n)).T


def test_two_point_calibration_error_has_the_closed_form_of_the_docstring():
    rng = np.random.default_rng(5)
    a, x = rng.uniform(-1, 1, (32, 32)), rng.uniform(0, 1, (10, 32))
    dev = get_device("Ag:a-Si")  # NL and C-to-C: delta = A_hat - A is far from 0
    kw = dict(mapping="reference", weight_range=1.0, input_range=1.0)
    raw = AnalogCore(a, dev, rng=1, **kw)
    cal = AnalogCore(a, dev, rng=1, calibration="two-point", **kw)
    delta = _effective_weights(raw, 32) - a
    rowsum, s_prog = a.sum(1), (a + delta).sum(1)
    expected = (rowsum * (x @ delta.T) - delta.sum(1) * (x @ a.T)) / s_prog
    np.testing.assert_allclose(cal.matvec(x) - x @ a.T, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(cal.calibration.span, 0.5 * s_prog[None], rtol=1e-9)


def test_two_point_calibration_gives_cauchy_tails_from_small_row_sums():
    raw = vmm_population("Ag:a-Si", mapping="reference")
    cal = vmm_population("Ag:a-Si", mapping="reference", calibration="two-point")
    s_raw, s_cal = summarize(raw.errors), summarize(cal.errors)
    # the variance explodes while the bulk does not: a ratio with a near-zero denominator
    assert s_cal["variance"] > 100 * s_raw["variance"]
    assert s_cal["iqr"] < s_raw["iqr"]  # calibration fixes each row's gain along x = 1
    span = np.abs(cal.core.calibration.span).reshape(-1)
    assert tail_share(cal.errors, span, 0.01) > 0.9  # 1 % of rows carry > 90 % of sum e^2
    # those rows are the ones whose programmed row sum is nearest zero
    worst = np.argsort(np.abs(cal.errors).reshape(-1))[-10:]
    assert np.all(span[worst] < np.percentile(span, 2))


# -- bit-sliced weights and binary devices -------------------------------------------------------

@given(problems(), st.integers(1, 10))
def test_binary_devices_store_bit_sliced_weights_within_the_bound(prob, slices):
    a, x, (tr, tc) = prob
    core = AnalogCore(a, "ReRAM-1", weight_slices=slices, tile_rows=tr, tile_cols=tc)
    err = core.matvec(x) - x @ a.T
    bound = quantisation_bound(a, x, levels=2**slices - 1, tile_rows=tr, tile_cols=tc)
    scale = np.abs(a).max() * np.abs(x).max() * a.shape[1]
    assert np.all(np.abs(err) <= bound + 1e-12 * scale)


def test_slicing_an_ideal_device_is_exact_per_digit():
    rng = np.random.default_rng(6)
    a, x = rng.uniform(-1, 1, (20, 20)), rng.uniform(0, 1, (4, 20))
    # 3 slices of 4 bits on a 15-level linear device: every digit is exactly a level
    dev = get_device("ideal", levels_ltp=15, levels_ltd=15)
    core = AnalogCore(a, dev, weight_slices=3, bits_per_slice=4, weight_range=1.0)
    q = np.floor(np.abs(a) * 4095 + 0.5) / 4095 * np.sign(a)
    np.testing.assert_allclose(core.matvec(x), x @ q.T, rtol=1e-12, atol=1e-12)
    assert core.g_s.shape[-1] == 2 * 3 * 32  # (output, slice, +/-) columns


def test_binary_cells_hold_only_lrs_and_hrs_and_slices_beat_one_bit():
    rng = np.random.default_rng(7)
    a, x = rng.uniform(-1, 1, (32, 32)), rng.uniform(0, 1, (16, 32))
    core = AnalogCore(a, "PCM")
    assert set(np.unique(core.g_s)) == {1 / 4e4, 1 / 1.76e6}
    assert core.slicing.slices == 8 and core.slicing.bits == 1
    rms = [np.sqrt(np.mean((AnalogCore(a, "PCM", weight_slices=k).matvec(x) - x @ a.T) ** 2))
           for k in (1, 2, 4, 8)]
    assert np.all(np.diff(rms) < 0)


def test_binary_read_through_an_access_transistor_stays_exact():
    # both states are fixed, so the differential step absorbs the transistor exactly
    rng = np.random.default_rng(8)
    a, x = rng.uniform(-1, 1, (16, 16)), rng.uniform(0, 1, (4, 16))
    plain = AnalogCore(a, "ReRAM-1").matvec(x)
    with_t = AnalogCore(a, get_device("ReRAM-1", r_access_ohm=5e3)).matvec(x)
    np.testing.assert_allclose(plain, with_t, rtol=1e-10, atol=1e-12)
    spread = AnalogCore(a, get_device("ReRAM-1", sigma_program=0.1), rng=0).matvec(x)
    assert np.abs(spread - plain).max() > 1e-3  # programming spread does show


# -- regressions from review: settings that used to give NaN or be silently ignored ------------

@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_range": float("inf")}, "input_range = inf: Input should be a finite number"),
        ({"weight_range": float("inf")}, "weight_range = inf: Input should be a finite number"),
        ({"calibration": "two-point", "calibration_t_max": float("inf")},
         "calibration_t_max = inf"),
        ({"calibration": "two-point", "input_range": 0.5},
         "calibration_t_max = 1.0 is out of range: allowed calibration_t_max <= 0.5"),
        ({"model": "neurosim", "calibration_t_max": 2.0},
         "calibration_t_max = 2.0 is out of range: allowed calibration_t_max <= 1"),
        ({"r_bitline_ohm": 1e-13}, "r_bitline_ohm = 1e-13 is out of range"),
        ({"r_bitline_ohm": 10.0, "circuit": "ideal"}, "circuit 'ideal' has no wires"),
    ],
)
def test_settings_that_cannot_work_are_refused(kwargs, message):
    with pytest.raises(ParameterError) as err:
        AnalogCore(np.ones((4, 4)) * 0.5, "ideal", **kwargs)
    assert message in str(err.value)


def test_reference_mapping_needs_a_reference_level():
    dev = get_device("ideal", levels_ltp=1, levels_ltd=1)
    with pytest.raises(ParameterError, match="needs a level between G_min and G_max"):
        AnalogCore(np.ones((4, 4)), dev, mapping="reference")
    assert np.all(np.isfinite(AnalogCore(np.ones((4, 4)), dev).matvec(np.ones(4))))

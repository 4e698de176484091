"""BinaryCore (Cubero-Cascante et al. 2025): encodings, ADC (eqs. 4-7), energy (eqs. 8-9),
profiling, CLI."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meliso.cli import app
from meliso.core import BinaryCore
from meliso.devices import TABLE_III, get_device
from meliso.mapping.encodings import ENCODINGS, get_encoding
from meliso.periphery import (
    EnergyModel,
    adc_convert,
    adc_energy_j,
    calibration_target,
    layer_scale,
    row_driver_energy_j,
)
from meliso.workloads import binary_vmm_population

runner = CliRunner()


def _operands(rng, rows, cols, batch, encoding, zero_fraction=1 / 3):
    w = rng.integers(-1, 2, (rows, cols)).astype(float)
    x = np.where(rng.random((batch, rows)) < 0.5, -1.0, 1.0)
    if get_encoding(encoding).ternary:
        x[rng.random(x.shape) < zero_fraction] = 0.0
    return w, x


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(1, 90), st.integers(1, 6), st.sampled_from(ENCODINGS),
       st.sampled_from([(8, 8), (32, 16), (64, 64), (128, 128), (17, 6)]),
       st.sampled_from(sorted(TABLE_III)), st.integers(0, 2**32 - 1))
def test_ideal_core_is_exact_for_every_encoding(rows, cols, batch, encoding, crossbar, tech,
                                                seed):
    w, x = _operands(np.random.default_rng(seed), rows, cols, batch, encoding)
    core = BinaryCore(w, technology=tech, encoding=encoding, crossbar=crossbar)
    np.testing.assert_array_equal(core.matmul(x), x @ w)
    np.testing.assert_array_equal(core.matmul(x[0]), x[0] @ w)  # a single vector


def test_table_i_planes_and_recombination():
    x = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(get_encoding("T-I").planes(x), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(get_encoding("T-II").planes(x), [[1, 0, 0], [1, 0, 1]])
    np.testing.assert_array_equal(get_encoding("B-I").planes([-1, 1]), [[0, 1]])
    np.testing.assert_array_equal(get_encoding("B-II").planes([-1, 1]), [[1, 0]])
    for name in ENCODINGS:  # y = sum_c k_c x^c + k_w reproduces x for a single weight of 1
        enc = get_encoding(name)
        vals = x if enc.ternary else np.array([-1.0, 1.0])
        back = np.tensordot(enc.plane_coefficients, enc.planes(vals), axes=1) \
            + enc.weight_sum_coefficient
        np.testing.assert_array_equal(back, vals)


def test_binary_encodings_reject_zero_inputs_and_say_why():
    core = BinaryCore(np.ones((4, 2)), encoding="B-I", crossbar=8)
    with pytest.raises(ValueError, match="ternary encoding, T-I or T-II"):
        core.matmul([1.0, 0.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="must be -1, 0 or 1"):
        BinaryCore(np.ones((4, 2)), encoding="T-II", crossbar=8).matmul([1, 2, 0, 1])
    with pytest.raises(ValueError, match="weights must be -1, 0 or 1"):
        BinaryCore(np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="allowed B-I, B-II, T-I, T-II"):
        BinaryCore(np.ones((4, 2)), encoding="T-III")
    with pytest.raises(ValueError, match="analog device"):
        BinaryCore(np.ones((4, 2)), technology="EpiRAM")
    with pytest.raises(ValueError, match="even number of columns"):
        BinaryCore(np.ones((4, 2)), crossbar=(8, 7))


def test_adc_rounds_and_clips_as_eq_4():
    a = np.array([0.49, 0.5, -0.5, -0.51, 2.6, 6.49, 6.5, 100.0, -100.0])
    np.testing.assert_array_equal(adc_convert(a, 1.0, 4), [0, 1, 0, -1, 3, 6, 7, 7, -7])
    np.testing.assert_array_equal(adc_convert(a, 1.0, None), [0, 1, 0, -1, 3, 6, 7, 100, -100])
    # a step of 2 halves the codes: floor(a / 2 + 0.5)
    np.testing.assert_array_equal(adc_convert([3.0, 4.9, -3.0], 2.0, 3), [2, 2, -1])
    with pytest.raises(ValueError, match="adc_bits = 1 is out of range"):
        adc_convert(a, 1.0, 1)


def test_calibration_sets_the_scale_as_eqs_6_and_7():
    assert layer_scale(7.0, 4) == 1.0 and layer_scale(14.0, 4) == 2.0
    assert layer_scale(1e6, None) == 1.0
    codes = np.array([-2.0, 0.0, 2.0, 4.0])
    mu, sigma = codes.mean(), codes.std()
    assert calibration_target(codes) == max(abs(mu - 3 * sigma), abs(mu + 3 * sigma))
    # on a core: the profile's codes are the per-cycle dot products of each tile
    rng = np.random.default_rng(4)
    w, x = _operands(rng, 40, 10, 300, "T-II")
    core = BinaryCore(w, encoding="T-II", crossbar=(64, 32), adc_bits=4)
    planes = get_encoding("T-II").planes(x)  # one tile: codes = planes @ w per cycle
    expected = layer_scale(calibration_target((planes @ w).ravel()), 4)
    assert expected > 1  # the dot products overflow 4 bits, so eq. 6 widens the step
    assert core.calibrate(x) == pytest.approx(expected, rel=1e-12)
    # a coarser step trades clipping for rounding: the calibrated error is lower
    uncalibrated = BinaryCore(w, encoding="T-II", crossbar=(64, 32), adc_bits=4).matmul(x)
    calibrated = core.matmul(x)
    assert np.mean((calibrated - x @ w) ** 2) < np.mean((uncalibrated - x @ w) ** 2)


def test_ternary_encodings_spend_two_cycles():
    rng = np.random.default_rng(1)
    w, x = _operands(rng, 100, 30, 7, "T-I")
    for name in ENCODINGS:
        xs = x if get_encoding(name).ternary else np.where(x == 0, 1.0, x)
        core = BinaryCore(w, encoding=name, crossbar=(64, 32))  # 2 x 2 tiles
        core.matmul(xs)
        st_ = core.stats
        cycles = 2 if name.startswith("T") else 1
        assert st_.cycles_per_vector == cycles and st_.vectors == 7
        assert st_.mvm_cycles == 7 * cycles * 4
        assert st_.conversions == 7 * cycles * 30 * 2  # every row tile converts all 30 columns
        assert st_.macs == 7 * 100 * 30
        assert sum(core.profile.adc_histogram.values()) == st_.conversions
        assert core.profile.activity_counts.sum() == 7 * cycles * 2  # reads per row tile
        assert core.profile.input_counts == {v: int(np.sum(xs == v)) for v in (-1, 0, 1)}
        assert core.profile.weight_counts == {v: int(np.sum(w == v)) for v in (-1, 0, 1)}


def test_eq_8_energy_by_hand():
    w = np.array([[1.0, -1.0], [0.0, 1.0], [1.0, 1.0]])
    # a long read pulse makes the cell term as large as the others, so that all three count
    model = EnergyModel(adc_energy_j=2e-12, row_driver_energy_j=1e-12, t_read_sec=1e-6)
    core = BinaryCore(w, technology="ReRAM-1", encoding="T-I", crossbar=(4, 4), energy=model)
    x = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, 1.0]])
    core.matmul(x)
    s = core.stats
    g_lrs, g_hrs = 1e-4, 1e-5
    g_bar = (5 * (g_lrs + g_hrs) + 1 * (2 * g_hrs)) / 6  # five +-1 weights, one 0
    pulses = 2 + 3  # T-I planes: (x+, x-) of both vectors
    x_bar = pulses / (2 * 2 * 3)  # 4 reads of 3 rows
    o, n, m = 4, 3, 2
    cells = o * n * m * x_bar * g_bar * 0.2**2 * 1e-6
    assert cells > 0.1 * s.energy_j
    expected = o * (n * x_bar * 1e-12 + m * 2e-12) + cells
    assert s.energy_j == pytest.approx(expected, rel=1e-12, abs=0)
    assert s.energy_per_mac_j == pytest.approx(expected / (2 * n * m), rel=1e-12, abs=0)
    assert s.column_utilisation == 1.0 and s.row_utilisation == 0.75


def test_energy_per_mac_falls_as_the_crossbar_grows():
    per_mac = [binary_vmm_population("ReRAM-1", enc, n, 4, size=(512, 256), vectors=50,
                                     profile_vectors=50).stats.energy_per_mac_j
               for enc in ("B-I", "T-I") for n in (64, 128, 256, 512)]
    bnn, tnn = per_mac[:4], per_mac[4:]
    assert bnn == sorted(bnn, reverse=True) and tnn == sorted(tnn, reverse=True)
    # diminishing gains (the ADC term ~ 1/N_t shrinks, the rest does not)
    assert bnn[0] - bnn[1] > bnn[2] - bnn[3]
    assert all(t > b for t, b in zip(tnn, bnn, strict=True))  # two cycles cost more


def test_column_utilisation_falls_for_a_small_matrix_on_large_crossbars():
    runs = {scales: [binary_vmm_population(
        "ReRAM-1", "T-I", n, 4, size=(286, 64), vectors=20,
        energy=EnergyModel(row_driver_scales_with_columns=scales)).stats
        for n in (64, 128, 256, 512)] for scales in (True, False)}
    assert [s.column_utilisation for s in runs[True]] == [1.0, 1.0, 0.5, 0.25]
    # a word line as long as the crossbar costs the idle columns too: energy per MAC rises
    # once they are idle; with a constant row-driver energy it keeps falling
    scaled = [s.energy_per_mac_j for s in runs[True]]
    constant = [s.energy_per_mac_j for s in runs[False]]
    assert scaled[3] > scaled[2] > scaled[1]
    assert constant == sorted(constant, reverse=True)


def test_adc_energy_model_against_its_table_and_published_converters():
    table = {22: [0.457, 0.463, 0.527, 0.649, 0.847], 32: [0.924, 0.936, 1.065, 1.312, 1.714],
             65: [3.50, 3.55, 4.04, 4.97, 6.49]}
    for tech, row in table.items():
        for bits, pj in zip(range(4, 9), row, strict=True):
            assert adc_energy_j(bits, tech) * 1e12 == pytest.approx(pj, rel=0.01)
    # ISAAC's 8-bit SAR (32 nm, 1.2 GS/s, 1.67 pJ): the model is within 11 %
    assert adc_energy_j(8, 32, 1.2e9) * 1e12 / 1.67 == pytest.approx(1.107, abs=0.01)
    # FORMS (4 bits, 32 nm, 2.1 GS/s, 0.226 pJ) and BRAHMS (8 bits, 40 nm, 0.291 pJ) are
    # designs well below the survey trend: the model is 4.1x and 9.0x above them
    assert adc_energy_j(4, 32, 2.1e9) * 1e12 / 0.226 == pytest.approx(4.09, abs=0.05)
    assert adc_energy_j(8, 40) * 1e12 / 0.291 == pytest.approx(8.96, abs=0.1)
    # below 4 bits: the formula extrapolated (1.18x the 4-bit energy), or clamped
    assert adc_energy_j(3, 32) / adc_energy_j(4, 32) == pytest.approx(1.184, abs=0.002)
    assert adc_energy_j(3, 32, low_bits="clamp") == adc_energy_j(4, 32)
    # an ideal ADC is charged at full precision: -128 ... 128 needs 9 signed bits
    assert EnergyModel().e_adc_j(None, 128) == adc_energy_j(9, 32)
    assert EnergyModel().e_adc_j(None, 2) == adc_energy_j(4, 32)


def test_row_driver_energy_scales_from_the_neurosim_reference():
    assert row_driver_energy_j(32, 65.0) == pytest.approx(0.914e-12, rel=1e-12, abs=0)
    assert row_driver_energy_j(128, 65.0) == pytest.approx(4 * 0.914e-12, rel=1e-12, abs=0)
    assert row_driver_energy_j(32, 32.5, v_dd_v=0.5) == pytest.approx(0.914e-12 / 8, rel=1e-12,
                                                                       abs=0)


def test_parasitics_lower_column_currents_and_add_error():
    rng = np.random.default_rng(2)
    w, x = _operands(rng, 64, 32, 20, "B-I")
    x = np.where(x == 0, 1.0, x)
    clean = BinaryCore(w, encoding="B-I", crossbar=64)
    errors = []
    for r in (0.5, 2.5):
        wired = BinaryCore(w, encoding="B-I", crossbar=64, r_bitline_ohm=r, r_wordline_ohm=r)
        i0, i1 = clean.column_currents_a(x), wired.column_currents_a(x)
        assert np.all(i1 <= i0 * (1 + 1e-12)) and np.any(i1 < i0)
        errors.append(np.sqrt(np.mean((wired.matmul(x) - x @ w) ** 2)))
    assert 0 < errors[0] < errors[1]
    # with bit-line segments only the filled columns are solved: the same pair currents as the
    # whole crossbar (columns are independent; every physical row is kept)
    narrow = BinaryCore(w[:, :5], encoding="B-I", crossbar=64, r_bitline_ohm=1.0)
    full = narrow.column_currents_a(x)[0][:, :10]
    planes = get_encoding("B-I").planes(x)[0]
    np.testing.assert_allclose(narrow._currents(planes, 0, 0), full[:, 0::2] - full[:, 1::2],
                               rtol=1e-12, atol=1e-18)
    # the paper's Algorithm 1 (chain) and the exact ladder agree for bit-line segments
    chain = BinaryCore(w, encoding="B-I", crossbar=64, r_bitline_ohm=1.0, circuit="chain")
    ladder = BinaryCore(w, encoding="B-I", crossbar=64, r_bitline_ohm=1.0, circuit="ladder")
    np.testing.assert_array_equal(chain.matmul(x), ladder.matmul(x))


def test_more_adc_bits_less_error_and_more_energy():
    runs = [binary_vmm_population("ReRAM-1", "T-I", 128, b, vectors=300) for b in (3, 5, 8)]
    rms = [r.summary()["error_rms"] for r in runs]
    assert rms[0] > rms[1] > rms[2]
    energy = [r.stats.energy_per_mac_j for r in runs]
    assert energy[1] < energy[2]


def test_programming_spread_makes_errors_reproducibly():
    dev = get_device("ReRAM-1", sigma_program=0.3)
    w, x = _operands(np.random.default_rng(3), 64, 16, 30, "T-I")
    a = BinaryCore(w, technology=dev, crossbar=64, rng=np.random.default_rng(5)).matmul(x)
    b = BinaryCore(w, technology=dev, crossbar=64, rng=np.random.default_rng(5)).matmul(x)
    np.testing.assert_array_equal(a, b)
    assert np.any(a != x @ w)


def test_cli_core_json_and_errors():
    res = runner.invoke(app, ["core", "--technology", "PCM", "--encoding", "T-II", "--crossbar",
                              "256", "--adc-bits", "4", "--vectors", "50", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"encoding", "crossbar", "adc_bits", "error_mean", "error_rms", "energy_per_mac_j",
            "mac_per_joule", "column_utilisation"} <= set(data)
    assert data["encoding"] == "T-II" and data["crossbar"] == [256, 256]
    assert data["adc_bits"] == 4 and data["mac_per_joule"] == pytest.approx(
        1 / data["energy_per_mac_j"], rel=1e-12)
    assert math.isfinite(data["error_rms"])
    human = runner.invoke(app, ["core", "--vectors", "20", "--r-wire", "1"])
    assert human.exit_code == 0 and "energy_per_mac_j" in human.output
    for args, message in [(["--encoding", "B-III"], "allowed B-I, B-II"),
                          (["--adc-bits", "30"], "adc_bits = 30 is out of range"),
                          (["--r-wire", "-2"], "r_bitline_ohm = -2.0 is out of range"),
                          (["--crossbar", "63"], "even number of columns"),
                          (["--zero-fraction", "1.5"], "zero_fraction = 1.5 is out of range")]:
        bad = runner.invoke(app, ["core", *args])
        assert bad.exit_code == 2 and message in " ".join(bad.output.split()), args


def test_access_transistor_read_voltage_and_read_noise_are_the_devices():
    w, x = _operands(np.random.default_rng(6), 40, 12, 9, "T-I")
    dev = get_device("ReRAM-1", r_access_ohm=5e3, v_read_v=0.3)
    core = BinaryCore(w, technology=dev, crossbar=64)
    assert core.v_read_v == 0.3
    g_on, g_off = 1 / (1e4 + 5e3), 1 / (1e5 + 5e3)  # each cell in series with its transistor
    assert core.delta_i_a == pytest.approx(0.3 * (g_on - g_off), rel=1e-12, abs=0)
    assert set(np.unique(core.g_s).round(15)) == {round(g_on, 15), round(g_off, 15)}
    np.testing.assert_array_equal(core.matmul(x), x @ w)  # still exact, in units of Delta_I
    assert core.stats.g_bar_s.max() < BinaryCore(w, crossbar=64).stats.g_bar_s.max()
    with pytest.raises(ValueError, match="sigma_read"):
        BinaryCore(w, technology=get_device("ReRAM-1", sigma_read=0.1))


def test_cli_core_takes_nonlinear_cells_and_transistors():
    """`meliso core` accepts the element models the cores and experiment files take: the
    summary names them, the sinh cell behind an NMOS changes the error against the linear
    cell at the same wires, and a bad model is exit 2 naming the field and what is allowed."""
    common = ["core", "--crossbar", "32", "--size", "32x16", "--vectors", "30",
              "--profile-vectors", "10", "--r-wire", "2.5", "--adc-bits", "4", "--json"]
    lin = runner.invoke(app, common)
    sinh = runner.invoke(app, [*common, "--cell-iv", "sinh-hfox", "--cell-v0-v", "0.1"])
    res = runner.invoke(app, [*common, "--cell-iv", "sinh-hfox", "--cell-v0-v", "0.1",
                              "--access", "nmos-65nm-l1", "--v-gate-v", "1.0"])
    assert lin.exit_code == 0 and sinh.exit_code == 0 and res.exit_code == 0, res.output
    a, s, b = (json.loads(r.output) for r in (lin, sinh, res))
    assert (a["cell_iv"], a["access"]) == ("linear", "device")
    assert (b["cell_iv"], b["cell_v0_v"], b["access"], b["v_gate_v"]) == (
        "sinh-hfox", 0.1, "nmos-65nm-l1", 1.0)
    # ReRAM-1 has no access resistance: a read pulse of 0.2 V sees g V0 sinh(V/V0) / V,
    # and a transistor in series can only lower that
    gain = np.sinh(0.2 / 0.1) * 0.1 / 0.2
    assert s["g_bar_s"] == pytest.approx(gain * a["g_bar_s"], rel=1e-12)
    assert b["g_bar_s"] < s["g_bar_s"]
    for args, message in [(["--access", "foo"], "access = 'foo': allowed device, none, "
                                                "nmos-65nm-l1"),
                          (["--cell-iv", "cubic"], "cell_iv = 'cubic': allowed linear"),
                          (["--cell-v0-v", "0"], "cell_v0_v = 0.0 is out of range"),
                          (["--access", "nmos-65nm-l1", "--v-gate-v", "0.3"],
                           "no cell conducts at V_read = 0.2 V through access = "
                           "'nmos-65nm-l1' with its gate at v_gate_v = 0.3 V"),
                          (["--size", "8x4", "--r-wire", "1", "--r-wordline-ohm", "1",
                            "--cell-iv", "sinh-hfox", "--cell-v0-v", "0.001"],
                           "check the device and circuit settings")]:
        bad = runner.invoke(app, ["core", "--vectors", "5", "--profile-vectors", "5", *args])
        assert bad.exit_code == 2 and message in " ".join(bad.output.split()), args

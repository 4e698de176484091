"""The neurosim model against MELISO's NeuroSim read path (docs/neurosim.md).

The bit-exact tests compute every step of the reference file by hand, in plain Python scalars
(``math`` calls the C library, as NeuroSim does), and demand equality to the last bit. The
statistical tests check the facts the reference file measured on MELISO's compiled build.
"""

import math

import numpy as np
import pytest

from meliso import neurosim
from meliso.analysis import summarize
from meliso.core import AnalogCore
from meliso.devices import TABLE_I, get_device
from meliso.neurosim.device import neurosim_shape, neurosim_table, pulse_count
from meliso.workloads import vmm_population

R_WIRE = 0.1519304347826087
P = 65535


# -- a line-by-line reference, written from the reference file -----------------------------------

def _step3_round(d, n):
    s = 1.0 if d >= 0 else -1.0
    v = (d * n) * s
    r = int(v)
    v = r + 1 if v - r >= 0.5 else r
    return (v * s) / n


def _c_round(v):
    r = math.trunc(v)
    return r + (math.copysign(1, v) if abs(v - r) >= 0.5 else 0)


def ref_program(a, dev):
    g_max = 1.0 / dev.r_on_ohm
    g_min = g_max / dev.on_off_ratio
    g0 = min(max((0.0 - (-1.0)) / (1.0 - (-1.0)) * (g_max - g_min), g_min), g_max)  # step 2
    table = neurosim_table()
    out = []
    for row in a:
        cells = []
        for dw in row:
            n, nl = (dev.levels_ltp, dev.nl_ltp) if dw > 0 else (dev.levels_ltd, dev.nl_ltd)
            d = _step3_round(dw / (1.0 - (-1.0)), n)
            p = int(d * n)
            idx = min(max(int(abs(nl) * 100) - 1, 0), 899)
            big_a = (1.0 if nl > 0 else -1.0) * float(table[idx]) * n
            b = (g_max - g_min) / (1 - math.exp(-n / big_a))
            x_p = -big_a * math.log(1 - (g0 - g_min) / b)
            g = b * (1 - math.exp(-(x_p + p) / big_a)) + g_min
            cells.append(min(max(g, g_min), g_max))
        out.append(cells)
    return out


def ref_read(g, x, dev):
    n, v_r, r_acc = len(x), dev.v_read_v, dev.r_access_ohm
    g_max = 1.0 / dev.r_on_ohm
    g_min = g_max / dev.on_off_ratio
    levels = [_c_round(_step3_round(xk, 1023) * 1023) for xk in x]  # step 4
    i_max = v_r / (1 / g_max + r_acc)
    i_min = v_r / (1 / g_min + r_acc)
    i_mid = (i_max + i_min) / 2
    sum_max = sum_min = 0.0
    for _ in range(n):
        sum_max += i_max
        sum_min += i_min
    q = (sum_max - sum_min) / P
    out = []
    for i, row in enumerate(g):
        acc = 0.0
        for nb in range(10):
            cur = ref = 0.0
            for k in range(n):
                if (levels[k] >> nb) & 1:
                    r_s = ((i + 1) * R_WIRE + (n - k) * R_WIRE) + r_acc
                    cur += v_r / ((1 / row[k]) * (1 + 0.0) + r_s)
                    ref += i_mid
            c = int(cur / q) - int(ref / q)
            acc += (c / P) * ((2**nb / (1024 - 1)) * n)
        out.append(acc)
    return out


CASES = [
    # 2x2, Ag:a-Si with its NL: A = 14/97 hits the N = 97 int-cast quirk (7 -> 6 pulses)
    ("Ag:a-Si", {"sigma_c2c": 0}, [[14 / 97, -0.5], [0.0, 1.0]], [0.3, 0.9]),
    # 2x2, NL = 0 (the 0.01 table entry with sign -1), out-of-range inputs that wrap
    ("AlOx/HfO2", {"sigma_c2c": 0, "nl_ltp": 0, "nl_ltd": 0}, [[-1.0, 0.25], [0.7, 0.0]],
     [1.5, -0.3]),
    # 4x4, EpiRAM with its NL, mixed signs, weights beyond [-1, 1]
    ("EpiRAM", {"sigma_c2c": 0},
     [[0.1, -0.9, 1.7, 0.0], [-2.2, 0.33, 0.5, -0.5], [0.999, -0.001, 0.29, 0.0],
      [1.0, -1.0, 0.64, -0.64]],
     [0.0, 0.5, 1.0, 0.123]),
    # 4x4, TaOx/HfOx NL = 0.04 / -0.63, a 100-level LTD branch (int-cast quirk at k = 29)
    ("TaOx/HfOx", {"sigma_c2c": 0, "levels_ltd": 100},
     [[-0.58, 0.58, -0.01, 0.02], [0.25, -0.75, 0.0, 1.0], [-1.0, -0.3, 0.3, 0.6],
      [0.05, 0.95, -0.45, -0.2]],
     [0.25, 0.75, 0.9999, 0.0005]),
]


@pytest.mark.parametrize(("device", "overrides", "a", "x"), CASES)
def test_bit_exact_against_hand_computed_steps(device, overrides, a, x):
    dev = get_device(device, **overrides)
    array = neurosim.program(np.array(a), device, **overrides)
    g_ref = ref_program(a, dev)
    assert array.g_s.tolist() == g_ref  # every conductance, to the last bit
    assert array.read(np.array(x)).tolist() == ref_read(g_ref, x, dev)
    batch = np.array([x, [1.0] * len(x), [0.5] * len(x)])
    assert array.read(batch).tolist() == [ref_read(g_ref, v, dev) for v in batch.tolist()]


def test_int_cast_quirk_and_zero_label_take_effect():
    dev = get_device("Ag:a-Si", sigma_c2c=0, nl_ltp=0, nl_ltd=0)
    array = neurosim.program(np.array([[14 / 97, 16 / 97]]), dev)
    pulses = array.core.program_result.pulses[0, 0]
    assert pulses.tolist() == [6, 8]  # 7 -> 6 by the C cast; 8 stays 8
    assert neurosim_shape(0.0) == -float(neurosim_table()[0])  # NL = 0 -> -T(0.01)
    assert neurosim_shape(0.29) == float(neurosim_table()[27])  # 0.29 * 100 truncates to 28


def test_calibrated_output_is_meliso_formula():
    rng = np.random.default_rng(0)
    a, x = rng.uniform(-1, 1, (8, 8)), rng.uniform(0, 1, (3, 8))
    array = neurosim.program(a, "TaOx/HfOx", sigma_c2c=0)
    raw = 2 * array.read(x)
    cal = array.calibration
    d, m = cal.y_high[0], cal.y_low[0]
    np.testing.assert_array_equal(d, 2 * array.read(np.ones(8)))
    np.testing.assert_array_equal(m, 2 * array.read(np.full(8, 0.5)))
    s = np.where(d < m, -1.0, 1.0)
    r_d, r_m = a.sum(1), 0.5 * a.sum(1)
    expected = (r_d - r_m) * (s * raw - s * m) / (s * d - s * m) + r_m
    np.testing.assert_allclose(array.calibrated(x), expected, rtol=1e-12)


# -- measured facts of the reference file (1000 trials, 32 x 32, NL = 0, C-to-C = 0) -------------

FACTS = {  # clipped %, sign flips %, IQR, row-sum crossing, slope of S vs row sum
    "Ag:a-Si": (8.6, 95.4, 1.308, 5.46, 0.49),
    "TaOx/HfOx": (11.4, 95.2, 1.321, 5.49, 0.49),
    "AlOx/HfO2": (28.7, 100.0, 1.271, 12.8, 0.47),
    "EpiRAM": (2.3, 44.1, 0.292, -0.50, 0.50),
}


@pytest.fixture(scope="module")
def ideal_populations():
    return {d: vmm_population(get_device(d, nl_ltp=0, nl_ltd=0, sigma_c2c=0), model="neurosim")
            for d in TABLE_I}


@pytest.mark.parametrize("device", TABLE_I)
def test_reference_facts_follow_from_the_implementation(device, ideal_populations):
    clipped, flips, iqr, crossing, slope = FACTS[device]
    pop = ideal_populations[device]
    dev = pop.core.device
    assert 100 * np.mean(pop.core.g_s == dev.g_min_s) == pytest.approx(clipped, abs=0.4)
    cal = pop.core.calibration
    assert 100 * cal.sign_flipped.mean() == pytest.approx(flips, abs=1.5)
    assert summarize(pop.errors)["iqr"] == pytest.approx(iqr, rel=0.04)
    # the calibration denominator d - m is proportional to S_i = y_raw(x = 1); it vanishes
    # where the fitted line of S against the row sum crosses zero
    s_i = (cal.y_high / 2).reshape(-1)
    rowsum = pop.core.a.sum(-1).reshape(-1)
    fit_slope, fit_icept = np.polyfit(rowsum, s_i, 1)
    assert fit_slope == pytest.approx(slope, abs=0.015)
    assert -fit_icept / fit_slope == pytest.approx(crossing, abs=0.15 + 0.05 * abs(crossing))


@pytest.mark.parametrize(("device", "slope", "offset"), [
    ("Ag:a-Si", 0.499, -0.0870), ("TaOx/HfOx", 0.506, -0.0888),
    ("AlOx/HfO2", 0.553, -0.2203), ("EpiRAM", 0.500, 0.0083),
])
def test_half_gain_and_offset_of_the_raw_output(device, slope, offset, ideal_populations):
    arrays = ideal_populations[device].core.arrays
    u = (arrays.i_cell - arrays.i_mid_a) / (arrays.i_max_a - arrays.i_min_a)
    a = ideal_populations[device].core.a
    free = arrays.g_s > arrays.device.g_min_s
    fit = np.polyfit(a[free], u[free], 1)
    assert fit[0] == pytest.approx(slope, abs=0.003)
    assert fit[1] == pytest.approx(offset, abs=0.003)
    # raw output = sum_k u D / 1023 up to ADC truncation (reference: 3.6 - 4.1e-4)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (a.shape[0], 1, 32))
    levels = np.round(x * 1023)
    approx = np.einsum("sik,sbk->sbi", u, levels / 1023)
    assert np.abs(arrays.raw(x) - approx).max() < 4.5e-4


def test_c2c_noise_distribution_matches_the_build():
    # reference: raw(C-to-C) - raw(C-to-C = 0), 300 trials, pooled over the three vectors the
    # driver reads (x, 1, 0.5 * 1); build std 0.598 / 0.735 / 0.541 / 0.310
    build_std = {"Ag:a-Si": 0.598, "TaOx/HfOx": 0.735, "AlOx/HfO2": 0.541, "EpiRAM": 0.310}
    rng = np.random.default_rng(0)
    a, x = rng.uniform(-1, 1, (300, 32, 32)), rng.uniform(0, 1, (300, 1, 32))
    xs = np.concatenate([x, np.ones_like(x), 0.5 * np.ones_like(x)], axis=1)
    for device, std in build_std.items():
        noisy = AnalogCore(a, device, model="neurosim", calibration="none", rng=1)
        clean = AnalogCore(a, get_device(device, sigma_c2c=0), model="neurosim",
                           calibration="none")
        noise = noisy.arrays.raw(xs) - clean.arrays.raw(xs)
        assert noise.std() == pytest.approx(std, rel=0.03)
        assert np.median(noise) > 0  # noise clipped at G_min, where many cells sit (Q1)


def test_physics_and_neurosim_agree_up_to_gain_and_offset():
    # an ideal linear device (no access resistance, many levels, wide window) read with 10-bit
    # inputs: neurosim's 2 * raw = A x~ - (2 / (on/off - 1)) sum_k x~_k, physics gives A x~
    dev = get_device("ideal", r_access_ohm=0.0, on_off_ratio=1e3)
    rng = np.random.default_rng(2)
    a, x = rng.uniform(-0.99, 0.99, (200, 32, 32)), rng.uniform(0, 1, (200, 32))
    x_q = np.floor(x * 1023 + 0.5) / 1023
    ns = AnalogCore(a, dev, model="neurosim", calibration="none").matvec(x)
    ph = AnalogCore(a, dev, input_bits=10, input_range=1.0, weight_range=1.0).matvec(x)
    offset = 2 / (dev.on_off_ratio - 1) * x_q.sum(-1, keepdims=True)
    # what is left, per output: NeuroSim's NL = 0 curve (convex, at most 9.9e-4 of the range
    # per cell, i.e. 2 * 9.9e-4 in weight units), the weight rounding of both models (1/N per
    # weight for NeuroSim's dw / 2 steps, 1/(2N) for physics) and ADC truncation (< 1 count
    # per plane: 2 * sum_b 2^b / 1023 * n / P = 2 n / P)
    per_input = 2 * 9.9e-4 + 1.5 / dev.levels_ltp
    bound = per_input * x_q.sum(-1, keepdims=True) + 2 * 32 / 65535
    assert np.all(np.abs(ns + offset - ph) <= bound)
    assert np.abs(ns - ph).mean() > 0.01  # the offset is real


def test_neurosim_model_settings_are_checked():
    a = np.zeros((4, 4))
    with pytest.raises(ValueError, match="mapping = 'differential' is not available with model"):
        AnalogCore(a, "EpiRAM", model="neurosim", mapping="differential")
    with pytest.raises(ValueError, match="allowed programming = 'open-loop'"):
        AnalogCore(a, "EpiRAM", model="neurosim", programming="write-verify")
    with pytest.raises(ValueError, match=r"sigma_read = 0\.1 is not modelled"):
        AnalogCore(a, get_device("EpiRAM", sigma_read=0.1), model="neurosim")
    with pytest.raises(ValueError, match="needs an analog device"):
        AnalogCore(a, "PCM", model="neurosim")
    with pytest.raises(ValueError, match="x must be"):
        neurosim.program(a, "EpiRAM").read(np.ones(3))


def test_nonfinite_rows_are_counted():
    pop = vmm_population(get_device("EpiRAM", nl_ltp=0, nl_ltd=0, sigma_c2c=0), trials=1000,
                         model="neurosim")
    zero = int((pop.core.calibration.span == 0).sum())
    assert zero > 0  # EpiRAM's crossing sits mid-distribution (reference: 6 rows)
    assert summarize(pop.errors)["n_nonfinite"] == zero


def _int_cast_losers(n):
    """Weights k/N whose pulse count NeuroSim's C cast int((k / N) * N) makes one short."""
    return [k for k in range(n + 1) if pulse_count(2 * k / n, n) != k]


def test_neurosim_int_cast_quirk_matches_reference_facts():
    # docs/neurosim.md, Q2: N = 97 loses a pulse at k = 7, 14, 25, 28, 31, 50, 53, 56, ...
    # (10 values); N = 100 at k = 29, 57, 58; none of the other level counts in use.
    losers = _int_cast_losers(97)
    assert losers[:8] == [7, 14, 25, 28, 31, 50, 53, 56] and len(losers) == 10
    assert _int_cast_losers(100) == [29, 57, 58]
    for n in (2, 40, 64, 128, 256, 1024, 2048):
        assert _int_cast_losers(n) == []

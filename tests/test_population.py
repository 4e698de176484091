"""Chowdhury et al. 2024 trends as the physics model decides them (reduced trials).

Where the paper's trend does not follow from device physics the test pins what the model does and
says which mechanism produces the paper's trend instead:

- Memory window (the paper, Fig. 2b: error falls as the window widens). In a differential read the
  G_min current cancels and every error source scales with G_max - G_min, so the window has no
  effect; through a series access transistor a wider window spans more of the concave
  g_eff(G) = 1/(1/G + R_acc) and the compression error *rises* slightly. The paper's trend comes
  from NeuroSim's initial state without +G_min (reference Q1): every weight is offset by
  -2/(on/off - 1), which shrinks as the window widens.
- Devices without non-idealities (the paper, Fig. 5a: EpiRAM narrowest). With NL and C-to-C off the
  only error left besides quantisation is access-transistor compression, ordered by R_acc / R_on:
  Ag:a-Si (26 MOhm) < TaOx/HfOx (100 kOhm) < EpiRAM (81 kOhm) < AlOx/HfO2 (16.9 kOhm). EpiRAM's
  narrow seed distribution comes from its small NeuroSim offset (large window) instead.
- Devices with non-idealities (the paper, Table II: AlOx > Ag:a-Si > TaOx by variance). C-to-C noise
  sigma sqrt(pulses) dominates: per weight a variance ~ sigma^2 N / 2, i.e. Ag:a-Si 0.059,
  TaOx 0.088, AlOx 0.050, EpiRAM 0.013; clipping at the window edges trims TaOx most and
  compression adds to AlOx, so the three land within a few per cent of each other, with EpiRAM
  four times lower. The paper's spread between them comes from NeuroSim's offset and calibration.
"""

import numpy as np
import pytest

from meliso.analysis import summarize
from meliso.devices import TABLE_I, get_device
from meliso.workloads import vmm_population

TRIALS = 300
FIG2_BASE = dict(on_off_ratio=100, nl_ltp=0, nl_ltd=0, sigma_c2c=0)  # modified Ag:a-Si


def _var(device, **kw):
    return float(np.var(vmm_population(device, trials=TRIALS, **kw).errors))


def _rms(device, **kw):
    return float(np.sqrt(np.mean(vmm_population(device, trials=TRIALS, **kw).errors ** 2)))


def test_error_falls_as_weight_bits_rise():
    rms = [_rms(get_device("Ag:a-Si", weight_bits=b, **FIG2_BASE)) for b in range(1, 12)]
    assert np.all(np.diff(rms) < 0)
    assert rms[0] / rms[-1] > 500  # ~2x per bit over ten bits (1024x for pure quantisation)


def test_nonlinearity_raises_the_error():
    var = [_var(get_device("Ag:a-Si", nl_ltp=nl, nl_ltd=-nl, sigma_c2c=0)) for nl in range(6)]
    assert np.all(np.diff(var) > 0)
    assert var[5] > 1000 * var[0]


def test_c2c_raises_the_error_and_more_with_nonlinearity():
    c2c = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
    linear = [_var(get_device("Ag:a-Si", sigma_c2c=s, nl_ltp=0, nl_ltd=0)) for s in c2c]
    curved = [_var(get_device("Ag:a-Si", sigma_c2c=s)) for s in c2c]
    assert np.all(np.diff(linear) > 0) and np.all(np.diff(curved) > 0)
    assert all(c > lin for c, lin in zip(curved, linear, strict=True))  # seed Fig. 4c


def test_c2c_variance_matches_its_closed_form():
    # e_i = sum_k x_k sigma sqrt(p_ik) z_ik with p = round(|w| N): Var = n E[x^2] sigma^2 E[p]
    sigma, n_levels = 0.002, 97
    dev = get_device("Ag:a-Si", **{**FIG2_BASE, "sigma_c2c": sigma})
    quant = _var(get_device("Ag:a-Si", **FIG2_BASE))
    predicted = 32 * (1 / 3) * sigma**2 * n_levels / 2 + quant
    assert _var(dev) == pytest.approx(predicted, rel=0.03)


def test_epiram_has_the_lowest_error_of_table_i_with_nonidealities():
    stats = {d: summarize(vmm_population(d, trials=TRIALS).errors) for d in TABLE_I}
    others = [d for d in TABLE_I if d != "EpiRAM"]
    for key in ("variance", "iqr", "p97_5"):
        assert all(stats["EpiRAM"][key] < 0.6 * stats[d][key] for d in others)
    var = np.array([stats[d]["variance"] for d in others])
    assert var.max() / var.min() < 1.15  # C-to-C dominated: the other three are close


def test_without_nonidealities_error_orders_by_access_resistance_over_r_on():
    var = {d: _var(get_device(d, nl_ltp=0, nl_ltd=0, sigma_c2c=0)) for d in TABLE_I}
    assert var["Ag:a-Si"] < var["TaOx/HfOx"] < var["EpiRAM"] < var["AlOx/HfO2"]


def test_memory_window_has_no_effect_without_series_resistance():
    out = [vmm_population(get_device("Ag:a-Si", **{**FIG2_BASE, "on_off_ratio": w,
                                                    "r_access_ohm": 0.0}), trials=50).errors
           for w in (12.5, 100, 1000)]
    np.testing.assert_allclose(out[0], out[1], atol=1e-12)
    np.testing.assert_allclose(out[0], out[2], atol=1e-12)


def test_memory_window_raises_compression_error_through_the_access_transistor():
    base = dict(nl_ltp=0, nl_ltd=0, sigma_c2c=0)
    rms = [_rms(get_device("EpiRAM", on_off_ratio=w, **base)) for w in (4, 12.5, 50, 1000)]
    assert np.all(np.diff(rms) > 0)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = vmm_population("TaOx/HfOx", trials=50, seed=3).errors
    b = vmm_population("TaOx/HfOx", trials=50, seed=3).errors
    c = vmm_population("TaOx/HfOx", trials=50, seed=4).errors
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_population_shape_and_protocol():
    pop = vmm_population("ideal", trials=20, rows=8, cols=5)
    assert pop.errors.shape == (20, 8) and pop.flat_errors.shape == (160,)
    assert pop.core.a.min() >= -1 and pop.core.a.max() <= 1
    np.testing.assert_allclose(pop.y - pop.exact, pop.errors)

"""Fitting NeuroSim's device model to measured pulse trains (meliso.devices.fitting): data
simulated from known parameters are fitted back within their stated uncertainty, a preset
survives preset -> data -> fit -> device file -> get_device, and malformed files are refused
with clear errors.

Tolerances. The data of a pulse-by-pulse measurement carry the device's own C-to-C noise, so
an NL label is only known to within its statistical error, which the fit reports (a parametric
bootstrap). A fitted label must lie within 4 standard errors of the truth (plus 0.05 for the
label map's resolution), sigma_C2C within 4 standard errors plus 2 % of its value; the number
of pulses is read exactly from the traces. Several seeds and both branches make a 4-sigma miss
improbable (~1e-4 per comparison) while a biased estimator fails quickly.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from meliso._validation import ParameterError
from meliso.cli import app
from meliso.devices import TABLE_I, get_device
from meliso.devices.device_file import MARKER, load_device_file
from meliso.devices.fitting import Trace, fit_device, label_from_shape, simulate_traces
from meliso.devices.measured import read_traces
from meliso.devices.nonlinearity import shape_from_label


def _check(fit, dev):
    for branch, nl in ((fit.ltp, dev.nl_ltp), (fit.ltd, dev.nl_ltd)):
        assert abs(branch.nl_label - nl) <= 4 * branch.nl_label_se + 0.05, (branch, nl)
        assert abs(branch.sigma_c2c - dev.sigma_c2c) <= \
            4 * branch.sigma_c2c_se + 0.02 * dev.sigma_c2c + 1e-12
    assert round(fit.ltp.levels) == dev.levels_ltp and round(fit.ltd.levels) == dev.levels_ltd
    assert fit.g_min_s == pytest.approx(dev.g_min_s, rel=1e-9)


@pytest.mark.parametrize("name", TABLE_I)
def test_table_i_presets_are_fitted_back(name):
    dev = get_device(name)
    traces = simulate_traces(dev, np.random.default_rng(11), cycles=8)
    _check(fit_device(traces, resamples=40, seed=1), dev)


@pytest.mark.parametrize("nl_ltp, nl_ltd", [(-5.0, 5.0), (-1.0, 1.0), (0.0, 0.0), (1.0, -3.0),
                                            (5.0, -5.0), (3.0, 2.0)])
@pytest.mark.parametrize("sigma", [0.002, 0.02])
def test_labels_from_minus_5_to_5_and_two_noise_levels(nl_ltp, nl_ltd, sigma):
    dev = get_device("EpiRAM", nl_ltp=nl_ltp, nl_ltd=nl_ltd, sigma_c2c=sigma)
    fit = fit_device(simulate_traces(dev, np.random.default_rng(3), cycles=3), resamples=30)
    _check(fit, dev)


def test_one_noiseless_cycle_is_exact():
    dev = get_device("Ag:a-Si", sigma_c2c=0.0)
    fit = fit_device(simulate_traces(dev, np.random.default_rng(0)), resamples=0)
    assert fit.ltp.nl_label == pytest.approx(2.4, abs=1e-6)
    assert fit.ltd.nl_label == pytest.approx(-4.88, abs=1e-6)
    assert fit.ltp.sigma_c2c < 1e-6 and fit.ltp.r2 == pytest.approx(1.0)


def test_label_map_inverts_the_shape_map():
    for nl in (-9.0, -4.88, -0.04, 0.01, 0.5, 2.4, 9.0):
        assert label_from_shape(float(shape_from_label(nl))) == pytest.approx(nl, rel=1e-9)


@pytest.mark.parametrize("seed", [5, 8])
def test_several_devices_give_device_to_device_variation(seed):
    """sigma_D2D's interval holds the truth, 0.8 and 0 (the fits' own noise, measured by
    simulation, removed from the devices' spread)."""
    dev = get_device("EpiRAM", sigma_d2d=0.8, sigma_c2c=0.005)
    fit = fit_device(simulate_traces(dev, np.random.default_rng(seed), cycles=2, devices=12),
                     resamples=20)
    lo, hi = fit.sigma_d2d_ci
    assert fit.devices == 12 and lo <= 0.8 <= hi and lo <= fit.sigma_d2d <= hi
    assert hi - lo < 0.8                                     # and says something
    calm = get_device("EpiRAM", sigma_c2c=0.005)
    fit0 = fit_device(simulate_traces(calm, np.random.default_rng(seed), cycles=2, devices=12),
                      resamples=20)
    assert fit0.sigma_d2d_ci[0] == 0.0 and fit0.sigma_d2d < 0.15 and fit0.sigma_d2d_ci[1] < 0.3


@pytest.mark.parametrize("name, nl_width, sigma_width",
                         [("EpiRAM", 3.2, 0.48), ("AlOx/HfO2", 5.6, 0.62)])
def test_intervals_cover_the_truth(name, nl_width, sigma_width):
    """Coverage Monte Carlo: 60 one-cycle data sets (64 and 40 pulses a train, AlOx/HfO2 with
    many transitions clipped at the edges): of the 120 95 % intervals of NL (both branches),
    at least 88 % hold the truth, and of sigma_C2C's too, each checked on its own (measured
    0.925-0.97). 0.88 lies 2.8 binomial standard deviations below 0.94. And they say something:
    median widths below ``nl_width`` (label units; measured 2.5 and 4.5: one short cycle, N
    free in the profile) and ``sigma_width`` x sigma (measured 0.37 and 0.49), 1.3 x those."""
    dev = get_device(name)
    nl_hits, s_hits, nl_w, s_w = [], [], [], []
    for rep in range(60):
        fit = fit_device(simulate_traces(dev, np.random.default_rng(900 + rep)), resamples=0)
        for b, nl in ((fit.ltp, dev.nl_ltp), (fit.ltd, dev.nl_ltd)):
            nl_hits.append(b.nl_label_ci[0] <= nl <= b.nl_label_ci[1])
            s_hits.append(b.sigma_c2c_ci[0] <= dev.sigma_c2c <= b.sigma_c2c_ci[1])
            nl_w.append(b.nl_label_ci[1] - b.nl_label_ci[0])
            s_w.append((b.sigma_c2c_ci[1] - b.sigma_c2c_ci[0]) / dev.sigma_c2c)
    assert np.mean(nl_hits) >= 0.88 and np.mean(s_hits) >= 0.88, (np.mean(nl_hits),
                                                                   np.mean(s_hits))
    assert np.median(nl_w) < nl_width and np.median(s_w) < sigma_width


def test_intervals_hold_the_truth_when_the_data_cannot_tell_n():
    """Ag:a-Si pulsed twice past its N (200-pulse trains, 3 cycles): the likelihood-ratio test
    mostly keeps N = 200 (the strongly curved branch through pulse 200 fits as well), so the
    label estimate is larger in size than the device's; the intervals come from the profile
    with N free and hold the truth anyway (10 data sets; measured 0.92-1.0 over 40)."""
    dev = get_device("Ag:a-Si")
    nl_hits, n_hits = [], []
    for rep in range(10):
        fit = fit_device(simulate_traces(dev, np.random.default_rng(7000 + rep), cycles=3,
                                         pulses=(200, 200)), resamples=0)
        for b, nl, n in ((fit.ltp, dev.nl_ltp, dev.levels_ltp),
                         (fit.ltd, dev.nl_ltd, dev.levels_ltd)):
            nl_hits.append(b.nl_label_ci[0] <= nl <= b.nl_label_ci[1])
            n_hits.append(b.levels_ci[0] <= n <= b.levels_ci[1])
    assert np.mean(nl_hits) >= 0.8 and np.mean(n_hits) >= 0.8


def test_data_that_never_show_the_curve_are_refused(tmp_path):
    """Every pulse step ends on a window edge (the cell jumps edge to edge): no curve to fit,
    so a clear error, not a device file of made-up numbers."""
    k = np.arange(21)
    up = np.where(k == 0, 1e-6, 1e-5)
    down = np.where(k == 0, 1e-5, 1e-6)
    with pytest.raises(ParameterError, match="inside the window"):
        fit_device([Trace("ltp", up), Trace("ltd", down)], resamples=0)


def test_outliers_are_reported_and_short_devices_named():
    dev = get_device("EpiRAM", sigma_c2c=0.005)
    traces = simulate_traces(dev, np.random.default_rng(4), cycles=2, devices=3)
    g = traces[0].g_s.copy()
    g[10] = 1e3  # one reading of a kilosiemens
    traces[0] = Trace("ltp", g, cycle=traces[0].cycle, device=traces[0].device)
    traces.append(Trace("ltp", traces[1].g_s[:5], cycle="9", device="short"))
    traces.append(Trace("ltd", traces[2].g_s[:5], cycle="9", device="short"))
    fit = fit_device(traces, resamples=0)
    assert any("beyond the window" in w for w in fit.warnings)
    assert any("device 'short' left out" in w for w in fit.warnings)
    assert abs(fit.ltp.nl_label - dev.nl_ltp) < 0.5


def test_the_bootstrap_is_bounded():
    dev = get_device("EpiRAM")
    traces = simulate_traces(dev, np.random.default_rng(0), cycles=2)
    with pytest.raises(ParameterError, match="lower --resamples"):
        fit_device(traces, resamples=100_000)


def test_trains_pulsed_past_saturation_give_n_from_the_data():
    """Trains twice as long as the device's N: the cell sits clipped at the edge for the
    second half. N = pulses per train (128) would make the label far too large; the
    likelihood-ratio test finds N from the data, and N, NL and sigma_C2C lie in their
    intervals. The same device pulsed exactly N keeps N = pulses per train."""
    dev = get_device("EpiRAM")
    over = simulate_traces(dev, np.random.default_rng(3), cycles=3, pulses=(128, 128))
    fit = fit_device(over, resamples=60, seed=1)
    for b, nl in ((fit.ltp, dev.nl_ltp), (fit.ltd, dev.nl_ltd)):
        assert b.levels_source == "likelihood" and b.levels_test_p < 0.01
        assert b.levels_ci[0] <= 64 <= b.levels_ci[1] and b.levels_ci[1] < 110
        assert b.nl_label_ci[0] <= nl <= b.nl_label_ci[1]
        assert b.sigma_c2c_ci[0] <= dev.sigma_c2c <= b.sigma_c2c_ci[1]
    assert any("pulsed past saturation" in w for w in fit.warnings)
    exact = fit_device(simulate_traces(dev, np.random.default_rng(3), cycles=3), resamples=0)
    assert exact.ltp.levels_source == exact.ltd.levels_source == "pulses per train"


def test_data_that_are_not_this_model_are_flagged():
    k = np.arange(101)
    sigmoid = 1e-6 + 9e-6 / (1 + np.exp(-(k - 50) / 8))          # an S-shaped LTP
    down = 1e-5 - 9e-6 * k / 100
    fit = fit_device([Trace("ltp", sigmoid), Trace("ltd", down)], resamples=0)
    assert any("not white" in w for w in fit.warnings)
    wrong = fit_device([Trace("ltp", down[::-1] * 0 + np.linspace(1e-5, 2e-6, 101)),
                        Trace("ltd", down)], resamples=0)
    assert any("do not move the way" in w for w in wrong.warnings)


def _write_long(path, traces, units_col="conductance_s", scale=1.0):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pulse", "direction", units_col, "cycle", "device"])
        for t in traces:
            for k, g in enumerate(t.g_s):
                w.writerow([k, "up" if t.direction == "ltp" else "down", float(g) / scale,
                            t.cycle, t.device])


def test_preset_round_trip_through_a_device_file(tmp_path):
    dev = get_device("TaOx/HfOx")
    data = tmp_path / "taox.csv"
    _write_long(data, simulate_traces(dev, np.random.default_rng(2), cycles=6))
    out = tmp_path / "taox.yaml"
    res = CliRunner().invoke(app, ["device", "fit", str(data), "--out", str(out),
                                   "--resamples", "30", "--json"])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith(MARKER)
    fitted = get_device(str(out))                       # a path wherever a name goes
    assert fitted == load_device_file(out)
    assert (fitted.levels_ltp, fitted.levels_ltd) == (128, 128)
    assert fitted.r_on_ohm == pytest.approx(dev.r_on_ohm, rel=1e-6)
    assert fitted.on_off_ratio == pytest.approx(dev.on_off_ratio, rel=1e-6)
    assert abs(fitted.sigma_c2c - dev.sigma_c2c) < 0.003
    text = out.read_text()
    assert "data_sha256" in text and "meliso_version" in text and "ljung_box_p" in text
    for cmd in (["vmm", "--device", str(out), "--trials", "5", "--json"],
                ["matvec", "--device", str(out), "--vectors", "2", "--json"],
                ["learn", str(out), "--epochs", "1", "--images", "50", "--json"]):
        used = CliRunner().invoke(app, cmd)
        assert used.exit_code == 0, (cmd, used.output)
    again = CliRunner().invoke(app, ["device", "fit", str(data), "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    mine = tmp_path / "mine.yaml"
    mine.write_text("device: {}\n")
    foreign = CliRunner().invoke(app, ["device", "fit", str(data), "--out", str(mine),
                                       "--force"])
    assert foreign.exit_code == 2 and "did not write it" in foreign.output
    assert mine.read_text() == "device: {}\n"          # never touched


def test_two_column_layout_and_units(tmp_path):
    dev = get_device("EpiRAM")
    tr = simulate_traces(dev, np.random.default_rng(4))
    up, down = tr[0].g_s, tr[1].g_s
    path = tmp_path / "two.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["up", "down"])
        for a, b in zip(up * 1e6, down * 1e6, strict=True):   # microsiemens
            w.writerow([a, b])
    traces = read_traces(path, units="uS")
    np.testing.assert_allclose(traces[0].g_s if traces[0].direction == "ltd" else
                               traces[1].g_s, down, rtol=1e-12)
    norm = tmp_path / "norm.csv"
    with open(norm, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ltp", "ltd"])
        for a, b in zip(up, down, strict=True):
            w.writerow([(a - dev.g_min_s) / dev.g_range_s, (b - dev.g_min_s) / dev.g_range_s])
    with pytest.raises(ParameterError, match="g_min_s and g_max_s"):
        read_traces(norm, units="normalised")
    back = read_traces(norm, units="normalised", g_min_s=dev.g_min_s, g_max_s=dev.g_max_s)
    np.testing.assert_allclose(back[0].g_s, up if back[0].direction == "ltp" else down,
                               rtol=1e-9)


@pytest.mark.parametrize("content, message", [
    ("pulse,direction,conductance_s\n", "no data rows"),
    ("pulse,direction,current\n0,up,1\n", "conductance_s"),
    ("pulse,direction,conductance_s\n0,sideways,1e-6\n", "direction 'sideways'"),
    ("pulse,direction,conductance_s\n0,up,nan\n", "not a finite number"),
    ("pulse,direction,conductance_s\n0,up,abc\n", "not a number"),
    ("pulse,direction,conductance_s\n0,up,-1e-6\n", "allowed > 0"),
    ("pulse,direction,conductance_s\n0,up,1e-6\n2,up,2e-6\n", "without gaps"),
    ("up,down\n1e-6,\n2e-6,1e-6\n", "after an empty cell"),
    ("a,b\n1,2\n", "two columns up and down"),
])
def test_malformed_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ParameterError, match=message):
        read_traces(path)


def test_too_few_pulses_and_one_direction_are_refused(tmp_path):
    up = np.linspace(1e-6, 1e-5, 5)
    with pytest.raises(ParameterError, match="at least 8"):
        fit_device([Trace("ltp", up), Trace("ltd", up[::-1])], resamples=0)
    with pytest.raises(ParameterError, match="LTP traces only"):
        fit_device([Trace("ltp", np.linspace(1e-6, 1e-5, 50))], resamples=0)
    path = tmp_path / "one.csv"
    _write_long(path, [Trace("ltp", np.linspace(1e-6, 1e-5, 50))])
    res = CliRunner().invoke(app, ["device", "fit", str(path), "--out", str(tmp_path / "o.yaml")])
    assert res.exit_code == 2 and "both LTP" in res.output
    assert not (tmp_path / "o.yaml").exists()
    assert math.isfinite(get_device("EpiRAM").g_min_s)


def test_a_device_file_in_an_experiment_is_cached_by_its_content(tmp_path, monkeypatch):
    from meliso._validation import validate_model
    from meliso.devices.device_file import write_device_file
    from meliso.experiments import ExperimentConfig
    from meliso.experiments.runner import run_experiment

    monkeypatch.chdir(tmp_path)
    write_device_file("cell.yaml", get_device("EpiRAM", name="cell"))
    cfg = validate_model(ExperimentConfig, {
        "name": "cells", "trials": 5, "rows": 8, "cols": 8, "base": {"device": "cell.yaml"},
        "sweep": {"grid": {"device": ["cell.yaml", "EpiRAM"]}}})
    first = run_experiment(cfg, tmp_path / "run", report=False)
    assert first.computed == 2
    assert run_experiment(cfg, tmp_path / "run", report=False).computed == 0
    write_device_file("cell.yaml", get_device("EpiRAM", name="cell", nl_ltp=3.0), force=True)
    again = run_experiment(cfg, tmp_path / "run", report=False)
    assert (again.computed, again.cached) == (1, 1)   # the file's point, not the preset's


def test_device_show_draws_the_curves_with_the_fitted_data(tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    dev = get_device("AlOx/HfO2")
    _write_long(tmp_path / "alox.csv", simulate_traces(dev, np.random.default_rng(8), cycles=3))
    runner = CliRunner()
    assert runner.invoke(app, ["device", "fit", "alox.csv", "--resamples", "5"]).exit_code == 0
    res = runner.invoke(app, ["device", "show", "alox.yaml", "--figure", "fig", "--cycles",
                              "50", "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert rec["data"].endswith("alox.csv")        # found beside the device file, same SHA-256
    assert (tmp_path / "fig.png").stat().st_size > 0 and (tmp_path / "fig.pdf").exists()
    assert "measured traces" in rec["caption"]
    again = runner.invoke(app, ["device", "show", "EpiRAM", "--figure", "fig"])
    assert again.exit_code == 2 and "--force" in again.output
    fields = json.loads(runner.invoke(app, ["device", "show", "EpiRAM", "--json"]).stdout)
    assert fields["device"]["levels_ltp"] == 64
    assert runner.invoke(app, ["device", "show", "ReRAM-1"]).exit_code == 2


def test_a_device_file_point_needs_no_file_on_the_worker(tmp_path, monkeypatch):
    """The point carries every field of the file: computing it after the file is gone (a
    worker on another machine) gives the file's device."""
    from meliso._validation import validate_model
    from meliso.devices.device_file import write_device_file
    from meliso.experiments import ExperimentConfig, resolve_point
    from meliso.experiments.runner import point_device

    monkeypatch.chdir(tmp_path)
    dev = get_device("TaOx/HfOx", name="cell", nl_ltp=1.25, sigma_c2c=0.01)
    write_device_file("cell.yaml", dev)
    cfg = validate_model(ExperimentConfig, {"name": "c", "trials": 5, "rows": 8, "cols": 8,
                                            "base": {"device": "cell.yaml"}})
    spec = resolve_point(cfg, {})
    (tmp_path / "cell.yaml").unlink()
    assert point_device(spec) == dev


def test_review_fixes_files_and_inputs(tmp_path, monkeypatch):
    """A dotted --figure name never overwrites existing figures without --force; a fit made in
    other units is drawn in them; malformed inputs that used to crash are clear errors; the
    studies refuse device files (their cached points are keyed by name)."""
    import time

    from meliso._validation import validate_model
    from meliso.studies.neurosim_mlp.study import NeurosimMlpConfig

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for ext in ("png", "pdf"):
        (tmp_path / f"fig.v2.{ext}").write_text("precious")
    res = runner.invoke(app, ["device", "show", "EpiRAM", "--figure", "fig.v2.png",
                              "--cycles", "10"])
    assert res.exit_code == 2 and "--force" in res.output
    assert (tmp_path / "fig.v2.png").read_text() == "precious"
    dev = get_device("EpiRAM")
    tr = simulate_traces(dev, np.random.default_rng(4), cycles=2)
    _write_long(tmp_path / "us.csv", tr, units_col="conductance", scale=1e-6)   # in µS
    assert runner.invoke(app, ["device", "fit", "us.csv", "--units", "uS", "--resamples",
                               "0"]).exit_code == 0
    shown = runner.invoke(app, ["device", "show", "us.yaml", "--figure", "us", "--cycles",
                                "10", "--json"])
    assert shown.exit_code == 0, shown.output            # read back in µS, not in S
    (tmp_path / "empty.csv").write_text("up,down\n1e-6,\n2e-6,\n")
    (tmp_path / "long.csv").write_text("up,down\n" + "x" * 200_000 + ",1\n")
    (tmp_path / "dup.csv").write_text("up,down,up\n1,2,3\n")
    (tmp_path / "neg.csv").write_text("pulse,direction,conductance_s\n-1,up,1e-6\n0,up,2e-6\n")
    for name, message in (("empty.csv", "holds 0 value"), ("long.csv", "readable CSV"),
                          ("dup.csv", "twice"), ("neg.csv", "run 0, 1, 2")):
        with pytest.raises(ParameterError, match=message):
            read_traces(tmp_path / name)
    with pytest.raises(ParameterError, match="studies run presets"):
        validate_model(NeurosimMlpConfig, {"devices": ["us.yaml"]})
    k = np.arange(65)
    t0 = time.perf_counter()
    fit = fit_device([Trace("ltp", 1e-6 + 1e-7 * k), Trace("ltd", 1e-6 + 1e-7 * k[::-1])],
                     resamples=4)
    assert time.perf_counter() - t0 < 10 and abs(fit.ltp.nl_label) < 0.01  # noiseless, linear


@pytest.mark.parametrize("name", ["Ag:a-Si", "EpiRAM"])
def test_trains_measured_back_to_back_are_fitted_back(name):
    """Each train starts where the previous ended (the usual measurement): the window comes
    from the readings clipped at its edges, and the fit stays consistent."""
    dev = get_device(name)
    traces = simulate_traces(dev, np.random.default_rng(21), cycles=10, chained=True)
    assert traces[1].g_s[0] == traces[0].g_s[-1]           # really back to back
    fit = fit_device(traces, resamples=30, seed=2)
    assert fit.g_min_s == dev.g_min_s and fit.g_max_s == dev.g_max_s
    _check(fit, dev)

"""The experiment engine: validation, sweeps, seeding, executors, caching, resume, atomicity."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from meliso import ParameterError
from meliso.experiments import load_experiment
from meliso.experiments.executor import Executor
from meliso.experiments.runner import compute_point, run_experiment
from meliso.experiments.store import read_results
from meliso.studies.vmm_errors.study import EXPERIMENTS, study_config, study_file

REPO = Path(__file__).resolve().parents[1]


def _config(**over):
    data = {
        "name": "t", "trials": 40, "rows": 8, "cols": 8, "seed": 3,
        "base": {"device": "EpiRAM", "set": {"nl_ltp": 0.5}},
        "sweep": {"grid": {"model": ["physics", "neurosim"], "c2c": [0.0, 0.02]},
                  "zip": {"memory_window": [20, 60], "levels_ltp": [32, 64]}},
        "fit": ["normal", "johnsonsu"],
    }
    data.update(over)
    return load_experiment(data)


def test_sweep_is_grid_product_times_zip():
    cfg = _config()
    points = cfg.sweep.points()
    assert len(points) == 2 * 2 * 2
    assert points[0] == {"model": "physics", "c2c": 0.0, "memory_window": 20, "levels_ltp": 32}
    assert points[1] == {"model": "physics", "c2c": 0.0, "memory_window": 60, "levels_ltp": 64}
    spec = cfg.point_specs()[1]
    assert dict(spec.device_overrides) == {"nl_ltp": 0.5, "sigma_c2c": 0.0,
                                          "on_off_ratio": 60, "levels_ltp": 64}
    assert dict(spec.core) == {"model": "physics"}


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"trails": 3}, "unknown field 'trails'"),
        ({"trials": 0}, "trials = 0 is out of range: allowed 1 <= trials"),
        ({"sweep": {"grid": {"colour": [1]}}}, "unknown parameter 'colour'; allowed:"),
        ({"sweep": {"grid": {"sigma_c2c": [0.1, 2.0]}}},
         "sigma_c2c = 2.0 is out of range: allowed 0 <= sigma_c2c <= 1"),
        ({"sweep": {"grid": {"mapping": ["diagonal"]}}}, "mapping = 'diagonal'"),
        ({"sweep": {"zip": {"nl": [1, 2], "c2c": [0.1]}}}, "zip axes must have equal lengths"),
        ({"sweep": {"grid": {"nl": []}}}, "sweep.grid.nl is empty"),
        ({"base": {"device": "HfO9"}}, "unknown device preset 'HfO9'"),
        ({"base": {"core": {"tiles": 3}}}, "unknown core setting 'tiles'"),
        ({"fit": ["cauchy"]}, "unknown families ['cauchy']"),
        ({"sweep": {"grid": {"model": ["neurosim"], "mapping": ["differential"]}}},
         "mapping = 'differential' is not available with model = 'neurosim'"),
    ],
)
def test_bad_experiments_name_the_key(over, message):
    with pytest.raises(ParameterError) as err:
        _config(**over)
    assert message in str(err.value)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_experiment(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_experiment(tmp_path / "bad.yaml")


def test_point_numbers_do_not_depend_on_order_or_neighbours():
    cfg = _config()
    specs = cfg.point_specs()
    forward = [compute_point(s)[1] for s in specs]
    backward = [compute_point(s)[1] for s in reversed(specs)][::-1]
    for a, b in zip(forward, backward, strict=True):
        np.testing.assert_array_equal(a, b)
    # a point alone in another experiment gives the same numbers
    alone = load_experiment({**cfg.model_dump(mode="json"), "name": "alone",
                             "sweep": {"grid": {"model": ["neurosim"], "c2c": [0.02]},
                                       "zip": {"memory_window": [60], "levels_ltp": [64]}}})
    np.testing.assert_array_equal(compute_point(alone.point_specs()[0])[1], forward[-1])


def test_common_random_numbers_and_independent_device_noise():
    cfg = _config()
    specs = cfg.point_specs()
    r0, _ = compute_point(specs[0])
    r1, _ = compute_point(specs[1])
    assert r0["rms_exact"] == r1["rms_exact"]  # same A and x in every point
    assert specs[2].device_seed != specs[3].device_seed


def test_run_store_cache_and_no_overwrite(tmp_path):
    cfg = _config()
    first = run_experiment(cfg, tmp_path / "run")
    assert first.computed == 8 and first.cached == 0
    again = run_experiment(cfg, tmp_path / "run")
    assert again.computed == 0 and again.cached == 8
    assert [r["key"] for r in again.rows] == [r["key"] for r in first.rows]
    for name in ("config.yaml", "results.parquet", "report.md", "figures/histograms.png",
                 "figures/histograms.pdf", "figures/boxes.png", "figures/spread.png"):
        assert (tmp_path / "run" / name).exists(), name
    assert not list((tmp_path / "run").rglob("*.tmp"))
    rows = read_results(tmp_path / "run")
    assert len(rows) == 8 and rows[0]["best_fit"] in ("normal", "johnsonsu")
    assert isinstance(rows[0]["fits"], list) and rows[0]["fits"][0]["family"] == "normal"
    with pytest.raises(ParameterError, match="already holds a different experiment"):
        run_experiment(_config(trials=41), tmp_path / "run")


def test_interrupted_run_resumes_without_losing_or_duplicating_points(tmp_path):
    cfg = _config()
    seen = []

    def interrupt(done, total, record, cached):
        seen.append(record["key"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, tmp_path / "run", on_point=interrupt)
    assert len(list((tmp_path / "run" / "points").glob("*.json"))) == 3
    assert not (tmp_path / "run" / "results.parquet").exists()  # never half-written
    resumed = run_experiment(cfg, tmp_path / "run")
    assert resumed.computed == 5 and resumed.cached == 3
    clean = run_experiment(cfg, tmp_path / "clean")
    for a, b in zip(resumed.rows, clean.rows, strict=True):
        assert a["key"] == b["key"] and a["variance"] == b["variance"]


def test_killed_process_resumes(tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(textwrap.dedent("""
        name: killed
        trials: 300
        base: {device: TaOx/HfOx}
        sweep: {grid: {c2c: [0.0, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045]}}
        fit: [normal, johnsonsu, shash]
    """))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "meliso", "run", str(exp), "--out",
                             str(out), "--quiet"], stderr=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "points").glob("*.json"))
                                         if (out / "points").exists() else []) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list((out / "points").glob("*.json")))
    assert 2 <= finished < 10, "the run was not interrupted mid-way"
    cfg = load_experiment(exp)
    resumed = run_experiment(cfg, out)
    assert resumed.cached == finished and resumed.computed == 10 - finished
    clean = run_experiment(cfg, tmp_path / "clean", report=False)
    assert [r["iqr"] for r in resumed.rows] == [r["iqr"] for r in clean.rows]


def test_serial_and_dask_give_identical_results(tmp_path):
    pytest.importorskip("dask.distributed")
    cfg = _config()
    serial = run_experiment(cfg, tmp_path / "serial", report=False)
    before = {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    dask = run_experiment(cfg, tmp_path / "dask", executor=Executor(kind="dask", workers=2),
                          report=False)
    assert dask.computed == 8
    # the workers' one-thread settings stay theirs: this process's environment is unchanged
    # (Numba here would otherwise refuse to compile with "Cannot set NUMBA_NUM_THREADS")
    assert {k: os.environ.get(k) for k in before} == before
    for a, b in zip(serial.rows, dask.rows, strict=True):
        assert a["key"] == b["key"]
        for k in ("mean", "variance", "median", "iqr", "p97_5", "best_fit"):
            assert a[k] == b[k], k
        np.testing.assert_array_equal(np.load(tmp_path / "serial" / "errors" / f"{a['key']}.npy"),
                                      np.load(tmp_path / "dask" / "errors" / f"{b['key']}.npy"))


def test_study_files_are_shipped_and_accepted_by_run():
    for name in EXPERIMENTS:
        path = REPO / "experiments" / f"{name}.yaml"
        assert path.exists() and path.read_text() == study_file(
            f"experiments/{name}.yaml").read_text()
        cfg = load_experiment(path)
        assert {"physics", "neurosim"} == set(cfg.sweep.grid["model"])
    assert len(study_config("fig2a").point_specs()) == 22
    assert study_config("fig4", quick=True, models=("physics",)).trials == 100
    table = yaml.safe_load((REPO / "experiments" / "table2.yaml").read_text())
    assert table["sweep"]["grid"]["nonideal"] == [False, True]


def test_cli_run_and_report(tmp_path):
    from typer.testing import CliRunner

    from meliso.cli import app

    exp = tmp_path / "e.yaml"
    exp.write_text("name: cli\ntrials: 30\nrows: 4\ncols: 4\nsweep: {grid: {nl: [0, 2]}}\n"
                   "fit: [normal]\n")
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(exp), "--out", str(tmp_path / "r"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "computed" in res.output and "report.md" in res.output
    # results.csv beside results.parquet: the same points, the plain columns, with intervals
    import csv

    import pyarrow.parquet as pq

    with open(tmp_path / "r" / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    table = pq.read_table(tmp_path / "r" / "results.parquet").to_pylist()
    assert len(rows) == len(table) == 2
    assert [float(r["nl"]) for r in rows] == [t["nl"] for t in table] == [0, 2]
    assert [float(r["iqr"]) for r in rows] == pytest.approx([t["iqr"] for t in table])
    for r in rows:
        assert float(r["iqr_ci_low"]) <= float(r["iqr"]) <= float(r["iqr_ci_high"])
        assert float(r["variance_ci_low"]) <= float(r["variance"]) <= float(
            r["variance_ci_high"])
    assert "best_fit_params" not in rows[0]  # nested values stay in the Parquet file
    html = (tmp_path / "r" / "report.html").read_text()
    assert "<img" in html and "http" not in html.split("<body")[1].split("</body>")[0]
    res = runner.invoke(app, ["run", str(exp), "--out", str(tmp_path / "r"), "--json"])
    assert json.loads(res.output) == {
        "points": 2, "computed": 0, "cached": 2, "failed": 0,
        "results": str(tmp_path / "r" / "results.parquet"),
        "report": str(tmp_path / "r" / "report.md")}
    os.remove(tmp_path / "r" / "report.md")
    res = runner.invoke(app, ["report", str(tmp_path / "r")])
    assert res.exit_code == 0 and (tmp_path / "r" / "report.md").exists()
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a meliso run" in res.output
    exp.write_text("name: cli\ntrials: -1\n")
    res = runner.invoke(app, ["run", str(exp)])
    assert res.exit_code == 2 and "trials = -1 is out of range" in " ".join(res.output.split())


def test_cache_key_changes_with_the_code(monkeypatch):
    from meliso.experiments import config as config_module

    spec = _config().point_specs()[0]
    before = spec.key
    monkeypatch.setattr(config_module, "code_fingerprint", lambda: "another-build")
    assert spec.key != before  # a changed simulator never reuses a cached point


def test_a_run_directory_refuses_other_code(tmp_path, monkeypatch):
    from meliso.experiments import store as store_module

    cfg = _config(trials=10, sweep={"grid": {"c2c": [0.0]}})
    run_experiment(cfg, tmp_path / "run", report=False)
    monkeypatch.setattr(store_module, "code_fingerprint", lambda: "another-build")
    with pytest.raises(ParameterError, match="produced by other meliso code"):
        run_experiment(cfg, tmp_path / "run", report=False)


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ({"device": "PCM", "core": {"mapping": "reference"}}, "not available for the binary"),
        ({"core": {"calibration": "two-point", "calibration_t_max": 2}},
         "calibration_t_max = 2.0 is out of range"),
        ({"core": {"r_wordline_ohm": 1.0, "circuit": "ladder", "r_bitline_ohm": 1.0}},
         "one segment kind at a time"),
        ({"model": "neurosim", "core": {"r_bitline_ohm": 1.0}}, "r_bitline_ohm = 1.0 is not"),
    ],
)
def test_device_and_core_combinations_are_checked_before_running(base, message):
    with pytest.raises(ParameterError, match=message):
        load_experiment({"name": "t", "base": base})


def test_experiments_sweep_the_wire_network():
    """Circuit settings are core settings: a sweep over segment resistance, solved exactly
    (nodal, both segment kinds), gives an error that grows with the resistance."""
    cfg = load_experiment({
        "name": "wires", "trials": 10, "rows": 32, "cols": 32, "fit": False,
        "base": {"device": "ideal", "set": {"r_on_ohm": 1e4},
                 "core": {"circuit": "nodal", "topology": "1t1r"}},
        "sweep": {"zip": {"r_bitline_ohm": [0.1, 1.0, 5.0], "r_wordline_ohm": [0.1, 1.0, 5.0]}},
    })
    variances = [compute_point(spec)[0]["variance"] for spec in cfg.point_specs()]
    assert variances[0] < variances[1] < variances[2]


def test_renamed_devices_resolve_to_their_preset(tmp_path):
    cfg = load_experiment({"name": "t", "trials": 5, "rows": 2, "cols": 2, "fit": False,
                           "base": {"device": "epiram", "set": {"name": "my EpiRAM"}}})
    assert cfg.point_specs()[0].device == "EpiRAM"
    run = run_experiment(cfg, tmp_path / "run", report=False)
    assert run.rows[0]["device"] == "my EpiRAM"


def test_run_files_are_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import meliso._io as io_module

        importlib.reload(io_module)
        io_module.atomic_write_text(tmp_path / "f.txt", "x")
        assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_results_of_mixed_kinds_are_written_not_a_traceback(tmp_path):
    """A column holding words and numbers (a study's swept values) is stored as text in
    results.parquet, and the CSV keeps what each row had."""
    import csv

    import pyarrow.parquet as pq

    from meliso.experiments.rundir import run_folder
    from meliso.experiments.store import RunStore

    with run_folder(tmp_path / "run", "run") as root:
        store = RunStore(root, _config(trials=5))
        store.write_results([{"value": None}, {"value": "nl"}, {"value": 3}, {"value": 0.5}])
    table = pq.read_table(tmp_path / "run" / "results.parquet").to_pydict()
    assert table["value"] == [None, "nl", "3", "0.5"]
    with open(tmp_path / "run" / "results.csv") as fh:
        assert [r["value"] for r in csv.DictReader(fh)] == ["", "nl", "3", "0.5"]

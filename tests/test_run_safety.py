"""File safety of runs: meliso writes only into folders it created (or new/empty ones), never
over a user's files, one process at a time, recomputes in place only with --force, survives
damaged cache files, and reports file-system failures as one clear line."""

import errno
import json
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from meliso import ParameterError
from meliso.cli import app
from meliso.experiments import load_experiment
from meliso.experiments.rundir import MARKER, locked
from meliso.experiments.runner import run_experiment
from meliso.experiments.store import CacheWarning, RunStore

runner = CliRunner()


def _config(**over):
    data = {"name": "safe", "trials": 20, "rows": 4, "cols": 4, "fit": ["normal"],
            "base": {"device": "EpiRAM"}, "sweep": {"grid": {"c2c": [0.0, 0.02, 0.04]}}}
    data.update(over)
    return load_experiment(data)


def _yaml(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return str(path)


EXP = "name: safe\ntrials: 20\nrows: 4\ncols: 4\nfit: [normal]\nsweep: {grid: {c2c: [0, 0.02]}}\n"


@pytest.mark.parametrize("own", ["report.md", "results.parquet", "notes.txt"])
def test_a_users_folder_is_refused_and_left_untouched(tmp_path, own):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / own).write_bytes(b"the user's own file")
    with pytest.raises(ParameterError, match="not empty and was not created by meliso"):
        run_experiment(_config(), folder)
    assert (folder / own).read_bytes() == b"the user's own file"
    assert sorted(p.name for p in folder.iterdir()) == [own]
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder)])
    assert res.exit_code == 2 and "not created by meliso" in res.output
    assert (folder / own).read_bytes() == b"the user's own file"


def test_an_empty_folder_is_claimed_and_marked(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    run_experiment(_config(), folder, report=False)
    marker = json.loads((folder / MARKER).read_text())
    assert marker["kind"] == "run" and marker["meliso"]


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../up", "", "x" * 65, "a b"])
def test_unsafe_names_are_refused(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="name"):
        _config(name=name)
    assert list(tmp_path.iterdir()) == []


def test_a_second_process_into_the_same_folder_is_refused(tmp_path):
    folder = tmp_path / "run"
    run_experiment(_config(), folder, report=False)
    with locked(folder):  # another writer holds the folder
        t0 = time.perf_counter()
        with pytest.raises(ParameterError, match=r"another meliso process \(pid \d+\)"):
            run_experiment(_config(), folder, report=False)
        assert time.perf_counter() - t0 < 5  # refused at once, nothing computed
    assert run_experiment(_config(), folder, report=False).cached == 3  # free again


def test_force_recomputes_in_place_and_keeps_other_files(tmp_path):
    folder = tmp_path / "run"
    first = run_experiment(_config(), folder)
    (folder / "notes.txt").write_text("mine")
    stale = folder / "points" / "stale.json"
    stale.write_text("{}")
    with pytest.raises(ParameterError, match="--force"):
        run_experiment(_config(trials=21), folder)
    forced = run_experiment(_config(trials=21), folder, force=True)
    assert forced.computed == 3 and forced.cached == 0
    assert not stale.exists() and (folder / "notes.txt").read_text() == "mine"
    assert len(list((folder / "points").glob("*.json"))) == 3
    assert [r["trials"] for r in forced.rows] == [21] * 3 != [r["trials"] for r in first.rows]
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder), "--force",
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.splitlines()[-1])["computed"] == 2


def test_a_run_that_computed_nothing_does_not_block_the_next(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    from meliso.experiments.rundir import claim

    claim(folder, "run")
    RunStore(folder, _config(trials=50))  # a run that stopped before its first point
    assert run_experiment(_config(), folder, report=False).computed == 3


def test_damaged_cache_files_are_recomputed_with_a_warning(tmp_path):
    folder = tmp_path / "run"
    first = run_experiment(_config(), folder, report=False)
    keys = [r["key"] for r in first.rows]
    (folder / "points" / f"{keys[0]}.json").write_text('{"key": "trunc')
    (folder / "errors" / f"{keys[1]}.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.warns(CacheWarning, match="damaged"):
        again = run_experiment(_config(), folder, report=False)
    assert again.computed == 2 and again.cached == 1
    assert [r["variance"] for r in again.rows] == [r["variance"] for r in first.rows]


def test_a_malformed_config_in_a_run_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "run"
    run_experiment(_config(), folder, report=False)
    (folder / "config.yaml").write_text("name: [unclosed\n")
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder)])
    assert res.exit_code == 2 and "config.yaml is damaged" in res.output
    res = runner.invoke(app, ["report", str(folder)])
    assert res.exit_code == 2 and "config.yaml" in res.output
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder), "--force",
                              "--quiet"])
    assert res.exit_code == 0, res.output


def test_vmm_fingerprint_ignores_torch_and_presentation_code(monkeypatch):
    from importlib import metadata

    from meliso import _fingerprint as fp

    assert "torch" not in fp.LIBRARIES["vmm"] and "torch" in fp.LIBRARIES["nn"]
    assert not fp.counts("cli.py", "vmm") and not fp.counts("nn/models.py", "vmm")
    assert fp.counts("core/analog.py", "vmm") and fp.counts("nn/models.py", "nn")
    fp.code_fingerprint.cache_clear()
    before = fp.code_fingerprint("vmm"), fp.code_fingerprint("nn")
    real = metadata.version

    def version(lib):
        return "99.0" if lib == "torch" else real(lib)

    monkeypatch.setattr(fp.metadata, "version", version)
    fp.code_fingerprint.cache_clear()
    try:
        assert fp.code_fingerprint("vmm") == before[0]  # installing torch keeps the cache
        assert fp.code_fingerprint("nn") != before[1]
    finally:
        monkeypatch.undo()
        fp.code_fingerprint.cache_clear()


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"),
                                         (errno.EROFS, "read-only"),
                                         (errno.EACCES, "permission denied")])
def test_file_system_failures_are_one_clear_line(tmp_path, monkeypatch, code, words):
    from meliso.experiments import store

    def fail(path, data):
        raise OSError(code, "simulated", str(path))

    monkeypatch.setattr(store, "atomic_write_bytes", fail)
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output


def test_a_name_too_long_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(tmp_path / ("x" * 300))])
    assert res.exit_code == 2 and "too long" in res.output


def test_an_unreachable_scheduler_times_out_with_a_clear_error(tmp_path):
    pytest.importorskip("dask.distributed")
    t0 = time.perf_counter()
    res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(tmp_path / "r"),
                              "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9",
                              "--scheduler-timeout", "1"])
    assert res.exit_code == 2 and "no Dask scheduler answered within 1 s" in res.output
    assert time.perf_counter() - t0 < 20


def test_failed_points_are_reported_not_fatal(tmp_path, monkeypatch):
    """A point whose outputs are all non-finite is stored as failed with its reason; the run,
    its report and its fits go on."""
    from meliso.experiments import runner as runner_module

    real = runner_module.vmm_population

    def broken(device, **kw):
        pop = real(device, **kw)
        if device.sigma_c2c > 0.03:
            pop.errors[...] = np.nan
        return pop

    monkeypatch.setattr(runner_module, "vmm_population", broken)
    run = run_experiment(_config(), tmp_path / "run")
    status = [r["status"] for r in run.rows]
    assert status == ["ok", "ok", "failed"]
    assert "non-finite" in run.rows[2]["failure"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Failed points (1)" in report

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
    old_points = sorted((folder / "points").glob("?" * 20 + ".json"))
    forced = run_experiment(_config(trials=21), folder, force=True)
    assert forced.computed == 3 and forced.cached == 0
    # meliso's own files are gone; the user's files, wherever they lie, stay
    assert not any(p.exists() for p in old_points) and len(old_points) == 3
    assert stale.read_text() == "{}" and (folder / "notes.txt").read_text() == "mine"
    assert len(list((folder / "points").glob("?" * 20 + ".json"))) == 3
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


def test_a_planted_lock_link_never_writes_through(tmp_path):
    """A `.meliso-lock` that is a symbolic (or hard) link to a user's file is refused, and the
    file keeps its contents."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for plant in ("symlink", "hardlink"):
        folder = tmp_path / plant
        folder.mkdir()
        if plant == "symlink":
            (folder / ".meliso-lock").symlink_to(victim)
        else:
            (folder / ".meliso-lock").hardlink_to(victim)
        res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder), "--quiet"])
        assert res.exit_code == 2 and "not meliso's lock file" in res.output, res.output
        assert victim.read_text() == "precious"


def test_force_removes_only_what_meliso_wrote_anywhere_in_the_run(tmp_path):
    folder = tmp_path / "run"
    run_experiment(_config(), folder)
    mine = {folder / "my_analysis.csv": "a,b\n", folder / "figures" / "my_plot.png": "png",
            folder / "points" / "my_notes.json": "{}", folder / ".draft.tmp": "draft",
            folder / "errors" / "keep.npy": "npy"}
    for path, text in mine.items():
        path.write_text(text)
    written = sorted(p for p in folder.rglob("*") if p.is_file() and p not in mine
                     and p.name not in (".meliso-run", ".meliso-lock", ".meliso-files"))
    interrupted = folder / "points" / ".0123456789abcdef0123.json.abcd_123.tmp"
    (folder / "points" / "0123456789abcdef0123.json").write_text("{}")  # a point being written
    interrupted.write_text("half")
    with open(folder / ".meliso-files", "a") as fh:  # meliso records before it writes
        fh.write("points/0123456789abcdef0123.json\n")
    from meliso.experiments.rundir import clear, writing

    with writing(folder):
        clear(folder)
    assert all(path.read_text() == text for path, text in mine.items())
    assert not any(p.exists() for p in written) and len(written) >= 10
    assert not interrupted.exists()


def test_writes_never_leave_the_run_through_a_linked_sub_folder(tmp_path):
    folder = tmp_path / "run"
    run_experiment(_config(), folder, report=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    for sub in ("errors", "points"):
        import shutil

        shutil.rmtree(folder / sub)
        (folder / sub).symlink_to(outside, target_is_directory=True)
        res = runner.invoke(app, ["run", _yaml(tmp_path, EXP), "--out", str(folder), "--force",
                                  "--quiet"])
        assert res.exit_code == 2 and "link" in res.output, res.output
        assert list(outside.iterdir()) == []
        (folder / sub).unlink()
        (folder / sub).mkdir()


def test_force_on_a_study_respects_a_sub_run_held_by_another_process(tmp_path):
    from meliso.experiments.rundir import run_folder

    study = tmp_path / "study"
    with run_folder(study, "study", study="meliso"):
        run_experiment(_config(), study / "sub", report=False)
    with locked(study / "sub"), pytest.raises(ParameterError, match="another meliso process"):
        with run_folder(study, "study", study="meliso", force=True):
            pass
    assert (study / "sub" / ".meliso-lock").exists()  # a lock is never unlinked
    assert len(list((study / "sub" / "points").iterdir())) == 3


def test_a_memory_refusal_is_never_stored_as_a_failed_point(tmp_path, monkeypatch):
    """Memory is the machine's state today: a point refused for memory is not cached, and the
    next run with memory to spare computes it."""
    from meliso.experiments import runner as runner_module

    real = runner_module.vmm_population

    def short_of_memory(*args, **kwargs):
        monkeypatch.setenv("MELISO_MEMORY_LIMIT", "1KiB")
        try:
            return real(*args, **kwargs)
        finally:
            monkeypatch.delenv("MELISO_MEMORY_LIMIT")

    monkeypatch.setattr(runner_module, "vmm_population", short_of_memory)
    with pytest.raises(ParameterError, match="memory"):
        run_experiment(_config(), tmp_path / "run", report=False)
    monkeypatch.setattr(runner_module, "vmm_population", real)
    again = run_experiment(_config(), tmp_path / "run", report=False)
    assert again.computed == 3 and {r["status"] for r in again.rows} == {"ok"}


def test_a_point_file_missing_fields_is_recomputed_not_a_traceback(tmp_path):
    folder = tmp_path / "run"
    first = run_experiment(_config(), folder, report=False)
    key = first.rows[0]["key"]
    (folder / "points" / f"{key}.json").write_text(json.dumps({"key": key}))
    with pytest.warns(CacheWarning, match="damaged"):
        again = run_experiment(_config(), folder)
    assert again.computed == 1 and again.rows[0]["variance"] == first.rows[0]["variance"]

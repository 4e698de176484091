"""Hostile input: every command and experiment file answers exit 0, or exit 2 with one message
that names the field; never a traceback, a hang, a silent NaN or a silent truncation.

Two kinds of tests:
- named cases: each known attack (alias bomb, duplicate keys, booleans as numbers, sizes that
  cannot fit, complex or oversized Matrix Market headers, a 10^6-point sweep...) with the
  exact message expected;
- hypothesis: one option (or one experiment field) at a time replaced by a hostile value
  (wrong type, out of range, huge, non-finite, empty, garbage text), the rest valid and small.
  The memory budget is lowered (``MELISO_MEMORY_LIMIT``) so that whatever is accepted runs in
  milliseconds and whatever is too large is refused by the estimate, not by the machine.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from meliso import ParameterError
from meliso.cli import app
from meliso.experiments import load_experiment

runner = CliRunner()
EXAMPLES = 120  # per hypothesis test below; the note states the total


def _run(*args: str):
    return runner.invoke(app, list(args))


def _one_line_error(res) -> str:
    """The error text of a refused command (exit 2), whitespace collapsed."""
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    text = " ".join(res.output.split())
    assert re.search(r"(error:|Error:)", text), text
    return text


def _ok_or_clear(res, names: tuple[str, ...]) -> None:
    """Exit 0, or exit 2 with a message naming one of ``names`` (any of -/_ spellings)."""
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"unhandled {type(res.exception).__name__}: {res.exception}\n"
                             f"{res.output}")
    assert res.exit_code in (0, 2), (res.exit_code, res.output)
    event(f"exit {res.exit_code}")
    if res.exit_code == 2:
        text = _one_line_error(res).lower()
        spellings = {n.lower() for n in names} | {n.lower().replace("_", "-") for n in names}
        assert any(s in text for s in spellings), (names, text)


# -- experiment files: named attacks ------------------------------------------------------------

def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return str(path)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ["name: bomb", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 8)}]" for k in range(1, 10)]
    text = "\n".join(lines) + "\n"
    assert len(text) < 1100  # a 1 KB file that expands to 8^10 strings
    t0 = time.perf_counter()
    res = _run("run", _write(tmp_path, text), "--out", str(tmp_path / "r"))
    assert "aliases" in _one_line_error(res) and time.perf_counter() - t0 < 5
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("text, message", [
    ("name: t\ntrials: 10\ntrials: 20\n", "duplicate key 'trials' (first on line 2)"),
    ("name: t\ntrials: true\n", "trials = True: Input should be a valid integer"),
    ("name: t\nrows: false\n", "rows = False: Input should be a valid integer"),
    ("name: t\nseed: 1.5\n", "seed = 1.5: Input should be a valid integer"),
    ("name: t\nbase: {set: {levels_ltp: true}}\n", "levels_ltp = True"),
    ("name: t\nsweep: {grid: {nl: [true]}}\n", "nl = True must be a number"),
    ("name: t\nsweep: {grid: {weight_bits: [yes]}}\n", "weight_bits = True"),
    ("name: t\nsweep: {grid: {c2c: [.nan]}}\n", "sigma_c2c"),
    ("name: t\nbase: {set: {r_on_ohm: 1.0e-300}}\n", "r_on_ohm = 1e-300 is out of range"),
    ("name: t\nbase: {set: {r_on_ohm: .inf}}\n", "r_on_ohm"),
    ("name: ..\n", "name = '..'"),
    ("name: .\n", "name = '.'"),
    ("name: ../escape\n", "name = '../escape'"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("name: t\nx: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ("name: t\n" + "a: [" * 40 + "]" * 40 + "\n", "nesting deeper than 32"),
    ("name: t\ntrials: 1000000\nrows: 100000\ncols: 100000\n", "needs about"),
    ("\x00\x01binary", "not valid YAML"),
])
def test_hostile_experiment_files(tmp_path, text, message):
    res = _run("run", _write(tmp_path, text), "--out", str(tmp_path / "r"))
    assert message in _one_line_error(res)
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_a_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_bytes(b"name: t\n" + b"#" * (2 << 20))
    assert "more than the 1048576" in _one_line_error(_run("run", str(path)))


def test_a_million_point_sweep_is_refused_in_well_under_a_second():
    grid = {"c2c": [0.01] * 100, "nl": [1.0] * 100, "memory_window": [10] * 100}
    t0 = time.perf_counter()
    with pytest.raises(ParameterError, match=r"holds 1000000 points .* allowed at most 10000"):
        load_experiment({"name": "big", "sweep": {"grid": grid}})
    assert time.perf_counter() - t0 < 1


def test_a_ten_thousand_point_sweep_validates_without_building_cores(monkeypatch):
    from meliso.core import analog

    def no_core(*args, **kwargs):
        raise AssertionError("validation built a core")

    monkeypatch.setattr(analog.AnalogCore, "__init__", no_core)
    grid = {"c2c": [round(0.0001 * k, 6) for k in range(100)], "nl": [0.01 * k for k in range(100)]}
    t0 = time.perf_counter()
    cfg = load_experiment({"name": "big", "trials": 10, "rows": 4, "cols": 4,
                           "sweep": {"grid": grid}})
    assert len(cfg.point_specs()) == 10_000
    assert time.perf_counter() - t0 < 30


def test_a_point_too_large_for_memory_is_refused_with_the_estimate(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "1GiB")
    with pytest.raises(ParameterError, match=r"needs about [0-9.]+ GiB of memory, more than the "
                                             r"1\.0 GiB available"):
        load_experiment({"name": "t", "trials": 10000, "rows": 128, "cols": 128})


# -- command line: named attacks ---------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["vmm", "--trials", "100000000"], "needs about"),
    (["vmm", "--size", "100000x100000"], "needs about"),
    (["vmm", "--size", "0x4"], "--size expects positive sizes"),
    (["vmm", "--size", "4"], "--size expects ROWSxCOLS"),
    (["vmm", "--tile", "99999x1"], "tile_rows = 99999 is out of range"),
    (["vmm", "--set", "r_on_ohm=1e-300"], "r_on_ohm = 1e-300 is out of range"),
    (["vmm", "--set", "levels_ltp=true"], "levels_ltp = True"),
    (["vmm", "--set", "sigma_c2c=nan"], "sigma_c2c"),
    (["vmm", "--set", "r_access_ohm=1e9", "--set", "on_off_ratio=1.0000000001"],
     "hides its memory window"),
    (["vmm", "--seed", "-1"], "Invalid value for '--seed'"),
    (["core", "--crossbar", "8192", "--size", "100000x100000"], "needs about"),
    (["core", "--vectors", "100000000"], "needs about"),
    (["core", "--crossbar", "99999"], "Invalid value for '--crossbar'"),
    (["matvec", "--vectors", "1000000"], "Invalid value for '--vectors'"),
    (["matvec", "--matrix", "poisson2d:100000"], "needs about"),
    (["matvec", "--matrix", "random-spd:200000"], "needs about"),
    (["solve", "--tol", "nan"], "--tol = nan"),
    (["solve", "--tol", "0"], "--tol = 0.0"),
    (["reproduce", "cim", "--dataset", "cifar10"], "needs --data-dir"),
    (["reproduce", "cim", "--dataset", "imagenet"], "dataset"),
    (["reproduce", "tetris"], "allowed studies are: meliso, cim"),
    (["reproduce", "neurosim-mlp", "--dataset", "digits"], "dataset = 'digits'"),
    (["reproduce", "neurosim-mlp", "--dataset", "mnist"], "needs --data-dir"),
    (["reproduce", "cim", "--model", "physics"], "no read model to choose"),
    (["learn", "EpiRAM", "--epochs", "0"], "Invalid value for '--epochs'"),
    (["learn", "EpiRAM", "--model", "spice"], "model = 'spice'"),
])
def test_hostile_command_lines(monkeypatch, args, message):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "4GiB")
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.chdir(tmp)
        res = _run(*args)
        assert message in _one_line_error(res)
        assert not Path(tmp, "runs").exists()  # nothing was written


def test_programming_too_many_tiles_is_refused_with_the_estimate(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "64MiB")
    res = _run("solve", "--matrix", "poisson2d:200", "--tile", "2x2", "--residual-arrays", "8")
    assert re.search(r"tiles of 2x2 x 9 arrays needs about [0-9.]+ MiB",
                     _one_line_error(res))


def _mtx(tmp_path: Path, header: str, body: str = "") -> str:
    path = tmp_path / "a.mtx"
    path.write_text(f"%%MatrixMarket matrix {header}\n{body}")
    return str(path)


@pytest.mark.parametrize("command, header, body, message", [
    ("solve", "coordinate complex general", "2 2 2\n1 1 1.0 2.0\n2 2 1.0 0.0\n",
     "holds a complex matrix"),
    ("solve", "coordinate real general", "100000000 100000000 1\n1 1 1.0\n", "needs about"),
    ("matvec", "coordinate real general", "4 4 1000000000\n1 1 1.0\n",
     "declares 1000000000 entries, more than a file"),
    ("solve", "coordinate real general", "3 2 2\n1 1 1.0\n2 2 1.0\n",
     "needs a square matrix"),
    ("solve", "coordinate real general", "2 2 1\n1 1 nan\n", "NaN or infinite"),
    ("solve", "coordinate real general", "2 2 1\n9 9 1.0\n", "Matrix Market"),
    ("matvec", "array real general", "0 0\n", "at least 1x1"),
])
def test_hostile_matrix_market_files(tmp_path, monkeypatch, command, header, body, message):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "4GiB")
    res = _run(command, "--matrix", _mtx(tmp_path, header, body), "--tile", "2x2",
               "--device", "ideal", "--residual-arrays", "0")
    assert message in _one_line_error(res)


# -- hypothesis: one hostile value at a time -----------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "-0", "0x10", "true", "none",
                     "1,5", "3x", "x3", "3x3x3", "-4x4", "1e6x1e6", "∞", "٣", "${HOME}",
                     "../../etc/passwd", "a" * 300, "\x00"]),
    st.text(min_size=0, max_size=12),
)

# option -> the names a message about it may use
VMM_OPTIONS = {
    "--trials": ("trials",), "--seed": ("seed",), "--size": ("size", "rows", "cols", "trials"),
    "--tile": ("tile",), "--model": ("model",), "--mapping": ("mapping",),
    "--calibration": ("calibration",), "--programming": ("programming",),
    "--input-bits": ("input_bits",), "--weight-slices": ("weight_slices", "slice"),
    "--bits-per-slice": ("bits_per_slice", "slice"), "--r-bitline-ohm": ("r_bitline_ohm",),
    "--r-wordline-ohm": ("r_wordline_ohm",), "--circuit": ("circuit",),
    "--topology": ("topology",), "--device": ("device", "preset"),
}
DEVICE_FIELDS = ("r_on_ohm", "on_off_ratio", "levels_ltp", "levels_ltd", "nl_ltp", "nl_ltd",
                 "sigma_c2c", "sigma_d2d", "v_read_v", "g_init_frac", "sigma_read",
                 "r_access_ohm", "weight_bits", "write_v_ltp_v", "nonexistent")
CORE_OPTIONS = {
    "--technology": ("technology", "device", "preset"), "--encoding": ("encoding",),
    "--crossbar": ("crossbar",), "--adc-bits": ("adc_bits", "bits"), "--r-wire": ("r_wire",
    "r_bitline_ohm"), "--size": ("size",), "--vectors": ("vectors",),
    "--profile-vectors": ("profile_vectors",), "--zero-fraction": ("zero_fraction",),
    "--tech-nm": ("tech_nm",), "--weights": ("weights",), "--row-driver": ("row_driver",),
}
LINALG_OPTIONS = {
    "--matrix": ("matrix", "poisson2d", "random-spd", "file"), "--tile": ("tile",),
    "--device": ("device", "preset"), "--residual-arrays": ("residual_arrays", "residual"),
    "--programming": ("programming",), "--vectors": ("vectors",), "--seed": ("seed",),
}

hostile_settings = settings(max_examples=EXAMPLES, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.function_scoped_fixture])


@hostile_settings
@given(option=st.sampled_from(sorted(VMM_OPTIONS)), value=HOSTILE_TEXT)
def test_vmm_survives_any_single_hostile_option(monkeypatch, option, value):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "32MiB")
    res = _run("vmm", "--trials", "5", "--size", "4x4", "--tile", "4x4", option, value, "--json")
    _ok_or_clear(res, VMM_OPTIONS[option])
    if res.exit_code == 0:
        out = json.loads(res.output)
        assert out["n"] > 0 and out["n"] == out["trials"] * out["size"][0]  # no truncation


@hostile_settings
@given(field=st.sampled_from(DEVICE_FIELDS), value=HOSTILE_TEXT,
       device=st.sampled_from(["Ag:a-Si", "EpiRAM", "ideal", "PCM", "IFG"]))
def test_vmm_survives_any_single_hostile_device_field(monkeypatch, field, value, device):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "32MiB")
    res = _run("vmm", "--device", device, "--trials", "5", "--size", "4x4", "--tile", "4x4",
               "--set", f"{field}={value}", "--json")
    _ok_or_clear(res, (field, "levels", "weight_bits", "hides its memory window"))
    if res.exit_code == 0:
        out = json.loads(res.output)
        # a non-finite error is counted, never dropped silently
        assert out["n"] == 20 and (out["n_nonfinite"] == 0 or out["n_nonfinite"] <= out["n"])


@hostile_settings
@given(option=st.sampled_from(sorted(CORE_OPTIONS)), value=HOSTILE_TEXT)
def test_core_survives_any_single_hostile_option(monkeypatch, option, value):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "32MiB")
    res = _run("core", "--size", "16x8", "--vectors", "5", "--profile-vectors", "5",
               "--crossbar", "16", option, value, "--json")
    _ok_or_clear(res, CORE_OPTIONS[option])


@hostile_settings
@given(command=st.sampled_from(["solve", "matvec"]),
       option=st.sampled_from(sorted(LINALG_OPTIONS)), value=HOSTILE_TEXT)
def test_linalg_survives_any_single_hostile_option(monkeypatch, command, option, value):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "64MiB")
    if command == "solve" and option in ("--vectors", "--seed"):
        option = "--maxiter"
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.chdir(tmp)  # a text value is also a file name: nothing outside tmp
        args = [command, "--matrix", "poisson2d:4", "--tile", "8x8", "--device", "ideal",
                "--residual-arrays", "0", option, value, "--json"]
        if command == "solve":
            args += ["--maxiter", "3"] if option != "--maxiter" else []
        res = _run(*args)
    _ok_or_clear(res, (*LINALG_OPTIONS.get(option, ()), "maxiter", "matrix"))


# experiment fields: (path in the document, names a message may use)
EXPERIMENT_FIELDS = {
    ("name",): ("name",), ("trials",): ("trials",), ("rows",): ("rows",), ("cols",): ("cols",),
    ("seed",): ("seed",), ("fit",): ("fit", "families"), ("description",): ("description",),
    ("base", "device"): ("device", "preset"), ("base", "model"): ("model",),
    ("base", "set", "sigma_c2c"): ("sigma_c2c",), ("base", "set", "levels_ltp"): ("levels_ltp",),
    ("base", "set", "r_on_ohm"): ("r_on_ohm",), ("base", "core", "input_bits"): ("input_bits",),
    ("base", "core", "tile_rows"): ("tile_rows",), ("base", "core", "mapping"): ("mapping",),
    ("sweep", "grid", "c2c"): ("sigma_c2c", "c2c"), ("sweep", "grid", "nl"): ("nl",),
    ("sweep", "grid", "memory_window"): ("on_off_ratio", "memory_window"),
    ("sweep", "zip", "weight_bits"): ("weight_bits",), ("sweep", "grid"): ("grid", "sweep"),
    ("sweep",): ("sweep",), ("base",): ("base",), ("unknown_key",): ("unknown_key",),
}

YAML_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.lists(st.one_of(st.integers(-5, 5), st.floats(-2, 2), st.booleans(), st.text(max_size=3)),
             max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(-3, 3), max_size=3),
)


def _base_experiment() -> dict:
    return {"name": "fuzz", "trials": 5, "rows": 4, "cols": 4, "seed": 0, "fit": ["normal"],
            "base": {"device": "EpiRAM", "set": {}, "core": {}},
            "sweep": {"grid": {"c2c": [0.0, 0.01]}, "zip": {}}}


@hostile_settings
@given(path=st.sampled_from(sorted(EXPERIMENT_FIELDS)), value=YAML_VALUES)
def test_run_survives_any_single_hostile_experiment_field(monkeypatch, path, value):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "32MiB")
    doc = _base_experiment()
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp, "exp.yaml")
        try:
            exp.write_text(yaml.safe_dump(doc, allow_unicode=True))
        except (yaml.YAMLError, UnicodeEncodeError):
            return
        res = _run("run", str(exp), "--out", str(Path(tmp, "out")), "--quiet")
        _ok_or_clear(res, EXPERIMENT_FIELDS[path])
        if res.exit_code == 0:
            rows = Path(tmp, "out", "results.parquet")
            assert rows.exists()


@hostile_settings
@given(text=st.text(max_size=200))
def test_run_survives_any_text_as_an_experiment_file(text):
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp, "exp.yaml")
        exp.write_text(text, encoding="utf-8", errors="surrogatepass") if not any(
            0xD800 <= ord(c) <= 0xDFFF for c in text) else exp.write_text("x")
        res = _run("run", str(exp), "--out", str(Path(tmp, "out")), "--quiet")
        assert res.exit_code in (0, 2) and "Traceback" not in res.output
        if res.exception is not None:
            assert isinstance(res.exception, SystemExit)


def test_non_finite_results_are_counted_never_hidden():
    """A population whose errors include inf/NaN says how many, and keeps n whole."""
    res = _run("vmm", "--model", "neurosim", "--device", "Ag:a-Si", "--trials", "200", "--json")
    out = json.loads(res.output)
    assert out["n"] == 200 * 32 and out["n_nonfinite"] >= 0
    assert all(v is None or math.isfinite(v) for v in out.values() if isinstance(v, float))


def test_an_error_message_holding_markup_is_printed_as_text(tmp_path, monkeypatch):
    """A user's own text inside an error ("[/" from a YAML file) is not read as Rich markup
    (found by hypothesis: it ended in a MarkupError and exit code 1)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("[/")
    res = _run("run", "bad.yaml", "--out", str(tmp_path / "out"))
    assert res.exit_code == 2 and "[/" in res.output

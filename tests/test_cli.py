"""The command line: `meliso devices` and `meliso vmm`."""

import json

import pytest
from typer.testing import CliRunner

from meliso.cli import app
from meliso.devices import TABLE_I, TABLE_III

runner = CliRunner()
VMM_KEYS = {"n", "mean", "variance", "skewness", "kurtosis", "median", "iqr", "p2_5", "p97_5",
            "rms_exact", "n_nonfinite"}


def _run(*args):
    return runner.invoke(app, list(args))


def test_devices_json_lists_the_ten_presets_with_fields():
    res = _run("devices", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data) == 10
    assert data["EpiRAM"]["on_off_ratio"] == 50.2 and data["EpiRAM"]["levels_ltp"] == 64
    assert data["IFG"]["r_hrs_ohm"] == 2e7 and data["IFG"]["kind"] == "binary"
    assert all(v["citation"] for v in data.values())


def test_devices_table():
    res = _run("devices")
    assert res.exit_code == 0 and "AlOx/HfO2" in res.output and "Perovskite" in res.output


@pytest.mark.parametrize("device", [*TABLE_I, "ideal", *TABLE_III])
def test_vmm_json_for_every_preset(device):
    res = _run("vmm", "--device", device, "--trials", "40", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert VMM_KEYS <= set(data)
    assert data["n"] == 40 * 32 and data["n_nonfinite"] == 0
    assert data["device"] == device and data["variance"] > 0


def test_vmm_options_and_overrides():
    res = _run("vmm", "--device", "Ag:a-Si", "--set", "sigma_c2c=0", "--set", "nl_ltp=0",
               "--set", "nl_ltd=0", "--size", "16x48", "--tile", "8x8", "--trials", "30",
               "--mapping", "reference", "--calibration", "two-point", "--input-bits", "8",
               "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["n"] == 30 * 16 and data["size"] == [16, 48]
    assert 0 <= data["sq_error_share_smallest_span_1pct"] <= 1


def test_vmm_human_output_and_defaults():
    res = _run("vmm", "--trials", "30")
    assert res.exit_code == 0, res.output
    assert "Ag:a-Si" in res.output and "variance" in res.output and "iqr" in res.output


def test_vmm_through_the_wire_network():
    """Wire resistance lowers every |current|, so the population's error grows with it."""
    common = ["--device", "ideal", "--set", "r_on_ohm=10000", "--size", "64x64", "--tile",
              "64x64", "--trials", "20", "--json"]
    clean = json.loads(_run("vmm", *common).output)
    wired = {}
    for r in ("0.5", "2.5"):
        res = _run("vmm", *common, "--r-bitline-ohm", r, "--r-wordline-ohm", r)
        assert res.exit_code == 0, res.output
        wired[r] = json.loads(res.output)
        assert wired[r]["r_bitline_ohm"] == float(r) and wired[r]["circuit"] == "auto"
    assert clean["variance"] < wired["0.5"]["variance"] < wired["2.5"]["variance"]
    res = _run("vmm", *common[:-1], "--r-bitline-ohm", "1", "--topology", "passive")
    assert res.exit_code == 0 and "passive" in res.output


def test_same_seed_same_json():
    a = json.loads(_run("vmm", "--trials", "20", "--seed", "5", "--json").output)
    b = json.loads(_run("vmm", "--trials", "20", "--seed", "5", "--json").output)
    a.pop("seconds"), b.pop("seconds")
    assert a == b


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "sigma_c2c=7"], "sigma_c2c = 7 is out of range: allowed 0 <= sigma_c2c <= 1"),
        (["--set", "colour=blue"], "unknown field 'colour'"),
        (["--set", "oops"], "--set expects FIELD=VALUE"),
        (["--device", "PCM", "--mapping", "reference"], "allowed mapping = 'differential'"),
        (["--device", "IFG", "--bits-per-slice", "2"], "allowed bits_per_slice = 1"),
        (["--device", "ideal", "--weight-slices", "9", "--bits-per-slice", "6"],
         "slices x bits = 54 is out of range"),
        (["--device", "unobtainium"], "unknown device preset"),
        (["--mapping", "diagonal"], "mapping = 'diagonal'"),
        (["--size", "32"], "--size expects ROWSxCOLS"),
        (["--trials", "0"], "Invalid value for '--trials': Input should be greater than or equal "
                            "to 1"),
        (["--input-bits", "99"], "input_bits = 99 is out of range: allowed 1 <= input_bits <= 24"),
        (["--r-bitline-ohm", "-1"], "r_bitline_ohm = -1.0 is out of range"),
        (["--r-wordline-ohm", "1", "--circuit", "chain"], "r_wordline_ohm must be 0"),
        (["--circuit", "spice"], "circuit"),
        (["--topology", "2t2r"], "topology"),
    ],
)
def test_vmm_bad_input_is_a_clear_error(args, message):
    res = _run("vmm", *args)
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())


@pytest.mark.parametrize("device", TABLE_I)
def test_vmm_neurosim_model_reports_calibration_diagnostics(device):
    res = _run("vmm", "--model", "neurosim", "--device", device, "--trials", "200", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["model"] == "neurosim" and data["calibration"] == "two-point"
    assert data["mapping"] == "reference"
    assert VMM_KEYS <= set(data)
    assert 0 <= data["sign_flip_fraction"] <= 1
    assert data["n_nonfinite"] == data["zero_span_rows"]


def test_vmm_warns_when_moments_are_dominated_by_a_few_rows():
    res = _run("vmm", "--model", "neurosim", "--device", "Ag:a-Si", "--trials", "300")
    assert res.exit_code == 0, res.output
    assert "dominated by a few rows" in " ".join(res.output.split())


def test_vmm_neurosim_rejects_what_neurosim_does_not_have():
    res = _run("vmm", "--model", "neurosim", "--mapping", "differential")
    assert res.exit_code == 2
    assert "mapping = 'differential' is not available with model = 'neurosim'" in " ".join(
        res.output.split())
    res = _run("vmm", "--model", "spice")
    assert res.exit_code == 2 and "model = 'spice'" in " ".join(res.output.split())


def test_vmm_save_errors_as_numpy_and_parquet(tmp_path):
    """The raw errors on disk are the population the summary describes: the same statistics
    from the file as on the screen, and the Parquet rows are e = y − A·x."""
    import numpy as np
    import pyarrow.parquet as pq
    from scipy import stats

    npy, parquet = tmp_path / "e.npy", tmp_path / "e.parquet"
    out = {}
    for path in (npy, parquet):
        res = _run("vmm", "--trials", "30", "--seed", "3", "--save-errors", str(path), "--json")
        assert res.exit_code == 0, res.output
        out[path.suffix] = json.loads(res.output)
        assert out[path.suffix]["errors_file"] == str(path)
    errors = np.load(npy, allow_pickle=False)
    assert errors.shape == (30, 32) and errors.dtype == np.float64
    assert np.var(errors, ddof=1) == pytest.approx(out[".npy"]["variance"], rel=1e-12)
    assert stats.iqr(errors) == pytest.approx(out[".npy"]["iqr"], rel=1e-12)
    table = pq.read_table(parquet).to_pydict()
    assert set(table) == {"trial", "output", "error", "exact", "y"} and len(table["error"]) == 960
    assert np.array_equal(np.array(table["error"]).reshape(30, 32), errors)  # same seed
    assert np.allclose(np.array(table["y"]) - np.array(table["exact"]), table["error"])
    assert table["trial"][33] == 1 and table["output"][33] == 1


@pytest.mark.parametrize(("name", "message"), [
    ("e.csv", "allowed a file ending in .npy or .parquet"),
    ("missing/e.npy", "does not exist"),
    ("", "is a folder"),
])
def test_vmm_save_errors_refuses_bad_paths_before_simulating(tmp_path, name, message):
    res = _run("vmm", "--trials", "5", "--save-errors", str(tmp_path / name))
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_vmm_save_errors_never_overwrites_without_force(tmp_path):
    mine = tmp_path / "mine.npy"
    mine.write_bytes(b"a user's file")
    res = _run("vmm", "--trials", "5", "--save-errors", str(mine))
    assert res.exit_code == 2 and "--force" in res.output
    assert mine.read_bytes() == b"a user's file"
    res = _run("vmm", "--trials", "5", "--save-errors", str(mine), "--force")
    assert res.exit_code == 0, res.output
    import numpy as np

    assert np.load(mine).shape == (5, 32)


def test_a_study_that_needs_pytorch_says_what_to_install(monkeypatch, tmp_path):
    """Without the nn extra, `reproduce cim` is one line naming what to install (exit 2)."""
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    for name in [m for m in sys.modules if m == "meliso.nn" or m.startswith("meliso.nn.")]:
        monkeypatch.delitem(sys.modules, name)
    res = _run("reproduce", "cim", "--quick", "--dataset", "digits", "--out",
               str(tmp_path / "cim"))
    assert res.exit_code == 2 and "pip install torch==2.13.0" in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "cim").exists()


def test_reproduce_cim_refuses_a_model_and_takes_seeds_as_test_samples(tmp_path, monkeypatch):
    from meliso.studies.bnn_tnn import run as cim_run

    res = _run("reproduce", "cim", "--model", "physics", "--out", str(tmp_path / "a"))
    assert res.exit_code == 2 and "--model applies to the meliso and neurosim-mlp" in res.output
    seen = {}

    def fake(folder, **kwargs):
        seen.update(kwargs)
        return tmp_path / "report.md"

    monkeypatch.setattr("meliso.cli.runs.reproduce_cim", fake)
    res = _run("reproduce", "cim", "--seeds", "7", "--out", str(tmp_path / "b"), "--json")
    assert res.exit_code == 0, res.output
    assert seen["samples"] == 7
    from meliso import ParameterError
    from meliso.studies.bnn_tnn.study import quick_config

    with pytest.raises(ParameterError, match="samples"):
        cim_run.reproduce_cim(tmp_path / "c", config=quick_config("digits"), samples=0)

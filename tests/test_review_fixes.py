"""Fixes of a review: checks that run before the work they guard, messages that say what is
wrong and what is allowed, and no silent NaN, truncation or warning."""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from meliso import ParameterError
from meliso._validation import validate_model
from meliso._yaml import load_yaml_file, load_yaml_text
from meliso.cli import app
from meliso.experiments import load_experiment
from meliso.experiments.executor import Executor
from meliso.linalg import CrossbarMatrix, matvec_task, solve_task
from meliso.linalg.matrix import as_sparse

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _error(res) -> str:
    """The one-line error of a refused command (exit 2), whitespace collapsed."""
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    return " ".join(res.output.split())


def _mtx(tmp_path: Path, value: str, name: str = "a.mtx") -> str:
    path = tmp_path / name
    path.write_text(f"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 {value}\n"
                    f"2 2 {value}\n")
    return str(path)


# -- finding 6: torch.load(weights_only=True) is safe only from PyTorch 2.6 on -------------------

def test_the_nn_extra_requires_a_torch_whose_weights_only_loader_is_safe():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["nn"]
    assert "torch>=2.6" in extra


@pytest.mark.parametrize("version", ["2.5.1", "2.1.0+cpu", "1.13.1", "not-a-version"])
def test_a_checkpoint_is_not_read_with_a_vulnerable_torch(tmp_path, monkeypatch, version):
    torch = pytest.importorskip("torch")
    from meliso.nn import load_checkpoint

    read = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: read.append(a))
    monkeypatch.setattr(torch, "__version__", version)
    path = tmp_path / "any.pt"
    path.write_bytes(b"whatever")
    with pytest.raises(ParameterError, match=rf"PyTorch {re.escape(version)} is installed; "
                                             r"reading a checkpoint needs torch >= 2\.6"):
        load_checkpoint(path)
    assert not read  # refused before torch.load saw the file


def test_a_checkpoint_is_read_with_torch_2_6_or_later(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from meliso.nn import load_checkpoint

    monkeypatch.setattr(torch, "__version__", "2.6.0+cpu")
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ParameterError, match="not a meliso checkpoint"):  # got to torch.load
        load_checkpoint(path)


# -- finding 10: products that overflow or underflow are refused, never printed as null ----------

@pytest.mark.parametrize("value, shown", [("1e308", "1e+308"), ("1e200", "1e+200"),
                                          ("1e-320", "1e-320"), ("-1e101", "1e+101")])
def test_matvec_refuses_entries_whose_products_are_not_finite(tmp_path, value, shown):
    res = _run("matvec", "--matrix", _mtx(tmp_path, value), "--device", "ideal", "--tile", "2x2",
               "--json")
    text = _error(res)
    assert f"largest |entry| = {shown} is out of range" in text and "a.mtx" in text
    assert "allowed 1e-100 <= max |A_ij| <= 1e+100" in text
    assert "RuntimeWarning" not in res.output and "null" not in res.output


def test_matvec_at_the_bounds_is_finite_and_warning_free(tmp_path):
    from meliso.devices import get_device

    for value in ("1e100", "1e-100"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any RuntimeWarning fails the test
            out = matvec_task(_mtx(tmp_path, value), get_device("ideal"), tile=(2, 2),
                              vectors=4)
        assert all(np.isfinite(out[k]) for k in ("relative_error", "error_rms",
                                                 "error_max_abs")), out


def test_a_non_finite_product_is_refused_with_the_allowed_range():
    from meliso.linalg.tasks import _error_statistics

    y = np.array([[np.inf, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParameterError, match=r"not finite .* allowed entries with 1e-100"):
            _error_statistics(y, np.array([[1.0, 1.0]]))


def test_a_dense_matrix_of_huge_entries_is_refused_naming_the_bound():
    with pytest.raises(ParameterError, match=r"the matrix: largest \|entry\| = 1e\+150"):
        as_sparse(np.array([[1e150, 0.0], [0.0, 1.0]]))


# -- finding 11: a training set of one class is refused before training --------------------------

def test_training_on_one_class_is_refused_before_training(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from test_data import _write_mnist

    from meliso.nn import train_checkpoint

    def trained(*args, **kwargs):
        raise AssertionError("trained on one class")

    monkeypatch.setattr("torch.optim.Adam", trained)

    _write_mnist(tmp_path, labels=(0,))
    out = tmp_path / "one.pt"
    with pytest.raises(ParameterError, match=r"dataset 'mnist': the training labels \(.*"
                                             r"train-labels-idx1-ubyte\) hold 1 class \(label "
                                             r"0\): allowed at least 2 classes"):
        train_checkpoint("lenet5", "BNN", "mnist", data_dir=tmp_path, epochs=1, out=out)
    assert not out.exists()


# -- finding 12: checks that ran after the long work they guard ----------------------------------

def _no_training(monkeypatch):
    from meliso.nn import checkpoint

    def trained(*args, **kwargs):
        raise AssertionError("trained before checking the output path")

    monkeypatch.setattr(checkpoint, "train", trained)
    monkeypatch.setattr(checkpoint, "load_dataset", trained)


@pytest.mark.parametrize("where, message", [
    ("exp.yaml/lenet5.pt", r"exp\.yaml is a file, not a folder"),
    ("exp.yaml/sub/lenet5.pt", r"exp\.yaml is a file, not a folder"),
    ("folder", "is a folder, not a file"),
])
def test_train_checks_out_before_training(tmp_path, monkeypatch, where, message):
    pytest.importorskip("torch")
    _no_training(monkeypatch)
    (tmp_path / "exp.yaml").write_text("name: t\n")
    (tmp_path / "folder").mkdir()
    res = _run("train", "lenet5", "BNN", "--dataset", "digits", "--out", str(tmp_path / where))
    assert re.search(message, _error(res))


def test_train_checks_net_quant_and_epochs_before_reading_data(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from meliso.nn import train_checkpoint

    _no_training(monkeypatch)
    for kwargs, message in (({"net": "resnet"}, "net = 'resnet': allowed lenet5, vgg7"),
                            ({"quant": "XNN"}, "quant = 'XNN': allowed BNN or TNN"),
                            ({"epochs": 0}, "epochs = 0 is out of range: allowed 1 <= epochs")):
        args = {"net": "lenet5", "quant": "BNN", **kwargs}
        with pytest.raises(ParameterError, match=re.escape(message)):
            train_checkpoint(args.pop("net"), args.pop("quant"), "digits",
                             out=tmp_path / "x.pt", **args)


def test_solve_refuses_a_non_square_matrix_before_programming(tmp_path, monkeypatch):
    from meliso.devices import get_device
    from meliso.linalg import tasks

    def programmed(*args, **kwargs):
        raise AssertionError("programmed before checking the shape")

    monkeypatch.setattr(tasks, "CrossbarMatrix", programmed)
    path = tmp_path / "wide.mtx"
    path.write_text("%%MatrixMarket matrix coordinate real general\n3 2 2\n1 1 1.0\n2 2 1.0\n")
    with pytest.raises(ParameterError, match="A is 3x2; solving A x = b needs a square matrix"):
        solve_task(str(path), get_device("ideal"), tile=(2, 2))


# -- finding 13: messages that misled ------------------------------------------------------------

def test_a_tile_too_large_for_memory_is_told_to_shrink(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "64MiB")
    with pytest.raises(ParameterError) as info:
        CrossbarMatrix(np.eye(4), "ideal", tile=(8192, 8192))
    text = str(info.value)
    assert "needs about" in text and "larger tiles" not in text
    assert "the 8192x8192 tile is larger than the 4x4 matrix needs" in text
    assert "use smaller tiles" in text


def test_too_many_small_tiles_are_told_what_helps(monkeypatch):
    monkeypatch.setenv("MELISO_MEMORY_LIMIT", "64MiB")
    res = _run("solve", "--matrix", "poisson2d:200", "--tile", "2x2", "--residual-arrays", "8")
    text = _error(res)
    assert "larger tiles" not in text and "fewer residual arrays" in text


@pytest.mark.parametrize("r_ohm", [1e-13, 1e7])
def test_wire_resistance_message_states_the_real_upper_bound(r_ohm):
    from meliso.circuit import solve_currents
    from meliso.circuit.wires import Wires

    message = r"allowed r_bitline_ohm = 0 or 1e-12 <= r_bitline_ohm <= 1e\+06"
    with pytest.raises(ParameterError, match=message):
        solve_currents(np.full((2, 2), 1e-5), np.ones(2), r_bitline_ohm=r_ohm)
    with pytest.raises(ParameterError):
        validate_model(Wires, {"r_bitline_ohm": r_ohm})


def test_a_directory_as_matrix_is_called_a_directory(tmp_path):
    text = _error(_run("matvec", "--matrix", str(tmp_path)))
    assert "is a directory, not a file" in text and "does not exist" not in text
    with pytest.raises(ParameterError, match="does not exist"):
        as_sparse(tmp_path / "missing.mtx")
    with pytest.raises(ParameterError, match="is a directory, not a file"):
        load_yaml_file(tmp_path)


@pytest.mark.parametrize("text, value", [
    ("r_on_ohm: 1.0e12\n", 1e12), ("r_on_ohm: 1e12\n", 1e12), ("r_on_ohm: 2.5E-3\n", 2.5e-3),
    ("r_on_ohm: .5e3\n", 500.0), ("r_on_ohm: -1e+3\n", -1000.0), ("r_on_ohm: 1.0e+12\n", 1e12),
])
def test_yaml_reads_floats_as_yaml_1_2_writes_them(text, value):
    assert load_yaml_text(text) == {"r_on_ohm": value}


def test_yaml_1_2_floats_keep_ints_strings_and_the_other_protections():
    data = load_yaml_text("a: 12\nb: 0x1F\nc: 1e\nd: v1e5\ne: '1e5'\nf: [1_000, 2e-9]\n")
    assert data == {"a": 12, "b": 31, "c": "1e", "d": "v1e5", "e": "1e5", "f": [1000, 2e-9]}
    with pytest.raises(ParameterError, match="aliases"):
        load_yaml_text("a: &x 1e5\nb: *x\n")
    with pytest.raises(ParameterError, match="duplicate key 'a'"):
        load_yaml_text("a: 1e5\na: 2e5\n")
    with pytest.raises(ParameterError, match="nesting deeper than 32"):
        load_yaml_text("a: " + "[" * 40 + "1e5" + "]" * 40 + "\n")


def test_an_experiment_with_exponent_floats_validates(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nbase: {set: {r_on_ohm: 1.0e4}}\n")
    cfg = load_experiment(path)
    assert cfg.base.set["r_on_ohm"] == 1e4


@pytest.mark.parametrize("literal", ["9" * 100_000, "-" + "1" * 101, "0x" + "f" * 101])
def test_a_huge_integer_literal_is_refused_with_file_and_line(tmp_path, literal):
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: t\ntrials: {literal}\n")
    digits = len(literal.lstrip("-").removeprefix("0x"))
    with pytest.raises(ParameterError, match=rf"exp\.yaml: line 2: an integer literal of "
                                             rf"{digits} digits: allowed at most 100 digits"):
        load_experiment(path)
    assert load_yaml_text("a: " + "1" * 100)["a"] == int("1" * 100)


@pytest.mark.parametrize("settings, message", [
    ({"workers": 4}, "workers = 4 applies only to executor kind 'dask'"),
    ({"scheduler": "tcp://h:1"}, "scheduler = 'tcp://h:1' applies only to executor kind 'dask'"),
    ({"kind": "dask", "workers": 2, "scheduler": "tcp://h:1"}, "give --workers or --scheduler"),
])
def test_executor_refuses_options_it_would_ignore(settings, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        validate_model(Executor, {"kind": "serial", **settings})
    assert validate_model(Executor, {"kind": "dask", "workers": 2}).workers == 2


def test_run_with_serial_executor_and_workers_is_refused(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\ntrials: 2\nrows: 4\ncols: 4\n")
    text = _error(_run("run", str(path), "--workers", "4", "--out", str(tmp_path / "r")))
    assert "workers = 4 applies only to executor kind 'dask'" in text
    assert not (tmp_path / "r").exists()


# -- finding 14: one default, one check, one name; ParameterErrors that name the field -----------

def test_neurosim_falls_back_to_its_declared_input_bits(monkeypatch):
    from meliso.devices import get_device
    from meliso.neurosim.model import NeuroSimModel

    model = NeuroSimModel()
    model.defaults = MappingProxyType({**NeuroSimModel.defaults, "input_bits": 7})
    plan = SimpleNamespace(config=SimpleNamespace(resolved_input_bits=None),
                           device=get_device("EpiRAM"))
    arrays = model.program(plan, np.full((1, 2, 2), 0.5), np.random.default_rng(0))
    assert arrays.input_bits == 7


def test_checkpoint_name_is_one_function():
    pytest.importorskip("torch")
    from meliso.nn import checkpoint_name

    assert checkpoint_name("lenet5", "TNN", "digits") == "lenet5-TNN-digits.pt"


def test_network_and_training_errors_name_the_field_and_range():
    pytest.importorskip("torch")
    from meliso.data import load_dataset
    from meliso.nn import build_model, train

    for args, message in ((("lenet5", "XNN", (1, 8, 8)), "quant = 'XNN': allowed BNN or TNN"),
                          (("alexnet", "BNN", (1, 8, 8)), "net = 'alexnet': allowed lenet5"),
                          (("lenet5", "BNN", (1, 10, 10)),
                           "input_shape = (1, 10, 10) is not an image size lenet5 takes: "
                           "allowed (C, 28, 28) or (C, 8, 8)"),
                          (("vgg7", "TNN", (3, 28, 28)), "allowed (C, 32, 32)")):
        with pytest.raises(ParameterError, match=re.escape(message)):
            build_model(*args)
    digits = load_dataset("digits")
    for kwargs, field in (({"epochs": 0}, "epochs"), ({"batch": 0}, "batch"),
                          ({"lr": float("nan")}, "lr")):
        with pytest.raises(ParameterError, match=rf"{field} = .* is out of range: allowed"):
            train("lenet5", "BNN", digits, **kwargs)
    quant_checks = sum(Path(ROOT, "src/meliso/nn", f).read_text().count("not in QUANTS")
                       for f in ("quant.py", "models.py"))
    assert quant_checks == 1


@pytest.mark.parametrize("args, message", [
    (["--mapping", "reference", "--weight-slices", "2", "--bits-per-slice", "4"],
     "weight_slices = 2 with bits_per_slice = 4 (bit-sliced weights) need mapping = "
     "'differential', not 'reference'"),
    (["--device", "ideal", "--weight-slices", "9", "--bits-per-slice", "6"],
     "allowed 1 <= weight_slices x bits_per_slice <= 52"),
])
def test_bit_slicing_errors_name_the_options(args, message):
    assert message in _error(_run("vmm", "--trials", "2", *args))


def test_slicing_refuses_with_parameter_errors_naming_the_settings():
    from meliso.mapping import Slicing
    from meliso.mapping.weights import target_fractions

    with pytest.raises(ParameterError, match="weight_slices = 0 is out of range"):
        Slicing(0)
    with pytest.raises(ParameterError, match="weight_slices = 3 needs bits_per_slice"):
        Slicing(3)
    with pytest.raises(ParameterError, match="need mapping = 'differential'"):
        target_fractions(np.zeros((2, 2)), "reference", slicing=Slicing(2, 3))


def test_comments_cite_what_ships_with_the_repository():
    stale = re.compile(r"reference file|the issue's")
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "src/meliso").rglob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1) if stale.search(line)]
    assert not hits, hits
